"""A local stand-in for Alipay's open platform gateway (``openapi.alipay.com/gateway.do``) as a life
account meets it: real HTTP on 127.0.0.1, real RSA2 both ways.

* ``POST /gateway.do`` — our API requests. It checks what Alipay's gateway checks, with Alipay's
  public error codes: ``app_id`` known (40002 ``isv.invalid-app-id``), ``method`` supported
  (``isv.invalid-method``), ``charset`` (``isv.invalid-charset``), ``sign_type`` RSA2
  (``isv.invalid-signature-type``), ``timestamp`` within 15 minutes (``isv.invalid-timestamp``),
  and our signature over every parameter but ``sign``, with the app's public key
  (``isv.invalid-signature``). ``alipay.open.public.message.custom.send`` then checks the message
  (``to_user_id``, ``msg_type`` text or image-text, the text's content, 1–8 articles with titles)
  and that the user follows the account; the business refusals are 40004 with stand-in
  sub-codes (``USER_NOT_FOLLOW``, ``INVALID_PARAMETER``) — Alipay's own list is not public in
  full, and our client decides by ``code``, not ``sub_code``. Every answer is
  ``{"<method>_response": {...}, "sign": ...}`` signed with *its* Alipay private key over the
  exact JSON text of the response object.
* Pushes to our application gateway, as Alipay makes them: ``POST /_fake/notify`` builds a
  ``biz_content`` (text message, or an event), signs the form with its private key
  (``sign_type`` included) and POSTs it to the configured callback URL, then checks that our
  answer is a signed ``ack`` (or the gateway check's ``<success>true</success>``).

Control endpoints (JSON, no authentication — it binds to loopback only):

* ``GET  /_fake/calls[?method=…]`` — every API call: method, app id, verified or not, code,
  sub_code, HTTP status;
* ``GET  /_fake/messages[?to_user_id=…]`` — messages delivered by ``custom.send``;
* ``POST /_fake/fail`` ``{"count": 1, "code": "40004", "sub_code": "…", "method": "…"}`` — answer the
  next ``count`` calls with that code; or ``{"http_status": 502}``; ``{"delay": 2}`` waits first;
  ``{"unsigned": true}`` / ``{"bad_signature": true}`` spoil the next answers' signatures;
* ``POST /_fake/followers`` ``{"follow": ["2088…"], "unfollow": ["2088…"]}``; ``GET`` lists them;
* ``POST /_fake/config`` ``{"callback_url": "…", "open_audience": true}``;
* ``POST /_fake/notify`` ``{"user_id": "2088…", "text": "电费"}`` or ``{"event_type": "follow"}``
  (``action_param``, ``msg_id`` optional; ``{"service": "alipay.service.check"}`` sends the
  gateway check) — returns what our gateway answered; ``GET /_fake/pushes`` lists them;
* ``POST /_fake/reset``.

Tests use ``running_fake_alipay()``; the demo runs it standalone::

    python -m powerdesk.channels.alipay.fake_server --port 8704 \\
        --callback-url http://127.0.0.1:8000/channels/alipay/demo/
"""

from __future__ import annotations

import argparse
import json
import secrets
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

from powerdesk.channels.alipay.keys import rsa2_sign, rsa2_verify
from powerdesk.channels.alipay.protocol import (
    CHARSETS,
    SERVICE_CHECK,
    SERVICE_MESSAGE_NOTIFY,
    read_signed_response,
)
from powerdesk.payments.gateways.alipay import string_to_sign

SHANGHAI = ZoneInfo("Asia/Shanghai")
GATEWAY_PATH = "/gateway.do"
MAX_BODY_BYTES = 512 * 1024
TIMESTAMP_WINDOW = timedelta(minutes=15)
MAX_ARTICLES = 8
SUPPORTED_METHODS = {"alipay.open.public.message.custom.send"}


class Refusal(Exception):
    """An answer with a code other than 10000."""

    def __init__(self, code: str, msg: str, sub_code: str = "", sub_msg: str = "") -> None:
        super().__init__(f"{code} {sub_code}")
        self.answer = {"code": code, "msg": msg}
        if sub_code:
            self.answer |= {"sub_code": sub_code, "sub_msg": sub_msg}


