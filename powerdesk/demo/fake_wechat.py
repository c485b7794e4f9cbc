"""The demo's fake WeChat: the fake API server, talking to our callback in safe mode, with an
authorize page a person can use.

``powerdesk demo`` runs ``python -m powerdesk.demo.fake_wechat`` as a supervised child. On top of
``powerdesk.channels.wechat_store.fake_server`` (every API endpoint, followers, mass jobs,
datacube figures) it adds what a demo needs and a unit-test fake does not:

* **Pushes are real safe-mode callbacks.** ``MASSSENDJOBFINISH`` after each mass send and
  ``TEMPLATESENDJOBFINISH`` after each new template message are POSTed to our callback
  encrypted with the account's EncodingAESKey and signed with its token
  (:func:`safe_mode_callback`), exactly as WeChat does for an account in 安全模式.
* **The OAuth2 authorize page asks who you are.** On a phone WeChat knows its user; in a demo
  browser nobody does. The first visit shows a chooser (the showcase follower
  ``o_demo_showcase``, other followers, or a brand-new WeChat user) and remembers the choice in
  a cookie, like WeChat remembering its user: later ``snsapi_base`` rounds are silent, and
  ``snsapi_userinfo`` shows a consent page (允许 / 拒绝, which returns with the state alone).

The secrets come from the environment (never argv, which ``ps`` shows):
``POWERDESK_WECHAT_FAKE_APP_SECRET``, ``POWERDESK_WECHAT_FAKE_CALLBACK_TOKEN``,
``POWERDESK_WECHAT_FAKE_ENCODING_AES_KEY``.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import secrets
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from powerdesk.channels.wechat.crypto import WeChatCrypto, signature_for
from powerdesk.channels.wechat.protocol import cdata
from powerdesk.channels.wechat_store.fake_server import (
    DEMO_APP_ID,
    DEMO_APP_SECRET,
    DEMO_ORIGINAL_ID,
    FakeWeChatApi,
    _Handler,
    _Server,
)
from powerdesk.channels.wechat_store.fake_state import FakeApp, FakeWeChatState, generated_followers

SHOWCASE_OPENID = "o_demo_showcase"
SHOWCASE_HINT = "示范客户张三，已绑定户号 0000000001"
USER_COOKIE = "pd_fake_wechat_user"
CHOOSER_SIZE = 12
_OPENID = re.compile(r"[A-Za-z0-9_-]{6,64}")
_FROM_USER = re.compile(r"<FromUserName><!\[CDATA\[([^\]]*)\]\]></FromUserName>")


def safe_mode_callback(
    xml: str, *, crypto: WeChatCrypto, timestamp: str | int, nonce: str, to_user: str = ""
) -> tuple[dict[str, str], bytes]:
    """A callback as WeChat POSTs it to a safe-mode (安全模式) account: ``(query, body)``.

    Query: ``signature`` (sha1 of the sorted token, timestamp, nonce), ``timestamp``, ``nonce``,
    ``openid`` (the sender), ``encrypt_type=aes`` and ``msg_signature`` (which also covers
    ``Encrypt``). Body: ``<xml><ToUserName/><Encrypt/></xml>``, the message AES-encrypted with
    the EncodingAESKey and the AppID appended (crypto.py has the layout).
    """
    timestamp = str(timestamp)
    encrypt, msg_signature = crypto.encrypt(xml.encode("utf-8"), nonce, timestamp)
    query = {
        "signature": signature_for(crypto.token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
    }
    sender = _FROM_USER.search(xml)
    if sender:
        query["openid"] = sender.group(1)
    query |= {"encrypt_type": "aes", "msg_signature": msg_signature}
    head = f"<ToUserName>{cdata(to_user)}</ToUserName>" if to_user else ""
    return query, f"<xml>{head}<Encrypt>{cdata(encrypt)}</Encrypt></xml>".encode()


def template_finish_xml(*, original_id: str, openid: str, msg_id: int, create_time: int) -> str:
    return (
        "<xml>"
        f"<ToUserName>{cdata(original_id)}</ToUserName>"
        f"<FromUserName>{cdata(openid)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        f"<MsgType>{cdata('event')}</MsgType>"
        f"<Event>{cdata('TEMPLATESENDJOBFINISH')}</Event>"
        f"<MsgID>{msg_id}</MsgID>"
        f"<Status>{cdata('success')}</Status>"
        "</xml>"
    )


class DemoWeChatState(FakeWeChatState):
    """The fake's state, plus issuing an OAuth2 code for a chosen openid and telling the server
    about each new template message (so it can push TEMPLATESENDJOBFINISH)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.on_template_sent = None  # (app, openid, msg_id) → None
        self._template_ids: set[int] = set()

    def authorize_problem(self, query: Mapping[str, str]) -> str:
        """WeChat's page message for a malformed authorize request, or ""."""
        if query.get("appid") not in self.apps:
            return "10003 appid 参数错误"
        if query.get("response_type") != "code":
            return "10004 response_type 参数错误"
        if query.get("scope") not in ("snsapi_base", "snsapi_userinfo"):
            return "10005 scope 参数错误或没有 scope 权限"
        if not query.get("redirect_uri", "").startswith(("http://", "https://")):
            return "10003 redirect_uri 参数错误"
        return ""

    def oauth_issue_code_for(self, query: Mapping[str, str], *, openid: str) -> tuple[str, str]:
        """``oauth_issue_code`` for ``openid`` instead of the configured one (one RLock: atomic)."""
        with self._lock:
            configured, self.oauth_openid = self.oauth_openid, openid
            try:
                return self.oauth_issue_code(query)
            finally:
                self.oauth_openid = configured

    def template_send(self, app: FakeApp, body: Any) -> dict[str, Any]:
        answer = super().template_send(app, body)
        with self._lock:
            new = answer["msgid"] not in self._template_ids
            self._template_ids.add(answer["msgid"])
        if new and self.on_template_sent is not None:
            self.on_template_sent(app, body["touser"], answer["msgid"])
        return answer

    def chooser_followers(self) -> list[tuple[str, str]]:
        """(openid, nickname) of the first followers: the showcase first, then in seed order."""
        with self._lock:
            followers = [f for f in self.followers.values() if f.subscribed]
        followers.sort(key=lambda f: f.openid != SHOWCASE_OPENID)
        return [(f.openid, f.nickname) for f in followers[:CHOOSER_SIZE]]


