"""Alibaba Cloud SMS (短信服务, dysmsapi) SendSms: request signing, parameters, response parsing.

Pure functions, no I/O: ``outbound.AliyunSmsBackend`` does the HTTP call with them.

Where the rules come from (Alibaba Cloud's public documentation):

* API reference "SendSms" (dysmsapi, API version 2017-05-25): the request parameters
  ``PhoneNumbers``, ``SignName``, ``TemplateCode``, ``TemplateParam`` (a JSON object of the
  template's variables), ``OutId`` (echoed back in delivery receipts), and the response fields
  ``RequestId``, ``Code`` (``"OK"`` on success), ``Message``, ``BizId``; and its error-code page.
* "RPC 风格 API 的签名机制" / SMS "HTTP 协议及签名": the common parameters (``AccessKeyId``,
  ``Action``, ``Format``, ``RegionId``, ``SignatureMethod=HMAC-SHA1``, ``SignatureNonce``,
  ``SignatureVersion=1.0``, ``Timestamp`` as ISO 8601 UTC ``YYYY-MM-DDThh:mm:ssZ``,
  ``Version``) and the signature itself:

  1. percent-encode every name and value: UTF-8 bytes; ``A-Z a-z 0-9 - _ . ~`` stay as they
     are, every other byte becomes ``%XX`` with upper-case hex (so a space is ``%20``, never
     ``+``; ``*`` is ``%2A``; ``~`` is not escaped);
  2. sort by parameter name and join as ``name=value`` pairs with ``&`` (the canonicalised
     query string);
  3. StringToSign = ``GET&%2F&`` + percent-encode(canonicalised query string);
  4. Signature = base64(HMAC-SHA1(key = AccessKeySecret + "&", StringToSign)), sent as the
     ``Signature`` parameter (itself percent-encoded).

  The documentation's worked example (AccessKeyId ``testId``, secret ``testSecret``, template
  ``SMS_71390007``, nonce ``45e25e9b-…``, 2017-07-12T02:42:19Z) signs to
  ``zJDF+Lrzhj/ThnlvIToysFRq6t4=``; ``tests/test_protocol.py`` checks we reproduce it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from powerdesk.channels.base import ChannelError

DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
API_VERSION = "2017-05-25"
ACTION_SEND_SMS = "SendSms"
SIGNATURE_METHOD = "HMAC-SHA1"
SIGNATURE_VERSION = "1.0"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def percent_encode(text: str) -> str:
    """RFC 3986 percent-encoding as the signature spec wants it (``%20``, ``%2A``, bare ``~``)."""
    return "".join(chr(byte) if byte in _UNRESERVED else f"%{byte:02X}" for byte in text.encode("utf-8"))


def canonical_query(params: Mapping[str, str]) -> str:
    """Encoded ``name=value`` pairs sorted by name; ``Signature`` itself is never signed."""
    return "&".join(
        f"{percent_encode(name)}={percent_encode(params[name])}"
        for name in sorted(params)
        if name != "Signature"
    )


def string_to_sign(params: Mapping[str, str], *, method: str = "GET") -> str:
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def signature(params: Mapping[str, str], *, secret: str, method: str = "GET") -> str:
    digest = hmac.new(
        f"{secret}&".encode(), string_to_sign(params, method=method).encode("utf-8"), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_query(params: Mapping[str, str], *, secret: str) -> str:
    """The query string to send: the canonicalised parameters plus their ``Signature``."""
    return f"Signature={percent_encode(signature(params, secret=secret))}&{canonical_query(params)}"


def send_sms_params(
    *,
    access_key_id: str,
    region_id: str,
    sign_name: str,
    phone: str,
    template_code: str,
    template_params: Mapping[str, str],
    out_id: str,
    now: datetime,
    nonce: str,
) -> dict[str, str]:
    """Every parameter of one SendSms request, unsigned.

    ``now`` must be aware; the gateway refuses timestamps more than 15 minutes off its clock.
    ``nonce`` must never repeat (the gateway refuses a reused one as a replay).
    """
    if now.tzinfo is None:
        raise ValueError("SendSms timestamp must be an aware datetime")
    return {
        "AccessKeyId": access_key_id,
        "Action": ACTION_SEND_SMS,
        "Format": "JSON",
        "OutId": out_id,
        "PhoneNumbers": phone,
        "RegionId": region_id,
        "SignName": sign_name,
        "SignatureMethod": SIGNATURE_METHOD,
        "SignatureNonce": nonce,
        "SignatureVersion": SIGNATURE_VERSION,
        "TemplateCode": template_code,
        "TemplateParam": json.dumps(dict(template_params), ensure_ascii=False, separators=(",", ":")),
        "Timestamp": now.astimezone(UTC).strftime(TIMESTAMP_FORMAT),
        "Version": API_VERSION,
    }


# --- responses and errors -------------------------------------------------------------------


class AliyunSmsError(ChannelError):
    """A refused or failed SendSms call.

    ``retry_now``: a second try a moment later may well succeed (a 5xx, gateway throttling, a
    refused connection). Rate limits per number and timeouts are transient but not worth an
    immediate retry: the limit will still hold, and a request that timed out may have been
    delivered, so retrying it could text the customer twice.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        vendor_code: str,
        retry_now: bool = False,
        request_id: str = "",
        http_status: int | None = None,
    ) -> None:
        super().__init__(message, permanent=permanent, vendor_code=vendor_code)
        self.retry_now = retry_now and not permanent
        self.request_id = request_id
        self.http_status = http_status