def _invalid(sub_code: str, sub_msg: str) -> Refusal:
    return Refusal("40002", "Invalid Arguments", sub_code, sub_msg)


def _missing(sub_code: str, sub_msg: str) -> Refusal:
    return Refusal("40001", "Missing Required Arguments", sub_code, sub_msg)


def _business(sub_code: str, sub_msg: str) -> Refusal:
    return Refusal("40004", "Business Failed", sub_code, sub_msg)


@dataclass
class FakeLifeApp:
    app_id: str
    app_public_key: str  # the life account's public key (ours), PEM


@dataclass
class _Failure:
    code: str | None
    sub_code: str
    http_status: int | None
    delay: float
    method: str | None
    unsigned: bool
    bad_signature: bool


@dataclass
class FakeAlipayState:
    """Everything the fake knows and remembers; every method takes the lock."""

    apps: dict[str, FakeLifeApp]
    alipay_private_key: str
    seed_followers: dict[str, set[str]] = field(default_factory=dict)
    open_audience: bool = False
    callback_url: str = ""
    callback_app_id: str = ""

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.followers = {app: set(users) for app, users in self.seed_followers.items()}
            self.calls: list[dict[str, Any]] = []
            self.messages: list[dict[str, Any]] = []
            self.pushes: list[dict[str, Any]] = []
            self.failures: list[_Failure] = []

    def follows(self, app_id: str, user_id: str) -> bool:
        with self.lock:
            return self.open_audience or user_id in self.followers.get(app_id, set())

    def take_failure(self, method: str) -> _Failure | None:
        with self.lock:
            for index, failure in enumerate(self.failures):
                if failure.method in (None, method):
                    return self.failures.pop(index)
        return None


