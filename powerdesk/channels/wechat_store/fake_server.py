"""A local stand-in for ``api.weixin.qq.com`` and ``open.weixin.qq.com``: real HTTP on 127.0.0.1.

It serves every endpoint ``WeChatApiClient`` calls (the answers live in fake_state.py): stable
tokens with WeChat's semantics (the same token within its validity; a new one in the last 5
minutes with the old one still valid; ``force_refresh`` revokes the old one at once), 40001 for
a revoked or unknown token and 42001 for an expired one, menus, customer-service, template and
mass messages (with ``clientmsgid`` de-duplication: a repeat gets 45065 and the first msg_id,
and nobody receives it twice), materials, followers, tags, OAuth2 and datacube figures computed
from its follower store. After each mass send it POSTs a ``MASSSENDJOBFINISH`` event to the
configured callback URL.

Control endpoints (JSON, no authentication — it binds to loopback only):

* ``GET  /_fake/calls[?path=/cgi-bin/…]`` — every API call, its errcode and HTTP status (tokens
  and secrets masked, long openid lists cut);
* ``GET  /_fake/messages[?openid=…&kind=custom|template|preview]`` — messages delivered one by one;
* ``GET  /_fake/mass[?msg_id=…&recipients=1]`` — mass jobs, with delivered, distinct-recipient and
  duplicate-delivery counts; ``GET /_fake/pushes`` — the events pushed to the callback;
* ``GET  /_fake/followers`` / ``POST /_fake/followers`` — the follower store:
  ``{"subscribe": [{"openid", "at", "scene", "nickname"}…], "unsubscribe": ["openid"…],
  "interact": ["openid"…], "generate": {"count": 500, "days": 30}}``;
* ``POST /_fake/fail`` ``{"count": 1, "errcode": 45009, "path": "/cgi-bin/message/mass/send"}`` —
  answer the next ``count`` calls (to ``path``, or to any API path) with that errcode; or
  ``{"http_status": 500}``; ``{"delay": 2.5}`` waits first;
* ``POST /_fake/quota`` ``{"mass_send": 2}`` — mass sends left (``null``: unlimited), then 45028;
* ``POST /_fake/expire_tokens`` ``{"mode": "expire"|"invalidate", "appid": …}`` — 42001 / 40001;
* ``POST /_fake/images`` ``{"media_id": …, "appid": …}`` — an image already in the account's
  material library (an operator's upload on the platform); articles' covers must be such images;
* ``POST /_fake/config`` ``{"callback_url", "callback_token", "oauth_openid", "cs_window_seconds",
  "token_ttl", "open_audience"}``; ``POST /_fake/clock`` ``{"advance": 86400}``;
* ``POST /_fake/reset`` — back to the start (followers to their seed).

Tests use ``running_fake_wechat_api()``; the demo runs it standalone::

    python -m powerdesk.channels.wechat_store.fake_server --port 8703 \\
        --callback-url http://127.0.0.1:8000/channels/wechat/demo/ --seed-followers 300
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email import policy as email_policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from powerdesk.channels.wechat_store.fake_state import (
    FakeApp,
    FakeWeChatState,
    WeChatRefusal,
    generated_followers,
    rid,
)

DEMO_APP_ID = "wx5d3a1c0e9b7f2468"
DEMO_APP_SECRET = "fake0demo0app0secret000000000000"  # noqa: S105  (a fake's, never a real secret)
DEMO_ORIGINAL_ID = "gh_4d00ed8d6399"
MAX_BODY_BYTES = 11 * 1024 * 1024  # an image material may be 10 MB; 10,000 openids are ~300 KB

# (query, body) for the callback POST, built from the event's plaintext XML. The default signs
# in plaintext mode; the protocol's safe mode (AES) plugs in here.
CallbackBodyBuilder = Callable[..., tuple[Mapping[str, str], bytes]]

_POST_ONLY = {
    "/cgi-bin/stable_token",
    "/cgi-bin/menu/create",
    "/cgi-bin/message/custom/send",
    "/cgi-bin/message/mass/sendall",
    "/cgi-bin/message/mass/send",
    "/cgi-bin/message/mass/preview",
    "/cgi-bin/message/mass/get",
    "/cgi-bin/media/uploadnews",
    "/cgi-bin/material/add_material",
    "/cgi-bin/draft/add",
    "/cgi-bin/message/template/send",
    "/cgi-bin/tags/create",
    "/cgi-bin/user/tag/get",
    "/cgi-bin/tags/members/batchtagging",
    "/cgi-bin/tags/members/batchuntagging",
    "/datacube/getusersummary",
    "/datacube/getusercumulate",
    "/datacube/getarticlesummary",
}


def _token_routes(state: FakeWeChatState) -> dict[str, Callable[[FakeApp, Mapping[str, str], Any], dict]]:
    """The endpoints that take ``?access_token=``: path → handler(app, query, body)."""
    return {
        "/cgi-bin/menu/create": lambda app, q, b: state.menu_create(app, b),
        "/cgi-bin/menu/get": lambda app, q, b: state.menu_get(app),
        "/cgi-bin/menu/delete": lambda app, q, b: state.menu_delete(app),
        "/cgi-bin/message/custom/send": lambda app, q, b: state.custom_send(app, b),
        "/cgi-bin/message/mass/sendall": lambda app, q, b: state.mass_send(app, b, by_openid=False),
        "/cgi-bin/message/mass/send": lambda app, q, b: state.mass_send(app, b, by_openid=True),
        "/cgi-bin/message/mass/preview": lambda app, q, b: state.mass_preview(app, b),
        "/cgi-bin/message/mass/get": lambda app, q, b: state.mass_get(app, b),
        "/cgi-bin/media/uploadnews": lambda app, q, b: state.add_material(app, b, kind="uploadnews"),
        "/cgi-bin/draft/add": lambda app, q, b: state.add_material(app, b, kind="draft"),
        "/cgi-bin/material/add_material": lambda app, q, b: state.add_image_material(app, q, b),
        "/cgi-bin/message/template/send": lambda app, q, b: state.template_send(app, b),
        "/cgi-bin/user/info": lambda app, q, b: state.user_info(app, q),
        "/cgi-bin/user/get": lambda app, q, b: state.user_get(app, q),
        "/cgi-bin/tags/create": lambda app, q, b: state.tag_create(app, b),
        "/cgi-bin/tags/get": lambda app, q, b: state.tags_get(app),
        "/cgi-bin/user/tag/get": lambda app, q, b: state.tag_members(app, b),
        "/cgi-bin/tags/members/batchtagging": lambda app, q, b: state.tag_batch(app, b, add=True),
        "/cgi-bin/tags/members/batchuntagging": lambda app, q, b: state.tag_batch(app, b, add=False),
        "/datacube/getusersummary": lambda app, q, b: state.user_summary(app, b),
        "/datacube/getusercumulate": lambda app, q, b: state.user_cumulate(app, b),
        "/datacube/getarticlesummary": lambda app, q, b: state.article_summary(app, b),
    }


def plaintext_callback_body(
    xml: str, *, token: str, timestamp: str, nonce: str
) -> tuple[dict[str, str], bytes]:
    """The event as WeChat posts it in plaintext mode: ``signature`` = sha1 of the sorted
    token, timestamp and nonce, in the query; the XML as the body."""
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}, xml.encode("utf-8")


def _masked(data: Any) -> Any:
    if isinstance(data, dict):
        masked = {}
        for key, value in data.items():
            if key in ("secret", "access_token", "code"):
                masked[key] = "***"
            elif isinstance(value, list) and len(value) > 20:
                masked[key] = value[:20]
                masked[f"{key}_count"] = len(value)
            else:
                masked[key] = _masked(value)
        return masked
    if isinstance(data, bytes):  # an uploaded file: its size, not its bytes, in the call log
        return f"<{len(data)} bytes>"
    return data


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "FakeWeChatAPI/1"
    protocol_version = "HTTP/1.1"

    # --- plumbing ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._json(413, {"errcode": 44002, "errmsg": "post data too large"})
            return
        raw = self.rfile.read(length) if length else b""
        if url.path.startswith("/_fake/"):
            self._control(method, url.path, query, raw)
        elif url.path == "/connect/oauth2/authorize":
            self._authorize(query)
        else:
            self._api(method, url.path, query, raw)

    def _json(self, status: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self._send(status, data, "application/json; encoding=utf-8")

    def _send(self, status: int, data: bytes, kind: str, headers: Mapping[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a delay longer than its timeout)

    def log_message(self, format: str, *args) -> None:  # quiet: tests read /_fake/calls instead
        pass

    # --- the API ----------------------------------------------------------------------------

    def _api(self, method: str, path: str, query: dict[str, str], raw: bytes) -> None:
        state = self.server.state
        entry: dict[str, Any] = {
            "at": datetime.now(UTC).isoformat(),
            "method": method,
            "path": path,
            "appid": query.get("appid", ""),
            "query": _masked(query),
        }
        status, answer, job, delay = 200, {"errcode": 0, "errmsg": "ok"}, None, 0
        try:
            body = self._body(method, path, raw)
            entry["body"] = _masked(body)
            if isinstance(body, dict) and body.get("appid"):
                entry["appid"] = body["appid"]
            failure = state.take_failure(path) if path in self.server.known_paths else None
            if failure:
                # The delay comes after the work: a slow answer to a request WeChat did take.
                delay = failure["delay"] or 0
                entry["injected"] = {k: failure[k] for k in ("delay", "errcode", "http_status")}
                if failure["http_status"]:
                    status, answer = failure["http_status"], {}
                elif failure["errcode"] is not None:
                    raise WeChatRefusal(failure["errcode"], f"injected failure rid: {rid()}")
            if status == 200:
                answer = self._answer(path, query, body, entry)
                if path in ("/cgi-bin/message/mass/sendall", "/cgi-bin/message/mass/send"):
                    job = state.mass_job(answer["msg_id"])
        except WeChatRefusal as refusal:
            answer = {"errcode": refusal.errcode, "errmsg": refusal.errmsg, **refusal.extra}
        entry["http_status"] = status
        entry["errcode"] = answer.get("errcode", 0) if status == 200 else None
        state.record_call(entry)
        time.sleep(delay)
        if status != 200:
            self._send(status, b"<html><body><h1>500 Internal Server Error</h1></body></html>", "text/html")
        else:
            self._json(200, answer)
        if job is not None:
            self.server.push_job_finished(job)

    def _body(self, method: str, path: str, raw: bytes) -> Any:
        if path in _POST_ONLY and method != "POST":
            raise WeChatRefusal(43002, f"require POST method rid: {rid()}")
        if method != "POST":
            return None
        if not raw.strip():
            raise WeChatRefusal(44002, f"empty post data rid: {rid()}")
        if path == "/cgi-bin/material/add_material":
            return self._uploaded_file(raw)
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise WeChatRefusal(47001, f"data format error rid: {rid()}") from None

    def _uploaded_file(self, raw: bytes) -> dict[str, Any]:
        """The ``media`` part of a multipart/form-data upload, as WeChat reads it (41005: none)."""
        content_type = self.headers.get("Content-Type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            raise WeChatRefusal(41005, f"media data missing rid: {rid()}")
        message = BytesParser(policy=email_policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + raw
        )
        for part in message.iter_parts() if message.is_multipart() else ():
            if part.get_param("name", header="content-disposition") == "media":
                content = part.get_payload(decode=True) or b""
                return {
                    "filename": part.get_filename() or "",
                    "content_type": part.get_content_type(),
                    "content": content,
                    "size": len(content),
                }
        raise WeChatRefusal(41005, f"media data missing rid: {rid()}")

    def _answer(self, path: str, query: dict[str, str], body: Any, entry: dict[str, Any]) -> dict[str, Any]:
        state = self.server.state
        if path == "/cgi-bin/stable_token":
            return state.stable_token(body)
        if path == "/cgi-bin/token":
            return state.basic_token(query)
        if path == "/sns/oauth2/access_token":
            return state.oauth_access_token(query)
        if path == "/sns/userinfo":
            return state.oauth_userinfo(query)
        handler = self.server.routes.get(path)
        if handler is None:
            # WeChat's answer for a path it does not know.
            raise WeChatRefusal(48001, f"api unauthorized rid: {rid()}")
        app = state.app_for_token(query)
        entry["appid"] = app.app_id
        return handler(app, query, body)

    # --- OAuth2 authorize page --------------------------------------------------------------

    def _authorize(self, query: dict[str, str]) -> None:
        state = self.server.state
        try:
            redirect_uri, code = state.oauth_issue_code(query)
        except ValueError as problem:
            page = f"<html><body><h2>Oops! Something went wrong:(</h2><p>{problem}</p></body></html>"
            self._send(400, page.encode(), "text/html; charset=utf-8")
            return
        parts = urlsplit(redirect_uri)
        extra = urlencode({"code": code, "state": query.get("state", "")})
        location = urlunsplit(
            parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra, fragment="")
        )
        state.record_call(
            {
                "at": datetime.now(UTC).isoformat(),
                "method": "GET",
                "path": "/connect/oauth2/authorize",
                "appid": query.get("appid", ""),
                "query": _masked(query),
                "http_status": 302,
                "errcode": None,
            }
        )
        self._send(302, b"", "text/html", {"Location": location})

    # --- control ----------------------------------------------------------------------------

    def _control(self, method: str, path: str, query: dict[str, str], raw: bytes) -> None:
        state = self.server.state
        try:
            payload = json.loads(raw or b"{}") if method == "POST" else {}
        except ValueError:
            self._json(400, {"error": "body must be JSON"})
            return
        if not isinstance(payload, dict):
            self._json(400, {"error": "expected a JSON object"})
            return
        try:
            result = self._control_answer(method, path, query, payload, state)
        except (ValueError, TypeError, KeyError) as problem:
            self._json(400, {"error": str(problem)})
            return
        if result is None:
            self._json(404, {"error": f"no such control path {method} {path}"})
        else:
            self._json(200, result)

    def _control_answer(
        self, method: str, path: str, query: dict[str, str], payload: dict[str, Any], state: FakeWeChatState
    ) -> dict[str, Any] | None:
        if method == "GET":
            if path == "/_fake/calls":
                return {"calls": state.call_log(query.get("path"))}
            if path == "/_fake/messages":
                return {"messages": state.message_list(openid=query.get("openid"), kind=query.get("kind"))}
            if path == "/_fake/mass":
                msg_id = int(query["msg_id"]) if query.get("msg_id") else None
                return state.mass_report(msg_id=msg_id, with_recipients=query.get("recipients") == "1")
            if path == "/_fake/followers":
                return {"followers": state.follower_list()}
            if path == "/_fake/pushes":
                with state._lock:
                    return {"pushes": list(state.pushes)}
            return None
        if path == "/_fake/reset":
            state.reset()
            return {"ok": True}
        if path == "/_fake/fail":
            count, errcode = payload.get("count", 1), payload.get("errcode")
            http_status, delay = payload.get("http_status"), payload.get("delay", 0)
            if not (isinstance(count, int) and 1 <= count <= 100):
                raise ValueError("count: an integer 1–100")
            if errcode is not None and not isinstance(errcode, int):
                raise ValueError("errcode: an integer such as 45009 or -1")
            if http_status is not None and not (isinstance(http_status, int) and 400 <= http_status <= 599):
                raise ValueError("http_status: 400–599")
            if not (isinstance(delay, int | float) and 0 <= delay <= 60):
                raise ValueError("delay: seconds, 0–60")
            if errcode is None and http_status is None and not delay:
                raise ValueError("give errcode, http_status or delay")
            state.fail_next(
                count=count, errcode=errcode, http_status=http_status, delay=delay, path=payload.get("path")
            )
            return {"queued": count}
        if path == "/_fake/quota":
            remaining = payload.get("mass_send")
            if remaining is not None and not (isinstance(remaining, int) and remaining >= 0):
                raise ValueError("mass_send: a count ≥ 0, or null for unlimited")
            state.set_quota(remaining)
            return {"mass_send": remaining}
        if path == "/_fake/expire_tokens":
            mode = payload.get("mode", "expire")
            if mode not in ("expire", "invalidate"):
                raise ValueError("mode: expire or invalidate")
            return {"tokens": state.expire_tokens(app_id=payload.get("appid"), mode=mode)}
        if path == "/_fake/followers":
            return state.followers_apply(payload)
        if path == "/_fake/images":
            return {"media_id": state.image_material_seed(app_id=payload.get("appid"), media_id=payload.get("media_id"))}
        if path == "/_fake/config":
            state.configure(**payload)
            return {"ok": True}
        if path == "/_fake/clock":
            state.advance_clock(float(payload["advance"]))
            return {"now": state.now()}
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler sleeping on an injected delay must not hold up stop()

    def __init__(
        self,
        address: tuple[str, int],
        state: FakeWeChatState,
        *,
        callback_body_builder: CallbackBodyBuilder | None = None,
        push_delay: float = 0.05,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(address, _Handler)
        self.state = state
        self.routes = _token_routes(state)
        self.known_paths = set(self.routes) | {
            "/cgi-bin/stable_token",
            "/cgi-bin/token",
            "/sns/oauth2/access_token",
            "/sns/userinfo",
        }
        self.callback_body_builder = callback_body_builder
        self.push_delay = push_delay
        self.echo = echo

    def push_job_finished(self, job) -> None:
        if not self.state.callback_url:
            return
        threading.Thread(target=self._push, args=(job,), name="fake-wechat-push", daemon=True).start()

    def _push(self, job) -> None:
        time.sleep(self.push_delay)
        state = self.state
        xml = state.job_finish_xml(job)
        timestamp, nonce = str(int(state.now())), secrets.token_hex(5)
        if self.callback_body_builder is not None:
            params, body = self.callback_body_builder(xml, timestamp=timestamp, nonce=nonce)
        else:
            params, body = plaintext_callback_body(
                xml, token=state.callback_token, timestamp=timestamp, nonce=nonce
            )
        parts = urlsplit(state.callback_url)
        extra = urlencode(params)
        url = urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))
        entry: dict[str, Any] = {"msg_id": job.msg_id, "url": state.callback_url, "xml": xml}
        request = urllib.request.Request(  # noqa: S310  (a URL the operator configured)
            url, data=body, method="POST", headers={"Content-Type": "text/xml; charset=utf-8"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                entry |= {
                    "http_status": response.status,
                    "answer": response.read(4096).decode("utf-8", "replace"),
                }
        except urllib.error.HTTPError as exc:
            entry |= {"http_status": exc.code, "answer": ""}
            exc.close()
        except OSError as exc:
            entry |= {"http_status": None, "error": repr(exc)}
        state.record_push(entry)
        if self.echo:
            self.echo(
                f"MASSSENDJOBFINISH msg_id={job.msg_id} → {state.callback_url}: {entry.get('http_status')}"
            )


class FakeWeChatApi:
    """A running fake: its URL, the demo account's credentials, and the control API as methods."""

    def __init__(self, server: _Server, *, app_id: str, secret: str) -> None:
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-wechat-api", daemon=True
        )
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.app_id = app_id
        self.secret = secret
        self.state = server.state

    def start(self) -> FakeWeChatApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def callback_body_builder(self) -> CallbackBodyBuilder | None:
        return self._server.callback_body_builder

    @callback_body_builder.setter
    def callback_body_builder(self, builder: CallbackBodyBuilder | None) -> None:
        self._server.callback_body_builder = builder

    def calls(self, path: str | None = None) -> list[dict]:
        return self._call("GET", "/_fake/calls" + (f"?{urlencode({'path': path})}" if path else ""))["calls"]

    def messages(self, *, openid: str | None = None, kind: str | None = None) -> list[dict]:
        params = {k: v for k, v in (("openid", openid), ("kind", kind)) if v}
        return self._call("GET", "/_fake/messages" + (f"?{urlencode(params)}" if params else ""))["messages"]

    def mass(self, *, msg_id: int | str | None = None, recipients: bool = False) -> dict:
        params = {"msg_id": msg_id} if msg_id else {}
        params |= {"recipients": "1"} if recipients else {}
        return self._call("GET", "/_fake/mass" + (f"?{urlencode(params)}" if params else ""))

    def pushes(self) -> list[dict]:
        return self._call("GET", "/_fake/pushes")["pushes"]

    def followers(self) -> list[dict]:
        return self._call("GET", "/_fake/followers")["followers"]

    def followers_apply(self, **change: Any) -> dict:
        return self._call("POST", "/_fake/followers", change)

    def fail_next(
        self,
        *,
        count: int = 1,
        errcode: int | None = None,
        http_status: int | None = None,
        delay: float = 0,
        path: str | None = None,
    ) -> None:
        payload: dict[str, Any] = {"count": count, "delay": delay, "path": path}
        payload |= {"errcode": errcode} if errcode is not None else {}
        payload |= {"http_status": http_status} if http_status else {}
        self._call("POST", "/_fake/fail", payload)

    def set_quota(self, mass_send: int | None) -> None:
        self._call("POST", "/_fake/quota", {"mass_send": mass_send})

    def expire_tokens(self, *, mode: str = "expire", app_id: str | None = None) -> int:
        return self._call("POST", "/_fake/expire_tokens", {"mode": mode, "appid": app_id})["tokens"]

    def image_seed(self, media_id: str | None = None, *, app_id: str | None = None) -> str:
        """Put an image in the account's material library as an operator would on the platform;
        its media_id (``media_id`` or a new one) may then be an article's cover."""
        return self._call("POST", "/_fake/images", {"media_id": media_id, "appid": app_id})["media_id"]

    def configure(self, **options: Any) -> None:
        self._call("POST", "/_fake/config", options)

    def advance_clock(self, seconds: float) -> None:
        self._call("POST", "/_fake/clock", {"advance": seconds})

    def reset(self) -> None:
        self._call("POST", "/_fake/reset", {})

    def _call(self, method: str, path: str, payload: dict | None = None) -> dict:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(  # noqa: S310  (our own loopback URL)
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())


