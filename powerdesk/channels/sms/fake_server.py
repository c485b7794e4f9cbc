"""A local stand-in for Alibaba Cloud SMS ``SendSms``: real HTTP on 127.0.0.1, for tests and the demo.

It behaves like the gateway as its public documentation describes it, checked independently of
our client (it does not import protocol.py): it recomputes the HMAC-SHA1 signature with its own
secret (``SignatureDoesNotMatch``), refuses stale timestamps (``InvalidTimeStamp.Expired``, 15
minutes) and reused nonces (``SignatureNonceUsed``), unknown key ids, unapproved signs and
templates, malformed numbers and missing template variables, and answers in the gateway's shape
(``RequestId``, ``Code``, ``Message``, ``BizId``). Accepted messages are kept in memory.

Control endpoints (JSON, no authentication; the server binds to loopback only):

* ``GET  /_fake/messages[?phone=…]`` — accepted messages, oldest first, with the text as the
  handset shows it;
* ``GET  /_fake/requests`` — every SendSms request and how it was answered;
* ``POST /_fake/fail`` ``{"count": 1, "code": "isv.BUSINESS_LIMIT_CONTROL"}`` — answer the next
  ``count`` well-signed requests with that code; or ``{"http_status": 500}`` (a non-JSON error
  page), or both (that code with that status); ``{"delay": 2.5}`` waits before answering;
* ``GET  /_fake/reports[?phone=…]`` — the status report (SmsReport, HTTP 批量推送) the gateway
  would push for each accepted message, in its shape: ``{"reports": [{"phone_number",
  "send_time", "report_time", "success", "err_code", "err_msg", "sms_size", "biz_id",
  "out_id"}, …]}`` — delivered 3 s after acceptance unless the number is undeliverable;
* ``POST /_fake/undeliverable`` ``{"phone": "13900000002", "code": "MK:0001", "message": "…"}``
  — that number's messages are reported not delivered, with that carrier code;
* ``POST /_fake/reset`` — forget messages, requests, nonces, undeliverable numbers and queued
  failures.

Tests use ``running_fake_sms_gateway()``; the demo runs it standalone::

    python -m powerdesk.channels.sms.fake_server --port 8701 --access-key-id demo-key \\
        --secret demo-secret --templates otp:SMS_000000001

(``--access-key-id``, ``--secret``, ``--templates`` and ``--sign-name`` default to
``POWERDESK_SMS_ALIYUN_ACCESS_KEY_ID``, ``…_SECRET``, ``…_TEMPLATES`` and ``POWERDESK_SMS_SIGN_NAME``,
so the secret need not appear on a command line.)
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import urllib.request
import uuid
from collections import deque
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, quote, urlsplit
from zoneinfo import ZoneInfo

from powerdesk.channels.sms.templates import TEMPLATES

HOST_ID = "dysmsapi.aliyuncs.com"
BEIJING = ZoneInfo("Asia/Shanghai")  # the gateway's reports speak Beijing time
MAX_CLOCK_SKEW_SECONDS = 15 * 60
MAX_PARAM_VALUE_LENGTH = 35  # the gateway's limit for one variable's value (approximate)
_MAINLAND_MOBILE = re.compile(r"(?:\+?86|0086)?1[3-9]\d{9}")
_REQUIRED = (
    "AccessKeyId",
    "Action",
    "Signature",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "Timestamp",
    "Version",
)


def approved_templates(codes: Mapping[str, str]) -> dict[str, str]:
    """Our registry as the gateway would hold it once approved: template code → ``${var}`` text."""
    return {code: re.sub(r"\{(\w+)\}", r"${\1}", TEMPLATES[key].text) for key, code in codes.items()}


def parse_template_codes(raw: str) -> dict[str, str]:
    """``otp:SMS_1,notice:SMS_2`` → ``{"otp": "SMS_1", …}`` (the format of the settings variable)."""
    codes = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        key, _, code = item.partition(":")
        if not code.strip() or key.strip() not in TEMPLATES:
            raise ValueError(f"{item!r}: expected key:TemplateCode with key one of {sorted(TEMPLATES)}")
        codes[key.strip()] = code.strip()
    return codes


@dataclass
class _Failure:
    code: str | None
    http_status: int | None
    delay: float


class _Refusal(Exception):
    """The gateway says no: answered with this status and error code."""

    def __init__(self, http_status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.http_status = http_status
        self.code = code
        self.message = message


class FakeGatewayState:
    """What the fake gateway knows and remembers; every method is thread-safe."""

    def __init__(
        self,
        *,
        access_key_id: str,
        secret: str,
        templates: Mapping[str, str],
        sign_names: Collection[str] | None = None,
        per_number_per_minute: int | None = None,
    ) -> None:
        self.access_key_id = access_key_id
        self.secret = secret
        self.templates = dict(templates)
        self.sign_names = set(sign_names) if sign_names is not None else None
        self.per_number_per_minute = per_number_per_minute
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._messages: list[dict] = []
        self._requests: list[dict] = []
        self._nonces: dict[str, float] = {}
        self._failures: deque[_Failure] = deque()
        self._undeliverable: dict[str, tuple[str, str]] = {}

    # --- control ---------------------------------------------------------------------------

    def undeliverable(self, phone: str, *, code: str = "MK:0001", message: str = "用户关机或不在服务区") -> None:
        with self._lock:
            self._undeliverable[phone] = (code, message)

    def reports(self, phone: str | None = None) -> list[dict]:
        """SmsReport records for the accepted messages, as the gateway pushes them."""
        with self._lock:
            messages = [dict(m) for m in self._messages if phone is None or m["phone"] == phone]
            undeliverable = dict(self._undeliverable)
        reports = []
        for message in messages:
            sent = datetime.fromtimestamp(message["_t"], BEIJING)
            failure = undeliverable.get(message["phone"])
            length = len(message["content"])
            reports.append(
                {
                    "phone_number": message["phone"],
                    "send_time": sent.strftime("%Y-%m-%d %H:%M:%S"),
                    "report_time": (sent + timedelta(seconds=3)).strftime("%Y-%m-%d %H:%M:%S"),
                    "success": failure is None,
                    "err_code": failure[0] if failure else "DELIVERED",
                    "err_msg": failure[1] if failure else "用户接收成功",
                    "sms_size": str(1 if length <= 70 else -(-length // 67)),
                    "biz_id": message["biz_id"],
                    "out_id": message["out_id"],
                }
            )
        return reports

    def messages(self, phone: str | None = None) -> list[dict]:
        with self._lock:
            return [dict(m) for m in self._messages if phone is None or m["phone"] == phone]

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
            self._nonces.clear()
            self._failures.clear()
            self._undeliverable.clear()

    # --- SendSms ---------------------------------------------------------------------------

    def send_sms(self, raw_query: str) -> tuple[int, dict | str]:
        """Answer one request: (HTTP status, JSON body or a plain error page)."""
        request_id = str(uuid.uuid4()).upper()
        params: dict[str, str] = {}
        try:
            params = self._authenticated(raw_query)
            failure = self._next_failure()
            if failure and failure.delay:
                self.stopping.wait(failure.delay)
            if failure and failure.code:
                business = failure.code.startswith(("isv.", "isp."))
                raise _Refusal(failure.http_status or (200 if business else 400), failure.code, "injected")
            if failure and failure.http_status:
                self._log(params, failure.http_status, "(error page)")
                return failure.http_status, f"<html><body><h1>{failure.http_status}</h1></body></html>"
            biz_id = self._accept(params, request_id)
        except _Refusal as refusal:
            self._log(params, refusal.http_status, refusal.code)
            body = {"RequestId": request_id, "Code": refusal.code, "Message": refusal.message}
            if refusal.http_status != 200:
                body |= {
                    "HostId": HOST_ID,
                    "Recommend": f"https://api.aliyun.com/troubleshoot?q={refusal.code}",
                }
            return refusal.http_status, body
        self._log(params, 200, "OK")
        return 200, {"RequestId": request_id, "Code": "OK", "Message": "OK", "BizId": biz_id}

    def _authenticated(self, raw_query: str) -> dict[str, str]:
        pairs = parse_qsl(raw_query, keep_blank_values=True)
        params = dict(pairs)
        if len(params) != len(pairs):
            raise _Refusal(400, "InvalidParameter", "A parameter is given more than once.")
        for name in _REQUIRED:
            if not params.get(name):
                raise _Refusal(400, f"Missing{name}", f"{name} is mandatory for this action.")
        if params["Action"] != "SendSms":
            raise _Refusal(
                404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."
            )
        if params["Version"] != "2017-05-25":
            raise _Refusal(400, "InvalidVersion", "Specified parameter Version is not valid.")
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            raise _Refusal(
                400, "IncompleteSignature", "The request signature does not conform to Aliyun standards."
            )
        try:
            stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise _Refusal(
                400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."
            ) from None
        if abs((datetime.now(UTC) - stamp).total_seconds()) > MAX_CLOCK_SKEW_SECONDS:
            raise _Refusal(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
        if not hmac.compare_digest(params["AccessKeyId"], self.access_key_id):
            raise _Refusal(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        # Our own reading of the signature rules, written apart from protocol.py on purpose.
        canonical = "&".join(
            f"{quote(name, safe='~')}={quote(value, safe='~')}"
            for name, value in sorted(params.items())
            if name != "Signature"
        )
        to_sign = "GET&%2F&" + quote(canonical, safe="~")
        expected = base64.b64encode(
            hmac.new((self.secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
        ).decode()
        if not hmac.compare_digest(expected, params["Signature"]):
            raise _Refusal(
                400,
                "SignatureDoesNotMatch",
                f"Specified signature is not matched with our calculation. server string to sign is:{to_sign}",
            )
        now = time.monotonic()
        with self._lock:
            for nonce, seen in list(self._nonces.items()):
                if now - seen > 2 * MAX_CLOCK_SKEW_SECONDS:  # older ones fail the timestamp check
                    del self._nonces[nonce]
            if params["SignatureNonce"] in self._nonces:
                raise _Refusal(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
            self._nonces[params["SignatureNonce"]] = now
        return params

    def _next_failure(self) -> _Failure | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def _accept(self, params: dict[str, str], request_id: str) -> str:
        for name in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not params.get(name):
                raise _Refusal(400, f"Missing{name}", f"{name} is mandatory for this action.")
        phones = [phone.strip() for phone in params["PhoneNumbers"].split(",")]
        if len(phones) > 1000:
            raise _Refusal(200, "isv.MOBILE_COUNT_OVER_LIMIT", "手机号码数量超过限制")
        if not all(_MAINLAND_MOBILE.fullmatch(phone) for phone in phones):
            raise _Refusal(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        sign_name = params["SignName"]
        if self.sign_names is not None and sign_name not in self.sign_names:
            raise _Refusal(200, "isv.SMS_SIGNATURE_ILLEGAL", "签名不合法（不存在或未审核通过）")
        text = self.templates.get(params["TemplateCode"])
        if text is None:
            raise _Refusal(200, "isv.SMS_TEMPLATE_ILLEGAL", "模板不合法（不存在或未审核通过）")
        variables = re.findall(r"\$\{(\w+)\}", text)
        values: dict = {}
        if params.get("TemplateParam"):
            try:
                values = json.loads(params["TemplateParam"])
            except ValueError:
                raise _Refusal(200, "isv.INVALID_JSON_PARAM", "JSON参数不合法") from None
            if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
                raise _Refusal(200, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        if any(name not in values for name in variables):
            raise _Refusal(200, "isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量")
        if any(len(values[name]) > MAX_PARAM_VALUE_LENGTH for name in variables):
            raise _Refusal(200, "isv.PARAM_LENGTH_LIMIT", "参数超出长度限制")
        content = f"【{sign_name}】" + re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], text)
        biz_id = f"{secrets.randbelow(10**18):018d}^0"
        received_at = datetime.now(UTC).isoformat()
        with self._lock:
            if self.per_number_per_minute is not None:
                minute_ago = time.time() - 60
                for phone in phones:
                    recent = [m for m in self._messages if m["phone"] == phone and m["_t"] > minute_ago]
                    if len(recent) >= self.per_number_per_minute:
                        raise _Refusal(
                            200,
                            "isv.BUSINESS_LIMIT_CONTROL",
                            f"触发分钟级流控Permits:{self.per_number_per_minute}",
                        )
            for phone in phones:
                self._messages.append(
                    {
                        "biz_id": biz_id,
                        "request_id": request_id,
                        "phone": phone,
                        "sign_name": sign_name,
                        "template_code": params["TemplateCode"],
                        "template_param": values,
                        "content": content,
                        "out_id": params.get("OutId", ""),
                        "received_at": received_at,
                        "_t": time.time(),
                    }
                )
        return biz_id

    def _log(self, params: Mapping[str, str], http_status: int, code: str) -> None:
        with self._lock:
            self._requests.append(
                {
                    "at": datetime.now(UTC).isoformat(),
                    "phone": params.get("PhoneNumbers", ""),
                    "out_id": params.get("OutId", ""),
                    "http_status": http_status,
                    "code": code,
                }
            )


def _public(message: dict) -> dict:
    return {key: value for key, value in message.items() if not key.startswith("_")}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "FakeAliyunSms/1"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        state = self.server.state
        if url.path == "/":
            status, body = state.send_sms(url.query)
            self._answer(status, body)
            if self.server.echo:
                self.server.echo(status, body)
        elif url.path == "/_fake/messages":
            phone = parse_qs(url.query).get("phone", [None])[0]
            self._answer(200, {"messages": [_public(m) for m in state.messages(phone)]})
        elif url.path == "/_fake/requests":
            self._answer(200, {"requests": state.requests()})
        elif url.path == "/_fake/reports":
            phone = parse_qs(url.query).get("phone", [None])[0]
            self._answer(200, {"reports": state.reports(phone)})
        else:
            self._answer(404, {"error": f"no such path {url.path}"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        try:
            payload = json.loads(self.rfile.read(min(length, 64 * 1024)) or b"{}")
        except ValueError:
            self._answer(400, {"error": "body must be JSON"})
            return
        if path == "/_fake/reset":
            self.server.state.reset()
            self._answer(200, {"ok": True})
        elif path == "/_fake/fail":
            problem = _failure_problem(payload)
            if problem:
                self._answer(400, {"error": problem})
                return
            self.server.state.fail_next(
                count=payload.get("count", 1),
                code=payload.get("code"),
                http_status=payload.get("http_status"),
                delay=payload.get("delay", 0),
            )
            self._answer(200, {"queued": payload.get("count", 1)})
        elif path == "/_fake/undeliverable":
            if not isinstance(payload, dict):
                self._answer(400, {"error": "expected a JSON object"})
                return
            phone, code = payload.get("phone"), payload.get("code", "MK:0001")
            if not (isinstance(phone, str) and _MAINLAND_MOBILE.fullmatch(phone)) or not isinstance(code, str):
                self._answer(400, {"error": "phone: a mainland mobile number; code: a string"})
                return
            self.server.state.undeliverable(phone, code=code, message=str(payload.get("message", "用户关机或不在服务区")))
            self._answer(200, {"ok": True})
        else:
            self._answer(404, {"error": f"no such path {path}"})

    def _answer(self, status: int, body: dict | str) -> None:
        if isinstance(body, str):
            data, kind = body.encode(), "text/html; charset=utf-8"
        else:
            data, kind = json.dumps(body, ensure_ascii=False).encode(), "application/json;charset=utf-8"
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a delay longer than its timeout)

    def log_message(self, format: str, *args) -> None:  # quiet: tests read /_fake/requests instead
        pass


def _failure_problem(payload: object) -> str:
    if not isinstance(payload, dict):
        return "expected a JSON object"
    count, code = payload.get("count", 1), payload.get("code")
    http_status, delay = payload.get("http_status"), payload.get("delay", 0)
    if not (isinstance(count, int) and 1 <= count <= 100):
        return "count: an integer 1–100"
    if code is not None and not (isinstance(code, str) and code):
        return "code: a gateway error code such as isv.BUSINESS_LIMIT_CONTROL"
    if http_status is not None and not (isinstance(http_status, int) and 400 <= http_status <= 599):
        return "http_status: 400–599"
    if not (isinstance(delay, int | float) and 0 <= delay <= 60):
        return "delay: seconds, 0–60"
    if code is None and http_status is None and not delay:
        return "give code, http_status or delay"
    return ""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, state: FakeGatewayState, echo=None) -> None:
        super().__init__(address, _Handler)
        self.state = state
        self.echo = echo


class FakeSmsGateway:
    """A running fake: its URL and credentials, and the control endpoints as methods."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-sms-gateway", daemon=True
        )
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}/"
        self.access_key_id = server.state.access_key_id
        self.secret = server.state.secret

    def start(self) -> FakeSmsGateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def messages(self, phone: str | None = None) -> list[dict]:
        query = f"?phone={quote(phone)}" if phone else ""
        return self._call("GET", f"_fake/messages{query}")["messages"]

    def requests(self) -> list[dict]:
        return self._call("GET", "_fake/requests")["requests"]

    def fail_next(
        self, *, count: int = 1, code: str | None = None, http_status: int | None = None, delay: float = 0
    ) -> None:
        payload = {"count": count, "delay": delay}
        payload |= {"code": code} if code else {}
        payload |= {"http_status": http_status} if http_status else {}
        self._call("POST", "_fake/fail", payload)

    def reports(self, phone: str | None = None) -> list[dict]:
        query = f"?phone={quote(phone)}" if phone else ""
        return self._call("GET", f"_fake/reports{query}")["reports"]

    def undeliverable(self, phone: str, *, code: str = "MK:0001", message: str = "用户关机或不在服务区") -> None:
        self._call("POST", "_fake/undeliverable", {"phone": phone, "code": code, "message": message})

    def reset(self) -> None:
        self._call("POST", "_fake/reset", {})

    def _call(self, method: str, path: str, payload: dict | None = None) -> dict:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(  # noqa: S310  (our own loopback URL)
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())


