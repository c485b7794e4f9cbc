"""``WeChatApiClient``: the WeChat Official Account server API, one method per endpoint we use.

Every call

* takes the shared access_token from the database (token_store.py), refreshing it under a lock;
* on ``40001``/``42001``/``40014`` refreshes that token once — forcing a refresh only if no other
  worker has already replaced the refused token — and retries once;
* is recorded as an ``ApiCallLog`` row (endpoint, HTTP status, errcode, latency), retries too;
* raises ``WeChatApiError`` (a ``ChannelError``) on any failure, ``permanent`` or not as
  errors.py classes it; nothing is swallowed.

Argument mistakes that WeChat would refuse anyway and that no retry can cure (more than 10,000
openids in one mass send, an over-long clientmsgid) raise ``ValueError`` before any request.

The base URLs are configurable (``WECHAT_API_BASE_URL``, ``WECHAT_API_OAUTH_BASE_URL``) so that
the tests and the demo talk to the fake server (fake_server.py) over real HTTP.
"""

from __future__ import annotations

import http.client
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone

from powerdesk.channels.wechat_store import token_store
from powerdesk.channels.wechat_store.errors import (
    CLIENTMSGID_EXISTS,
    MENU_NOT_FOUND,
    TOKEN_ERRCODES,
    WeChatApiError,
    error_for_errcode,
)
from powerdesk.channels.wechat_store.models import ApiCallLog

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.weixin.qq.com"
DEFAULT_OAUTH_BASE_URL = "https://open.weixin.qq.com"
MASS_SEND_MAX_OPENIDS = 10_000
CLIENTMSGID_MAX_BYTES = 64
_MAX_RESPONSE_BYTES = 4 * 1024 * 1024  # a follower page of 10,000 openids is about 350 KB

OAuthScope = Literal["snsapi_base", "snsapi_userinfo"]


# --- what goes in and comes out -----------------------------------------------------------------


@dataclass(frozen=True)
class NewsArticle:
    """One article of a customer-service news message (WeChat shows at most one)."""

    title: str
    description: str = ""
    url: str = ""
    picurl: str = ""


@dataclass(frozen=True)
class MpNewsArticle:
    """One article of an uploadnews / draft material (图文素材)."""

    title: str
    content: str
    thumb_media_id: str
    author: str = ""
    digest: str = ""
    content_source_url: str = ""
    show_cover_pic: bool = False
    need_open_comment: bool = False
    only_fans_can_comment: bool = False


@dataclass(frozen=True)
class MassMessage:
    """The content of a mass send or preview: text, an mpnews material, or images."""

    msgtype: Literal["text", "mpnews", "image"]
    content: str = ""
    media_ids: tuple[str, ...] = ()

    @classmethod
    def text(cls, content: str) -> MassMessage:
        return cls("text", content=content)

    @classmethod
    def mpnews(cls, media_id: str) -> MassMessage:
        return cls("mpnews", media_ids=(media_id,))

    @classmethod
    def image(cls, *media_ids: str) -> MassMessage:
        return cls("image", media_ids=tuple(media_ids))

    def send_payload(self) -> dict[str, Any]:
        if self.msgtype == "text":
            return {"msgtype": "text", "text": {"content": self.content}}
        if self.msgtype == "mpnews":
            # 1: send even if WeChat judges the article a reprint (it then sends the original).
            return {"msgtype": "mpnews", "mpnews": {"media_id": self.media_ids[0]}, "send_ignore_reprint": 1}
        return {"msgtype": "image", "images": {"media_ids": list(self.media_ids)}}

    def preview_payload(self) -> dict[str, Any]:
        if self.msgtype == "image":  # the preview takes one image, under another key
            return {"msgtype": "image", "image": {"media_id": self.media_ids[0]}}
        payload = self.send_payload()
        payload.pop("send_ignore_reprint", None)
        return payload


@dataclass(frozen=True)
class MassSendResult:
    msg_id: str
    msg_data_id: str = ""
    # True when WeChat already had a task with this clientmsgid (a resumed send): nothing new
    # was delivered, and msg_id is that earlier task's.
    duplicate: bool = False


@dataclass(frozen=True)
class OpenidPage:
    """One page of user/get or user/tag/get; ``next_openid`` is empty after the last page."""

    total: int
    openids: list[str]
    next_openid: str