class _DemoHandler(_Handler):
    server: _DemoServer

    def _authorize(self, query: dict[str, str]) -> None:
        state: DemoWeChatState = self.server.state
        problem = state.authorize_problem(query)
        if problem:
            self._page(400, "出错了", f"<p>{html.escape(problem)}</p>")
            return
        if query.get("pd_deny"):
            # 拒绝: WeChat returns to redirect_uri with the state only.
            self._send(
                302,
                b"",
                "text/html",
                {"Location": _with_query(query["redirect_uri"], state=query.get("state", ""))},
            )
            return
        chosen = query.get("pd_as", "")
        if chosen == "__new__":
            chosen = "o" + secrets.token_urlsafe(20)[:27]
        remembered = self._remembered_user()
        if chosen and _OPENID.fullmatch(chosen):
            self._issue(query, chosen)
        elif remembered and not query.get("pd_switch") and query["scope"] == "snsapi_base":
            self._issue(query, remembered)  # 静默授权: WeChat knows who is holding the phone
        elif remembered and not query.get("pd_switch"):
            self._consent_page(query, remembered)
        else:
            self._chooser_page(query, invalid=bool(chosen))

    def _remembered_user(self) -> str:
        cookie = SimpleCookie()
        try:
            cookie.load(self.headers.get("Cookie", ""))
        except CookieError:  # a malformed cookie header: nobody is remembered
            return ""
        morsel = cookie.get(USER_COOKIE)
        return morsel.value if morsel and _OPENID.fullmatch(morsel.value) else ""

    def _issue(self, query: dict[str, str], openid: str) -> None:
        state: DemoWeChatState = self.server.state
        redirect_uri, code = state.oauth_issue_code_for(query, openid=openid)
        state.record_call(
            {
                "at": datetime.now(UTC).isoformat(),
                "method": "GET",
                "path": "/connect/oauth2/authorize",
                "appid": query.get("appid", ""),
                "query": {"scope": query.get("scope"), "as": openid},
                "http_status": 302,
                "errcode": None,
            }
        )
        cookie = f"{USER_COOKIE}={openid}; Path=/connect/oauth2/; Max-Age=2592000; HttpOnly; SameSite=Lax"
        location = _with_query(redirect_uri, code=code, state=query.get("state", ""))
        self._send(302, b"", "text/html", {"Location": location, "Set-Cookie": cookie})

    def _hidden(self, query: dict[str, str]) -> str:
        keep = ("appid", "redirect_uri", "response_type", "scope", "state")
        return "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(query.get(name, ""))}">' for name in keep
        )

    def _chooser_page(self, query: dict[str, str], *, invalid: bool) -> None:
        state: DemoWeChatState = self.server.state
        rows = []
        for index, (openid, nickname) in enumerate(state.chooser_followers()):
            hint = f"<small>{SHOWCASE_HINT}</small>" if openid == SHOWCASE_OPENID else ""
            checked = " checked" if index == 0 else ""
            rows.append(
                f'<label class="row"><input type="radio" name="pd_as" value="{html.escape(openid)}"{checked}>'
                f"<span><b>{html.escape(nickname)}</b> <code>{html.escape(openid)}</code>{hint}</span></label>"
            )
        rows.append(
            '<label class="row"><input type="radio" name="pd_as" value="__new__">'
            "<span><b>新的微信用户</b><small>从未绑定户号：走首次登录、验证手机号的流程</small></span></label>"
        )
        userinfo = query["scope"] == "snsapi_userinfo"
        ask = "示范供电公司 申请获得你的昵称、头像" if userinfo else "示范供电公司 请求获取你的微信身份"
        error = '<p class="error">请选择一位微信用户。</p>' if invalid else ""
        body = (
            f'<p class="ask">{ask}</p>'
            '<p class="note">演示环境：真实微信知道是谁在使用手机，这里请选择以哪位微信用户的身份继续。</p>'
            f'{error}<form method="get" action="/connect/oauth2/authorize">{self._hidden(query)}'
            f'{"".join(rows)}<button type="submit" class="primary">确认登录</button></form>'
        )
        self._page(200, "微信授权（演示）", body)

    def _consent_page(self, query: dict[str, str], openid: str) -> None:
        nickname = dict(self.server.state.chooser_followers()).get(openid, "微信用户")
        hidden = self._hidden(query)
        body = (
            '<p class="ask">示范供电公司 申请获得以下权限：</p><p>获得你的公开信息（昵称、头像）</p>'
            f'<p class="note">当前微信用户：<b>{html.escape(nickname)}</b> <code>{html.escape(openid)}</code></p>'
            f'<form method="get" action="/connect/oauth2/authorize">{hidden}'
            f'<input type="hidden" name="pd_as" value="{html.escape(openid)}">'
            '<button type="submit" class="primary">允许</button></form>'
            f'<form method="get" action="/connect/oauth2/authorize">{hidden}'
            '<input type="hidden" name="pd_deny" value="1"><button type="submit">拒绝</button></form>'
            f'<form method="get" action="/connect/oauth2/authorize">{hidden}'
            '<input type="hidden" name="pd_switch" value="1"><button type="submit" class="link">切换微信用户</button></form>'
        )
        self._page(200, "微信授权（演示）", body)

    def _page(self, status: int, title: str, body: str) -> None:
        page = (
            '<!DOCTYPE html><html lang="zh-Hans"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body><header>{html.escape(title)}</header><main>{body}</main></body></html>"
        )
        self._send(status, page.encode("utf-8"), "text/html; charset=utf-8")