def _form(raw: bytes) -> tuple[dict[str, str], str]:
    """The request form and its codec; refusals as Alipay words them."""
    try:
        ascii_pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    except ValueError:
        raise _invalid("isv.invalid-parameter", "请求参数无法解析") from None
    charset = dict(ascii_pairs).get("charset", "")
    codec = CHARSETS.get(charset.lower())
    if codec is None:
        raise _invalid("isv.invalid-charset", "字符集错误")
    try:
        pairs = parse_qsl(raw.decode(codec), keep_blank_values=True, encoding=codec, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise _invalid("isv.invalid-charset", "请求内容与字符集不符") from None
    params = dict(pairs)
    if len(params) != len(pairs):
        raise _invalid("isv.invalid-parameter", "参数重复")
    return params, codec


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "FakeAlipayGateway/1"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def log_message(self, format: str, *args) -> None:  # quiet: tests read /_fake/calls instead
        pass

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(413, b"", "text/plain")
            return
        raw = self.rfile.read(length) if length else b""
        if url.path.startswith("/_fake/"):
            self._control(method, url.path, dict(parse_qsl(url.query)), raw)
        elif url.path == GATEWAY_PATH and method == "POST":
            self._gateway(raw)
        else:
            self._send(404, b"", "text/plain")

    def _send(self, status: int, data: bytes, kind: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a delay longer than its timeout)

    def _json(self, status: int, body: Any) -> None:
        self._send(status, json.dumps(body, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    # --- the open API gateway ------------------------------------------------------------------

    def _gateway(self, raw: bytes) -> None:
        state = self.server.state
        entry: dict[str, Any] = {
            "at": datetime.now(UTC).isoformat(),
            "method": "",
            "app_id": "",
            "verified": False,
        }
        codec, app, status, delay, failure = "utf-8", None, 200, 0.0, None
        try:
            params, codec = _form(raw)
            entry["method"] = api_method = params.get("method", "")
            entry["app_id"] = params.get("app_id", "")
            app = self._authenticate(params, codec, entry)
            failure = state.take_failure(api_method)
            if failure is not None:
                # A delay comes after the work (a slow answer to a request Alipay did take); an
                # HTTP error or an injected code means the request was not carried out.
                delay = failure.delay
                if failure.http_status:
                    status = failure.http_status
                    raise Refusal("20000", "Service Currently Unavailable", "isp.unknow-error", "fake: HTTP")
                if failure.code:
                    raise Refusal(
                        failure.code, "Injected Failure", failure.sub_code, "fake: injected failure"
                    )
            answer = {"code": "10000", "msg": "Success"} | self._business(app, params, entry)
        except Refusal as refusal:
            answer = refusal.answer
        if status == 200:
            entry |= {
                "http_status": status,
                "code": answer.get("code"),
                "sub_code": answer.get("sub_code", ""),
            }
        else:
            entry |= {"http_status": status, "code": None, "sub_code": ""}
        with state.lock:
            state.calls.append(entry)
        time.sleep(delay)
        if status != 200:
            self._send(status, b"<html><body>502 Bad Gateway</body></html>", "text/html")
            return
        self._send(
            200,
            self._signed_answer(entry["method"], answer, app, codec, failure),
            f"text/html;charset={codec}",
        )

    def _authenticate(self, params: dict[str, str], codec: str, entry: dict[str, Any]) -> FakeLifeApp:
        state = self.server.state
        for name, sub_code in (
            ("app_id", "isv.missing-app-id"),
            ("method", "isv.missing-method"),
            ("sign_type", "isv.missing-signature-type"),
            ("sign", "isv.missing-signature"),
            ("timestamp", "isv.missing-timestamp"),
            ("version", "isv.missing-version"),
        ):
            if not params.get(name):
                raise _missing(sub_code, f"缺少参数 {name}")
        app = state.apps.get(params["app_id"])
        if app is None:
            raise _invalid("isv.invalid-app-id", "无效的AppID参数")
        if params["method"] not in SUPPORTED_METHODS:
            raise _invalid("isv.invalid-method", "不存在的方法名")
        if params["sign_type"] != "RSA2":
            raise _invalid("isv.invalid-signature-type", "无效的签名类型")
        try:
            sent_at = datetime.strptime(params["timestamp"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
        except ValueError:
            raise _invalid("isv.invalid-timestamp", "非法的时间戳参数") from None
        if abs(datetime.now(SHANGHAI) - sent_at) > TIMESTAMP_WINDOW:
            raise _invalid("isv.invalid-timestamp", "时间戳与当前时间相差过大")
        if not rsa2_verify(string_to_sign(params), params["sign"], app.app_public_key, codec=codec):
            raise _invalid("isv.invalid-signature", "验签出错")
        entry["verified"] = True
        return app

    def _business(self, app: FakeLifeApp, params: dict[str, str], entry: dict[str, Any]) -> dict[str, Any]:
        try:
            biz = json.loads(params.get("biz_content", ""))
        except ValueError:
            raise _invalid("isv.invalid-parameter", "biz_content 不是 JSON") from None
        if not isinstance(biz, dict):
            raise _invalid("isv.invalid-parameter", "biz_content 不是 JSON 对象")
        entry["biz"] = biz
        to_user_id, msg_type = biz.get("to_user_id"), biz.get("msg_type")
        if not isinstance(to_user_id, str) or not to_user_id:
            raise _business("INVALID_PARAMETER", "to_user_id 不能为空")
        if msg_type == "text":
            text = biz.get("text")
            if not isinstance(text, dict) or not isinstance(text.get("content"), str) or not text["content"]:
                raise _business("INVALID_PARAMETER", "文本消息内容不能为空")
        elif msg_type == "image-text":
            articles = biz.get("articles")
            if not isinstance(articles, list) or not 1 <= len(articles) <= MAX_ARTICLES:
                raise _business("INVALID_PARAMETER", f"图文消息应有 1 至 {MAX_ARTICLES} 篇")
            if not all(isinstance(a, dict) and a.get("title") for a in articles):
                raise _business("INVALID_PARAMETER", "图文标题不能为空")
        else:
            raise _business("INVALID_PARAMETER", "msg_type 应为 text 或 image-text")
        if not self.server.state.follows(app.app_id, to_user_id):
            raise _business("USER_NOT_FOLLOW", "用户未关注该生活号")
        msg_id = secrets.token_hex(12)
        with self.server.state.lock:
            self.server.state.messages.append(
                {"msg_id": msg_id, "app_id": app.app_id, **biz, "at": datetime.now(UTC).isoformat()}
            )
        return {"msg_id": msg_id}

    def _signed_answer(
        self, method: str, answer: dict, app: FakeLifeApp | None, codec: str, failure: _Failure | None
    ) -> bytes:
        key = method.replace(".", "_") + "_response" if method in SUPPORTED_METHODS else "error_response"
        inner = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
        if app is None and answer.get("sub_code") in ("isv.invalid-app-id", "isv.missing-app-id"):
            return f'{{"{key}":{inner}}}'.encode(codec)  # no app: nothing to sign for
        sign = rsa2_sign(inner, self.server.state.alipay_private_key, codec=codec)
        if failure is not None and failure.unsigned:
            return f'{{"{key}":{inner}}}'.encode(codec)
        if failure is not None and failure.bad_signature:
            sign = rsa2_sign(inner + " ", self.server.state.alipay_private_key, codec=codec)
        return f'{{"{key}":{inner},"sign":"{sign}"}}'.encode(codec)

    # --- control -------------------------------------------------------------------------------

    def _control(self, method: str, path: str, query: dict[str, str], raw: bytes) -> None:
        try:
            payload = json.loads(raw or b"{}") if method == "POST" else {}
            if not isinstance(payload, dict):
                raise ValueError("expected a JSON object")
            result = self._control_answer(method, path, query, payload)
        except (ValueError, TypeError, KeyError) as problem:
            self._json(400, {"error": str(problem)})
            return
        if result is None:
            self._json(404, {"error": f"no such control path {method} {path}"})
        else:
            self._json(200, result)

    def _control_answer(self, method: str, path: str, query: dict[str, str], payload: dict[str, Any]) -> Any:
        state = self.server.state
        if method == "GET":
            with state.lock:
                if path == "/_fake/calls":
                    return {"calls": [c for c in state.calls if query.get("method") in (None, c["method"])]}
                if path == "/_fake/messages":
                    wanted = query.get("to_user_id")
                    return {"messages": [m for m in state.messages if wanted in (None, m["to_user_id"])]}
                if path == "/_fake/followers":
                    return {"followers": {app: sorted(users) for app, users in state.followers.items()}}
                if path == "/_fake/pushes":
                    return {"pushes": list(state.pushes)}
            return None
        if path == "/_fake/reset":
            state.reset()
            return {"ok": True}
        if path == "/_fake/fail":
            return self._fail(payload)
        if path == "/_fake/followers":
            app_id = payload.get("app_id") or next(iter(state.apps))
            with state.lock:
                users = state.followers.setdefault(app_id, set())
                users.update(str(u) for u in payload.get("follow", []))
                users.difference_update(str(u) for u in payload.get("unfollow", []))
                return {"followers": sorted(users)}
        if path == "/_fake/config":
            with state.lock:
                if "callback_url" in payload:
                    state.callback_url = str(payload["callback_url"])
                if "open_audience" in payload:
                    state.open_audience = bool(payload["open_audience"])
            return {"ok": True}
        if path == "/_fake/notify":
            return push_to_gateway(state, **payload)
        return None

    def _fail(self, payload: dict[str, Any]) -> dict[str, Any]:
        count = payload.get("count", 1)
        code, http_status, delay = payload.get("code"), payload.get("http_status"), payload.get("delay", 0)
        unsigned, bad_signature = bool(payload.get("unsigned")), bool(payload.get("bad_signature"))
        if not (isinstance(count, int) and 1 <= count <= 100):
            raise ValueError("count: an integer 1–100")
        if code is not None and not (isinstance(code, str) and code.isdigit()):
            raise ValueError('code: Alipay\'s code as a string, e.g. "40004" or "20000"')
        if http_status is not None and not (isinstance(http_status, int) and 400 <= http_status <= 599):
            raise ValueError("http_status: 400–599")
        if not (isinstance(delay, int | float) and 0 <= delay <= 60):
            raise ValueError("delay: seconds, 0–60")
        if code is None and http_status is None and not delay and not unsigned and not bad_signature:
            raise ValueError("give code, http_status, delay, unsigned or bad_signature")
        failure = _Failure(
            code=code,
            sub_code=str(payload.get("sub_code", "")),
            http_status=http_status,
            delay=float(delay),
            method=payload.get("method"),
            unsigned=unsigned,
            bad_signature=bad_signature,
        )
        with self.server.state.lock:
            self.server.state.failures.extend([failure] * count)
        return {"queued": count}


# --- pushes to our application gateway -------------------------------------------------------------


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def notification_xml(
    *,
    app_id: str,
    user_id: str,
    text: str | None = None,
    event_type: str = "",
    action_param: str = "",
    msg_id: str = "",
    create_time_ms: int | None = None,
) -> str:
    """A ``biz_content`` as Alipay writes it (a text message, or an event)."""
    created = create_time_ms or int(time.time() * 1000)
    parts = [f"<AppId>{_cdata(app_id)}</AppId>", f"<CreateTime>{_cdata(str(created))}</CreateTime>"]
    if user_id:
        parts += [
            f"<FromAlipayUserId>{_cdata(user_id)}</FromAlipayUserId>",
            f"<FromUserId>{_cdata(user_id)}</FromUserId>",
        ]
    if text is not None:
        parts += [
            f"<MsgType>{_cdata('text')}</MsgType>",
            f"<Text><Content>{_cdata(text)}</Content></Text>",
            f"<MsgId>{_cdata(msg_id or str(created) + '000001')}</MsgId>",
        ]
    else:
        parts += [f"<MsgType>{_cdata('event')}</MsgType>", f"<EventType>{_cdata(event_type)}</EventType>"]
        parts.append(f"<ActionParam>{_cdata(action_param)}</ActionParam>")
    return "<XML>" + "".join(parts) + "</XML>"


def signed_push_form(
    biz_content: str, *, service: str, alipay_private_key: str, charset: str = "UTF-8"
) -> bytes:
    """The form body Alipay POSTs: ``sign`` over every parameter but itself, ``sign_type`` in."""
    codec = CHARSETS[charset.lower()]
    params = {"service": service, "charset": charset, "sign_type": "RSA2", "biz_content": biz_content}
    params["sign"] = rsa2_sign(string_to_sign(params), alipay_private_key, codec=codec)
    return urlencode(params, encoding=codec).encode("ascii")


def push_to_gateway(
    state: FakeAlipayState,
    *,
    user_id: str = "",
    text: str | None = None,
    event_type: str = "follow",
    action_param: str = "",
    msg_id: str = "",
    service: str = SERVICE_MESSAGE_NOTIFY,
    app_id: str = "",
    charset: str = "UTF-8",
) -> dict[str, Any]:
    """POST one signed push to the callback URL and judge the answer like Alipay would."""
    if not state.callback_url:
        raise ValueError("no callback_url configured (POST /_fake/config)")
    if service not in (SERVICE_CHECK, SERVICE_MESSAGE_NOTIFY):
        raise ValueError(f"service: {SERVICE_CHECK} or {SERVICE_MESSAGE_NOTIFY}")
    app = state.apps[app_id or state.callback_app_id or next(iter(state.apps))]
    if service == SERVICE_CHECK:
        xml = notification_xml(app_id=app.app_id, user_id="", event_type="verifygw")
    else:
        if not user_id:
            raise ValueError("user_id: the follower's 2088… user id")
        xml = notification_xml(
            app_id=app.app_id, user_id=user_id, text=text, event_type=event_type,
            action_param=action_param, msg_id=msg_id,
        )  # fmt: skip
    if charset.lower() not in CHARSETS:
        raise ValueError("charset: UTF-8 or GBK")
    body = signed_push_form(
        xml, service=service, alipay_private_key=state.alipay_private_key, charset=charset
    )
    entry: dict[str, Any] = {"service": service, "biz_content": xml, "url": state.callback_url}
    request = urllib.request.Request(  # noqa: S310  (a URL the operator configured)
        state.callback_url,
        data=body,
        method="POST",
        headers={"Content-Type": f"application/x-www-form-urlencoded; charset={charset}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            entry["http_status"], answer = response.status, response.read(65536)
    except urllib.error.HTTPError as exc:
        entry["http_status"], answer = exc.code, exc.read(65536)
        exc.close()
    except OSError as exc:
        entry |= {"http_status": None, "error": repr(exc)}
        answer = b""
    codec = CHARSETS[charset.lower()]
    entry["answer"] = answer.decode(codec, "replace")
    try:
        inner, sign = read_signed_response(answer, codec=codec)
        entry["answer_signature_valid"] = rsa2_verify(inner, sign, app.app_public_key, codec=codec)
        entry["response"] = inner
    except (ValueError, UnicodeDecodeError):
        entry["answer_signature_valid"] = False
        entry["response"] = ""
    with state.lock:
        state.pushes.append(entry)
    return entry


# --- running it ------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], state: FakeAlipayState) -> None:
        super().__init__(address, _Handler)
        self.state = state


class FakeAlipay:
    """A running fake: its gateway URL, and the control API as methods."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-alipay", daemon=True
        )
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.gateway_url = self.url + GATEWAY_PATH
        self.state = server.state

    def start(self) -> FakeAlipay:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def calls(self, method: str | None = None) -> list[dict]:
        return self._call("GET", "/_fake/calls" + (f"?{urlencode({'method': method})}" if method else ""))[
            "calls"
        ]

    def messages(self, *, to_user_id: str | None = None) -> list[dict]:
        suffix = f"?{urlencode({'to_user_id': to_user_id})}" if to_user_id else ""
        return self._call("GET", "/_fake/messages" + suffix)["messages"]

    def pushes(self) -> list[dict]:
        return self._call("GET", "/_fake/pushes")["pushes"]

    def followers_apply(self, **change: Any) -> list[str]:
        return self._call("POST", "/_fake/followers", change)["followers"]

    def fail_next(self, **failure: Any) -> None:
        self._call("POST", "/_fake/fail", failure)

    def configure(self, **options: Any) -> None:
        self._call("POST", "/_fake/config", options)

    def notify(self, **push: Any) -> dict:
        return self._call("POST", "/_fake/notify", push)

    def reset(self) -> None:
        self._call("POST", "/_fake/reset", {})

    def _call(self, method: str, path: str, payload: dict | None = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(  # noqa: S310  (our own loopback URL)
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return json.loads(response.read())


@contextmanager
def running_fake_alipay(
    *,
    apps: Mapping[str, str],
    alipay_private_key: str,
    followers: Mapping[str, list[str]] | None = None,
    open_audience: bool = False,
    callback_url: str = "",
    port: int = 0,
) -> Iterator[FakeAlipay]:
    """Run a fake Alipay gateway on 127.0.0.1 for the ``with`` block. ``apps``: app id → that
    life account's public key (PEM); ``alipay_private_key``: the key the fake signs with (its
    public half is what the account stores as Alipay's public key)."""
    state = FakeAlipayState(
        apps={app_id: FakeLifeApp(app_id, public) for app_id, public in apps.items()},
        alipay_private_key=alipay_private_key,
        seed_followers={app: set(users) for app, users in (followers or {}).items()},
        open_audience=open_audience,
        callback_url=callback_url,
    )
    fake = FakeAlipay(_Server(("127.0.0.1", port), state)).start()
    try:
        yield fake
    finally:
        fake.stop()


def main(argv: list[str] | None = None) -> int:
    from powerdesk.channels.alipay.demo_keys import DEMO_APP_ID, demo_keys

    parser = argparse.ArgumentParser(
        prog="python -m powerdesk.channels.alipay.fake_server",
        description="Local fake of Alipay's open platform gateway for the life account channel.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8704, help="0 picks a free port (printed)")
    parser.add_argument("--key-file", type=Path, default=None, help="the demo key file (default: var/)")
    parser.add_argument("--callback-url", default="", help="our application gateway, for /_fake/notify")
    parser.add_argument("--closed-audience", action="store_true", help="only listed followers get messages")
    args = parser.parse_args(argv)
    if args.host not in {"127.0.0.1", "localhost"}:
        parser.error("--host: the fake has unauthenticated control endpoints; bind it to loopback only")
    keys = demo_keys(args.key_file)
    state = FakeAlipayState(
        apps={DEMO_APP_ID: FakeLifeApp(DEMO_APP_ID, keys["app_public_key"])},
        alipay_private_key=keys["alipay_private_key"],
        open_audience=not args.closed_audience,
        callback_url=args.callback_url,
    )
    fake = FakeAlipay(_Server((args.host, args.port), state)).start()
    print(f"fake Alipay gateway listening on {fake.gateway_url} (APPID {DEMO_APP_ID})", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
