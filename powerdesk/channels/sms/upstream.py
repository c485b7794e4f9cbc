"""Inbound SMS (上行短信): our HMAC signature over the gateway's push, and the push's JSON shapes.

Pure functions, no Django: ``inbound.py`` is the view that calls them.

**What the vendors send.** Both push a customer's reply to an HTTP URL we configure, as JSON,
and neither signs the push:

* Alibaba Cloud "SmsUp" (HTTP 批量推送): a JSON **array**, possibly several messages per request,
  each ``{"phone_number": "1381111****", "send_time": "2017-09-01 00:00:00", "content": "…",
  "sign_name": "…", "dest_code": "1234", "sequence_id": 1234567890}`` — ``sequence_id`` a number
  in older documents and a string in newer ones, ``sign_name`` missing in newer ones, the time in
  Beijing time (``20170901000000`` in one old example). The answer is
  ``{"code": 0, "msg": "接收成功"}``; only HTTP 200 counts, anything else is pushed again 1, 5
  and 10 minutes later.
* Tencent Cloud "回复短信" callback: a JSON **object** ``{"extend": "", "mobile": "13xxxxxxxxx",
  "nationcode": "86", "sign": "…", "text": "…", "time": 1457336869}``, answered
  ``{"result": 0, "errmsg": "OK"}``. It carries **no message id**: we derive one from the number,
  the time and the text (two identical texts from one number in the same second are one message).

**What is ours.** Because the push is unsigned, PowerDesk accepts it only through a signing hop
we control (the operator's relay, an API gateway, or a gateway configured to sign), which adds:

* ``X-PowerDesk-Timestamp``: Unix seconds when it signed (decimal);
* ``X-PowerDesk-Signature``: ``v1=<hex>``, where hex is
  ``HMAC-SHA256(secret, "<timestamp>.<provider>." + body)`` over the raw body bytes, provider
  ``aliyun`` or ``tencent`` (the path the push is for, so a signed body cannot be replayed to
  the other endpoint). Several comma-separated ``v1=`` values are allowed (a relay signing with
  both secrets while they rotate); one match is enough. Compared in constant time.

A request is accepted when the timestamp is within the window (default ±300 s) of our clock and
a signature matches one of our secrets. A replay inside the window is harmless: messages are
deduplicated by their id (Alibaba Cloud's ``sequence_id``, our derived id for Tencent).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

TIMESTAMP_HEADER = "X-PowerDesk-Timestamp"
SIGNATURE_HEADER = "X-PowerDesk-Signature"
SIGNATURE_VERSION = "v1"
PROVIDERS = ("aliyun", "tencent")
MAX_BODY_BYTES = 64 * 1024
MAX_MESSAGES = 100  # per request; Alibaba Cloud batches, Tencent sends one
MAX_TEXT_LENGTH = 1000  # a long SMS is at most a few hundred characters
MAX_ID_LENGTH = 64
MAX_CODE_LENGTH = 32  # dest_code / extend / sign

BEIJING = ZoneInfo("Asia/Shanghai")
_MAINLAND_MOBILE = re.compile(r"(?:\+?86|0086)?(1[3-9][0-9]{9})")
_SIGNATURE_ITEM = re.compile(r"v1=([0-9a-f]{64})")

# What each provider expects back when the push was taken.
ACKNOWLEDGEMENTS: dict[str, dict[str, Any]] = {
    "aliyun": {"code": 0, "msg": "接收成功"},
    "tencent": {"result": 0, "errmsg": "OK"},
}


class ErrorCode(StrEnum):
    TIMESTAMP_MISSING = "timestamp_missing"
    TIMESTAMP_MALFORMED = "timestamp_malformed"
    TIMESTAMP_OUT_OF_WINDOW = "timestamp_out_of_window"
    SIGNATURE_MISSING = "signature_missing"
    SIGNATURE_MALFORMED = "signature_malformed"
    SIGNATURE_MISMATCH = "signature_mismatch"
    BODY_TOO_LARGE = "body_too_large"
    BODY_NOT_UTF8 = "body_not_utf8"
    JSON_MALFORMED = "json_malformed"
    SHAPE_INVALID = "shape_invalid"
    TOO_MANY_MESSAGES = "too_many_messages"
    FIELD_MISSING = "field_missing"
    FIELD_MALFORMED = "field_malformed"


_STATUS = {
    ErrorCode.TIMESTAMP_MISSING: 401,
    ErrorCode.SIGNATURE_MISSING: 401,
    ErrorCode.TIMESTAMP_MALFORMED: 403,
    ErrorCode.TIMESTAMP_OUT_OF_WINDOW: 403,
    ErrorCode.SIGNATURE_MALFORMED: 403,
    ErrorCode.SIGNATURE_MISMATCH: 403,
    ErrorCode.BODY_TOO_LARGE: 413,
}


class UpstreamError(Exception):
    """A push we refuse: ``code`` (stable), ``message`` (why), ``field`` (where), HTTP ``status``."""

    def __init__(self, code: ErrorCode, message: str, *, field: str = "") -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field
        self.status = _STATUS.get(code, 400)


@dataclass(frozen=True)
class UpstreamSms:
    """One customer SMS as a gateway reported it, checked and normalised."""

    provider: str
    message_id: str  # the gateway's id (Alibaba Cloud) or ours derived from the content (Tencent)
    phone: str  # 11 digits, mainland mobile
    text: str
    sent_at: datetime | None  # aware, when the gateway said
    service_code: str = ""  # dest_code / extend: the extension the customer replied to
    sign_name: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def dedup_key(self) -> str:
        return f"{self.provider}:{self.message_id}"


# --- the signature ----------------------------------------------------------------------------


def signature(secret: str, *, timestamp: str, provider: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>.<provider>." + body`` under ``secret``."""
    message = f"{timestamp}.{provider}.".encode("ascii") + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, *, timestamp: str, provider: str, body: bytes) -> str:
    return f"{SIGNATURE_VERSION}={signature(secret, timestamp=timestamp, provider=provider, body=body)}"


