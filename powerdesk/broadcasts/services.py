"""Every write a person makes to a broadcast: compose, preview, send now, schedule, cancel, resume.

The sending itself (start, chunks, WeChat's reports) is in delivery.py. Refusals are
``ApplicationError`` with a Chinese message and the form field they concern.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.broadcasts import events, tasks
from powerdesk.broadcasts.audience import AudienceChoice, audience_clean
from powerdesk.broadcasts.choices import NOT_STARTED, BroadcastStatus, MessageKind
from powerdesk.broadcasts.models import Broadcast
from powerdesk.broadcasts.quota import quota_check
from powerdesk.broadcasts.wechat import (
    mass_message,
    preview_refusal,
    wechat_client,
)
from powerdesk.channels.wechat_store.errors import WeChatApiError
from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.content.choices import ArticleStatus
from powerdesk.content.models import Article
from powerdesk.core.exceptions import ApplicationError
from powerdesk.events.choices import Channel
from powerdesk.events.services import event_record

TITLE_MAX = 60
# The MP platform takes 600 characters in a text mass message.
TEXT_MAX = 600
ARTICLES_MAX = 8
MEDIA_ID_MAX = 128
SCHEDULE_MIN_AHEAD = timedelta(minutes=1)
SCHEDULE_MAX_AHEAD = timedelta(days=30)
_OPENID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_MEDIA_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def _event(kind, broadcast: Broadcast, *, channel, actor_staff_id: int | None = None, **payload) -> None:
    event_record(
        kind,
        channel=channel,
        actor_staff_id=actor_staff_id,
        payload={"broadcast_id": broadcast.pk, "wechat_account": broadcast.wechat_account.slug, **payload},
    )


# --- compose --------------------------------------------------------------------------------------


def _clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise ApplicationError("broadcast_title_required", _("请填写群发名称。"), field="title")
    if len(title) > TITLE_MAX:
        raise ApplicationError(
            "broadcast_title_too_long",
            _("群发名称不能超过 %(max)s 个字（现为 %(len)s 个）。") % {"max": TITLE_MAX, "len": len(title)},
            field="title",
        )
    return title


def _clean_account(account: WeChatAccount | None) -> WeChatAccount:
    if account is None or not account.is_active:
        raise ApplicationError(
            "broadcast_account_required", _("请选择启用中的公众号。"), field="wechat_account"
        )
    if not account.app_secret:
        raise ApplicationError(
            "broadcast_account_no_secret",
            _("公众号“%(name)s”未配置 AppSecret，无法调用群发接口。")
            % {"name": account.name or account.slug},
            field="wechat_account",
        )
    return account


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ApplicationError("broadcast_text_required", _("请填写群发的文字内容。"), field="text_content")
    if len(text) > TEXT_MAX:
        raise ApplicationError(
            "broadcast_text_too_long",
            _("文字内容不能超过 %(max)s 个字（现为 %(len)s 个）。") % {"max": TEXT_MAX, "len": len(text)},
            field="text_content",
        )
    return text


def _clean_articles(article_ids: Sequence[int]) -> list[dict]:
    ids = list(dict.fromkeys(int(pk) for pk in article_ids or ()))
    if not ids:
        raise ApplicationError(
            "broadcast_articles_required", _("请至少选择一篇已发布的文章。"), field="articles"
        )
    if len(ids) > ARTICLES_MAX:
        raise ApplicationError(
            "broadcast_articles_too_many",
            _("一条图文群发最多 %(max)s 篇文章（选了 %(n)s 篇）。") % {"max": ARTICLES_MAX, "n": len(ids)},
            field="articles",
        )
    found = {a.pk: a for a in Article.objects.filter(pk__in=ids)}
    for pk in ids:
        article = found.get(pk)
        if article is None:
            raise ApplicationError(
                "broadcast_article_missing",
                _("所选文章（编号 %(id)s）不存在。") % {"id": pk},
                field="articles",
            )
        if article.status != ArticleStatus.PUBLISHED:
            raise ApplicationError(
                "broadcast_article_unpublished",
                _("文章《%(title)s》尚未发布，只能群发已发布的文章。") % {"title": article.title},
                field="articles",
            )
    return [{"id": pk, "title": found[pk].title} for pk in ids]


def _clean_thumb(thumb_media_id: str, *, article_ids: Sequence[int]) -> str:
    """The shared cover material every article of the broadcast uses, or "" when each article's
    own cover image is uploaded as its cover at sending (wechat.mpnews_media_ensure) — which
    needs every article to have one."""
    value = (thumb_media_id or "").strip() or settings.BROADCAST_THUMB_MEDIA_ID
    if not value:
        without = [a.title for a in Article.objects.filter(pk__in=article_ids).order_by("pk") if not a.cover]
        if without:
            raise ApplicationError(
                "broadcast_thumb_required",
                _(
                    "文章《%(title)s》没有封面图片：请在内容管理中为它上传封面，"
                    "或填写公众平台“素材管理”中已有图片的 media_id 作为所有文章的封面。"
                )
                % {"title": without[0]},
                field="thumb_media_id",
            )
        return ""
    if not _MEDIA_ID.fullmatch(value):
        raise ApplicationError(
            "broadcast_thumb_invalid",
            _("封面图片 media_id 只能包含字母、数字、下划线和连字符，最长 128 个字符。"),
            field="thumb_media_id",
        )
    return value


@transaction.atomic
def broadcast_create(
    *,
    staff,
    wechat_account: WeChatAccount | None,
    title: str,
    message_kind: str,
    text_content: str = "",
    article_ids: Sequence[int] = (),
    thumb_media_id: str = "",
    audience: AudienceChoice,
    channel: Channel | str = Channel.CONSOLE,
) -> Broadcast:
    """A draft broadcast of ``staff``'s unit; nothing goes to WeChat until it is sent or previewed."""
    account = _clean_account(wechat_account)
    title = _clean_title(title)
    if message_kind not in MessageKind.values:
        raise ApplicationError("broadcast_kind_invalid", _("请选择消息类型。"), field="message_kind")
    text, articles, thumb = "", [], ""
    if message_kind == MessageKind.TEXT:
        text = _clean_text(text_content)
    else:
        articles = _clean_articles(article_ids)
        thumb = _clean_thumb(thumb_media_id, article_ids=[item["id"] for item in articles])
    cleaned = audience_clean(staff=staff, audience=audience)
    broadcast = Broadcast.objects.create(
        wechat_account=account,
        supply_unit=staff.supply_unit,
        title=title,
        message_kind=message_kind,
        text_content=text,
        articles=articles,
        thumb_media_id=thumb,
        audience_kind=cleaned.kind,
        tag_id=cleaned.tag_id,
        segment=cleaned.segment,
        token=secrets.token_hex(6),
        created_by_staff_id=staff.pk,
    )
    _event(
        events.BROADCAST_CREATED,
        broadcast,
        channel=channel,
        actor_staff_id=staff.pk,
        message_kind=message_kind,
        audience_kind=cleaned.kind,
    )
    return broadcast


