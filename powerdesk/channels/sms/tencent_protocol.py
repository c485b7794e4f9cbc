"""Tencent Cloud SMS ``SendSms`` (API 2021-01-11): TC3-HMAC-SHA256 signing, body, response parsing.

Pure functions, no I/O: ``outbound.TencentSmsBackend`` does the HTTP call with them.

Where the rules come from (Tencent Cloud's public documentation):

* "SendSms" (sms, 2021-01-11): ``POST https://sms.tencentcloudapi.com/`` with a JSON body —
  ``PhoneNumberSet`` (E.164, ``+8613800000000``), ``SmsSdkAppId``, ``TemplateId``,
  ``SignName``, ``TemplateParamSet`` (the template's ``{1}``, ``{2}`` … in order, strings),
  ``SessionContext`` (echoed back; we send our message id) — answered
  ``{"Response": {"SendStatusSet": [{"SerialNo", "PhoneNumber", "Fee", "SessionContext",
  "Code": "Ok", "Message", "IsoCode"}], "RequestId"}}``. ``Fee`` is the number of billed parts.
  A refused call is ``{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`` (HTTP 200);
  a per-number refusal is that number's ``Code`` other than ``Ok``.
* "签名方法 v3" (TC3-HMAC-SHA256), common headers ``X-TC-Action``, ``X-TC-Version``,
  ``X-TC-Timestamp`` (Unix seconds; more than five minutes off the server's clock is
  ``AuthFailure.SignatureExpire``), ``X-TC-Region``, and ``Authorization``:

  1. CanonicalRequest = method ``\\n`` ``/`` ``\\n`` canonical query (empty for POST) ``\\n``
     canonical headers (``name:value\\n`` each, lower-cased names and trimmed lower-cased values,
     sorted by name) ``\\n`` signed header names (``;``-joined) ``\\n`` hex SHA-256 of the body;
  2. StringToSign = ``TC3-HMAC-SHA256`` ``\\n`` timestamp ``\\n`` CredentialScope
     (``<UTC date of the timestamp>/sms/tc3_request``) ``\\n`` hex SHA-256 of CanonicalRequest;
  3. SecretDate = HMAC-SHA256(``"TC3" + SecretKey``, date); SecretService = HMAC(SecretDate,
     ``sms``); SecretSigning = HMAC(SecretService, ``tc3_request``); Signature =
     hex HMAC(SecretSigning, StringToSign);
  4. Authorization = ``TC3-HMAC-SHA256 Credential=<SecretId>/<scope>, SignedHeaders=<names>,
     Signature=<hex>``.

  The documentation's worked example (CVM DescribeInstances, SecretKey
  ``Gu5t9xGARNpq86cd98joQYCN3EXAMPLE``, timestamp 1551113065) signs to
  ``72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168``;
  ``tests/test_tencent_protocol.py`` reproduces it. TC3 has no nonce (the v1 signature had one);
  freshness is the five-minute timestamp window.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from powerdesk.channels.base import ChannelError

DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com/"
SERVICE = "sms"
API_VERSION = "2021-01-11"
ACTION_SEND_SMS = "SendSms"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = ("content-type", "host", "x-tc-action")
MAX_CLOCK_SKEW_SECONDS = 5 * 60


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def credential_date(timestamp: int) -> str:
    """The credential scope's date: the **UTC** date of the timestamp (not Beijing's)."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def canonical_request(
    *, method: str, headers: Mapping[str, str], signed_headers: Sequence[str], payload: bytes, query: str = ""
) -> str:
    lowered = {name.lower(): value for name, value in headers.items()}
    names = sorted(name.lower() for name in signed_headers)
    canonical_headers = "".join(f"{name}:{lowered[name].strip().lower()}\n" for name in names)
    return "\n".join([method.upper(), "/", query, canonical_headers, ";".join(names), sha256_hex(payload)])


def string_to_sign(*, timestamp: int, service: str, canonical: str) -> str:
    scope = f"{credential_date(timestamp)}/{service}/tc3_request"
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{sha256_hex(canonical.encode('utf-8'))}"