def verify(
    *,
    timestamp: str | None,
    signature_value: str | None,
    provider: str,
    body: bytes,
    secrets: Iterable[str],
    now: int,
    window_seconds: int,
) -> None:
    """Raise ``UpstreamError`` unless the push is fresh and signed with one of ``secrets``."""
    if not timestamp:
        raise UpstreamError(ErrorCode.TIMESTAMP_MISSING, "no timestamp header", field=TIMESTAMP_HEADER)
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise UpstreamError(
            ErrorCode.TIMESTAMP_MALFORMED, "expected Unix seconds (digits)", field=TIMESTAMP_HEADER
        )
    if abs(now - int(timestamp)) > window_seconds:
        raise UpstreamError(
            ErrorCode.TIMESTAMP_OUT_OF_WINDOW,
            f"timestamp is more than {window_seconds} s from our clock",
            field=TIMESTAMP_HEADER,
        )
    if not signature_value:
        raise UpstreamError(ErrorCode.SIGNATURE_MISSING, "no signature header", field=SIGNATURE_HEADER)
    items = [item.strip() for item in signature_value.split(",")]
    if len(items) > 4 or not all(_SIGNATURE_ITEM.fullmatch(item) for item in items):
        raise UpstreamError(
            ErrorCode.SIGNATURE_MALFORMED, "expected v1=<64 lower-case hex digits>", field=SIGNATURE_HEADER
        )
    given = [item[3:] for item in items]
    matched = False
    for secret in secrets:
        if not secret:
            continue
        expected = signature(secret, timestamp=timestamp, provider=provider, body=body)
        for candidate in given:  # every comparison runs: no early exit to time
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise UpstreamError(ErrorCode.SIGNATURE_MISMATCH, "signature does not match", field=SIGNATURE_HEADER)