_STYLE = (
    "body{margin:0;font:16px/1.5 -apple-system,'PingFang SC','Noto Sans CJK SC',sans-serif;background:#ededed}"
    "header{background:#07c160;color:#fff;padding:12px 16px;font-weight:600}"
    "main{padding:16px}.ask{font-weight:600}.note{color:#666;font-size:14px}.error{color:#fa5151}"
    ".row{display:flex;gap:8px;align-items:flex-start;background:#fff;padding:10px 12px;"
    "border-bottom:1px solid #eee}.row span{display:flex;flex-direction:column}"
    "code{font-size:12px;color:#888}small{color:#07c160}"
    "button{display:block;width:100%;margin-top:12px;padding:10px;border:0;border-radius:8px;font-size:17px;"
    "background:#f2f2f2}button.primary{background:#07c160;color:#fff}"
    "button.link{background:none;color:#576b95;font-size:15px}"
)


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    extra = urlencode(params)
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra, fragment=""))


class _DemoServer(_Server):
    def __init__(self, address: tuple[str, int], state: DemoWeChatState, **options: Any) -> None:
        super().__init__(address, state, **options)
        self.RequestHandlerClass = _DemoHandler
        state.on_template_sent = self.push_template_finished

    def push_template_finished(self, app: FakeApp, openid: str, msg_id: int) -> None:
        if not self.state.callback_url:
            return
        xml = template_finish_xml(
            original_id=app.original_id, openid=openid, msg_id=msg_id, create_time=int(self.state.now())
        )
        threading.Thread(
            target=self._push_xml, args=(xml, msg_id), name="fake-wechat-push", daemon=True
        ).start()

    def _push_xml(self, xml: str, msg_id: int) -> None:
        """POST one event to the callback (as ``_Server._push`` does for mass jobs)."""
        time.sleep(self.push_delay)
        state = self.state
        params, body = self.callback_body_builder(
            xml, timestamp=str(int(state.now())), nonce=secrets.token_hex(5)
        )
        parts = urlsplit(state.callback_url)
        extra = urlencode(params)
        url = urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))
        entry: dict[str, Any] = {"msg_id": msg_id, "url": state.callback_url, "xml": xml}
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
                f"TEMPLATESENDJOBFINISH msg_id={msg_id} → {state.callback_url}: {entry.get('http_status')}"
            )


