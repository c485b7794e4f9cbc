"""What the fake WeChat API server knows, and how each endpoint answers (no HTTP here).

Written from WeChat's public API documentation, independently of our client (it imports
nothing from client.py, errors.py or Django): the fake checks requests the way WeChat does and
answers with WeChat's JSON shapes and errcodes, so that a client mistake shows up as a refusal.
Every public method is thread-safe (one lock); times are Unix seconds on a clock that tests may
move forward (``advance_clock``).
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

BEIJING = timezone(timedelta(hours=8))
TOKEN_TTL_SECONDS = 7200
STABLE_TOKEN_EARLY_RENEWAL_SECONDS = 300  # "普通模式下平台会提前 5 分钟更新 access_token"
OAUTH_CODE_TTL_SECONDS = 300
MASS_OPENID_LIMIT = 10_000
PAGE_SIZE = 10_000
MENU_TYPES = {
    "click",
    "view",
    "miniprogram",
    "scancode_push",
    "scancode_waitmsg",
    "pic_sysphoto",
    "pic_photo_or_album",
    "pic_weixin",
    "location_select",
    "media_id",
    "article_id",
    "article_view_limited",
}
# subscribe_scene → datacube user_source
SCENE_SOURCES = {
    "ADD_SCENE_OTHERS": 0,
    "ADD_SCENE_SEARCH": 1,
    "ADD_SCENE_PROFILE_CARD": 17,
    "ADD_SCENE_QR_CODE": 30,
    "ADD_SCENE_PROFILE_LINK": 57,
    "ADD_SCENE_WECHAT_ADVERTISEMENT": 100,
    "ADD_SCENE_REPRINT": 161,
}
DEFAULT_TEMPLATES = {
    "TM_BILL_ISSUED_0001": "电费账单通知",
    "TM_OUTAGE_NOTICE_0001": "停电通知",
    "TM_REPAIR_PROGRESS_0001": "报修进度通知",
}


class WeChatRefusal(Exception):
    """An errcode answer (HTTP 200, as WeChat does)."""

    def __init__(self, errcode: int, errmsg: str, **extra: Any) -> None:
        super().__init__(errmsg)
        self.errcode = errcode
        self.errmsg = errmsg
        self.extra = extra


IMAGE_MATERIAL_MAX_BYTES = 10 * 1024 * 1024
# What WeChat accepts as an image material, by its first bytes: PNG, JPEG, GIF, BMP.
IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


@dataclass
class FakeApp:
    app_id: str
    secret: str
    original_id: str  # gh_…: ToUserName of the events we push


@dataclass
class _Token:
    value: str
    app_id: str
    expires_at: float
    valid: bool = True


@dataclass
class Follower:
    openid: str
    subscribed: bool
    subscribe_time: int
    scene: str = "ADD_SCENE_QR_CODE"
    unsubscribe_time: int | None = None
    last_interaction: int = 0
    nickname: str = "微信用户"
    remark: str = ""
    tagids: list[int] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "openid": self.openid,
            "subscribed": self.subscribed,
            "subscribe_time": self.subscribe_time,
            "unsubscribe_time": self.unsubscribe_time,
            "scene": self.scene,
            "tagids": list(self.tagids),
            "last_interaction": self.last_interaction,
        }


@dataclass
class _MassJob:
    msg_id: int
    msg_data_id: int | None
    app_id: str
    clientmsgid: str
    audience: str  # "all", "tag:<id>", "openids"
    msgtype: str
    content_key: str
    created: int
    total: int
    recipients: list[str]
    material: str = ""

    def public(self, *, with_recipients: bool = False) -> dict[str, Any]:
        data = {
            "msg_id": self.msg_id,
            "msg_data_id": self.msg_data_id,
            "appid": self.app_id,
            "clientmsgid": self.clientmsgid,
            "audience": self.audience,
            "msgtype": self.msgtype,
            "created": self.created,
            "total_count": self.total,
            "sent_count": len(self.recipients),
        }
        if with_recipients:
            data["recipients"] = list(self.recipients)
        return data


def rid() -> str:
    return f"{secrets.token_hex(4)}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"


class FakeWeChatState:
    """Accounts, tokens, followers, tags, menus, materials, messages and mass jobs, in memory."""

    def __init__(
        self,
        *,
        apps: Iterable[FakeApp],
        templates: Mapping[str, str] | None = None,
        token_ttl: int = TOKEN_TTL_SECONDS,
        oauth_openid: str = "o_demo_showcase",
        cs_window_seconds: int = 48 * 3600,
        open_audience: bool = False,
        seed_followers: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        self.apps = {app.app_id: app for app in apps}
        self.templates = dict(templates or DEFAULT_TEMPLATES)
        self.token_ttl = token_ttl
        self.oauth_openid = oauth_openid
        self.cs_window_seconds = cs_window_seconds
        # Mass sends by openid list count any well-formed openid as a follower (the 1M bench).
        self.open_audience = open_audience
        self.callback_url = ""
        self.callback_token = ""
        self._seed = [dict(f) for f in seed_followers]
        self._lock = threading.RLock()
        self._offset = 0.0
        self._reset_locked()

    # --- bookkeeping ---------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self._offset

    def advance_clock(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def reset(self) -> None:
        """Forget calls, failures, quota, tokens, codes, messages, materials, menus, tags and mass
        jobs; followers go back to the seed."""
        with self._lock:
            self._reset_locked()

    def _reset_locked(self) -> None:
        self._offset = 0.0
        self.calls: list[dict[str, Any]] = []
        self.failures: deque[dict[str, Any]] = deque()
        self.mass_quota: int | None = None
        self._tokens: dict[str, _Token] = {}
        self._current_stable: dict[str, str] = {}
        self._current_basic: dict[str, str] = {}
        self._oauth_codes: dict[str, dict[str, Any]] = {}
        self._oauth_tokens: dict[str, dict[str, Any]] = {}
        self.messages: list[dict[str, Any]] = []
        self._template_dedup: dict[tuple[str, str], str] = {}
        self._materials: dict[str, dict[str, Any]] = {}
        self._images: dict[str, dict[str, Any]] = {}  # permanent image materials (add_material)
        self._menus: dict[str, list[dict[str, Any]]] = {}
        self._tags: dict[str, dict[int, str]] = {app: {2: "星标组"} for app in self.apps}
        self._next_tag_id = 100
        self._next_id = 1_000_000_001
        self._mass: dict[int, _MassJob] = {}
        self._mass_by_clientmsgid: dict[tuple[str, str], int] = {}
        self._mass_delivered: dict[str, set[str]] = {}
        self.mass_duplicates = 0
        self.pushes: list[dict[str, Any]] = []
        self.followers: dict[str, Follower] = {}
        self._followers_apply({"subscribe": self._seed})

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def record_call(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.calls.append(entry)

    def call_log(self, path: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self.calls if path is None or c["path"] == path]

    def fail_next(
        self, *, count: int, errcode: int | None, http_status: int | None, delay: float, path: str | None
    ):
        with self._lock:
            for _ in range(count):
                self.failures.append(
                    {"errcode": errcode, "http_status": http_status, "delay": delay, "path": path}
                )

    def take_failure(self, path: str) -> dict[str, Any] | None:
        with self._lock:
            for failure in self.failures:
                if failure["path"] in (None, path):
                    self.failures.remove(failure)
                    return failure
        return None

    def set_quota(self, remaining: int | None) -> None:
        with self._lock:
            self.mass_quota = remaining

    def configure(self, **options: Any) -> None:
        allowed = {
            "callback_url",
            "callback_token",
            "oauth_openid",
            "cs_window_seconds",
            "token_ttl",
            "open_audience",
        }
        with self._lock:
            for name, value in options.items():
                if name not in allowed:
                    raise ValueError(f"unknown option {name!r}; one of {sorted(allowed)}")
                setattr(self, name, value)

    # --- access tokens -------------------------------------------------------------------------

    def _app(self, app_id: Any, secret: Any = None) -> FakeApp:
        app = self.apps.get(app_id) if isinstance(app_id, str) else None
        if app is None:
            raise WeChatRefusal(40013, f"invalid appid rid: {rid()}")
        if secret is not None and secret != app.secret:
            raise WeChatRefusal(40125, f"invalid appsecret rid: {rid()}")
        return app

    def _issue(self, app_id: str, kind: str) -> _Token:
        token = _Token(
            value=secrets.token_urlsafe(96)[:136],  # WeChat's are ~136 characters
            app_id=app_id,
            expires_at=self.now() + self.token_ttl,
        )
        self._tokens[token.value] = token
        (self._current_stable if kind == "stable" else self._current_basic)[app_id] = token.value
        return token

    def stable_token(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise WeChatRefusal(47001, f"data format error rid: {rid()}")
        if body.get("grant_type") != "client_credential":
            raise WeChatRefusal(40002, f"invalid grant_type rid: {rid()}")
        force = body.get("force_refresh", False)
        if not isinstance(force, bool):
            raise WeChatRefusal(47001, f"data format error: force_refresh must be a boolean rid: {rid()}")
        with self._lock:
            app = self._app(body.get("appid"), body.get("secret"))
            now = self.now()
            current = self._tokens.get(self._current_stable.get(app.app_id, ""))
            if force:
                if current is not None:
                    current.valid = False  # "会导致上次获取的 access_token 失效"
                current = self._issue(app.app_id, "stable")
            elif (
                current is None
                or not current.valid
                or current.expires_at - now <= STABLE_TOKEN_EARLY_RENEWAL_SECONDS
            ):
                # Renewed early: the old token stays usable until its own expiry.
                current = self._issue(app.app_id, "stable")
            return {"access_token": current.value, "expires_in": int(current.expires_at - now)}

    def basic_token(self, query: Mapping[str, str]) -> dict[str, Any]:
        """``GET /cgi-bin/token``: each call invalidates the previous token (for wechatpy's sake)."""
        if query.get("grant_type") != "client_credential":
            raise WeChatRefusal(40002, f"invalid grant_type rid: {rid()}")
        with self._lock:
            app = self._app(query.get("appid"), query.get("secret", ""))
            old = self._tokens.get(self._current_basic.get(app.app_id, ""))
            if old is not None:
                old.valid = False
            token = self._issue(app.app_id, "basic")
            return {"access_token": token.value, "expires_in": self.token_ttl}

    def expire_tokens(self, *, app_id: str | None = None, mode: str = "expire") -> int:
        """``expire``: tokens time out (42001); ``invalidate``: they are revoked (40001)."""
        with self._lock:
            count = 0
            for token in self._tokens.values():
                if app_id in (None, token.app_id) and token.valid:
                    if mode == "invalidate":
                        token.valid = False
                    else:
                        token.expires_at = min(token.expires_at, self.now() - 1)
                    count += 1
            return count

    def app_for_token(self, query: Mapping[str, str]) -> FakeApp:
        value = query.get("access_token")
        if not value:
            raise WeChatRefusal(41001, f"access_token missing rid: {rid()}")
        with self._lock:
            token = self._tokens.get(value)
            if token is None or not token.valid:
                raise WeChatRefusal(
                    40001,
                    "invalid credential, access_token is invalid or not latest, "
                    f"could get access_token by getStableAccessToken rid: {rid()}",
                )
            if token.expires_at <= self.now():
                raise WeChatRefusal(42001, f"access_token expired rid: {rid()}")
            return self.apps[token.app_id]

    # --- followers -----------------------------------------------------------------------------

    def followers_apply(self, change: Mapping[str, Any]) -> dict[str, int]:
        with self._lock:
            return self._followers_apply(change)

    def _followers_apply(self, change: Mapping[str, Any]) -> dict[str, int]:
        now = int(self.now())
        counts = {"subscribed": 0, "unsubscribed": 0, "interacted": 0}
        generated = change.get("generate")
        subscribe = list(change.get("subscribe") or [])
        if generated:
            subscribe += generated_followers(now=now, **generated)
        for item in subscribe:
            item = {"openid": item} if isinstance(item, str) else item
            at = _unix(item.get("at"), now)
            follower = self.followers.get(item["openid"])
            if follower is None:
                follower = self.followers[item["openid"]] = Follower(
                    openid=item["openid"], subscribed=True, subscribe_time=at
                )
            follower.subscribed, follower.subscribe_time, follower.unsubscribe_time = True, at, None
            follower.scene = item.get("scene", follower.scene)
            follower.nickname = item.get("nickname", follower.nickname)
            follower.last_interaction = max(follower.last_interaction, at)
            if item.get("unsubscribe_at") is not None:
                follower.subscribed, follower.unsubscribe_time = False, _unix(item["unsubscribe_at"], now)
                counts["unsubscribed"] += 1
            counts["subscribed"] += 1
        for item in change.get("unsubscribe") or []:
            item = {"openid": item} if isinstance(item, str) else item
            follower = self.followers.get(item["openid"])
            if follower is not None and follower.subscribed:
                follower.subscribed, follower.unsubscribe_time = False, _unix(item.get("at"), now)
                follower.tagids = []
                counts["unsubscribed"] += 1
        for openid in change.get("interact") or []:
            if openid in self.followers:
                self.followers[openid].last_interaction = now
                counts["interacted"] += 1
        return counts

    def follower_list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.public() for f in self.followers.values()]

    def _follower(self, openid: Any, *, subscribed: bool = True) -> Follower:
        follower = self.followers.get(openid) if isinstance(openid, str) else None
        if follower is None:
            raise WeChatRefusal(40003, f"invalid openid rid: {rid()}")
        if subscribed and not follower.subscribed:
            raise WeChatRefusal(43004, f"require subscribe rid: {rid()}")
        return follower

    def user_info(self, app: FakeApp, query: Mapping[str, str]) -> dict[str, Any]:
        with self._lock:
            follower = self._follower(query.get("openid"), subscribed=False)
            if not follower.subscribed:
                return {"subscribe": 0, "openid": follower.openid}
            return {
                "subscribe": 1,
                "openid": follower.openid,
                "language": query.get("lang", "zh_CN"),
                "subscribe_time": follower.subscribe_time,
                "remark": follower.remark,
                "groupid": 0,
                "tagid_list": list(follower.tagids),
                "subscribe_scene": follower.scene,
                "qr_scene": 0,
                "qr_scene_str": "",
            }

    def user_get(self, app: FakeApp, query: Mapping[str, str]) -> dict[str, Any]:
        with self._lock:
            subscribed = [f.openid for f in self.followers.values() if f.subscribed]
        return _page(subscribed, query.get("next_openid", ""), total=len(subscribed))

    # --- tags ----------------------------------------------------------------------------------

    def tag_create(self, app: FakeApp, body: Any) -> dict[str, Any]:
        name = (body or {}).get("tag", {}).get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name:
            raise WeChatRefusal(47001, f"data format error rid: {rid()}")
        if len(name.encode()) > 30:
            raise WeChatRefusal(45158, f"tag name too long rid: {rid()}")
        with self._lock:
            tags = self._tags[app.app_id]
            if name in tags.values():
                raise WeChatRefusal(45157, f"invalid tag name rid: {rid()}")
            if len(tags) >= 100:
                raise WeChatRefusal(45056, f"too many tags rid: {rid()}")
            self._next_tag_id += 1
            tags[self._next_tag_id] = name
            return {"tag": {"id": self._next_tag_id, "name": name}}

    def tags_get(self, app: FakeApp) -> dict[str, Any]:
        with self._lock:
            return {
                "tags": [
                    {"id": tag_id, "name": name, "count": self._tag_count(tag_id)}
                    for tag_id, name in sorted(self._tags[app.app_id].items())
                ]
            }

    def _tag_count(self, tag_id: int) -> int:
        return sum(1 for f in self.followers.values() if f.subscribed and tag_id in f.tagids)

    def _tag_id(self, app: FakeApp, raw: Any) -> int:
        if not isinstance(raw, int) or raw not in self._tags[app.app_id]:
            raise WeChatRefusal(45159, f"invalid tag id rid: {rid()}")
        return raw

    def tag_members(self, app: FakeApp, body: Any) -> dict[str, Any]:
        body = body if isinstance(body, dict) else {}
        with self._lock:
            tag_id = self._tag_id(app, body.get("tagid"))
            members = [f.openid for f in self.followers.values() if f.subscribed and tag_id in f.tagids]
        page = _page(members, body.get("next_openid", ""), total=len(members))
        page.pop("total")
        return page

    def tag_batch(self, app: FakeApp, body: Any, *, add: bool) -> dict[str, Any]:
        body = body if isinstance(body, dict) else {}
        openids = body.get("openid_list")
        if not isinstance(openids, list) or not 1 <= len(openids) <= 50:
            raise WeChatRefusal(40032, f"invalid openid list size rid: {rid()}")
        with self._lock:
            tag_id = self._tag_id(app, body.get("tagid"))
            followers = [self._follower(openid) for openid in openids]
            for follower in followers:
                if add and tag_id not in follower.tagids:
                    if len(follower.tagids) >= 20:
                        raise WeChatRefusal(45059, f"has too many tags rid: {rid()}")
                    follower.tagids.append(tag_id)
                elif not add and tag_id in follower.tagids:
                    follower.tagids.remove(tag_id)
        return {"errcode": 0, "errmsg": "ok"}

    # --- menu ----------------------------------------------------------------------------------

    def menu_create(self, app: FakeApp, body: Any) -> dict[str, Any]:
        buttons = body.get("button") if isinstance(body, dict) else None
        _check_menu(buttons)
        stored = [
            {**b, "sub_button": [dict(s, sub_button=[]) for s in b.get("sub_button") or []]} for b in buttons
        ]
        with self._lock:
            self._menus[app.app_id] = stored
        return {"errcode": 0, "errmsg": "ok"}

    def menu_get(self, app: FakeApp) -> dict[str, Any]:
        with self._lock:
            buttons = self._menus.get(app.app_id)
        if buttons is None:
            raise WeChatRefusal(46003, f"menu no exist rid: {rid()}")
        return {"menu": {"button": json.loads(json.dumps(buttons)), "menuid": 100}}

    def menu_delete(self, app: FakeApp) -> dict[str, Any]:
        with self._lock:
            self._menus.pop(app.app_id, None)
        return {"errcode": 0, "errmsg": "ok"}

    # --- customer-service and template messages -----------------------------------------------

    def custom_send(self, app: FakeApp, body: Any) -> dict[str, Any]:
        body = body if isinstance(body, dict) else {}
        msgtype = body.get("msgtype")
        if msgtype == "text":
            if not (body.get("text") or {}).get("content"):
                raise WeChatRefusal(44004, f"empty content rid: {rid()}")
        elif msgtype == "news":
            articles = (body.get("news") or {}).get("articles")
            if not isinstance(articles, list) or not articles:
                raise WeChatRefusal(44003, f"empty news data rid: {rid()}")
            if len(articles) > 1:
                raise WeChatRefusal(45008, f"article size out of limit rid: {rid()}")
        elif msgtype == "image":
            if not (body.get("image") or {}).get("media_id"):
                raise WeChatRefusal(40007, f"invalid media_id rid: {rid()}")
        else:
            raise WeChatRefusal(40008, f"invalid message type rid: {rid()}")
        with self._lock:
            follower = self._follower(body.get("touser"))
            if self.now() - follower.last_interaction > self.cs_window_seconds:
                raise WeChatRefusal(
                    45015, f"response out of time limit or subscription is canceled rid: {rid()}"
                )
            self._deliver(app, "custom", follower.openid, msgtype, body.get(msgtype))
        return {"errcode": 0, "errmsg": "ok"}

    def template_send(self, app: FakeApp, body: Any) -> dict[str, Any]:
        body = body if isinstance(body, dict) else {}
        if body.get("template_id") not in self.templates:
            raise WeChatRefusal(40037, f"invalid template_id rid: {rid()}")
        data = body.get("data")
        if not isinstance(data, dict) or not all(isinstance(v, dict) and "value" in v for v in data.values()):
            raise WeChatRefusal(47001, f"data format error rid: {rid()}")
        with self._lock:
            follower = self._follower(body.get("touser"))
            key = (follower.openid, str(body.get("client_msg_id") or ""))
            if key[1] and key in self._template_dedup:
                return {"errcode": 0, "errmsg": "ok", "msgid": int(self._template_dedup[key])}
            msgid = self._deliver(
                app,
                "template",
                follower.openid,
                "template",
                {k: body.get(k) for k in ("template_id", "url", "data")},
            )
            if key[1]:
                self._template_dedup[key] = str(msgid)
        return {"errcode": 0, "errmsg": "ok", "msgid": msgid}

    def _deliver(self, app: FakeApp, kind: str, openid: str, msgtype: str, content: Any) -> int:
        msg_id = self._new_id()
        self.messages.append(
            {
                "kind": kind,
                "appid": app.app_id,
                "openid": openid,
                "msgtype": msgtype,
                "content": content,
                "msg_id": msg_id,
                "at": int(self.now()),
            }
        )
        return msg_id

    def message_list(self, *, openid: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                dict(m) for m in self.messages if openid in (None, m["openid"]) and kind in (None, m["kind"])
            ]

    # --- materials -----------------------------------------------------------------------------

    def add_material(self, app: FakeApp, body: Any, *, kind: str) -> dict[str, Any]:
        articles = body.get("articles") if isinstance(body, dict) else None
        if not isinstance(articles, list) or not articles:
            raise WeChatRefusal(44003, f"empty news data rid: {rid()}")
        if len(articles) > 8:
            raise WeChatRefusal(45008, f"article size out of limit rid: {rid()}")
        for article in articles:
            if not isinstance(article, dict) or not article.get("title") or not article.get("content"):
                raise WeChatRefusal(44003, f"empty news data rid: {rid()}")
        media_id = secrets.token_urlsafe(48)[:64]
        with self._lock:
            for article in articles:
                # As WeChat: the cover must be an image material of this account (40007 otherwise).
                cover = self._images.get(article.get("thumb_media_id"))
                if cover is None or cover["app_id"] != app.app_id:
                    raise WeChatRefusal(40007, f"invalid media_id rid: {rid()}")
            self._materials[media_id] = {"app_id": app.app_id, "kind": kind, "articles": articles}
            if kind == "draft":
                return {"media_id": media_id}
            return {"type": "news", "media_id": media_id, "created_at": int(self.now())}

    def add_image_material(self, app: FakeApp, query: Mapping[str, str], body: Any) -> dict[str, Any]:
        """素材管理 → 新增永久素材, ``type=image``: bmp/png/jpeg/gif up to 10 MB, checked by content."""
        if query.get("type") != "image":
            raise WeChatRefusal(40004, f"invalid media type rid: {rid()}")
        content = body.get("content", b"") if isinstance(body, dict) else b""
        if not content:
            raise WeChatRefusal(41005, f"media data missing rid: {rid()}")
        if len(content) > IMAGE_MATERIAL_MAX_BYTES:
            raise WeChatRefusal(40009, f"invalid image size rid: {rid()}")
        if not content.startswith(IMAGE_SIGNATURES):
            raise WeChatRefusal(40005, f"invalid file type rid: {rid()}")
        media_id = secrets.token_urlsafe(32)[:43]
        with self._lock:
            self._images[media_id] = {
                "app_id": app.app_id,
                "filename": body.get("filename", ""),
                "size": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
            }
        return {"media_id": media_id, "url": f"http://mmbiz.qpic.cn/fake/{media_id}/0"}

    def image_material_seed(self, *, app_id: str | None = None, media_id: str | None = None) -> str:
        """An image already in the account's material library — put there by an operator on the
        Official Accounts Platform, not through our API — so that its media_id can be used."""
        app = self.apps.get(app_id if app_id is not None else next(iter(self.apps)))
        if app is None:
            raise ValueError(f"appid: one of {sorted(self.apps)}")
        media_id = media_id or secrets.token_urlsafe(32)[:43]
        if not isinstance(media_id, str) or not 1 <= len(media_id) <= 128:
            raise ValueError("media_id: a string of 1–128 characters")
        with self._lock:
            self._images[media_id] = {"app_id": app.app_id, "filename": "", "size": 0, "sha256": "", "seeded": True}
        return media_id

    def image_materials(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {key: dict(value) for key, value in self._images.items()}

    # --- mass sending --------------------------------------------------------------------------

    def _mass_content(self, app: FakeApp, body: Mapping[str, Any], *, preview: bool) -> tuple[str, str]:
        msgtype = body.get("msgtype")
        if msgtype == "text":
            content = (body.get("text") or {}).get("content")
            if not content:
                raise WeChatRefusal(44004, f"empty content rid: {rid()}")
            return msgtype, ""
        if msgtype == "mpnews":
            media_id = (body.get("mpnews") or {}).get("media_id")
            material = self._materials.get(media_id) if isinstance(media_id, str) else None
            if material is None or material["app_id"] != app.app_id:
                raise WeChatRefusal(40007, f"invalid media_id rid: {rid()}")
            return msgtype, media_id
        if msgtype == "image":
            key = "image" if preview else "images"
            media = body.get(key) or {}
            ok = (
                media.get("media_id")
                if preview
                else (isinstance(media.get("media_ids"), list) and media["media_ids"])
            )
            if not ok:
                raise WeChatRefusal(40007, f"invalid media_id rid: {rid()}")
            return msgtype, ""
        raise WeChatRefusal(40008, f"invalid message type rid: {rid()}")

    def mass_send(self, app: FakeApp, body: Any, *, by_openid: bool) -> dict[str, Any]:
        body = body if isinstance(body, dict) else {}
        clientmsgid = body.get("clientmsgid")
        if clientmsgid is not None and (not isinstance(clientmsgid, str) or len(clientmsgid.encode()) > 64):
            raise WeChatRefusal(45067, f"clientmsgid size out of limit rid: {rid()}")
        with self._lock:
            msgtype, material = self._mass_content(app, body, preview=False)
            content_key = hashlib.sha256(
                json.dumps({k: body.get(k) for k in ("msgtype", msgtype, "images")}, sort_keys=True).encode()
            ).hexdigest()
            if by_openid:
                touser = body.get("touser")
                if not isinstance(touser, list) or len(touser) > MASS_OPENID_LIMIT:
                    raise WeChatRefusal(40032, f"invalid openid list size rid: {rid()}")
                if len(touser) < 2:
                    raise WeChatRefusal(40130, f"invalid openid list size, at least two openid rid: {rid()}")
                audience, candidates = "openids", list(dict.fromkeys(touser))
            else:
                flt = body.get("filter")
                if not isinstance(flt, dict):
                    raise WeChatRefusal(47001, f"data format error rid: {rid()}")
                if flt.get("is_to_all"):
                    audience = "all"
                    candidates = [f.openid for f in self.followers.values() if f.subscribed]
                else:
                    tag_id = self._tag_id(app, flt.get("tag_id"))
                    audience = f"tag:{tag_id}"
                    candidates = [
                        f.openid for f in self.followers.values() if f.subscribed and tag_id in f.tagids
                    ]
            # Without a clientmsgid WeChat derives one from the audience and the content.
            clientmsgid = clientmsgid or hashlib.sha256(f"{audience}|{content_key}".encode()).hexdigest()[:64]
            existing = self._mass_by_clientmsgid.get((app.app_id, clientmsgid))
            if existing is not None:
                job = self._mass[existing]
                raise WeChatRefusal(
                    45065,
                    f"clientmsgid exist rid: {rid()}",
                    msg_id=job.msg_id,
                    **({"msg_data_id": job.msg_data_id} if job.msg_data_id else {}),
                )
            if self.mass_quota is not None:
                if self.mass_quota <= 0:
                    raise WeChatRefusal(45028, f"has no masssend quota rid: {rid()}")
                self.mass_quota -= 1
            if self.open_audience and by_openid:
                recipients = [o for o in candidates if isinstance(o, str) and o]
            else:
                recipients = [
                    o
                    for o in candidates
                    if isinstance(o, str) and o in self.followers and self.followers[o].subscribed
                ]
            delivered = self._mass_delivered.setdefault(content_key, set())
            before = len(delivered)
            delivered.update(recipients)
            self.mass_duplicates += len(recipients) - (len(delivered) - before)
            job = _MassJob(
                msg_id=self._new_id(),
                msg_data_id=self._new_id() if msgtype == "mpnews" else None,
                app_id=app.app_id,
                clientmsgid=clientmsgid,
                audience=audience,
                msgtype=msgtype,
                content_key=content_key,
                created=int(self.now()),
                total=len(candidates),
                recipients=recipients,
                material=material,
            )
            self._mass[job.msg_id] = job
            self._mass_by_clientmsgid[(app.app_id, clientmsgid)] = job.msg_id
        answer: dict[str, Any] = {"errcode": 0, "errmsg": "send job submission success", "msg_id": job.msg_id}
        if job.msg_data_id:
            answer["msg_data_id"] = job.msg_data_id
        return answer

    def mass_job(self, msg_id: int) -> _MassJob | None:
        with self._lock:
            return self._mass.get(msg_id)

    def mass_preview(self, app: FakeApp, body: Any) -> dict[str, Any]:
        body = body if isinstance(body, dict) else {}
        with self._lock:
            msgtype, _ = self._mass_content(app, body, preview=True)
            follower = self._follower(body.get("touser"))
            msg_id = self._deliver(app, "preview", follower.openid, msgtype, body.get(msgtype))
        return {"errcode": 0, "errmsg": "preview success", "msg_id": msg_id}

    def mass_get(self, app: FakeApp, body: Any) -> dict[str, Any]:
        raw = body.get("msg_id") if isinstance(body, dict) else None
        try:
            job = self.mass_job(int(raw))
        except (TypeError, ValueError):
            job = None
        if job is None or job.app_id != app.app_id:
            raise WeChatRefusal(40008, f"invalid msg_id rid: {rid()}")
        return {"msg_id": job.msg_id, "msg_status": "SEND_SUCCESS"}

    def mass_report(self, *, msg_id: int | None = None, with_recipients: bool = False) -> dict[str, Any]:
        with self._lock:
            jobs = [j for j in self._mass.values() if msg_id in (None, j.msg_id)]
            return {
                "jobs": [j.public(with_recipients=with_recipients) for j in jobs],
                "delivered": sum(len(j.recipients) for j in self._mass.values()),
                "distinct_recipients": len(set().union(*self._mass_delivered.values())),
                "duplicate_deliveries": self.mass_duplicates,
            }

    def job_finish_xml(self, job: _MassJob) -> str:
        app = self.apps[job.app_id]
        return (
            "<xml>"
            f"<ToUserName><![CDATA[{app.original_id}]]></ToUserName>"
            "<FromUserName><![CDATA[mphelper]]></FromUserName>"
            f"<CreateTime>{int(self.now())}</CreateTime>"
            "<MsgType><![CDATA[event]]></MsgType>"
            "<Event><![CDATA[MASSSENDJOBFINISH]]></Event>"
            f"<MsgID>{job.msg_id}</MsgID>"
            "<Status><![CDATA[send success]]></Status>"
            f"<TotalCount>{job.total}</TotalCount>"
            f"<FilterCount>{len(job.recipients)}</FilterCount>"
            f"<SentCount>{len(job.recipients)}</SentCount>"
            "<ErrorCount>0</ErrorCount>"
            "</xml>"
        )

    def record_push(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.pushes.append(entry)

    # --- OAuth2 --------------------------------------------------------------------------------

    def oauth_issue_code(self, query: Mapping[str, str]) -> tuple[str, str]:
        """Validate an authorize request; returns (redirect_uri, code). Raises ValueError with a
        WeChat-like page message."""
        if query.get("appid") not in self.apps:
            raise ValueError("10003 appid 参数错误")
        if query.get("response_type") != "code":
            raise ValueError("10004 response_type 参数错误")
        scope = query.get("scope")
        if scope not in ("snsapi_base", "snsapi_userinfo"):
            raise ValueError("10005 scope 参数错误或没有 scope 权限")
        redirect_uri = query.get("redirect_uri", "")
        if not redirect_uri.startswith(("http://", "https://")):
            raise ValueError("10003 redirect_uri 参数错误")
        code = secrets.token_urlsafe(24)[:32]
        with self._lock:
            self._oauth_codes[code] = {
                "appid": query["appid"],
                "openid": self.oauth_openid,
                "scope": scope,
                "expires_at": self.now() + OAUTH_CODE_TTL_SECONDS,
                "used": False,
            }
        return redirect_uri, code

    def oauth_access_token(self, query: Mapping[str, str]) -> dict[str, Any]:
        if query.get("grant_type") != "authorization_code":
            raise WeChatRefusal(40002, f"invalid grant_type rid: {rid()}")
        with self._lock:
            app = self._app(query.get("appid"), query.get("secret", ""))
            grant = self._oauth_codes.get(query.get("code", ""))
            if grant is None or grant["appid"] != app.app_id or grant["expires_at"] <= self.now():
                raise WeChatRefusal(40029, f"invalid code rid: {rid()}")
            if grant["used"]:
                raise WeChatRefusal(40163, f"code been used rid: {rid()}")
            grant["used"] = True
            token = secrets.token_urlsafe(64)[:88]
            self._oauth_tokens[token] = {**grant, "expires_at": self.now() + 7200}
        return {
            "access_token": token,
            "expires_in": 7200,
            "refresh_token": secrets.token_urlsafe(64)[:88],
            "openid": grant["openid"],
            "scope": grant["scope"],
            "is_snapshotuser": 0,
        }

    def oauth_userinfo(self, query: Mapping[str, str]) -> dict[str, Any]:
        with self._lock:
            grant = self._oauth_tokens.get(query.get("access_token", ""))
            if grant is None:
                raise WeChatRefusal(
                    40001, f"invalid credential, access_token is invalid or not latest rid: {rid()}"
                )
            if grant["expires_at"] <= self.now():
                raise WeChatRefusal(42001, f"access_token expired rid: {rid()}")
            if query.get("openid") != grant["openid"]:
                raise WeChatRefusal(40003, f"invalid openid rid: {rid()}")
            if grant["scope"] != "snsapi_userinfo":
                raise WeChatRefusal(48001, f"api unauthorized rid: {rid()}")
            follower = self.followers.get(grant["openid"])
        return {
            "openid": grant["openid"],
            "nickname": follower.nickname if follower else "微信用户",
            "sex": 0,
            "province": "",
            "city": "",
            "country": "",
            "headimgurl": f"https://thirdwx.qlogo.cn/mmopen/fake/{grant['openid']}/132",
            "privilege": [],
        }

    # --- datacube ------------------------------------------------------------------------------

    def _range(self, body: Any, *, max_days: int) -> list[date]:
        try:
            begin = date.fromisoformat(body["begin_date"])
            end = date.fromisoformat(body["end_date"])
        except (TypeError, KeyError, ValueError):
            raise WeChatRefusal(61500, f"date format error rid: {rid()}") from None
        yesterday = datetime.fromtimestamp(self.now(), BEIJING).date() - timedelta(days=1)
        if end < begin or (end - begin).days >= max_days or end > yesterday:
            raise WeChatRefusal(61501, f"date range error rid: {rid()}")
        return [begin + timedelta(days=n) for n in range((end - begin).days + 1)]

    def user_summary(self, app: FakeApp, body: Any) -> dict[str, Any]:
        days = self._range(body, max_days=7)
        rows: dict[tuple[date, int], dict[str, Any]] = {}
        with self._lock:
            for f in self.followers.values():
                source = SCENE_SOURCES.get(f.scene, 0)
                for at, column in ((f.subscribe_time, "new_user"), (f.unsubscribe_time, "cancel_user")):
                    if at is None:
                        continue
                    day = datetime.fromtimestamp(at, BEIJING).date()
                    if day in days:
                        row = rows.setdefault(
                            (day, source),
                            {
                                "ref_date": day.isoformat(),
                                "user_source": source,
                                "new_user": 0,
                                "cancel_user": 0,
                            },
                        )
                        row[column] += 1
        return {"list": [rows[key] for key in sorted(rows)]}

    def user_cumulate(self, app: FakeApp, body: Any) -> dict[str, Any]:
        days = self._range(body, max_days=7)
        with self._lock:
            spans = [(f.subscribe_time, f.unsubscribe_time) for f in self.followers.values()]
        result = []
        for day in days:
            end = datetime(day.year, day.month, day.day, tzinfo=BEIJING).timestamp() + 86400
            count = sum(1 for start, stop in spans if start < end and (stop is None or stop >= end))
            result.append({"ref_date": day.isoformat(), "cumulate_user": count})
        return {"list": result}

    def article_summary(self, app: FakeApp, body: Any) -> dict[str, Any]:
        [day] = self._range(body, max_days=1)
        rows = []
        with self._lock:
            jobs = [
                j
                for j in self._mass.values()
                if j.app_id == app.app_id
                and j.msgtype == "mpnews"
                and datetime.fromtimestamp(j.created, BEIJING).date() == day
            ]
            for job in jobs:
                for index, article in enumerate(self._materials[job.material]["articles"], start=1):
                    msgid = f"{job.msg_data_id}_{index}"
                    rate = 0.05 + (int(hashlib.sha256(msgid.encode()).hexdigest()[:4], 16) % 20) / 100
                    readers = round(len(job.recipients) * rate)
                    rows.append(
                        {
                            "ref_date": day.isoformat(),
                            "msgid": msgid,
                            "title": article["title"],
                            "int_page_read_user": readers,
                            "int_page_read_count": round(readers * 1.3),
                            "ori_page_read_user": 0,
                            "ori_page_read_count": 0,
                            "share_user": round(readers * 0.06),
                            "share_count": round(readers * 0.08),
                            "add_to_fav_user": round(readers * 0.02),
                            "add_to_fav_count": round(readers * 0.02),
                        }
                    )
        return {"list": rows}


# --- helpers ------------------------------------------------------------------------------------


def _page(openids: list[str], next_openid: str, *, total: int) -> dict[str, Any]:
    start = 0
    if next_openid:
        try:
            start = openids.index(next_openid) + 1
        except ValueError:
            raise WeChatRefusal(40003, f"invalid next_openid rid: {rid()}") from None
    chunk = openids[start : start + PAGE_SIZE]
    page: dict[str, Any] = {"total": total, "count": len(chunk), "next_openid": chunk[-1] if chunk else ""}
    if chunk:
        page["data"] = {"openid": chunk}
    return page


def _check_menu(buttons: Any) -> None:
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise WeChatRefusal(40016, f"invalid button size rid: {rid()}")
    for button in buttons:
        if not isinstance(button, dict):
            raise WeChatRefusal(47001, f"data format error rid: {rid()}")
        name = button.get("name")
        if not isinstance(name, str) or not name or len(name.encode()) > 16:
            raise WeChatRefusal(40018, f"invalid button name size rid: {rid()}")
        subs = button.get("sub_button")
        if subs:
            if not isinstance(subs, list) or len(subs) > 5:
                raise WeChatRefusal(40023, f"invalid sub button size rid: {rid()}")
            for sub in subs:
                if not isinstance(sub, dict):
                    raise WeChatRefusal(47001, f"data format error rid: {rid()}")
                _check_leaf(sub, sub=True)
        else:
            _check_leaf(button, sub=False)


def _check_leaf(button: Mapping[str, Any], *, sub: bool) -> None:
    # errcodes for top-level buttons and for sub-buttons, as WeChat numbers them
    type_code, name_code, key_code, url_code = (
        (40024, 40025, 40026, 40027) if sub else (40017, 40018, 40019, 40020)
    )
    if button.get("type") not in MENU_TYPES:
        raise WeChatRefusal(type_code, f"invalid {'sub ' if sub else ''}button type rid: {rid()}")
    name = button.get("name")
    if not isinstance(name, str) or not name or len(name.encode()) > (60 if sub else 16):
        raise WeChatRefusal(name_code, f"invalid {'sub ' if sub else ''}button name size rid: {rid()}")
    kind = button["type"]
    if kind not in ("view", "miniprogram", "media_id", "article_id", "article_view_limited"):
        key = button.get("key")
        if not isinstance(key, str) or not key or len(key.encode()) > 128:
            raise WeChatRefusal(key_code, f"invalid {'sub ' if sub else ''}button key size rid: {rid()}")
    if kind in ("view", "miniprogram"):
        url = button.get("url")
        if (
            not isinstance(url, str)
            or not url.startswith(("http://", "https://"))
            or len(url.encode()) > 1024
        ):
            raise WeChatRefusal(url_code, f"invalid {'sub ' if sub else ''}button url size rid: {rid()}")
    if kind == "miniprogram" and not (button.get("appid") and button.get("pagepath")):
        raise WeChatRefusal(
            40166 if not button.get("appid") else 40027, f"invalid miniprogram button rid: {rid()}"
        )


def _unix(value: Any, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, int | float):
        return int(value)
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=BEIJING)
    return int(parsed.timestamp())


def generated_followers(
    *,
    now: int,
    count: int,
    prefix: str = "o_fake_",
    days: int = 30,
    unsubscribe_ratio: float = 0.05,
    seed: int = 1,
) -> list[dict[str, Any]]:
    """``count`` followers who subscribed over the last ``days`` days, a few of them gone again."""
    rng = random.Random(seed)  # deterministic figures for the same seed
    scenes = list(SCENE_SOURCES)
    weights = [5, 20, 10, 50, 5, 5, 5]
    followers = []
    for n in range(count):
        at = now - rng.randint(3600, days * 86400)
        item: dict[str, Any] = {
            "openid": f"{prefix}{n:08d}",
            "at": at,
            "scene": rng.choices(scenes, weights)[0],
        }
        if rng.random() < unsubscribe_ratio:
            item["unsubscribe_at"] = rng.randint(at + 60, now)
        followers.append(item)
    return followers