# --- the JSON ---------------------------------------------------------------------------------


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise UpstreamError(ErrorCode.JSON_MALFORMED, f"key {key!r} appears twice")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise UpstreamError(ErrorCode.JSON_MALFORMED, f"{name} is not JSON")


def load_json(body: bytes) -> Any:
    """Strict JSON: UTF-8, no duplicate keys, no NaN/Infinity, bounded size and depth."""
    if len(body) > MAX_BODY_BYTES:
        raise UpstreamError(ErrorCode.BODY_TOO_LARGE, f"body over {MAX_BODY_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UpstreamError(ErrorCode.BODY_NOT_UTF8, f"byte {exc.start} is not UTF-8") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants)
    except UpstreamError:
        raise
    except RecursionError:
        raise UpstreamError(ErrorCode.JSON_MALFORMED, "nested too deeply") from None
    except ValueError as exc:
        raise UpstreamError(ErrorCode.JSON_MALFORMED, str(exc)[:120]) from None


# The field checkers below are shared with the status reports (reports.py); ``where`` is the
# field's path in the push ("[2].content"), named in the refusal.


def record_field(record: dict, name: str, where: str, *, required: bool = True) -> Any:
    """``record[name]``; FIELD_MISSING when absent or null and ``required``, else None."""
    if name not in record or record[name] is None:
        if required:
            raise UpstreamError(ErrorCode.FIELD_MISSING, f"{name} is required", field=where)
        return None
    return record[name]


def record_string(record: dict, name: str, where: str, *, max_length: int, required: bool = True) -> str:
    """A string field at most ``max_length`` long that a database can store ("" when optional)."""
    value = record_field(record, name, where, required=required)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise UpstreamError(ErrorCode.FIELD_MALFORMED, f"{name} must be a string", field=where)
    if len(value) > max_length:
        raise UpstreamError(ErrorCode.FIELD_MALFORMED, f"{name} longer than {max_length}", field=where)
    if "\x00" in value:
        raise UpstreamError(ErrorCode.FIELD_MALFORMED, f"{name} contains NUL", field=where)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a "\ud800" escape: no database stores it
        raise UpstreamError(ErrorCode.FIELD_MALFORMED, f"{name} is not valid Unicode", field=where) from None
    return value


def mainland_mobile(value: str, where: str) -> str:
    """The 11 digits of a mainland mobile number, with or without +86 / 0086."""
    match = _MAINLAND_MOBILE.fullmatch(value.strip())
    if match is None:
        raise UpstreamError(
            ErrorCode.FIELD_MALFORMED, "not a mainland mobile number (11 digits, 1[3-9]…)", field=where
        )
    return match.group(1)


def beijing_time(value: str, where: str) -> datetime:
    """A gateway's "YYYY-MM-DD hh:mm:ss" (or "YYYYMMDDhhmmss") in Beijing time, made aware."""
    for layout in ("%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S"):
        try:
            return datetime.strptime(value, layout).replace(tzinfo=BEIJING)
        except ValueError:
            continue
    raise UpstreamError(ErrorCode.FIELD_MALFORMED, "expected YYYY-MM-DD hh:mm:ss (Beijing time)", field=where)


def json_records(body: bytes, noun: str = "message") -> list[dict]:
    """A pushed JSON array of 1–``MAX_MESSAGES`` objects (a ``noun`` each), checked."""
    data = load_json(body)
    if not isinstance(data, list):
        raise UpstreamError(ErrorCode.SHAPE_INVALID, f"expected a JSON array of {noun}s")
    if not data:
        raise UpstreamError(ErrorCode.SHAPE_INVALID, f"the array holds no {noun}")
    if len(data) > MAX_MESSAGES:
        raise UpstreamError(ErrorCode.TOO_MANY_MESSAGES, f"more than {MAX_MESSAGES} {noun}s")
    for index, record in enumerate(data):
        if not isinstance(record, dict):
            raise UpstreamError(ErrorCode.SHAPE_INVALID, f"each {noun} must be a JSON object", field=f"[{index}]")
    return data


def parse_aliyun(body: bytes) -> list[UpstreamSms]:
    """An Alibaba Cloud SmsUp push: a JSON array of 1–100 messages."""
    messages = []
    for index, record in enumerate(json_records(body)):
        at = f"[{index}]"
        sequence_id = record_field(record, "sequence_id", f"{at}.sequence_id")
        if isinstance(sequence_id, int) and not isinstance(sequence_id, bool) and sequence_id >= 0:
            sequence_id = str(sequence_id)
        if not (
            isinstance(sequence_id, str)
            and sequence_id.isascii()
            and sequence_id.isdigit()
            and len(sequence_id) <= MAX_ID_LENGTH
        ):
            raise UpstreamError(
                ErrorCode.FIELD_MALFORMED,
                f"sequence_id must be a non-negative integer of at most {MAX_ID_LENGTH} digits",
                field=f"{at}.sequence_id",
            )
        phone = mainland_mobile(
            record_string(record, "phone_number", f"{at}.phone_number", max_length=20), f"{at}.phone_number"
        )
        text = record_string(record, "content", f"{at}.content", max_length=MAX_TEXT_LENGTH)
        send_time = record_string(record, "send_time", f"{at}.send_time", max_length=32)
        dest_code = record_string(
            record, "dest_code", f"{at}.dest_code", max_length=MAX_CODE_LENGTH, required=False
        )
        sign_name = record_string(
            record, "sign_name", f"{at}.sign_name", max_length=MAX_CODE_LENGTH, required=False
        )
        messages.append(
            UpstreamSms(
                provider="aliyun",
                message_id=sequence_id,
                phone=phone,
                text=text,
                sent_at=beijing_time(send_time, f"{at}.send_time"),
                service_code=dest_code,
                sign_name=sign_name,
                # Only the fields we checked are kept: unknown ones could hold anything.
                raw={
                    "sequence_id": sequence_id,
                    "send_time": send_time,
                    "dest_code": dest_code,
                    "sign_name": sign_name,
                },
            )
        )
    return messages


def parse_tencent(body: bytes) -> list[UpstreamSms]:
    """A Tencent Cloud reply callback: one JSON object."""
    data = load_json(body)
    if not isinstance(data, dict):
        raise UpstreamError(ErrorCode.SHAPE_INVALID, "expected a JSON object")
    nation = record_string(data, "nationcode", "nationcode", max_length=8).lstrip("+")
    if nation != "86":
        raise UpstreamError(
            ErrorCode.FIELD_MALFORMED, "only mainland numbers (nationcode 86) are served", field="nationcode"
        )
    phone = mainland_mobile(record_string(data, "mobile", "mobile", max_length=20), "mobile")
    text = record_string(data, "text", "text", max_length=MAX_TEXT_LENGTH)
    when = record_field(data, "time", "time")
    if not (isinstance(when, int) and not isinstance(when, bool) and 0 < when < 10**11):
        raise UpstreamError(ErrorCode.FIELD_MALFORMED, "time must be Unix seconds", field="time")
    extend = record_string(data, "extend", "extend", max_length=MAX_CODE_LENGTH, required=False)
    sign = record_string(data, "sign", "sign", max_length=MAX_CODE_LENGTH, required=False)
    digest = hashlib.sha256(f"{phone}\x00{when}\x00{text}".encode()).hexdigest()
    return [
        UpstreamSms(
            provider="tencent",
            message_id=f"{when}-{digest[:32]}",
            phone=phone,
            text=text,
            sent_at=datetime.fromtimestamp(when, UTC),
            service_code=extend,
            sign_name=sign,
            raw={"time": when, "extend": extend, "sign": sign, "nationcode": nation},
        )
    ]


PARSERS: dict[str, Callable[[bytes], list[UpstreamSms]]] = {
    "aliyun": parse_aliyun,
    "tencent": parse_tencent,
}