# --- preview --------------------------------------------------------------------------------------


def broadcast_preview(
    *, broadcast: Broadcast, openid: str, actor_staff_id: int | None, channel: Channel | str = Channel.CONSOLE
) -> str:
    """Send the message to one follower through mass/preview; returns WeChat's msg_id.

    Not atomic: the call to WeChat is made first, and only a preview WeChat accepted is recorded.
    """
    openid = (openid or "").strip()
    if not _OPENID.fullmatch(openid):
        raise ApplicationError(
            "broadcast_openid_invalid",
            _("请填写接收预览的关注者 OpenID（字母、数字、下划线或连字符，最长 128 个字符）。"),
            field="openid",
        )
    if broadcast.status not in NOT_STARTED:
        raise ApplicationError(
            "broadcast_already_started", _("这条群发已经开始发送，不能再预览。"), field="openid"
        )
    client = wechat_client(broadcast.wechat_account)
    try:
        message = mass_message(broadcast, client)
        msg_id = client.mass_preview(openid=openid, message=message)
    except WeChatApiError as exc:
        raise preview_refusal(exc) from exc
    with transaction.atomic():
        _event(
            events.BROADCAST_PREVIEWED,
            broadcast,
            channel=channel,
            actor_staff_id=actor_staff_id,
            openid=openid,
            msg_id=msg_id,
        )
    return msg_id


# --- send now, schedule, cancel, resume -----------------------------------------------------------