def _demo_fake(
    *,
    host: str,
    port: int,
    app_id: str,
    secret: str,
    original_id: str,
    token: str,
    encoding_aes_key: str,
    callback_url: str,
    seed_followers: list[dict[str, Any]],
    push_delay: float = 0.05,
    echo=None,
) -> FakeWeChatApi:
    state = DemoWeChatState(
        apps=[FakeApp(app_id, secret, original_id)],
        oauth_openid=SHOWCASE_OPENID,
        seed_followers=seed_followers,
    )
    state.configure(callback_url=callback_url, callback_token=token)
    builder = partial(
        safe_mode_callback, crypto=WeChatCrypto(token, encoding_aes_key, app_id), to_user=original_id
    )
    server = _DemoServer((host, port), state, callback_body_builder=builder, push_delay=push_delay, echo=echo)
    return FakeWeChatApi(server, app_id=app_id, secret=secret).start()


def showcase_seed() -> list[dict[str, Any]]:
    return [{"openid": SHOWCASE_OPENID, "scene": "ADD_SCENE_QR_CODE", "nickname": "示范用户"}]


@contextmanager
def running_demo_fake_wechat(
    *,
    token: str,
    encoding_aes_key: str,
    callback_url: str = "",
    app_id: str = DEMO_APP_ID,
    secret: str = DEMO_APP_SECRET,
    original_id: str = DEMO_ORIGINAL_ID,
    seed_followers: list[dict[str, Any]] | None = None,
    port: int = 0,
    push_delay: float = 0.05,
) -> Iterator[FakeWeChatApi]:
    """The demo fake on 127.0.0.1 (a free port unless given) for the ``with`` block (tests, e2e)."""
    fake = _demo_fake(
        host="127.0.0.1",
        port=port,
        app_id=app_id,
        secret=secret,
        original_id=original_id,
        token=token,
        encoding_aes_key=encoding_aes_key,
        callback_url=callback_url,
        seed_followers=showcase_seed() if seed_followers is None else seed_followers,
        push_delay=push_delay,
    )
    try:
        yield fake
    finally:
        fake.stop()


def main(argv: list[str] | None = None) -> int:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m powerdesk.demo.fake_wechat",
        description="The demo's fake WeChat API: safe-mode pushes to our callback, a usable OAuth2 page.",
    )
    parser.add_argument("--port", type=int, default=8703)
    parser.add_argument("--app-id", default=env("POWERDESK_WECHAT_FAKE_APP_ID", DEMO_APP_ID))
    parser.add_argument("--original-id", default=DEMO_ORIGINAL_ID, help="gh_… id in pushed events")
    parser.add_argument("--callback-url", default="", help="our /channels/wechat/<slug>/ URL")
    parser.add_argument("--seed-followers", type=int, default=0, help="also N generated followers (30 days)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    token = env("POWERDESK_WECHAT_FAKE_CALLBACK_TOKEN", "")
    aes_key = env("POWERDESK_WECHAT_FAKE_ENCODING_AES_KEY", "")
    if not token or not aes_key:
        parser.error(
            "POWERDESK_WECHAT_FAKE_CALLBACK_TOKEN and POWERDESK_WECHAT_FAKE_ENCODING_AES_KEY are required"
        )
    seed = showcase_seed() + generated_followers(now=int(time.time()), count=args.seed_followers)
    fake = _demo_fake(
        host="127.0.0.1",
        port=args.port,
        app_id=args.app_id,
        secret=env("POWERDESK_WECHAT_FAKE_APP_SECRET", DEMO_APP_SECRET),
        original_id=args.original_id,
        token=token,
        encoding_aes_key=aes_key,
        callback_url=args.callback_url,
        seed_followers=seed,
        echo=None if args.quiet else partial(print, flush=True),
    )
    print(
        f"fake WeChat API on {fake.url} (AppID {args.app_id}, callback {args.callback_url or '-'})",
        flush=True,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
