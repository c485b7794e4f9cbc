"""The Alipay life account (支付宝生活号, formerly 服务窗) gateway protocol: read, verify, parse, answer.

Alipay POSTs a form to the account's application gateway (应用网关) with ``service``,
``charset``, ``sign_type``, ``sign`` and ``biz_content`` (an XML document); newer pushes add
``app_id``, ``version``, ``notify_id``…. Two services reach a life account:

* ``alipay.service.check`` — the gateway check (验证应用网关), ``EventType`` ``verifygw``. We answer
  ``<success>true</success><biz_content>our public key</biz_content>``, signed.
* ``alipay.mobile.public.message.notify`` — a follower's message or event: ``MsgType`` text,
  image or event; ``EventType`` follow, unfollow, click, enter, enter_ppchat…; the sender in
  ``FromAlipayUserId`` (the 2088… user id) and ``FromUserId``; ``CreateTime`` in milliseconds;
  ``Text/Content``; ``ActionParam`` (a menu click's key, or the follow scene). We answer a
  signed ``ack`` and send the actual reply later through ``alipay.open.public.message.custom.send``.

Signature (Alipay's "生活号 / 应用网关" rule, ``AlipaySignature.rsaCheckV2`` in its SDKs): every
parameter except ``sign`` — ``sign_type`` *included*, unlike payment notifications — with a
non-empty value, sorted, ``k=v`` joined with ``&``, the raw values in the request's charset,
verified SHA256withRSA with Alipay's public key. Our answer is
``<?xml version="1.0" encoding="<charset>"?><alipay><response>R</response><sign>S</sign>
<sign_type>RSA2</sign_type></alipay>`` where S signs the exact text R with our private key.

Pure functions, no I/O and no ORM; anything a request gets wrong raises ``ProtocolError`` with an
``ErrorCode`` (never echoing request content). XML goes through defusedxml, DTDs and entities
forbidden. ``docs/alipay-life.md`` has the details.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import parse_qsl
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import fromstring

from powerdesk.channels.alipay.keys import rsa2_sign, rsa2_verify
from powerdesk.payments.gateways.alipay import string_to_sign

SERVICE_CHECK = "alipay.service.check"
SERVICE_MESSAGE_NOTIFY = "alipay.mobile.public.message.notify"
SERVICES = (SERVICE_CHECK, SERVICE_MESSAGE_NOTIFY)
SIGN_TYPE = "RSA2"
MAX_BODY_BYTES = 64 * 1024
MAX_PARAMS = 32
MAX_USER_ID_LENGTH = 128  # 2088… user ids have 16 characters, FromUserId 32; identities hold 128

# The charsets Alipay declares → the Python codec whose bytes it signed.
CHARSETS = {"utf-8": "utf-8", "utf8": "utf-8", "gbk": "gbk", "gb2312": "gb2312", "gb18030": "gb18030"}

_CHARSET_PARAM = re.compile(rb"(?:^|&)charset=([^&]*)")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_USER_ID = re.compile(r"[A-Za-z0-9_+/=.-]+")
_DIGITS = re.compile(r"[0-9]{1,19}")


class ErrorCode(StrEnum):
    """Why a gateway request was refused; the view answers each with a 4xx and a log line."""

    BODY_EMPTY = "body_empty"
    BODY_TOO_LARGE = "body_too_large"
    FORM_MALFORMED = "form_malformed"
    DUPLICATE_PARAM = "duplicate_param"
    TOO_MANY_PARAMS = "too_many_params"
    CHARSET_UNSUPPORTED = "charset_unsupported"
    MISSING_PARAM = "missing_param"
    SIGN_TYPE_UNSUPPORTED = "sign_type_unsupported"
    SIGNATURE_MISMATCH = "signature_mismatch"
    SERVICE_UNSUPPORTED = "service_unsupported"
    DTD_FORBIDDEN = "dtd_forbidden"
    ENTITIES_FORBIDDEN = "entities_forbidden"
    XML_MALFORMED = "xml_malformed"
    ROOT_NOT_XML = "root_not_xml"
    MISSING_FIELD = "missing_field"
    DUPLICATE_FIELD = "duplicate_field"
    FIELD_MALFORMED = "field_malformed"
    APP_ID_MISMATCH = "app_id_mismatch"
    EVENT_UNEXPECTED = "event_unexpected"


# Refusals that say "this is not Alipay speaking for this account": 403, the rest 400 (413 size).
FORBIDDEN = {
    ErrorCode.SIGN_TYPE_UNSUPPORTED,
    ErrorCode.SIGNATURE_MISMATCH,
    ErrorCode.APP_ID_MISMATCH,
}


class ProtocolError(ValueError):
    """A gateway request that must be refused; ``field`` names the parameter or XML element."""

    def __init__(self, code: ErrorCode, message: str = "", *, field: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else str(code))
        self.code = code
        self.field = field


# --- the form ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GatewayRequest:
    """The POSTed form, decoded with the charset it declares."""

    params: Mapping[str, str]
    charset: str  # as declared, e.g. "UTF-8", "GBK" (our answer declares the same)
    codec: str  # the Python codec, e.g. "utf-8", "gbk"

    @property
    def service(self) -> str:
        return self.params.get("service", "")

    @property
    def biz_content(self) -> str:
        return self.params.get("biz_content", "")


def _declared_charset(body: bytes) -> tuple[str, str]:
    found = _CHARSET_PARAM.findall(body)
    if not found:
        raise ProtocolError(ErrorCode.MISSING_PARAM, "charset is missing", field="charset")
    if len(found) > 1:
        raise ProtocolError(ErrorCode.DUPLICATE_PARAM, "charset appears twice", field="charset")
    declared = found[0].decode("latin-1").replace("%2D", "-").replace("%2d", "-").strip()
    codec = CHARSETS.get(declared.lower())
    if codec is None:
        raise ProtocolError(ErrorCode.CHARSET_UNSUPPORTED, "charset is not UTF-8 or GBK", field="charset")
    return declared, codec


def read_request(body: bytes) -> GatewayRequest:
    """Decode the form (``application/x-www-form-urlencoded``) in the charset it declares.

    Every parameter appears once; ``service``, ``sign``, ``sign_type`` and ``biz_content`` must be
    present (checked before the signature, so a refusal names the missing one).
    """
    body = bytes(body)
    if len(body) > MAX_BODY_BYTES:
        raise ProtocolError(ErrorCode.BODY_TOO_LARGE, f"body over {MAX_BODY_BYTES} bytes")
    if not body.strip():
        raise ProtocolError(ErrorCode.BODY_EMPTY, "body is empty")
    charset, codec = _declared_charset(body)
    try:
        pairs = parse_qsl(
            body.decode(codec),
            keep_blank_values=True,
            strict_parsing=True,
            encoding=codec,
            errors="strict",
            max_num_fields=MAX_PARAMS,
        )
    except UnicodeDecodeError:
        raise ProtocolError(ErrorCode.FORM_MALFORMED, f"body is not valid {charset}") from None
    except ValueError as exc:
        code = ErrorCode.TOO_MANY_PARAMS if "Max number of fields" in str(exc) else ErrorCode.FORM_MALFORMED
        raise ProtocolError(code, "body is not a form") from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise ProtocolError(ErrorCode.DUPLICATE_PARAM, f"{name} appears twice", field=name[:32])
        params[name] = value
    for name in ("service", "sign_type", "sign", "biz_content"):
        if not params.get(name):
            raise ProtocolError(ErrorCode.MISSING_PARAM, f"{name} is missing", field=name)
    return GatewayRequest(params=params, charset=charset, codec=codec)


def signed_content(params: Mapping[str, str]) -> str:
    """What Alipay signed: every parameter but ``sign`` (``sign_type`` stays in), sorted."""
    return string_to_sign(params)


def verify_request(request: GatewayRequest, *, alipay_public_key: str) -> None:
    """Refuse unless ``sign`` is Alipay's RSA2 signature of the request (``rsaCheckV2``)."""
    if request.params["sign_type"] != SIGN_TYPE:
        raise ProtocolError(ErrorCode.SIGN_TYPE_UNSUPPORTED, "sign_type is not RSA2", field="sign_type")
    content = signed_content(request.params)
    if not rsa2_verify(content, request.params["sign"], alipay_public_key, codec=request.codec):
        raise ProtocolError(ErrorCode.SIGNATURE_MISMATCH, "sign does not verify", field="sign")


