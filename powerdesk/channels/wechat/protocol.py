"""The WeChat Official Account (微信公众号) callback protocol: verify, decrypt, parse, render.

Pure functions and frozen data classes, no I/O and no ORM, so the callback view stays a thin
interface: ``read_callback`` (or ``verify_url`` for the GET) → ``WeChatMessage`` → the engine →
``render_*_reply`` → ``wrap_encrypted_reply`` when the request was encrypted.

Written from WeChat's public documentation ("接收普通消息", "接收事件推送", "被动回复用户消息",
"消息加解密说明"); ``docs/wechat-protocol.md`` has the details and the choices made where the
documentation is silent. Everything a request can get wrong raises ``ProtocolError`` with an
``ErrorCode``, and nothing else: XML goes through defusedxml with DTDs and entities forbidden.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import fromstring

from powerdesk.channels.wechat.crypto import (
    WeChatCrypto,
    check_msg_signature,
    check_signature,
    check_timestamp,
    parse_timestamp,
)
from powerdesk.channels.wechat.errors import ErrorCode, ProtocolError

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_NEWS_ARTICLES",
    "SUCCESS_BODY",
    "CallbackQuery",
    "Envelope",
    "ErrorCode",
    "InboundCallback",
    "Mode",
    "NewsArticle",
    "ProtocolError",
    "WeChatCrypto",
    "WeChatMessage",
    "cdata",
    "check_msg_signature",
    "check_signature",
    "check_timestamp",
    "dedup_key",
    "parse_envelope",
    "parse_message",
    "read_callback",
    "render_image_reply",
    "render_news_reply",
    "render_text_reply",
    "verify_url",
    "wrap_encrypted_reply",
]

MAX_BODY_BYTES = 65536
MAX_NEWS_ARTICLES = 8
# The passive answer that means "received, nothing to say now" (the real answer, if any, goes out
# later through the customer-service message API). An empty body means the same.
SUCCESS_BODY = b"success"

_DECLARED_ENCODING = re.compile(r"\A\ufeff?<\?xml\s[^>]*?\bencoding\s*=\s*([\"'])(.*?)\1")
_UNSIGNED = re.compile(r"[0-9]{1,20}")
_MAX_UINT64 = 2**64 - 1  # MsgId is WeChat's 64-bit id; anything larger is not from WeChat
_MAX_UNIX_SECONDS = 253402300799  # 9999-12-31T23:59:59Z, the last second datetime can hold


# --- the message ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeChatMessage:
    """One inbound message or event, plaintext, as WeChat sent it.

    ``msg_type`` and ``event`` are lower-cased (``"event"``/``"scan"``, not ``"SCAN"``); a field
    WeChat did not send is ``None``, one it sent empty is ``""``. Coordinates are ``Decimal``.
    For ``masssendjobfinish`` and ``templatesendjobfinish`` events ``msg_id`` is the ``MsgID`` of
    our outbound job. Unknown message and event types parse with the common fields only.
    """

    to_user: str  # our account's original ID (gh_…)
    from_user: str  # the follower's openid
    create_time: int  # Unix seconds
    msg_type: str
    msg_id: int | None = None
    content: str | None = None
    pic_url: str | None = None
    media_id: str | None = None
    format: str | None = None
    recognition: str | None = None
    thumb_media_id: str | None = None
    location_x: Decimal | None = None  # latitude of a location message
    location_y: Decimal | None = None  # longitude of a location message
    scale: int | None = None
    label: str | None = None
    title: str | None = None
    description: str | None = None
    url: str | None = None
    event: str | None = None
    event_key: str | None = None
    ticket: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    precision: Decimal | None = None
    status: str | None = None
    total_count: int | None = None
    filter_count: int | None = None
    sent_count: int | None = None
    error_count: int | None = None

    @property
    def created_at(self) -> datetime:
        """``create_time`` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.create_time, tz=UTC)

    @property
    def is_event(self) -> bool:
        return self.msg_type == "event"

    @property
    def scene_id(self) -> str | None:
        """The QR-code scene: ``qrscene_`` stripped from a subscribe's EventKey, or a SCAN's
        EventKey; ``None`` for a plain subscribe and everything else."""
        if self.event == "subscribe" and self.event_key and self.event_key.startswith("qrscene_"):
            return self.event_key.removeprefix("qrscene_")
        if self.event == "scan":
            return self.event_key
        return None