@dataclass(frozen=True)
class OAuthToken:
    """The answer of sns/oauth2/access_token: whose browser this is, and a user-scoped token."""

    access_token: str
    expires_in: int
    refresh_token: str
    openid: str
    scope: str
    unionid: str = ""
    is_snapshotuser: bool = False


@dataclass
class _Answer:
    status: int | None
    payload: dict[str, Any] = field(default_factory=dict)


# --- the client ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileUpload:
    """One file sent as ``multipart/form-data`` (WeChat's material uploads take field ``media``)."""

    field: str
    filename: str
    content: bytes
    content_type: str

    def multipart(self) -> tuple[bytes, str]:
        """The request body and its Content-Type header."""
        boundary = "----PowerDesk" + secrets.token_hex(16)
        # The filename goes in quotes; quotes and line breaks in it would break the header.
        safe_name = "".join(ch for ch in self.filename if ch not in '"\\\r\n') or "upload"
        head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{self.field}"; filename="{safe_name}"\r\n'
            f"Content-Type: {self.content_type}\r\n\r\n"
        ).encode()
        return head + self.content + f"\r\n--{boundary}--\r\n".encode(), (
            f"multipart/form-data; boundary={boundary}"
        )


class WeChatApiClient:
    """One Official Account (AppID + AppSecret); cheap to create, safe to share between threads."""

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        *,
        base_url: str = DEFAULT_API_BASE_URL,
        oauth_base_url: str = DEFAULT_OAUTH_BASE_URL,
        timeout: float = 5.0,
    ) -> None:
        if not app_id or not app_secret:
            raise ValueError("app_id and app_secret are required")
        self.app_id = app_id
        self._app_secret = app_secret
        self.base_url = base_url.rstrip("/")
        self.oauth_base_url = oauth_base_url.rstrip("/")
        self.timeout = timeout
        # This process's copy of the shared token: saves a query per call while it is fresh.
        self._memo: token_store.CachedToken | None = None

    @classmethod
    def from_settings(cls, *, app_id: str, app_secret: str) -> WeChatApiClient:
        return cls(
            app_id,
            app_secret,
            base_url=settings.WECHAT_API_BASE_URL,
            oauth_base_url=settings.WECHAT_API_OAUTH_BASE_URL,
            timeout=settings.WECHAT_API_TIMEOUT_SECONDS,
        )

    def __repr__(self) -> str:  # never the secret
        return f"WeChatApiClient(app_id={self.app_id!r}, base_url={self.base_url!r})"

    # --- access_token ---------------------------------------------------------------------------

    def access_token(self) -> str:
        """The shared access_token, fetched from ``stable_token`` only when none is fresh."""
        memo = self._memo
        if memo and memo.fresh(now=timezone.now()):
            return memo.token
        self._memo = token_store.token_obtain(app_id=self.app_id, fetch=self._fetch_stable_token)
        return self._memo.token

    def _replace_refused_token(self, refused: str) -> str:
        self._memo = token_store.token_obtain(
            app_id=self.app_id, fetch=self._fetch_stable_token, stale_token=refused
        )
        return self._memo.token

    def _fetch_stable_token(self, force_refresh: bool) -> token_store.IssuedToken:
        body = {
            "grant_type": "client_credential",
            "appid": self.app_id,
            "secret": self._app_secret,
            "force_refresh": force_refresh,
        }
        payload = self._checked(
            "/cgi-bin/stable_token", self._exchange("POST", "/cgi-bin/stable_token", body=body)
        )
        token, expires_in = payload.get("access_token"), payload.get("expires_in")
        if not (isinstance(token, str) and token and isinstance(expires_in, int) and expires_in > 0):
            raise self._invalid_response("/cgi-bin/stable_token", "no access_token/expires_in")
        log.info("wechat access_token fetched", extra={"app_id": self.app_id, "force_refresh": force_refresh})
        return token_store.IssuedToken(token, expires_in)

    # --- custom menu ----------------------------------------------------------------------------

    def menu_create(self, buttons: Sequence[Mapping[str, Any]]) -> None:
        """Publish the menu (``{"button": buttons}``), replacing the current one."""
        self._call("POST", "/cgi-bin/menu/create", body={"button": list(buttons)})

    def menu_get(self) -> dict[str, Any] | None:
        """The published menu as WeChat returns it (``{"menu": {...}, ...}``), or None if none."""
        try:
            return self._call("GET", "/cgi-bin/menu/get")
        except WeChatApiError as exc:
            if exc.errcode == MENU_NOT_FOUND:
                return None
            raise

    def menu_delete(self) -> None:
        self._call("GET", "/cgi-bin/menu/delete")

    # --- customer-service messages (within 48 h of the follower's last message) ------------------

    def custom_send_text(self, *, openid: str, content: str) -> None:
        self._custom_send({"touser": openid, "msgtype": "text", "text": {"content": content}})

    def custom_send_news(self, *, openid: str, article: NewsArticle) -> None:
        articles = [
            {
                "title": article.title,
                "description": article.description,
                "url": article.url,
                "picurl": article.picurl,
            }
        ]
        self._custom_send({"touser": openid, "msgtype": "news", "news": {"articles": articles}})

    def custom_send_image(self, *, openid: str, media_id: str) -> None:
        self._custom_send({"touser": openid, "msgtype": "image", "image": {"media_id": media_id}})

    def _custom_send(self, body: dict[str, Any]) -> None:
        self._call("POST", "/cgi-bin/message/custom/send", body=body)

    # --- mass messages -------------------------------------------------------------------------

    def mass_send_to_tag(
        self, *, message: MassMessage, clientmsgid: str, tag_id: int | None = None
    ) -> MassSendResult:
        """Mass send to the followers with ``tag_id``, or to all followers when it is None.

        ``clientmsgid`` makes the send idempotent: WeChat answers a repeat with the first task's
        msg_id (``duplicate=True``) and delivers nothing new. Derive it from our job and chunk
        ids, never from the clock.
        """
        audience = {"is_to_all": True} if tag_id is None else {"is_to_all": False, "tag_id": tag_id}
        body = {
            "filter": audience,
            **message.send_payload(),
            "clientmsgid": _checked_clientmsgid(clientmsgid),
        }
        return self._mass_send("/cgi-bin/message/mass/sendall", body)

    def mass_send_to_openids(
        self, *, openids: Sequence[str], message: MassMessage, clientmsgid: str
    ) -> MassSendResult:
        """Mass send to 2–10,000 openids (WeChat refuses a list of one: send that one as a
        preview or a customer-service message, or merge it into a neighbouring chunk)."""
        if not 2 <= len(openids) <= MASS_SEND_MAX_OPENIDS:
            raise ValueError(
                f"a mass send by openid takes 2–{MASS_SEND_MAX_OPENIDS} openids, got {len(openids)}"
            )
        body = {
            "touser": list(openids),
            **message.send_payload(),
            "clientmsgid": _checked_clientmsgid(clientmsgid),
        }
        return self._mass_send("/cgi-bin/message/mass/send", body)

    def _mass_send(self, path: str, body: dict[str, Any]) -> MassSendResult:
        payload = self._call("POST", path, body=body, accept={CLIENTMSGID_EXISTS})
        return MassSendResult(
            msg_id=str(payload.get("msg_id", "")),
            msg_data_id=str(payload.get("msg_data_id") or ""),
            duplicate=payload.get("errcode") == CLIENTMSGID_EXISTS,
        )

    def mass_preview(self, *, openid: str, message: MassMessage) -> str:
        """Send the message to one follower as a preview; returns the preview's msg_id."""
        payload = self._call(
            "POST", "/cgi-bin/message/mass/preview", body={"touser": openid, **message.preview_payload()}
        )
        return str(payload.get("msg_id", ""))

    def mass_status(self, msg_id: str) -> str:
        """``SEND_SUCCESS``, ``SENDING``, ``SEND_FAIL`` or ``DELETE``."""
        payload = self._call("POST", "/cgi-bin/message/mass/get", body={"msg_id": msg_id})
        return str(payload.get("msg_status", ""))

    # --- materials for mpnews ------------------------------------------------------------------

    def uploadnews(self, articles: Sequence[MpNewsArticle]) -> str:
        """Upload an mpnews material for mass sending (the older interface); returns media_id."""
        items = [
            {
                "thumb_media_id": a.thumb_media_id,
                "author": a.author,
                "title": a.title,
                "content_source_url": a.content_source_url,
                "content": a.content,
                "digest": a.digest,
                "show_cover_pic": int(a.show_cover_pic),
                "need_open_comment": int(a.need_open_comment),
                "only_fans_can_comment": int(a.only_fans_can_comment),
            }
            for a in articles
        ]
        return str(self._call("POST", "/cgi-bin/media/uploadnews", body={"articles": items})["media_id"])

    def draft_add(self, articles: Sequence[MpNewsArticle]) -> str:
        """Add a draft (草稿); its media_id can be mass sent as mpnews. Returns media_id."""
        items = [
            {
                "title": a.title,
                "author": a.author,
                "digest": a.digest,
                "content": a.content,
                "content_source_url": a.content_source_url,
                "thumb_media_id": a.thumb_media_id,
                "need_open_comment": int(a.need_open_comment),
                "only_fans_can_comment": int(a.only_fans_can_comment),
            }
            for a in articles
        ]
        return str(self._call("POST", "/cgi-bin/draft/add", body={"articles": items})["media_id"])

    # --- template messages ---------------------------------------------------------------------

    def material_add_image(self, *, filename: str, content: bytes, content_type: str) -> str:
        """A permanent image material (素材管理 → 图片); its media_id, usable as an mpnews
        article's ``thumb_media_id``. WeChat takes bmp/png/jpeg/jpg/gif up to 10 MB."""
        payload = self._call(
            "POST",
            "/cgi-bin/material/add_material",
            query={"type": "image"},
            upload=FileUpload("media", filename, content, content_type),
        )
        media_id = payload.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise self._invalid_response("/cgi-bin/material/add_material", "no media_id")
        return media_id

    def template_send(
        self,
        *,
        openid: str,
        template_id: str,
        data: Mapping[str, str | Mapping[str, str]],
        url: str = "",
        client_msg_id: str = "",
    ) -> str:
        """Send a template message; ``data`` values are strings or ``{"value": …, "color": …}``.

        ``client_msg_id`` de-duplicates repeats to the same openid (WeChat keeps it ~10 minutes).
        Returns WeChat's msgid.
        """
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {
                key: ({"value": value} if isinstance(value, str) else dict(value))
                for key, value in data.items()
            },
        }
        if url:
            body["url"] = url
        if client_msg_id:
            body["client_msg_id"] = client_msg_id
        return str(self._call("POST", "/cgi-bin/message/template/send", body=body).get("msgid", ""))

    # --- followers and tags --------------------------------------------------------------------

    def user_info(self, openid: str, *, lang: str = "zh_CN") -> dict[str, Any]:
        """``subscribe`` (0/1), ``subscribe_time``, ``tagid_list``, ``subscribe_scene``, … ."""
        return self._call("GET", "/cgi-bin/user/info", query={"openid": openid, "lang": lang})

    def followers(self, *, next_openid: str = "") -> OpenidPage:
        """One page (up to 10,000) of follower openids, in subscription order."""
        payload = self._call("GET", "/cgi-bin/user/get", query={"next_openid": next_openid})
        return _openid_page(payload)

    def iter_followers(self) -> Iterator[str]:
        """Every follower openid, page after page."""
        next_openid = ""
        while True:
            page = self.followers(next_openid=next_openid)
            yield from page.openids
            if not page.next_openid or not page.openids:
                return
            next_openid = page.next_openid

    def tag_create(self, name: str) -> int:
        return int(self._call("POST", "/cgi-bin/tags/create", body={"tag": {"name": name}})["tag"]["id"])

    def tags(self) -> list[dict[str, Any]]:
        """Every tag: ``{"id", "name", "count"}``."""
        return list(self._call("GET", "/cgi-bin/tags/get").get("tags", []))

    def tag_members(self, tag_id: int, *, next_openid: str = "") -> OpenidPage:
        payload = self._call(
            "POST", "/cgi-bin/user/tag/get", body={"tagid": tag_id, "next_openid": next_openid}
        )
        return _openid_page(payload)

    def tag_add_members(self, tag_id: int, openids: Sequence[str]) -> None:
        """Tag up to 50 followers."""
        self._call(
            "POST", "/cgi-bin/tags/members/batchtagging", body={"openid_list": list(openids), "tagid": tag_id}
        )

    def tag_remove_members(self, tag_id: int, openids: Sequence[str]) -> None:
        self._call(
            "POST",
            "/cgi-bin/tags/members/batchuntagging",
            body={"openid_list": list(openids), "tagid": tag_id},
        )

    # --- OAuth2 web authorisation (H5 pages) ---------------------------------------------------

    def oauth_authorize_url(
        self, *, redirect_uri: str, scope: OAuthScope = "snsapi_base", state: str = ""
    ) -> str:
        """Where to send a follower's browser; WeChat returns it to ``redirect_uri?code=…&state=…``.

        ``snsapi_base`` is silent and yields the openid; ``snsapi_userinfo`` asks the follower
        and also allows ``oauth_userinfo``. ``state`` (≤ 128 bytes) should be an unguessable
        value tied to the session, checked on return.
        """
        if scope not in ("snsapi_base", "snsapi_userinfo"):
            raise ValueError(f"unknown OAuth2 scope {scope!r}")
        if len(state.encode()) > 128:
            raise ValueError("state: at most 128 bytes")
        # WeChat wants the parameters in this order and the #wechat_redirect fragment.
        query = urlencode(
            {
                "appid": self.app_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": scope,
                "state": state,
            }
        )
        return f"{self.oauth_base_url}/connect/oauth2/authorize?{query}#wechat_redirect"

    def oauth_exchange_code(self, code: str) -> OAuthToken:
        """Trade the ``code`` from the redirect (single use, 5 minutes) for the follower's openid."""
        query = {
            "appid": self.app_id,
            "secret": self._app_secret,
            "code": code,
            "grant_type": "authorization_code",
        }
        payload = self._call("GET", "/sns/oauth2/access_token", query=query, app_token=False)
        return OAuthToken(
            access_token=payload["access_token"],
            expires_in=int(payload.get("expires_in", 0)),
            refresh_token=payload.get("refresh_token", ""),
            openid=payload["openid"],
            scope=payload.get("scope", ""),
            unionid=payload.get("unionid", ""),
            is_snapshotuser=bool(payload.get("is_snapshotuser", 0)),
        )

    def oauth_userinfo(self, *, access_token: str, openid: str, lang: str = "zh_CN") -> dict[str, Any]:
        """Nickname and avatar of a follower who granted ``snsapi_userinfo``."""
        query = {"access_token": access_token, "openid": openid, "lang": lang}
        return self._call("GET", "/sns/userinfo", query=query, app_token=False)

    # --- statistics (datacube: up to yesterday) ------------------------------------------------

    def user_summary(self, begin: date, end: date) -> list[dict[str, Any]]:
        """New and cancelled followers per day and source; at most 7 days."""
        return self._datacube("/datacube/getusersummary", begin, end, max_days=7)

    def user_cumulate(self, begin: date, end: date) -> list[dict[str, Any]]:
        """Total followers at the end of each day; at most 7 days."""
        return self._datacube("/datacube/getusercumulate", begin, end, max_days=7)

    def article_summary(self, day: date) -> list[dict[str, Any]]:
        """Reads, shares and favourites per article sent that day (one day per call)."""
        return self._datacube("/datacube/getarticlesummary", day, day, max_days=1)

    def _datacube(self, path: str, begin: date, end: date, *, max_days: int) -> list[dict[str, Any]]:
        if end < begin or end - begin >= timedelta(days=max_days):
            raise ValueError(f"{path}: a range of 1–{max_days} days, got {begin}…{end}")
        body = {"begin_date": begin.isoformat(), "end_date": end.isoformat()}
        return list(self._call("POST", path, body=body).get("list", []))

    # --- the exchange ---------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        upload: FileUpload | None = None,
        app_token: bool = True,
        accept: frozenset[int] | set[int] = frozenset(),
    ) -> dict[str, Any]:
        """One API call: with the shared token, refreshed and retried once if WeChat refuses it."""
        if not app_token:
            return self._checked(path, self._exchange(method, path, query=query, body=body), accept=accept)
        token = self.access_token()
        answer = self._exchange(method, path, query=query, body=body, upload=upload, token=token)
        if answer.payload.get("errcode") in TOKEN_ERRCODES:
            log.info(
                "wechat access_token refused, refreshing once",
                extra={"app_id": self.app_id, "endpoint": path, "errcode": answer.payload["errcode"]},
            )
            token = self._replace_refused_token(token)
            answer = self._exchange(
                method, path, query=query, body=body, upload=upload, token=token, attempt=2
            )
        return self._checked(path, answer, accept=accept)

    def _checked(
        self, path: str, answer: _Answer, *, accept: frozenset[int] | set[int] = frozenset()
    ) -> dict[str, Any]:
        errcode = answer.payload.get("errcode", 0)
        if errcode and errcode not in accept:
            raise error_for_errcode(int(errcode), str(answer.payload.get("errmsg", "")), endpoint=path)
        return answer.payload

    def _exchange(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        upload: FileUpload | None = None,
        token: str | None = None,
        attempt: int = 1,
    ) -> _Answer:
        """One HTTP request, logged. Returns WeChat's JSON; raises on transport-level failure."""
        params = dict(query or {})
        if token is not None:
            params = {"access_token": token, **params}
        url = f"{self.base_url}{path}" + (f"?{urlencode(params)}" if params else "")
        data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
        headers = {"Accept": "application/json", "User-Agent": "PowerDesk-WeChat/1"}
        if data is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        if upload is not None:
            data, headers["Content-Type"] = upload.multipart()
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        started = time.monotonic()
        status: int | None = None
        try:
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    status, raw = response.status, response.read(_MAX_RESPONSE_BYTES)
            except urllib.error.HTTPError as exc:
                status = exc.code
                exc.close()
                raise WeChatApiError(
                    f"{path}: HTTP {status}",
                    # 5xx and 429 pass; any other HTTP error means a wrong base URL or path.
                    permanent=not (status >= 500 or status == 429),
                    vendor_code=f"http.{status}",
                    endpoint=path,
                ) from exc
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, TimeoutError):
                    raise self._network_error(
                        path, "network.timeout", f"no answer within {self.timeout} s"
                    ) from exc
                raise self._network_error(path, "network.unreachable", f"unreachable: {exc.reason}") from exc
            except TimeoutError as exc:
                raise self._network_error(
                    path, "network.timeout", f"no answer within {self.timeout} s"
                ) from exc
            except (OSError, http.client.HTTPException) as exc:
                raise self._network_error(path, "network.error", f"connection lost: {exc!r}") from exc
            try:
                payload = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                payload = None
            if not isinstance(payload, dict) or not isinstance(payload.get("errcode", 0), int):
                raise self._invalid_response(path, "the answer is not a WeChat JSON object")
        except WeChatApiError as exc:
            self._record(path, started, status=status, errcode=None, attempt=attempt, failure=exc)
            raise
        self._record(path, started, status=status, errcode=payload.get("errcode", 0), attempt=attempt)
        return _Answer(status, payload)

    def _record(
        self,
        path: str,
        started: float,
        *,
        status: int | None,
        errcode: int | None,
        attempt: int,
        failure: WeChatApiError | None = None,
    ) -> None:
        if failure is None:
            outcome = ApiCallLog.Outcome.OK if errcode == 0 else ApiCallLog.Outcome.VENDOR_ERROR
        elif status is None:
            outcome = ApiCallLog.Outcome.NETWORK_ERROR
        else:
            outcome = ApiCallLog.Outcome.HTTP_ERROR
        ApiCallLog.objects.create(
            app_id=self.app_id,
            endpoint=path,
            outcome=outcome,
            http_status=status,
            errcode=errcode,
            attempt=attempt,
            latency_ms=round((time.monotonic() - started) * 1000),
        )

    @staticmethod
    def _network_error(path: str, code: str, message: str) -> WeChatApiError:
        # Transient; for a mass send the request may have been taken, and resending with the same
        # clientmsgid is what makes the retry safe.
        return WeChatApiError(f"{path}: {message}", permanent=False, vendor_code=code, endpoint=path)

    @staticmethod
    def _invalid_response(path: str, message: str) -> WeChatApiError:
        return WeChatApiError(
            f"{path}: {message}", permanent=False, vendor_code="response.invalid", endpoint=path
        )


def _checked_clientmsgid(clientmsgid: str) -> str:
    if not clientmsgid or len(clientmsgid.encode()) > CLIENTMSGID_MAX_BYTES:
        raise ValueError(f"clientmsgid: 1–{CLIENTMSGID_MAX_BYTES} bytes, got {clientmsgid!r}")
    return clientmsgid


def _openid_page(payload: Mapping[str, Any]) -> OpenidPage:
    return OpenidPage(
        total=int(payload.get("total", payload.get("count", 0))),
        openids=list((payload.get("data") or {}).get("openid", [])),
        next_openid=str(payload.get("next_openid", "")),
    )
