"""The WeChat Official Account callback, ``/channels/wechat/<slug>/``: verify, parse into an
``InboundMessage``, call ``conversations.engine.handle_inbound``, render its ``Reply``.

* GET — URL verification (服务器配置): the signed ``echostr`` back as ``text/plain``.
* POST — ``read_callback`` with the account's token, crypto and timestamp window (a safe-mode
  account refuses plaintext). Anything wrong with the request is a 4xx with an empty body, one
  ``powerdesk.security`` log line naming the ``ErrorCode``, and nothing stored.
* The reply is rendered as WeChat XML, stored with the inbound message by the engine (so a retry
  gets the identical answer), and encrypted when the request was. A reply that is not ready
  within ``PASSIVE_REPLY_SECONDS`` (or every reply, with ``WECHAT_CALLBACK_DEFER_REPLIES``) is
  answered ``success`` and sent through the customer-service API (outbound.py).
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import fields
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from powerdesk.channels.wechat.outbound import reply_text
from powerdesk.channels.wechat.protocol import (
    MAX_BODY_BYTES,
    SUCCESS_BODY,
    CallbackQuery,
    ErrorCode,
    NewsArticle,
    ProtocolError,
    WeChatMessage,
    dedup_key,
    read_callback,
    render_image_reply,
    render_news_reply,
    render_text_reply,
    verify_url,
    wrap_encrypted_reply,
)
from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.channels.wechat_store.selectors import account_crypto, account_for_callback
from powerdesk.conversations.choices import MessageKind, ReplyKind
from powerdesk.conversations.engine import handle_inbound
from powerdesk.conversations.messages import (
    ChannelContext,
    InboundMessage,
    Location,
    Media,
    Reply,
    SenderIdentity,
)
from powerdesk.customers.choices import IdentityProvider
from powerdesk.events.choices import Channel

security_log = logging.getLogger("powerdesk.security")
log = logging.getLogger(__name__)

# WeChat gives up after 5 s and retries; past 4 s the answer goes through the API instead.
PASSIVE_REPLY_SECONDS = 4.0
MAX_OPENID_LENGTH = 128

_FORBIDDEN = {
    ErrorCode.SIGNATURE_MISMATCH,
    ErrorCode.MSG_SIGNATURE_MISMATCH,
    ErrorCode.TIMESTAMP_MALFORMED,
    ErrorCode.TIMESTAMP_OUT_OF_WINDOW,
    ErrorCode.PLAINTEXT_REFUSED,
    ErrorCode.APP_ID_MISMATCH,
}
_KINDS = {
    "text": MessageKind.TEXT,
    "image": MessageKind.IMAGE,
    "voice": MessageKind.VOICE,
    "video": MessageKind.VIDEO,
    "shortvideo": MessageKind.VIDEO,
    "location": MessageKind.LOCATION,
    "link": MessageKind.LINK,
    "event": MessageKind.EVENT,
}


def _now() -> datetime:
    return timezone.now()


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _refuse(request: HttpRequest, slug: str, code: str, status: int, field: str = "") -> HttpResponse:
    security_log.warning(
        "wechat callback refused",
        extra={"account": slug, "code": code, "field": field, "status": status, "ip": _client_ip(request)},
    )
    return HttpResponse(b"", status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt
def callback(request: HttpRequest, slug: str) -> HttpResponse:
    started = time.monotonic()
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    account = account_for_callback(slug)
    if account is None:
        return _refuse(request, slug, "unknown_account", 404)
    query = CallbackQuery.from_query(request.GET)
    window = account.timestamp_window_seconds
    try:
        if request.method == "GET":
            echostr = verify_url(
                query, request.GET.get("echostr", ""), token=account.token, now=_now(), window_seconds=window
            )
            return HttpResponse(echostr, content_type="text/plain; charset=utf-8")
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
            raise ProtocolError(ErrorCode.BODY_TOO_LARGE, "declared body over the limit")
        crypto = account_crypto(account)
        inbound_callback = read_callback(
            request.body,
            query,
            token=account.token,
            crypto=crypto,
            now=_now(),
            window_seconds=window,
            allow_plaintext=not account.safe_mode,
        )
    except ProtocolError as exc:
        status = 413 if exc.code == ErrorCode.BODY_TOO_LARGE else 403 if exc.code in _FORBIDDEN else 400
        return _refuse(request, slug, exc.code, status, exc.field)
    except ValueError:  # a Content-Length that is not a number (the body guard answers first)
        return _refuse(request, slug, "bad_content_length", 400)

    message = inbound_callback.message
    if len(message.from_user) > MAX_OPENID_LENGTH:  # openids are 28 characters; identities hold 128
        return _refuse(request, slug, ErrorCode.FIELD_MALFORMED, 400, "FromUserName")
    context = ChannelContext(
        site_url=account.h5_base_url or f"{request.scheme}://{request.get_host()}",
        greeting=account.greeting,
        passive_reply_seconds=PASSIVE_REPLY_SECONDS,
        defer_reply=settings.WECHAT_CALLBACK_DEFER_REPLIES,
        started_at=started,
    )
    reply = handle_inbound(
        inbound_message(message, account=account),
        context=context,
        render=lambda r: render_reply(r, message=message, create_time=int(time.time())).decode(),
    )
    if message.event == "masssendjobfinish":
        mass_send_job_finished(message, account=account)
    if not reply.rendered:
        return HttpResponse(SUCCESS_BODY, content_type="text/plain; charset=utf-8")
    body = reply.rendered.encode()
    if inbound_callback.encrypted:
        body = wrap_encrypted_reply(crypto, body, nonce=secrets.token_hex(8), timestamp=int(time.time()))
    return HttpResponse(body, content_type="application/xml; charset=utf-8")


def inbound_message(message: WeChatMessage, *, account: WeChatAccount) -> InboundMessage:
    """WeChat's message in the engine's terms; the sender is (wechat_openid, AppID, openid)."""
    kind = _KINDS.get(message.msg_type, MessageKind.OTHER)
    text = ""
    if kind == MessageKind.TEXT:
        text = message.content or ""
    elif kind == MessageKind.VOICE:
        text = message.recognition or ""
    media = None
    if kind in (MessageKind.IMAGE, MessageKind.VOICE, MessageKind.VIDEO, MessageKind.LINK):
        media = Media(
            media_id=message.media_id or "",
            url=message.pic_url or message.url or "",
            format=message.format or "",
            thumb_media_id=message.thumb_media_id or "",
            title=message.title or "",
            description=message.description or "",
        )
    location = None
    if message.location_x is not None and message.location_y is not None:
        location = Location(
            latitude=message.location_x,
            longitude=message.location_y,
            scale=message.scale,
            label=message.label or "",
        )
    elif message.latitude is not None and message.longitude is not None:
        location = Location(
            latitude=message.latitude, longitude=message.longitude, precision=message.precision
        )
    # Every field is a plain value, so a shallow read is enough (asdict deep-copies).
    raw = {f.name: value for f in fields(message) if (value := getattr(message, f.name)) is not None}
    return InboundMessage(
        channel=Channel.WECHAT,
        channel_account=account.slug,
        sender=SenderIdentity(
            provider=IdentityProvider.WECHAT_OPENID, app_id=account.app_id, subject=message.from_user
        ),
        kind=kind,
        dedup_key=dedup_key(message),
        received_at=timezone.now(),
        text=text,
        media=media,
        location=location,
        event=message.event or "",
        event_key=message.event_key or "",
        raw=raw,
    )


def mass_send_job_finished(message: WeChatMessage, *, account: WeChatAccount) -> str:
    """Hand WeChat's MASSSENDJOBFINISH report to the broadcasts app (idempotent there: a retried
    push, or one for a mass send made elsewhere, changes nothing)."""
    from powerdesk.broadcasts.delivery import job_report_record

    return job_report_record(
        app_id=account.app_id,
        msg_id="" if message.msg_id is None else str(message.msg_id),
        status=message.status or "",
        total_count=message.total_count or 0,
        filter_count=message.filter_count or 0,
        sent_count=message.sent_count or 0,
        error_count=message.error_count or 0,
    )


def render_reply(reply: Reply, *, message: WeChatMessage, create_time: int) -> bytes:
    """A passive reply as WeChat XML (plaintext; the view encrypts it when needed)."""
    addressed = {"to_user": message.from_user, "from_user": message.to_user, "create_time": create_time}
    if reply.kind == ReplyKind.NOTHING:
        return SUCCESS_BODY
    if reply.kind == ReplyKind.ARTICLES:
        articles = [
            NewsArticle(title=a.title, description=a.description, pic_url=a.pic_url, url=a.url)
            for a in reply.articles
        ]
        return render_news_reply(articles=articles, **addressed)
    if reply.kind == ReplyKind.IMAGE:
        return render_image_reply(media_id=reply.media_id, **addressed)
    return render_text_reply(content=reply_text(reply), **addressed)