def signature(*, secret_key: str, timestamp: int, service: str, to_sign: str) -> str:
    secret_date = _hmac(f"TC3{secret_key}".encode(), credential_date(timestamp))
    secret_service = _hmac(secret_date, service)
    secret_signing = _hmac(secret_service, "tc3_request")
    return hmac.new(secret_signing, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization(
    *,
    secret_id: str,
    secret_key: str,
    timestamp: int,
    service: str,
    headers: Mapping[str, str],
    payload: bytes,
    signed_headers: Sequence[str] = SIGNED_HEADERS,
    method: str = "POST",
) -> str:
    """The ``Authorization`` header for a request with these headers and body."""
    canonical = canonical_request(
        method=method, headers=headers, signed_headers=signed_headers, payload=payload
    )
    to_sign = string_to_sign(timestamp=timestamp, service=service, canonical=canonical)
    names = ";".join(sorted(name.lower() for name in signed_headers))
    scope = f"{credential_date(timestamp)}/{service}/tc3_request"
    value = signature(secret_key=secret_key, timestamp=timestamp, service=service, to_sign=to_sign)
    return f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={names}, Signature={value}"


@dataclass(frozen=True)
class SignedRequest:
    headers: dict[str, str]
    body: bytes


def send_sms_request(
    *,
    host: str,
    secret_id: str,
    secret_key: str,
    region: str,
    sdk_app_id: str,
    sign_name: str,
    phone: str,
    template_id: str,
    template_params: Sequence[str],
    session_context: str,
    timestamp: int,
) -> SignedRequest:
    """The headers and body of one signed SendSms call to ``phone`` (11 digits, mainland)."""
    body = json.dumps(
        {
            "PhoneNumberSet": [f"+86{phone}"],
            "SmsSdkAppId": sdk_app_id,
            "TemplateId": template_id,
            "SignName": sign_name,
            "TemplateParamSet": list(template_params),
            "SessionContext": session_context,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    headers = {
        "Content-Type": CONTENT_TYPE,
        "Host": host,
        "X-TC-Action": ACTION_SEND_SMS,
        "X-TC-Version": API_VERSION,
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Region": region,
    }
    headers["Authorization"] = authorization(
        secret_id=secret_id,
        secret_key=secret_key,
        timestamp=timestamp,
        service=SERVICE,
        headers=headers,
        payload=body,
    )
    return SignedRequest(headers=headers, body=body)


# --- responses and errors -------------------------------------------------------------------


class TencentSmsError(ChannelError):
    """A refused or failed SendSms call (``retry_now`` as for Alibaba Cloud: a second try a moment
    later may succeed; rate limits and timeouts are transient but not worth an immediate retry)."""

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


# Our fault or the account's: retrying cannot help until someone changes something. Codes are
# matched exactly, then by their family (the part before the first dot).
PERMANENT_CODES = frozenset(
    {
        "AuthFailure.SignatureFailure",
        "AuthFailure.SignatureExpire",  # our clock is off by more than five minutes
        "AuthFailure.SecretIdNotFound",
        "AuthFailure.InvalidSecretId",
        "AuthFailure.InvalidAuthorization",
        "AuthFailure.UnauthorizedOperation",
        "FailedOperation.SignatureIncorrectOrUnapproved",
        "FailedOperation.TemplateIncorrectOrUnapproved",
        "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
        "FailedOperation.TemplateUnapprovedOrNotExist",
        "FailedOperation.PhoneNumberInBlacklist",  # the number refused our messages
        "FailedOperation.InsufficientBalanceInSmsPackage",
        "FailedOperation.ContainSensitiveWord",
        "FailedOperation.JsonParseFail",
        "FailedOperation.FailResolvePacket",
        "InvalidAction",
        "NoSuchVersion",
    }
)
PERMANENT_FAMILIES = frozenset(
    {
        "InvalidParameter",
        "InvalidParameterValue",
        "MissingParameter",
        "UnauthorizedOperation",
        "UnsupportedOperation",
    }
)
# Transient, and a second try a moment later is reasonable.
RETRY_NOW_CODES = frozenset(
    {"InternalError", "InternalError.OtherError", "RequestLimitExceeded", "ServiceUnavailable"}
)
# Everything else — LimitExceeded.PhoneNumber* (per-number frequency), InternalError.Timeout
# (it may have been sent), codes we have never seen — is transient without an immediate retry.


def error_for_code(
    code: str, message: str, *, request_id: str = "", http_status: int | None = None
) -> TencentSmsError:
    family = code.split(".", 1)[0]
    permanent = code in PERMANENT_CODES or family in PERMANENT_FAMILIES
    retry_now = code in RETRY_NOW_CODES or (family == "RequestLimitExceeded")
    return TencentSmsError(
        f"{code}: {message}" if message else code,
        permanent=permanent,
        vendor_code=code,
        retry_now=retry_now,
        request_id=request_id,
        http_status=http_status,
    )


@dataclass(frozen=True)
class SendSmsAccepted:
    """The gateway took the message: ``serial_no`` names it in receipts; ``fee`` parts billed."""

    serial_no: str
    request_id: str
    fee: int


def parse_send_sms_response(status: int, body: bytes) -> SendSmsAccepted:
    """Read a SendSms answer; raises ``TencentSmsError`` unless the one number says ``Ok``."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    response = data.get("Response") if isinstance(data, dict) else None
    if not isinstance(response, dict):
        response = None
    request_id = str(response.get("RequestId", "")) if response else ""
    if status >= 500:
        raise TencentSmsError(
            f"HTTP {status}",
            permanent=False,
            vendor_code=f"http.{status}",
            retry_now=True,
            request_id=request_id,
            http_status=status,
        )
    if response is None:
        # Not an answer from the API (a proxy's page, a truncated body): a 200 may mean it was
        # sent, so no immediate retry; a 4xx other than 429 will not mend itself.
        raise TencentSmsError(
            f"HTTP {status}: unreadable SendSms response",
            permanent=400 <= status < 500 and status != 429,
            vendor_code=f"http.{status}",
            http_status=status,
        )
    error = response.get("Error")
    if isinstance(error, dict):
        raise error_for_code(
            str(error.get("Code", "")) or "UnknownError",
            str(error.get("Message", "")),
            request_id=request_id,
            http_status=status,
        )
    statuses = response.get("SendStatusSet")
    if not (isinstance(statuses, list) and len(statuses) == 1 and isinstance(statuses[0], dict)):
        raise TencentSmsError(
            f"HTTP {status}: SendStatusSet without exactly one status",
            permanent=False,
            vendor_code="malformed",
            request_id=request_id,
            http_status=status,
        )
    sent = statuses[0]
    code = str(sent.get("Code", ""))
    if code != "Ok":
        raise error_for_code(
            code or "UnknownError", str(sent.get("Message", "")), request_id=request_id, http_status=status
        )
    serial_no = str(sent.get("SerialNo", ""))
    if not serial_no:
        raise TencentSmsError(
            "Code Ok without a SerialNo",
            permanent=False,
            vendor_code="malformed",
            request_id=request_id,
            http_status=status,
        )
    fee = sent.get("Fee")
    return SendSmsAccepted(
        serial_no=serial_no, request_id=request_id, fee=fee if isinstance(fee, int) and fee > 0 else 1
    )