@contextmanager
def running_fake_wechat_api(
    *,
    app_id: str = DEMO_APP_ID,
    secret: str = DEMO_APP_SECRET,
    original_id: str = DEMO_ORIGINAL_ID,
    extra_apps: Mapping[str, str] | None = None,
    seed_followers: list[Mapping[str, Any]] | None = None,
    callback_body_builder: CallbackBodyBuilder | None = None,
    push_delay: float = 0.05,
    port: int = 0,
    **options: Any,
) -> Iterator[FakeWeChatApi]:
    """Run a fake WeChat API on 127.0.0.1 (a free port unless given) for the ``with`` block.

    ``options`` go to ``FakeWeChatState`` (``templates``, ``token_ttl``, ``oauth_openid``,
    ``cs_window_seconds``, ``open_audience``); ``extra_apps`` adds AppID → AppSecret pairs.
    """
    apps = [FakeApp(app_id, secret, original_id)]
    apps += [
        FakeApp(other, other_secret, f"gh_{other[-12:]}")
        for other, other_secret in (extra_apps or {}).items()
    ]
    state = FakeWeChatState(apps=apps, seed_followers=seed_followers or (), **options)
    server = _Server(
        ("127.0.0.1", port), state, callback_body_builder=callback_body_builder, push_delay=push_delay
    )
    fake = FakeWeChatApi(server, app_id=app_id, secret=secret).start()
    try:
        yield fake
    finally:
        fake.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m powerdesk.channels.wechat_store.fake_server",
        description="Local fake WeChat Official Account API (api.weixin.qq.com + open.weixin.qq.com).",
    )
    env = os.environ.get
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--app-id", default=env("POWERDESK_WECHAT_FAKE_APP_ID", DEMO_APP_ID))
    parser.add_argument(
        "--secret",
        default=env("POWERDESK_WECHAT_FAKE_APP_SECRET", DEMO_APP_SECRET),
        help="the AppSecret it accepts (default: the demo's fake secret)",
    )
    parser.add_argument("--original-id", default=DEMO_ORIGINAL_ID, help="gh_… id in pushed events")
    parser.add_argument("--callback-url", default="", help="where MASSSENDJOBFINISH events are POSTed")
    parser.add_argument("--callback-token", default=env("POWERDESK_WECHAT_FAKE_CALLBACK_TOKEN", "powerdesk"))
    parser.add_argument(
        "--oauth-openid", default="o_demo_showcase", help="who the OAuth2 page says is browsing"
    )
    parser.add_argument("--seed-followers", type=int, default=0, help="generate N followers over 30 days")
    parser.add_argument("--open-audience", action="store_true", help="mass send by openid accepts any openid")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.host not in {"127.0.0.1", "localhost"}:
        parser.error("--host: the fake has unauthenticated control endpoints; bind it to loopback only")
    seed: list[dict[str, Any]] = [
        {"openid": args.oauth_openid, "scene": "ADD_SCENE_QR_CODE", "nickname": "示范用户"}
    ]
    seed += generated_followers(now=int(time.time()), count=args.seed_followers)
    state = FakeWeChatState(
        apps=[FakeApp(args.app_id, args.secret, args.original_id)],
        oauth_openid=args.oauth_openid,
        open_audience=args.open_audience,
        seed_followers=seed,
    )
    state.configure(callback_url=args.callback_url, callback_token=args.callback_token)

    def echo(line: str) -> None:
        print(line, flush=True)

    server = _Server((args.host, args.port), state, echo=None if args.quiet else echo)
    fake = FakeWeChatApi(server, app_id=args.app_id, secret=args.secret).start()
    print(f"fake WeChat API listening on {fake.url} (AppID {args.app_id})", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
