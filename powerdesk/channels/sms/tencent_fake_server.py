"""A local stand-in for Tencent Cloud SMS ``SendSms`` (2021-01-11): real HTTP on 127.0.0.1.

It behaves like the API as its public documentation describes it, checked independently of our
client (it does not import tencent_protocol.py): it recomputes the TC3-HMAC-SHA256 signature
with its own SecretKey over the headers the request says it signed (``AuthFailure.
SignatureFailure``), refuses timestamps more than five minutes off (``AuthFailure.
SignatureExpire``) and a credential date that is not the timestamp's UTC date, unknown SecretIds,
actions, versions, regions and SdkAppIds, unapproved signs and templates, a ``TemplateParamSet``
that does not match the template, URLs inside variables, over-long variables (when configured,
as for personal accounts) and messages over 500 characters, malformed numbers; and answers in
the API's shape (``Response.SendStatusSet`` with ``SerialNo`` and ``Fee`` — the parts billed,
counted here on its own — or ``Response.Error``). TC3 has no nonce; freshness is the timestamp.

Control endpoints (JSON, no authentication; the server binds to loopback only):

* ``GET  /_fake/messages[?phone=…]`` — accepted messages, oldest first, with the text as the
  handset shows it and the ``fee``;
* ``GET  /_fake/requests`` — every SendSms request and how it was answered;
* ``POST /_fake/fail`` ``{"count": 1, "code": "LimitExceeded.PhoneNumberThirtySecondLimit"}`` —
  answer the next ``count`` well-signed requests with that code (per-number codes in
  ``SendStatusSet``, the others as ``Response.Error``); ``{"http_status": 502}`` answers an
  error page; ``{"delay": 2.5}`` waits first;
* ``GET  /_fake/reports[?phone=…]`` — the status callback (短信下发状态回调) the API would push
  for each accepted message, in its shape: ``{"reports": [{"user_receive_time", "nationcode",
  "mobile", "report_status", "errmsg", "description", "sid"}, …]}`` — SUCCESS 3 s after
  acceptance unless the number is undeliverable;
* ``POST /_fake/undeliverable`` ``{"phone": "13900000002", "code": "MK:0001", "message": "…"}``
  — that number's messages are reported FAIL with that carrier code;
* ``POST /_fake/reset`` — forget messages, requests, undeliverable numbers and queued failures.

Tests use ``running_fake_tencent_sms()``; the demo runs it standalone::

    python -m powerdesk.channels.sms.tencent_fake_server --port 8702

(``--secret-id``, ``--secret-key``, ``--sdk-app-id``, ``--templates`` and ``--sign-name``
default to ``POWERDESK_SMS_TENCENT_SECRET_ID``, ``…_SECRET_KEY``, ``…_SDK_APP_ID``,
``…_TEMPLATES`` and ``POWERDESK_SMS_SIGN_NAME``.)
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

from powerdesk.channels.sms.fake_http import JsonHandler, LoopbackServer, RunningFake, failure_problem
from powerdesk.channels.sms.templates import TEMPLATES

BEIJING = ZoneInfo("Asia/Shanghai")  # the API's reports speak Beijing time

MAX_CLOCK_SKEW_SECONDS = 300
MAX_CONTENT_CHARACTERS = 500
REGIONS = frozenset({"ap-guangzhou", "ap-beijing", "ap-nanjing"})
_AUTHORIZATION = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<secret_id>[^/\s]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z]+)"
    r"/tc3_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)
_PHONE = re.compile(r"(?:\+86|0086|86)?(1[3-9]\d{9})")
_URL = re.compile(r"(?i)(https?://|www\.|\b[a-z0-9-]+\.(?:com|cn|net|org)\b)")
# Codes the API reports per number in SendStatusSet rather than as Response.Error.
_PER_NUMBER = ("LimitExceeded.PhoneNumber", "FailedOperation.PhoneNumberInBlacklist", "InternalError.Timeout")


def tencent_template_text(key: str) -> str:
    """Our template as Tencent holds it: variables numbered {1}, {2} … in order of appearance."""
    template = TEMPLATES[key]
    text = template.text
    for number, name in enumerate(template.positional_variables, start=1):
        text = text.replace("{" + name + "}", "{" + str(number) + "}")
    return text


def approved_templates(ids: Mapping[str, str]) -> dict[str, str]:
    """Our registry as Tencent would hold it once approved: TemplateId → ``{1}`` text."""
    return {template_id: tencent_template_text(key) for key, template_id in ids.items()}


def parse_template_ids(raw: str) -> dict[str, str]:
    """``otp:1234567,hall_reply:1234568`` → ``{"otp": "1234567", …}``."""
    ids = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        key, _, template_id = item.partition(":")
        if not template_id.strip().isdigit() or key.strip() not in TEMPLATES:
            raise ValueError(f"{item!r}: expected key:TemplateId with key one of {sorted(TEMPLATES)}")
        ids[key.strip()] = template_id.strip()
    return ids


def billed_parts(content: str) -> int:
    """The domestic rule as the console states it: up to 70 characters is one SMS, longer ones
    67 a part; a character outside the BMP travels as two UTF-16 units and counts two."""
    units = len(content.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


@dataclass
class _Failure:
    code: str | None
    http_status: int | None
    delay: float


class _Refusal(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


class FakeTencentState:
    """What the fake API knows and remembers; every method is thread-safe."""

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        templates: Mapping[str, str],
        sign_names: Collection[str] | None = None,
        max_param_length: int | None = None,
        per_number_per_30s: int | None = None,
    ) -> None:
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.templates = dict(templates)
        self.sign_names = set(sign_names) if sign_names is not None else None
        self.max_param_length = max_param_length  # personal accounts: 12; companies: no limit
        self.per_number_per_30s = per_number_per_30s
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._messages: list[dict] = []
        self._requests: list[dict] = []
        self._failures: deque[_Failure] = deque()
        self._undeliverable: dict[str, tuple[str, str]] = {}

    # --- control ---------------------------------------------------------------------------

    def undeliverable(self, phone: str, *, code: str = "MK:0001", message: str = "用户关机或不在服务区") -> None:
        with self._lock:
            self._undeliverable[phone] = (code, message)

    def reports(self, phone: str | None = None) -> list[dict]:
        """Status callback records for the accepted messages, as the API pushes them."""
        with self._lock:
            messages = [dict(m) for m in self._messages if phone is None or m["phone"] == phone]
            undeliverable = dict(self._undeliverable)
        reports = []
        for message in messages:
            received = datetime.fromtimestamp(message["_t"], BEIJING) + timedelta(seconds=3)
            failure = undeliverable.get(message["phone"])
            reports.append(
                {
                    "user_receive_time": received.strftime("%Y-%m-%d %H:%M:%S"),
                    "nationcode": "86",
                    "mobile": message["phone"],
                    "report_status": "FAIL" if failure else "SUCCESS",
                    "errmsg": failure[0] if failure else "DELIVRD",
                    "description": failure[1] if failure else "用户短信送达成功",
                    "sid": message["serial_no"],
                }
            )
        return reports

    def messages(self, phone: str | None = None) -> list[dict]:
        with self._lock:
            return [
                {k: v for k, v in m.items() if not k.startswith("_")}
                for m in self._messages
                if phone is None or m["phone"] == phone
            ]

    def requests(self) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._requests]

    def fail_next(
        self, *, count: int = 1, code: str | None = None, http_status: int | None = None, delay: float = 0.0
    ) -> None:
        with self._lock:
            self._failures.extend(_Failure(code, http_status, float(delay)) for _ in range(count))

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self._requests.clear()
            self._failures.clear()
            self._undeliverable.clear()

    # --- SendSms ---------------------------------------------------------------------------

    def send_sms(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict | str]:
        """Answer one POST: (HTTP status, JSON body or an error page)."""
        request_id = str(uuid.uuid4())
        headers = {name.lower(): value for name, value in headers.items()}
        payload: dict = {}
        try:
            self._authenticated(headers, body)
            payload = self._payload(body)
            failure = self._next_failure()
            if failure and failure.delay:
                self.stopping.wait(failure.delay)
            if failure and failure.http_status and not failure.code:
                self._log(payload, failure.http_status, "(error page)")
                return failure.http_status, f"<html><body><h1>{failure.http_status}</h1></body></html>"
            if failure and failure.code and not failure.code.startswith(_PER_NUMBER):
                raise _Refusal(failure.code, "injected")
            statuses = self._accept(payload, request_id, failure.code if failure else None)
        except _Refusal as refusal:
            self._log(payload, 200, refusal.code)
            return 200, {
                "Response": {
                    "Error": {"Code": refusal.code, "Message": refusal.message},
                    "RequestId": request_id,
                }
            }
        self._log(payload, 200, ",".join(status["Code"] for status in statuses))
        return 200, {"Response": {"SendStatusSet": statuses, "RequestId": request_id}}

    def _authenticated(self, headers: dict[str, str], body: bytes) -> None:
        for name in ("authorization", "x-tc-action", "x-tc-timestamp", "x-tc-version"):
            if not headers.get(name):
                raise _Refusal("MissingParameter", f"The request is missing a required header `{name}`.")
        match = _AUTHORIZATION.fullmatch(headers["authorization"].strip())
        if match is None:
            raise _Refusal(
                "AuthFailure.InvalidAuthorization", "Authorization does not follow the TC3 format."
            )
        if headers["x-tc-action"] != "SendSms":
            raise _Refusal("InvalidAction", f"The action `{headers['x-tc-action']}` is not found.")
        if headers["x-tc-version"] != "2021-01-11":
            raise _Refusal("NoSuchVersion", f"The version `{headers['x-tc-version']}` is not found.")
        if headers.get("x-tc-region", "") not in REGIONS:
            raise _Refusal("UnsupportedRegion", "The region is not supported by this product.")
        stamp = headers["x-tc-timestamp"]
        if not stamp.isdigit():
            raise _Refusal("InvalidParameter", "X-TC-Timestamp must be Unix seconds.")
        if abs(time.time() - int(stamp)) > MAX_CLOCK_SKEW_SECONDS:
            raise _Refusal("AuthFailure.SignatureExpire", "Signature expired, timestamp is too far from now.")
        if not hmac.compare_digest(match["secret_id"], self.secret_id):
            raise _Refusal("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        # Our own reading of the TC3 rules, written apart from tencent_protocol.py on purpose.
        date = datetime.fromtimestamp(int(stamp), UTC).strftime("%Y-%m-%d")
        signed = match["signed"].split(";")
        if (
            match["date"] != date
            or match["service"] != "sms"
            or {"content-type", "host"} - set(signed)
            or signed != sorted(signed)
            or any(name not in headers for name in signed)
        ):
            raise _Refusal("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
        canonical = (
            "POST\n/\n\n"
            + "".join(f"{name}:{headers[name].strip().lower()}\n" for name in signed)
            + "\n"
            + ";".join(signed)
            + "\n"
            + hashlib.sha256(body).hexdigest()
        )
        scope = f"{date}/sms/tc3_request"
        to_sign = f"TC3-HMAC-SHA256\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        key = _hmac(_hmac(_hmac(("TC3" + self.secret_key).encode(), date), "sms"), "tc3_request")
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, match["signature"]):
            raise _Refusal(
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated. Please check your signature is correct.",
            )

    def _payload(self, body: bytes) -> dict:
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise _Refusal(
                "FailedOperation.FailResolvePacket", "The request body is not valid JSON."
            ) from None
        if not isinstance(payload, dict):
            raise _Refusal("FailedOperation.FailResolvePacket", "The request body must be a JSON object.")
        return payload

    def _next_failure(self) -> _Failure | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def _accept(self, payload: dict, request_id: str, per_number_code: str | None) -> list[dict]:
        if payload.get("SmsSdkAppId") != self.sdk_app_id:
            raise _Refusal("InvalidParameterValue.SdkAppIdNotExist", "SmsSdkAppId does not exist.")
        numbers = payload.get("PhoneNumberSet")
        if not (isinstance(numbers, list) and 1 <= len(numbers) <= 200):
            raise _Refusal("MissingParameter.EmptyPhoneNumberSet", "PhoneNumberSet holds 1–200 numbers.")
        sign_name = payload.get("SignName")
        if not isinstance(sign_name, str) or not sign_name:
            raise _Refusal("MissingParameter", "SignName is required for domestic SMS.")
        if self.sign_names is not None and sign_name not in self.sign_names:
            raise _Refusal("FailedOperation.SignatureIncorrectOrUnapproved", "签名未审批或格式错误。")
        text = self.templates.get(str(payload.get("TemplateId", "")))
        if text is None:
            raise _Refusal("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或内容不匹配。")
        values = payload.get("TemplateParamSet", [])
        placeholders = sorted({int(n) for n in re.findall(r"\{(\d+)\}", text)})
        if not (isinstance(values, list) and all(isinstance(v, str) for v in values)):
            raise _Refusal("InvalidParameterValue.TemplateParameterFormatError", "TemplateParamSet: strings.")
        if len(values) != len(placeholders):
            raise _Refusal(
                "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
                "请求内容与审核通过的模板内容不匹配。",
            )
        if any(_URL.search(value) for value in values):
            raise _Refusal(
                "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter", "禁止在模板变量中使用 URL。"
            )
        if self.max_param_length is not None and any(len(v) > self.max_param_length for v in values):
            raise _Refusal(
                "InvalidParameterValue.TemplateParameterLengthLimit", "单个模板变量字符数超过限制。"
            )
        content = f"【{sign_name}】" + re.sub(r"\{(\d+)\}", lambda m: values[int(m.group(1)) - 1], text)
        if len(content) > MAX_CONTENT_CHARACTERS:
            raise _Refusal("InvalidParameterValue.ContentLengthLimit", "请求的短信内容太长。")
        statuses = []
        with self._lock:
            for number in numbers:
                match = _PHONE.fullmatch(number) if isinstance(number, str) else None
                status = {
                    "SerialNo": "",
                    "PhoneNumber": number if isinstance(number, str) else "",
                    "Fee": 0,
                    "SessionContext": str(payload.get("SessionContext", "")),
                    "Code": "Ok",
                    "Message": "send success",
                    "IsoCode": "CN",
                }
                if match is None:
                    status |= {
                        "Code": "InvalidParameterValue.IncorrectPhoneNumber",
                        "Message": "手机号格式错误。",
                    }
                elif per_number_code:
                    status |= {"Code": per_number_code, "Message": "injected"}
                elif self._over_rate(match.group(1)):
                    status |= {
                        "Code": "LimitExceeded.PhoneNumberThirtySecondLimit",
                        "Message": "单个手机号30秒内下发短信条数超过设定的上限。",
                    }
                else:
                    serial = f"2433:{secrets.randbelow(10**28):028d}"
                    fee = billed_parts(content)
                    status |= {"SerialNo": serial, "Fee": fee}
                    self._messages.append(
                        {
                            "serial_no": serial,
                            "request_id": request_id,
                            "phone": match.group(1),
                            "sign_name": sign_name,
                            "template_id": str(payload["TemplateId"]),
                            "template_params": list(values),
                            "content": content,
                            "fee": fee,
                            "session_context": status["SessionContext"],
                            "received_at": datetime.now(UTC).isoformat(),
                            "_t": time.time(),
                        }
                    )
                statuses.append(status)
        return statuses

    def _over_rate(self, phone: str) -> bool:  # called with the lock held
        if self.per_number_per_30s is None:
            return False
        recent = [m for m in self._messages if m["phone"] == phone and m["_t"] > time.time() - 30]
        return len(recent) >= self.per_number_per_30s

    def _log(self, payload: dict, status: int, outcome: str) -> None:
        with self._lock:
            self._requests.append(
                {
                    "phone_numbers": payload.get("PhoneNumberSet"),
                    "template_id": payload.get("TemplateId"),
                    "session_context": payload.get("SessionContext"),
                    "http_status": status,
                    "outcome": outcome,
                }
            )


class _Handler(JsonHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        state = self.server.state
        if url.path == "/_fake/messages":
            phone = (parse_qs(url.query).get("phone") or [None])[0]
            self.answer(200, {"messages": state.messages(phone)})
        elif url.path == "/_fake/requests":
            self.answer(200, {"requests": state.requests()})
        elif url.path == "/_fake/reports":
            phone = (parse_qs(url.query).get("phone") or [None])[0]
            self.answer(200, {"reports": state.reports(phone)})
        else:
            # The real API takes GET only form-encoded; this fake speaks the POST/JSON flavour.
            self.answer(404, {"error": f"no such path {url.path}"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        state = self.server.state
        if path == "/":
            status, body = state.send_sms(dict(self.headers.items()), self.read_body(1024 * 1024))
            self.answer(status, body)
            if self.server.echo:
                self.server.echo(status, body)
            return
        try:
            payload = self.read_json()
        except ValueError:
            self.answer(400, {"error": "body must be JSON"})
            return
        if path == "/_fake/reset":
            state.reset()
            self.answer(200, {"ok": True})
        elif path == "/_fake/fail":
            problem = failure_problem(payload)
            if problem:
                self.answer(400, {"error": problem})
                return
            state.fail_next(
                count=payload.get("count", 1),
                code=payload.get("code"),
                http_status=payload.get("http_status"),
                delay=payload.get("delay", 0),
            )
            self.answer(200, {"queued": payload.get("count", 1)})
        elif path == "/_fake/undeliverable":
            if not isinstance(payload, dict):
                self.answer(400, {"error": "expected a JSON object"})
                return
            phone, code = payload.get("phone"), payload.get("code", "MK:0001")
            if not (isinstance(phone, str) and _PHONE.fullmatch(phone)) or not isinstance(code, str):
                self.answer(400, {"error": "phone: a mainland mobile number; code: a string"})
                return
            state.undeliverable(phone, code=code, message=str(payload.get("message", "用户关机或不在服务区")))
            self.answer(200, {"ok": True})
        else:
            self.answer(404, {"error": f"no such path {path}"})


class FakeTencentSms(RunningFake):
    """A running fake: its URL and credentials, and the control endpoints as methods."""

    def __init__(self, server: LoopbackServer) -> None:
        super().__init__(server, name="fake-tencent-sms")
        self.secret_id = server.state.secret_id
        self.secret_key = server.state.secret_key
        self.sdk_app_id = server.state.sdk_app_id

    def messages(self, phone: str | None = None) -> list[dict]:
        query = f"?phone={quote(phone)}" if phone else ""
        return self.call("GET", f"_fake/messages{query}")["messages"]

    def requests(self) -> list[dict]:
        return self.call("GET", "_fake/requests")["requests"]

    def fail_next(
        self, *, count: int = 1, code: str | None = None, http_status: int | None = None, delay: float = 0
    ) -> None:
        payload = {"count": count, "delay": delay}
        payload |= {"code": code} if code else {}
        payload |= {"http_status": http_status} if http_status else {}
        self.call("POST", "_fake/fail", payload)

    def reports(self, phone: str | None = None) -> list[dict]:
        query = f"?phone={quote(phone)}" if phone else ""
        return self.call("GET", f"_fake/reports{query}")["reports"]

    def undeliverable(self, phone: str, *, code: str = "MK:0001", message: str = "用户关机或不在服务区") -> None:
        self.call("POST", "_fake/undeliverable", {"phone": phone, "code": code, "message": message})

    def reset(self) -> None:
        self.call("POST", "_fake/reset", {})


@contextmanager
def running_fake_tencent_sms(
    *,
    secret_id: str = "AKIDfakeTencentSecretId0001",  # noqa: S107  (a fake's, never a real id)
    secret_key: str = "fake-tencent-secret-key",  # noqa: S107  (a fake's, never a real secret)
    sdk_app_id: str = "1400006666",
    template_ids: Mapping[str, str] | None = None,
    templates: Mapping[str, str] | None = None,
    sign_names: Collection[str] | None = None,
    max_param_length: int | None = None,
    per_number_per_30s: int | None = None,
    port: int = 0,
) -> Iterator[FakeTencentSms]:
    """Run the fake on 127.0.0.1 (a free port unless given) for the ``with`` block.

    Approved templates: ``templates`` (TemplateId → ``{1}`` text) as given, else our registry
    under ``template_ids`` (key → TemplateId; default otp 1000001, hall_reply 1000002).
    """
    state = FakeTencentState(
        secret_id=secret_id,
        secret_key=secret_key,
        sdk_app_id=sdk_app_id,
        templates=templates
        if templates is not None
        else approved_templates(template_ids or {"otp": "1000001", "hall_reply": "1000002"}),
        sign_names=sign_names,
        max_param_length=max_param_length,
        per_number_per_30s=per_number_per_30s,
    )
    fake = FakeTencentSms(LoopbackServer(("127.0.0.1", port), _Handler, state))
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m powerdesk.channels.sms.tencent_fake_server",
        description="Local fake Tencent Cloud SMS API (SendSms 2021-01-11).",
    )
    env = os.environ.get
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--secret-id", default=env("POWERDESK_SMS_TENCENT_SECRET_ID", ""))
    parser.add_argument("--secret-key", default=env("POWERDESK_SMS_TENCENT_SECRET_KEY", ""))
    parser.add_argument("--sdk-app-id", default=env("POWERDESK_SMS_TENCENT_SDK_APP_ID", ""))
    parser.add_argument(
        "--templates", default=env("POWERDESK_SMS_TENCENT_TEMPLATES", ""), help="key:TemplateId,… (ours)"
    )
    parser.add_argument("--sign-name", action="append", help="an approved sign (repeatable); default: any")
    parser.add_argument("--max-param-length", type=int, default=None, help="12 plays a personal account")
    parser.add_argument("--quiet", action="store_true", help="do not print each request")
    args = parser.parse_args(argv)
    if not (args.secret_id and args.secret_key and args.sdk_app_id):
        parser.error(
            "--secret-id, --secret-key and --sdk-app-id (or their POWERDESK_SMS_TENCENT_* variables) are required"
        )
    try:
        ids = parse_template_ids(args.templates)
    except ValueError as exc:
        parser.error(f"--templates: {exc}")
    if not ids:
        parser.error("--templates (or POWERDESK_SMS_TENCENT_TEMPLATES) is required, e.g. otp:1000001")
    if args.host not in {"127.0.0.1", "localhost"}:
        parser.error("--host: the fake has unauthenticated control endpoints; bind it to loopback only")
    sign_names = args.sign_name or (
        [env("POWERDESK_SMS_SIGN_NAME")] if env("POWERDESK_SMS_SIGN_NAME") else None
    )
    state = FakeTencentState(
        secret_id=args.secret_id,
        secret_key=args.secret_key,
        sdk_app_id=args.sdk_app_id,
        templates=approved_templates(ids),
        sign_names=sign_names,
        max_param_length=args.max_param_length,
    )

    def echo(status: int, body: dict | str) -> None:
        response = body.get("Response", {}) if isinstance(body, dict) else {}
        for sent in response.get("SendStatusSet", []):
            print(f"SendSms {sent['Code']} {sent['PhoneNumber']} fee={sent['Fee']}", flush=True)
        if "Error" in response:
            print(f"SendSms {response['Error']['Code']}", flush=True)

    fake = FakeTencentSms(
        LoopbackServer((args.host, args.port), _Handler, state, None if args.quiet else echo)
    )
    fake.start()
    print(f"fake Tencent Cloud SMS listening on {fake.url}", flush=True)
    fake.serve_until_signalled()
    return 0


if __name__ == "__main__":
    sys.exit(main())