@dataclass(frozen=True)
class Envelope:
    """The outer XML of a safe or compatible mode request.

    ``plaintext`` is the compatible-mode (兼容模式) plaintext copy, ``None`` in safe mode. It is
    parsed so that a malformed one is refused, but ``read_callback`` always uses the decrypted
    message: only ``Encrypt`` is covered by ``msg_signature``.
    """

    to_user: str | None
    encrypt: str
    plaintext: WeChatMessage | None = None


def dedup_key(message: WeChatMessage) -> str:
    """What WeChat's retries of one message have in common (it retries 3 times when we have not
    answered within 5 s): the MsgId, or for events, which have none, FromUserName + CreateTime +
    Event + EventKey. Unique per account, not across accounts."""
    if message.msg_id is not None:
        return f"msgid:{message.msg_id}"
    return f"event:{message.from_user}:{message.create_time}:{message.event or ''}:{message.event_key or ''}"


# --- parsing ----------------------------------------------------------------------------------


def _load_xml(body: bytes) -> Element:
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError("the request body must be bytes")
    if len(body) > MAX_BODY_BYTES:
        raise ProtocolError(ErrorCode.BODY_TOO_LARGE, f"body over {MAX_BODY_BYTES} bytes")
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(ErrorCode.NOT_UTF8, "body is not UTF-8") from exc
    if not text.strip():
        raise ProtocolError(ErrorCode.BODY_EMPTY, "body is empty")
    declared = _DECLARED_ENCODING.match(text)
    if declared and declared.group(2).lower() not in ("utf-8", "utf8"):
        raise ProtocolError(ErrorCode.NOT_UTF8, "XML declaration names an encoding other than UTF-8")
    try:
        # Parsed from str so that expat reads UTF-8 whatever the declaration says (checked above).
        root = fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DTDForbidden as exc:
        raise ProtocolError(ErrorCode.DTD_FORBIDDEN, "XML with a DOCTYPE") from exc
    except (EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise ProtocolError(ErrorCode.ENTITIES_FORBIDDEN, "XML declaring entities") from exc
    except ParseError as exc:
        raise ProtocolError(ErrorCode.XML_MALFORMED, f"not well-formed XML ({exc.position})") from exc
    if root.tag != "xml":
        raise ProtocolError(ErrorCode.ROOT_NOT_XML, "root element is not <xml>")
    return root


def _fields_of(root: Element) -> dict[str, Element]:
    """The root's child elements by tag. WeChat never repeats one, so a repeat is refused (which
    of two ``FromUserName``s would be the sender?)."""
    fields: dict[str, Element] = {}
    for child in root:
        if child.tag in fields:
            raise ProtocolError(ErrorCode.DUPLICATE_FIELD, f"{child.tag} appears twice", field=child.tag)
        fields[child.tag] = child
    return fields


def _text(name: str, element: Element) -> str:
    if len(element):
        raise ProtocolError(ErrorCode.FIELD_MALFORMED, f"{name} has child elements", field=name)
    return element.text or ""


def _stripped(name: str, element: Element) -> str:
    return _text(name, element).strip()


def _unsigned(name: str, element: Element) -> int:
    value = _stripped(name, element)
    if not _UNSIGNED.fullmatch(value) or int(value) > _MAX_UINT64:
        raise ProtocolError(ErrorCode.FIELD_MALFORMED, f"{name} is not a 64-bit unsigned integer", field=name)
    return int(value)


def _decimal(name: str, element: Element) -> Decimal:
    value = _stripped(name, element)
    try:
        number = Decimal(value) if len(value) <= 40 else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ProtocolError(ErrorCode.FIELD_MALFORMED, f"{name} is not a decimal number", field=name)
    return number


def _required(fields: dict[str, Element], name: str) -> Element:
    element = fields.get(name)
    if element is None:
        raise ProtocolError(ErrorCode.MISSING_FIELD, f"{name} is missing", field=name)
    return element


# Optional fields: XML tag → (WeChatMessage attribute, reader). Free text keeps its whitespace;
# identifiers and numbers are stripped. Only the fields present are read.
_OPTIONAL_FIELDS = {
    "MsgId": ("msg_id", _unsigned),
    "MsgID": ("msg_id", _unsigned),  # the job-finished events spell it so
    "Content": ("content", _text),
    "PicUrl": ("pic_url", _stripped),
    "MediaId": ("media_id", _stripped),
    "Format": ("format", _stripped),
    "Recognition": ("recognition", _text),
    "ThumbMediaId": ("thumb_media_id", _stripped),
    "Location_X": ("location_x", _decimal),
    "Location_Y": ("location_y", _decimal),
    "Scale": ("scale", _unsigned),
    "Label": ("label", _text),
    "Title": ("title", _text),
    "Description": ("description", _text),
    "Url": ("url", _stripped),
    "EventKey": ("event_key", _stripped),
    "Ticket": ("ticket", _stripped),
    "Latitude": ("latitude", _decimal),
    "Longitude": ("longitude", _decimal),
    "Precision": ("precision", _decimal),
    "Status": ("status", _stripped),
    "TotalCount": ("total_count", _unsigned),
    "FilterCount": ("filter_count", _unsigned),
    "SentCount": ("sent_count", _unsigned),
    "ErrorCount": ("error_count", _unsigned),
}

# Fields without which a message of that kind means nothing. Others are optional: WeChat has
# added fields over the years, and an absent Recognition or Label should not lose a message.
_REQUIRED_BY_MSG_TYPE = {
    "text": ("Content",),
    "image": ("PicUrl", "MediaId"),
    "voice": ("MediaId", "Format"),
    "video": ("MediaId", "ThumbMediaId"),
    "shortvideo": ("MediaId", "ThumbMediaId"),
    "location": ("Location_X", "Location_Y"),
    "link": ("Url",),
    "event": ("Event",),
}
_REQUIRED_BY_EVENT = {
    "scan": ("EventKey",),
    "location": ("Latitude", "Longitude"),
    "click": ("EventKey",),
    "view": ("EventKey",),
    "masssendjobfinish": ("MsgID", "Status", "TotalCount", "FilterCount", "SentCount", "ErrorCount"),
    "templatesendjobfinish": ("MsgID", "Status"),
}


def _message_from_fields(fields: dict[str, Element]) -> WeChatMessage:
    msg_type = _stripped("MsgType", _required(fields, "MsgType")).lower()
    event = _stripped("Event", fields["Event"]).lower() if "Event" in fields else None
    for name in _REQUIRED_BY_MSG_TYPE.get(msg_type, ()) + _REQUIRED_BY_EVENT.get(event or "", ()):
        _required(fields, name)
    if "MsgId" in fields and "MsgID" in fields:
        raise ProtocolError(ErrorCode.DUPLICATE_FIELD, "both MsgId and MsgID", field="MsgID")

    to_user = _stripped("ToUserName", _required(fields, "ToUserName"))
    from_user = _stripped("FromUserName", _required(fields, "FromUserName"))
    if not to_user or not from_user:
        empty = "ToUserName" if not to_user else "FromUserName"
        raise ProtocolError(ErrorCode.FIELD_MALFORMED, f"{empty} is empty", field=empty)
    create_time = _unsigned("CreateTime", _required(fields, "CreateTime"))
    if create_time > _MAX_UNIX_SECONDS:
        raise ProtocolError(ErrorCode.FIELD_MALFORMED, "CreateTime is out of range", field="CreateTime")

    optional = {}
    for name, element in fields.items():
        spec = _OPTIONAL_FIELDS.get(name)
        if spec is not None:
            attribute, read = spec
            optional[attribute] = read(name, element)
    return WeChatMessage(
        to_user=to_user,
        from_user=from_user,
        create_time=create_time,
        msg_type=msg_type,
        event=event,
        **optional,
    )


def parse_message(body: bytes) -> WeChatMessage:
    """A plaintext message or event (a plaintext-mode body, or a decrypted ``Encrypt``)."""
    return _message_from_fields(_fields_of(_load_xml(body)))


def parse_envelope(body: bytes) -> Envelope:
    """The outer XML of a safe or compatible mode request: ``Encrypt`` (required), the
    ``ToUserName`` beside it, and in compatible mode the plaintext copy of the message."""
    fields = _fields_of(_load_xml(body))
    encrypt = _stripped("Encrypt", _required(fields, "Encrypt"))
    if not encrypt:
        raise ProtocolError(ErrorCode.FIELD_MALFORMED, "Encrypt is empty", field="Encrypt")
    plaintext = _message_from_fields(fields) if "MsgType" in fields else None
    to_user = _stripped("ToUserName", fields["ToUserName"]) if "ToUserName" in fields else None
    return Envelope(to_user=to_user, encrypt=encrypt, plaintext=plaintext)


# --- the request as a whole -------------------------------------------------------------------


class Mode(StrEnum):
    """How a request came: 明文模式, 兼容模式 (plaintext and ``Encrypt`` together), 安全模式."""

    PLAINTEXT = "plaintext"
    COMPATIBLE = "compatible"
    SAFE = "safe"


@dataclass(frozen=True)
class CallbackQuery:
    """The query-string parameters WeChat adds to every callback URL."""

    signature: str
    timestamp: str
    nonce: str
    encrypt_type: str = ""
    msg_signature: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> CallbackQuery:
        """From ``request.GET``; absent parameters become ``""`` (and then fail their check)."""
        return cls(
            signature=query.get("signature", ""),
            timestamp=query.get("timestamp", ""),
            nonce=query.get("nonce", ""),
            encrypt_type=query.get("encrypt_type", ""),
            msg_signature=query.get("msg_signature", ""),
        )


@dataclass(frozen=True)
class InboundCallback:
    """A verified, decrypted, parsed callback. Reply encrypted when ``encrypted`` is true."""

    message: WeChatMessage
    mode: Mode

    @property
    def encrypted(self) -> bool:
        return self.mode is not Mode.PLAINTEXT


def _check_query(query: CallbackQuery, *, token: str, now: datetime, window_seconds: int) -> None:
    # The signature first: a request that fails it tells us nothing, so its timestamp is not
    # worth a separate log code.
    if not check_signature(token, query.signature, query.timestamp, query.nonce):
        raise ProtocolError(ErrorCode.SIGNATURE_MISMATCH, "signature does not match")
    parse_timestamp(query.timestamp)
    if not check_timestamp(query.timestamp, now, window_seconds):
        raise ProtocolError(ErrorCode.TIMESTAMP_OUT_OF_WINDOW, f"timestamp more than {window_seconds} s off")


def verify_url(query: CallbackQuery, echostr: str, *, token: str, now: datetime, window_seconds: int) -> str:
    """The GET that proves we own the URL (服务器配置): the ``echostr`` to answer with, verbatim.
    For an Official Account it is plaintext even in safe mode. ``echostr`` is not covered by the
    signature, so answer it as ``text/plain``, never as HTML."""
    _check_query(query, token=token, now=now, window_seconds=window_seconds)
    return echostr


def read_callback(
    body: bytes,
    query: CallbackQuery,
    *,
    token: str,
    crypto: WeChatCrypto | None,
    now: datetime,
    window_seconds: int,
    allow_plaintext: bool = True,
) -> InboundCallback:
    """Verify a POSTed callback and return the message in it.

    ``encrypt_type=aes`` means safe or compatible mode: ``msg_signature`` is checked before
    decrypting, and the decrypted message is used even when a plaintext copy came along (only
    ``Encrypt`` is signed). Otherwise the body is plaintext, which ``signature`` does not cover:
    set ``allow_plaintext=False`` for an account in safe mode so nobody can downgrade it.
    """
    _check_query(query, token=token, now=now, window_seconds=window_seconds)
    encrypt_type = query.encrypt_type.lower()
    if encrypt_type in ("", "raw"):
        if not allow_plaintext:
            raise ProtocolError(ErrorCode.PLAINTEXT_REFUSED, "this account accepts encrypted requests only")
        return InboundCallback(message=parse_message(body), mode=Mode.PLAINTEXT)
    if encrypt_type != "aes":
        raise ProtocolError(ErrorCode.ENCRYPT_TYPE_UNSUPPORTED, "encrypt_type is neither raw nor aes")
    if crypto is None:
        raise ProtocolError(ErrorCode.ENCRYPTION_NOT_CONFIGURED, "no EncodingAESKey for this account")

    envelope = parse_envelope(body)
    inner = crypto.decrypt_message(
        envelope.encrypt, msg_signature=query.msg_signature, timestamp=query.timestamp, nonce=query.nonce
    )
    message = parse_message(inner)
    if envelope.to_user is not None and envelope.to_user != message.to_user:
        raise ProtocolError(ErrorCode.TO_USER_MISMATCH, "envelope and message name different accounts")
    return InboundCallback(
        message=message, mode=Mode.COMPATIBLE if envelope.plaintext is not None else Mode.SAFE
    )


# --- passive replies (被动回复) ----------------------------------------------------------------

# XML 1.0 cannot carry these at all, not even in CDATA; WeChat would refuse the whole reply.
_NONCE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NEEDS_CLEANING = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def cdata(text: str) -> str:
    """``text`` as CDATA that cannot be broken out of: a ``]]>`` inside is split across two
    sections. Characters XML cannot carry are dropped, and line ends become ``\\n`` (an XML
    parser would turn ``\\r`` into ``\\n`` anyway)."""
    if _NEEDS_CLEANING.search(text):
        text = _NOT_XML_CHAR.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


@dataclass(frozen=True)
class NewsArticle:
    """One item of a news (图文) reply; ``pic_url`` is best 360×200 (first) or 200×200 (others)."""

    title: str
    description: str = ""
    pic_url: str = ""
    url: str = ""


def _reply(*, to_user: str, from_user: str, create_time: int, msg_type: str, body: str) -> bytes:
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName><FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(create_time)}</CreateTime><MsgType>{cdata(msg_type)}</MsgType>{body}</xml>"
    ).encode()