# Our fault or the account's: retrying cannot help until someone changes something.
PERMANENT_CODES = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.TEMPLATE_PARAMS_ILLEGAL",
        "isv.INVALID_PARAMETERS",
        "isv.INVALID_JSON_PARAM",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.SMS_SIGN_ILLEGAL",
        "isv.SMS_CONTENT_ILLEGAL",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.AMOUNT_NOT_ENOUGH",
        "isv.ACCOUNT_NOT_EXISTS",
        "isv.ACCOUNT_ABNORMAL",
        "isv.OUT_OF_SERVICE",
        "isv.PRODUCT_UN_SUBSCRIPT",
        "isv.PRODUCT_UNSUBSCRIBE",
        "isv.DENY_IP_RANGE",
        "isp.RAM_PERMISSION_DENY",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidTimeStamp.Format",
        "InvalidTimeStamp.Expired",  # our clock is off by more than 15 minutes
        "InvalidVersion",
        "InvalidAction.NotFound",
        "MissingParameter",
    }
)
# Transient, and a second try a moment later is reasonable.
RETRY_NOW_CODES = frozenset(
    {
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "ServiceUnavailable",
        "InternalError",
        "isp.SYSTEM_ERROR",
        "isp.GATEWAY_ERROR",
        "SignatureNonceUsed",  # a fresh nonce fixes it
    }
)
# Everything else (isv.BUSINESS_LIMIT_CONTROL — the per-number minute/hour/day limit —,
# isv.DAY_LIMIT_CONTROL, codes we have never seen) is transient without an immediate retry:
# wrongly calling a failure permanent would mark a reachable customer unreachable.


def error_for_code(
    code: str, message: str, *, request_id: str = "", http_status: int | None = None
) -> AliyunSmsError:
    permanent = code in PERMANENT_CODES or code.startswith("Missing")
    return AliyunSmsError(
        f"{code}: {message}" if message else code,
        permanent=permanent,
        vendor_code=code,
        retry_now=code in RETRY_NOW_CODES,
        request_id=request_id,
        http_status=http_status,
    )


@dataclass(frozen=True)
class SendSmsAccepted:
    """The gateway took the message: ``biz_id`` names it in receipts and the vendor console."""

    biz_id: str
    request_id: str


def parse_send_sms_response(status: int, body: bytes) -> SendSmsAccepted:
    """Read a SendSms answer; raises ``AliyunSmsError`` unless it says ``Code: OK``."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict):
        data = None
    code = str(data.get("Code", "")) if data else ""
    vendor_message = str(data.get("Message", "")) if data else body[:120].decode("utf-8", "replace")
    request_id = str(data.get("RequestId", "")) if data else ""

    if status >= 500:
        return_code = code or f"http.{status}"
        raise AliyunSmsError(
            f"HTTP {status} {return_code}: {vendor_message}"
            if vendor_message
            else f"HTTP {status} {return_code}",
            permanent=False,
            vendor_code=return_code,
            retry_now=True,
            request_id=request_id,
            http_status=status,
        )
    if data is None or not code:
        # Not an answer from the SMS API (a proxy's page, a truncated body). A 200 may mean the
        # message went out, so no immediate retry; a 4xx other than 429 will not mend itself.
        raise AliyunSmsError(
            f"HTTP {status}: unreadable SendSms response",
            permanent=400 <= status < 500 and status != 429,
            vendor_code=f"http.{status}",
            http_status=status,
        )
    if code != "OK":
        raise error_for_code(code, vendor_message, request_id=request_id, http_status=status)
    biz_id = str(data.get("BizId", ""))
    if status != 200 or not biz_id:
        raise AliyunSmsError(
            f"HTTP {status}: Code OK without a BizId",
            permanent=False,
            vendor_code="malformed",
            request_id=request_id,
            http_status=status,
        )
    return SendSmsAccepted(biz_id=biz_id, request_id=request_id)