# --- biz_content -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LifeMessage:
    """One ``biz_content`` document. Field names follow Alipay's XML; ``raw`` holds every element
    read (nested ones as ``Parent.Child``), for the inbox."""

    app_id: str = ""
    msg_type: str = ""  # lower case: text, image, event, …
    event_type: str = ""  # lower case: verifygw, follow, unfollow, click, enter, enter_ppchat, …
    from_user_id: str = ""
    from_alipay_user_id: str = ""
    create_time: int | None = None  # milliseconds since the epoch
    msg_id: str = ""
    content: str = ""
    media_id: str = ""
    action_param: str = ""
    raw: Mapping[str, str] = field(default_factory=dict)

    @property
    def sender(self) -> str:
        """The follower's Alipay user id (2088…), or the older per-account FromUserId."""
        return self.from_alipay_user_id or self.from_user_id


def _load_xml(text: str) -> Element:
    text = _XML_DECLARATION.sub("", text, count=1)
    if not text.strip():
        raise ProtocolError(ErrorCode.MISSING_PARAM, "biz_content is empty", field="biz_content")
    try:
        root = fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DTDForbidden as exc:
        raise ProtocolError(ErrorCode.DTD_FORBIDDEN, "XML with a DOCTYPE") from exc
    except (EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise ProtocolError(ErrorCode.ENTITIES_FORBIDDEN, "XML declaring entities") from exc
    except ParseError as exc:
        raise ProtocolError(ErrorCode.XML_MALFORMED, f"not well-formed XML ({exc.position})") from exc
    except ValueError as exc:  # e.g. a NUL character handed to expat
        raise ProtocolError(ErrorCode.XML_MALFORMED, "not well-formed XML") from exc
    if root.tag.lower() != "xml":
        raise ProtocolError(ErrorCode.ROOT_NOT_XML, "root element is not <XML>")
    return root


def _flatten(root: Element) -> dict[str, str]:
    """Children (and grandchildren, as ``Parent.Child``) by tag; a repeat is refused, and so is
    anything deeper — Alipay's documents are two levels deep (``Text/Content``)."""
    fields: dict[str, str] = {}

    def put(name: str, value: str) -> None:
        if name in fields:
            raise ProtocolError(ErrorCode.DUPLICATE_FIELD, f"{name} appears twice", field=name[:64])
        fields[name] = value

    for child in root:
        if not isinstance(child.tag, str):
            continue
        if len(child):
            if (child.text or "").strip():
                raise ProtocolError(ErrorCode.FIELD_MALFORMED, "mixed content", field=child.tag[:64])
            for grandchild in child:
                if len(grandchild):
                    raise ProtocolError(
                        ErrorCode.FIELD_MALFORMED,
                        "nested too deep",
                        field=f"{child.tag}.{grandchild.tag}"[:64],
                    )
                put(f"{child.tag}.{grandchild.tag}", grandchild.text or "")
        else:
            put(child.tag, child.text or "")
    return fields


def _identifier(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if value and (len(value) > MAX_USER_ID_LENGTH or not _USER_ID.fullmatch(value)):
        raise ProtocolError(ErrorCode.FIELD_MALFORMED, f"{name} is not an identifier", field=name)
    return value


def parse_biz_content(text: str) -> LifeMessage:
    """``biz_content`` as a ``LifeMessage`` (nothing required here; callers check what they need)."""
    fields = _flatten(_load_xml(text))
    create_time = fields.get("CreateTime", "").strip()
    if create_time and not _DIGITS.fullmatch(create_time):
        raise ProtocolError(ErrorCode.FIELD_MALFORMED, "CreateTime is not a number", field="CreateTime")
    msg_id = fields.get("MsgId", "").strip()
    if len(msg_id) > 64:
        raise ProtocolError(ErrorCode.FIELD_MALFORMED, "MsgId is too long", field="MsgId")
    return LifeMessage(
        app_id=_identifier(fields, "AppId"),
        msg_type=fields.get("MsgType", "").strip().lower(),
        event_type=fields.get("EventType", "").strip().lower(),
        from_user_id=_identifier(fields, "FromUserId"),
        from_alipay_user_id=_identifier(fields, "FromAlipayUserId"),
        create_time=int(create_time) if create_time else None,
        msg_id=msg_id,
        content=fields.get("Text.Content", fields.get("Content", "")),
        media_id=fields.get("Image.MediaId", fields.get("MediaId", "")).strip(),
        action_param=fields.get("ActionParam", fields.get("EventKey", "")).strip(),
        raw=fields,
    )


def check_app_id(request: GatewayRequest, message: LifeMessage, *, app_id: str, required: bool) -> None:
    """The request names this account's app: ``app_id`` in the form and ``AppId`` in the
    document must match when present; a message must carry at least one of them."""
    named = [value for value in (request.params.get("app_id", ""), message.app_id) if value]
    if any(value != app_id for value in named):
        raise ProtocolError(ErrorCode.APP_ID_MISMATCH, "the message is for another app", field="AppId")
    if required and not named:
        raise ProtocolError(ErrorCode.MISSING_FIELD, "AppId is missing", field="AppId")


def dedup_key(message: LifeMessage) -> str:
    """What Alipay's repeats of one message share: ``MsgId`` when it has one; for events (which
    have none) the sender, ``CreateTime``, ``EventType`` and ``ActionParam``."""
    if message.msg_id:
        return f"msg:{message.msg_id}"
    return f"event:{message.sender}:{message.create_time or 0}:{message.event_type}:{message.action_param}"


# --- our answers -------------------------------------------------------------------------------


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def ack_xml(*, to_user_id: str, app_id: str, create_time_ms: int) -> str:
    """The synchronous acknowledgement of a message (``MsgType`` ack); the reply goes out later."""
    return (
        f"<XML><ToUserId>{_cdata(to_user_id)}</ToUserId><AppId>{_cdata(app_id)}</AppId>"
        f"<CreateTime>{int(create_time_ms)}</CreateTime><MsgType>{_cdata('ack')}</MsgType></XML>"
    )


def gateway_check_xml(*, success: bool, public_key_base64: str) -> str:
    """The answer to ``alipay.service.check``: our public key (bare base64) and the outcome."""
    if success:
        return f"<success>true</success><biz_content>{public_key_base64}</biz_content>"
    return (
        "<success>false</success><error_code>VERIFY_FAILED</error_code>"
        f"<biz_content>{public_key_base64}</biz_content>"
    )


def signed_response(inner: str, *, private_key: str, charset: str = "UTF-8", codec: str = "utf-8") -> bytes:
    """``inner`` wrapped in Alipay's signed response envelope, encoded in the request's charset."""
    sign = rsa2_sign(inner, private_key, codec=codec)
    document = (
        f'<?xml version="1.0" encoding="{charset}"?><alipay><response>{inner}</response>'
        f"<sign>{sign}</sign><sign_type>{SIGN_TYPE}</sign_type></alipay>"
    )
    return document.encode(codec)


_RESPONSE = re.compile(r"<response>(.*)</response><sign>([^<]*)</sign>", re.DOTALL)


def read_signed_response(body: bytes, *, codec: str = "utf-8") -> tuple[str, str]:
    """(response text, sign) of a signed envelope; the fake gateway checks our answers with it."""
    match = _RESPONSE.search(body.decode(codec))
    if match is None:
        raise ValueError("not a signed <alipay> envelope")
    return match.group(1), match.group(2)


def verify_signed_response(body: bytes, *, public_key: str, codec: str = "utf-8") -> str:
    """The response text of an envelope whose signature verifies; ``ValueError`` otherwise."""
    inner, sign = read_signed_response(body, codec=codec)
    if not rsa2_verify(inner, sign, public_key, codec=codec):
        raise ValueError("response signature does not verify")
    return inner