def render_text_reply(*, to_user: str, from_user: str, create_time: int, content: str) -> bytes:
    """A text reply. ``to_user`` is the follower's openid, ``from_user`` our original ID: the
    inbound message's ``from_user`` and ``to_user`` swapped."""
    return _reply(
        to_user=to_user,
        from_user=from_user,
        create_time=create_time,
        msg_type="text",
        body=f"<Content>{cdata(content)}</Content>",
    )


def render_image_reply(*, to_user: str, from_user: str, create_time: int, media_id: str) -> bytes:
    """An image reply; ``media_id`` comes from a media upload through the API."""
    return _reply(
        to_user=to_user,
        from_user=from_user,
        create_time=create_time,
        msg_type="image",
        body=f"<Image><MediaId>{cdata(media_id)}</MediaId></Image>",
    )


def render_news_reply(
    *, to_user: str, from_user: str, create_time: int, articles: Sequence[NewsArticle]
) -> bytes:
    """A news (图文) reply of 1–8 articles. WeChat shows only the first when answering a text,
    image, voice, video, link or location message; 8 apply to events such as menu clicks."""
    if not 1 <= len(articles) <= MAX_NEWS_ARTICLES:
        raise ValueError(f"a news reply has 1 to {MAX_NEWS_ARTICLES} articles, not {len(articles)}")
    items = "".join(
        f"<item><Title>{cdata(article.title)}</Title><Description>{cdata(article.description)}</Description>"
        f"<PicUrl>{cdata(article.pic_url)}</PicUrl><Url>{cdata(article.url)}</Url></item>"
        for article in articles
    )
    return _reply(
        to_user=to_user,
        from_user=from_user,
        create_time=create_time,
        msg_type="news",
        body=f"<ArticleCount>{len(articles)}</ArticleCount><Articles>{items}</Articles>",
    )


def wrap_encrypted_reply(crypto: WeChatCrypto, reply_xml: bytes, *, nonce: str, timestamp: int) -> bytes:
    """A rendered reply in the safe-mode envelope (Encrypt, MsgSignature, TimeStamp, Nonce).

    ``nonce`` is signed as given, so it must be something XML carries unchanged (WeChat's own
    are digits; a fresh ``secrets.token_hex(8)`` will do)."""
    if not _NONCE.fullmatch(nonce):
        raise ValueError("nonce must be 1 to 64 characters of A-Z a-z 0-9 _ -")
    encrypt, msg_signature = crypto.encrypt(reply_xml, nonce, timestamp)
    return (
        f"<xml><Encrypt>{cdata(encrypt)}</Encrypt><MsgSignature>{cdata(msg_signature)}</MsgSignature>"
        f"<TimeStamp>{int(timestamp)}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>"
    ).encode()