def _not_started(broadcast: Broadcast, allowed: tuple) -> Broadcast:
    locked = Broadcast.objects.select_for_update().select_related("wechat_account").get(pk=broadcast.pk)
    if locked.status not in allowed:
        raise ApplicationError(
            "broadcast_state_invalid",
            _("这条群发当前状态为“%(status)s”，不能执行此操作。") % {"status": locked.get_status_display()},
        )
    return locked


@transaction.atomic
def broadcast_send_now(*, broadcast: Broadcast, actor_staff_id: int | None) -> Broadcast:
    """Draft (or scheduled) → queued; a worker starts it right after the commit."""
    locked = _not_started(broadcast, (BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED))
    now = timezone.now()
    quota_check(account=locked.wechat_account, at=now, exclude_pk=locked.pk, field=None)
    locked.status, locked.scheduled_at = BroadcastStatus.QUEUED, None
    locked.save(update_fields=["status", "scheduled_at", "updated_at"])
    _event(events.BROADCAST_SCHEDULED, locked, channel=Channel.CONSOLE, actor_staff_id=actor_staff_id, at=now)
    tasks.broadcast_start_dispatch(broadcast_id=locked.pk)
    return locked


@transaction.atomic
def broadcast_schedule(
    *, broadcast: Broadcast, scheduled_at: datetime | None, actor_staff_id: int | None
) -> Broadcast:
    """Send at ``scheduled_at`` (aware; 1 minute to 30 days ahead). A scheduled broadcast may be
    rescheduled or cancelled until it starts."""
    if scheduled_at is None:
        raise ApplicationError("broadcast_time_required", _("请选择发送时间。"), field="scheduled_at")
    if timezone.is_naive(scheduled_at):
        raise ApplicationError("broadcast_time_invalid", _("发送时间无效。"), field="scheduled_at")
    now = timezone.now()
    if scheduled_at < now + SCHEDULE_MIN_AHEAD:
        raise ApplicationError(
            "broadcast_time_past", _("发送时间须晚于当前时间至少 1 分钟。"), field="scheduled_at"
        )
    if scheduled_at > now + SCHEDULE_MAX_AHEAD:
        raise ApplicationError(
            "broadcast_time_too_far", _("发送时间不能晚于 30 天之后。"), field="scheduled_at"
        )
    locked = _not_started(broadcast, (BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED))
    quota_check(account=locked.wechat_account, at=scheduled_at, exclude_pk=locked.pk, field="scheduled_at")
    locked.status, locked.scheduled_at = BroadcastStatus.SCHEDULED, scheduled_at
    locked.save(update_fields=["status", "scheduled_at", "updated_at"])
    _event(
        events.BROADCAST_SCHEDULED,
        locked,
        channel=Channel.CONSOLE,
        actor_staff_id=actor_staff_id,
        at=scheduled_at,
    )
    tasks.broadcast_start_dispatch(broadcast_id=locked.pk, run_after=scheduled_at)
    return locked


@transaction.atomic
def broadcast_cancel(*, broadcast: Broadcast, actor_staff_id: int | None) -> Broadcast:
    """Cancel a broadcast that has not started. The start takes the same row lock, so a cancel and
    a start never both succeed."""
    locked = _not_started(broadcast, NOT_STARTED)
    locked.status, locked.cancelled_at = BroadcastStatus.CANCELLED, timezone.now()
    locked.save(update_fields=["status", "cancelled_at", "updated_at"])
    _event(events.BROADCAST_CANCELLED, locked, channel=Channel.CONSOLE, actor_staff_id=actor_staff_id)
    return locked


@transaction.atomic
def broadcast_resume(*, broadcast: Broadcast, actor_staff_id: int | None) -> Broadcast:
    """Go on with a broadcast WeChat paused for its quota (45028): its unsent chunks go out under
    their own clientmsgid; the chunks WeChat took already are not sent again."""
    locked = _not_started(broadcast, (BroadcastStatus.QUOTA_EXHAUSTED,))
    locked.status, locked.last_error_code, locked.last_error = BroadcastStatus.SENDING, "", ""
    locked.save(update_fields=["status", "last_error_code", "last_error", "updated_at"])
    _event(
        events.BROADCAST_STARTED, locked, channel=Channel.CONSOLE, actor_staff_id=actor_staff_id, resumed=True
    )
    tasks.broadcast_send_dispatch(broadcast_id=locked.pk)
    return locked