@contextmanager
def running_fake_sms_gateway(
    *,
    access_key_id: str = "fake-access-key-id",
    secret: str = "fake-access-key-secret",  # noqa: S107  (a fake's, never a real secret)
    template_codes: Mapping[str, str] | None = None,
    templates: Mapping[str, str] | None = None,
    sign_names: Collection[str] | None = None,
    per_number_per_minute: int | None = None,
    port: int = 0,
) -> Iterator[FakeSmsGateway]:
    """Run a fake gateway on 127.0.0.1 (a free port unless given) for the ``with`` block.

    Approved templates: ``templates`` (code → ``${var}`` text) as given, else our registry under
    ``template_codes`` (key → code; default ``{"otp": "SMS_000000001"}``).
    """
    state = FakeGatewayState(
        access_key_id=access_key_id,
        secret=secret,
        templates=templates
        if templates is not None
        else approved_templates(template_codes or {"otp": "SMS_000000001"}),
        sign_names=sign_names,
        per_number_per_minute=per_number_per_minute,
    )
    gateway = FakeSmsGateway(_Server(("127.0.0.1", port), state)).start()
    try:
        yield gateway
    finally:
        gateway.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m powerdesk.channels.sms.fake_server",
        description="Local fake Alibaba Cloud SMS gateway.",
    )
    env = os.environ.get
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--access-key-id", default=env("POWERDESK_SMS_ALIYUN_ACCESS_KEY_ID", ""))
    parser.add_argument("--secret", default=env("POWERDESK_SMS_ALIYUN_ACCESS_KEY_SECRET", ""))
    parser.add_argument(
        "--templates", default=env("POWERDESK_SMS_ALIYUN_TEMPLATES", ""), help="key:TemplateCode,… (ours)"
    )
    parser.add_argument(
        "--sign-name", action="append", help="an approved sign (repeatable); default: any sign is accepted"
    )
    parser.add_argument("--per-number-per-minute", type=int, default=None)
    parser.add_argument("--quiet", action="store_true", help="do not print each request")
    args = parser.parse_args(argv)
    if not (args.access_key_id and args.secret):
        parser.error("--access-key-id and --secret (or their POWERDESK_SMS_ALIYUN_* variables) are required")
    try:
        codes = parse_template_codes(args.templates)
    except ValueError as exc:
        parser.error(f"--templates: {exc}")
    if not codes:
        parser.error("--templates (or POWERDESK_SMS_ALIYUN_TEMPLATES) is required, e.g. otp:SMS_000000001")
    if args.host not in {"127.0.0.1", "localhost"}:
        parser.error("--host: the fake has unauthenticated control endpoints; bind it to loopback only")
    sign_names = args.sign_name or (
        [env("POWERDESK_SMS_SIGN_NAME")] if env("POWERDESK_SMS_SIGN_NAME") else None
    )
    state = FakeGatewayState(
        access_key_id=args.access_key_id,
        secret=args.secret,
        templates=approved_templates(codes),
        sign_names=sign_names,
        per_number_per_minute=args.per_number_per_minute,
    )

    def echo(status: int, body: dict | str) -> None:
        if isinstance(body, dict) and body.get("Code") == "OK":
            for message in (m for m in state.messages() if m["biz_id"] == body["BizId"]):
                print(f"SendSms OK {message['phone']} {message['content']}", flush=True)
        else:
            print(
                f"SendSms HTTP {status} {body.get('Code') if isinstance(body, dict) else '(page)'}",
                flush=True,
            )

    gateway = FakeSmsGateway(_Server((args.host, args.port), state, None if args.quiet else echo)).start()
    print(f"fake SMS gateway listening on {gateway.url}", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    gateway.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
