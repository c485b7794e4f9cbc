"""The inbox's staff work (留言): read, assign, set the status, and reply to a follower through
the channel's customer-service API — only inside its window (docs/inbox.md).

Thread bookkeeping for messages the engine stores lives in services.py (``inbound_record`` and
``reply_record`` update the thread in the engine's transaction); everything here is a staff
action on a thread the caller has already fetched through ``selectors.conversation_get_for_staff``
(which applies the staff member's scope).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from powerdesk.channels.base import ChannelError
from powerdesk.conversations import events as kinds
from powerdesk.conversations import selectors
from powerdesk.conversations.choices import ConversationStatus, Delivery, Direction, ReplyKind
from powerdesk.conversations.messages import Article, Reply
from powerdesk.conversations.models import Conversation, ConversationMessage
from powerdesk.conversations.services import REPLY_SENDERS, text_check, thread_for_update
from powerdesk.core.exceptions import ApplicationError
from powerdesk.events.services import event_record
from powerdesk.staff.roles import Perm

log = logging.getLogger(__name__)

_MEDIA_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_TOKEN = re.compile(r"[A-Za-z0-9-]{8,64}")


@transaction.atomic
def conversation_mark_read(*, conversation: Conversation) -> None:
    """Staff opened the thread: nothing in it is unread any more."""
    if conversation.unread_count:
        Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)
        conversation.unread_count = 0


@transaction.atomic
def conversation_assign(*, conversation: Conversation, assignee, actor) -> Conversation:
    """Give the thread to ``assignee`` (None: back to the unassigned queue). The assignee must be
    active, hold WECHAT_INBOX_REPLY and have the follower in scope, or nobody could answer."""
    if assignee is not None and not (
        assignee.is_active
        and assignee.can(Perm.WECHAT_INBOX_REPLY)
        and selectors.conversation_visible_to(staff=assignee, conversation=conversation)
    ):
        raise ApplicationError(
            "assignee_not_allowed",
            _("%(name)s 没有处理留言的权限，或该粉丝不在其管辖范围内。")
            % {"name": assignee.get_full_name() or assignee.username},
            field="assignee",
        )
    previous = conversation.assigned_to_id
    conversation.assigned_to = assignee
    conversation.save(update_fields=["assigned_to", "updated_at"])
    event_record(
        kinds.CONVERSATION_ASSIGNED,
        channel=conversation.channel,
        customer_user_id=conversation.customer_user_id,
        actor_staff_id=actor.pk,
        payload={
            "conversation_id": conversation.pk,
            "assignee_id": assignee.pk if assignee else None,
            "previous_assignee_id": previous,
        },
    )
    return conversation


@transaction.atomic
def conversation_status_set(*, conversation: Conversation, status: str, actor) -> Conversation:
    """Open / pending (waiting for the customer) / closed; closing also clears "needs reply"."""
    if status not in ConversationStatus.values:
        raise ApplicationError("status_invalid", _("请选择有效的状态。"), field="status")
    previous = conversation.status
    conversation.status = status
    if status == ConversationStatus.CLOSED:
        conversation.needs_reply = False
    conversation.save(update_fields=["status", "needs_reply", "updated_at"])
    event_record(
        kinds.CONVERSATION_STATUS_CHANGED,
        channel=conversation.channel,
        customer_user_id=conversation.customer_user_id,
        actor_staff_id=actor.pk,
        payload={"conversation_id": conversation.pk, "status": status, "previous": previous},
    )
    return conversation


# --- staff replies -----------------------------------------------------------------------------


def staff_reply_build(
    *, kind: str, text: str = "", article_id: int | None = None, media_id: str = "", site_url: str = ""
) -> Reply:
    """The reply a staff member composed, checked: text within WeChat's 2,048 bytes, one
    published article (a customer-service news message carries one), or an image media_id."""
    if kind == ReplyKind.TEXT:
        return Reply.text_reply(text_check(text, field="text", label=_("回复内容")), intent="staff")
    if kind == ReplyKind.ARTICLES:
        from powerdesk.conversations.services import keyword_articles_from_content

        if not article_id:
            raise ApplicationError("reply_empty", _("请选择要发送的文章。"), field="article")
        try:
            (item,) = keyword_articles_from_content(article_ids=[article_id], site_url=site_url)
        except ApplicationError as exc:
            raise ApplicationError(exc.code, exc.message, field="article") from exc
        article = Article(
            title=item["title"], description=item["description"], url=item["url"], pic_url=item["pic_url"]
        )
        return Reply(kind=ReplyKind.ARTICLES, articles=(article,), intent="staff")
    if kind == ReplyKind.IMAGE:
        media_id = (media_id or "").strip()
        if not _MEDIA_ID.fullmatch(media_id):
            raise ApplicationError(
                "media_id_invalid",
                _("请填写图片素材 media_id（字母、数字、下划线和连字符，最长 128 个字符）。"),
                field="media_id",
            )
        return Reply(kind=ReplyKind.IMAGE, media_id=media_id, intent="staff")
    raise ApplicationError("reply_kind_invalid", _("请选择回复类型。"), field="kind")


def staff_reply_send(
    *,
    conversation: Conversation,
    staff,
    reply: Reply,
    request_token: str = "",
    now: datetime | None = None,
) -> ConversationMessage:
    """Send ``reply`` to the thread's follower through the channel's customer-service API and
    store it as an outbound message by ``staff``.

    Refused, with nothing stored, when the channel's window has closed (WeChat: 48 h after the
    follower's last message, click or subscription). Otherwise the message is stored first, sent
    outside any transaction (a slow WeChat never holds a lock), and then marked ``sent`` — the
    thread no longer needs a reply — or ``failed`` with WeChat's error, which the console shows.
    A repeated ``request_token`` (a double submit) returns the first message without sending.
    """
    request_token = (request_token or "").strip()
    if request_token and not _TOKEN.fullmatch(request_token):
        raise ApplicationError("request_token_invalid", _("表单已失效，请刷新页面后重试。"))
    if request_token:
        earlier = ConversationMessage.objects.filter(request_token=request_token).first()
        if earlier is not None:
            return earlier
    window = selectors.reply_window(conversation=conversation, now=now)
    if not window.is_open:
        raise ApplicationError("reply_window_closed", window.reason, field="text", status=409)
    sender_path = REPLY_SENDERS.get(conversation.channel)
    if sender_path is None:
        raise ApplicationError("channel_cannot_reply", _("该渠道不支持人工回复。"), status=409)
    answered = selectors.last_inbound_message(conversation=conversation)
    try:
        with transaction.atomic():
            outbound = ConversationMessage.objects.create(
                direction=Direction.OUTBOUND,
                channel=conversation.channel,
                channel_account=conversation.channel_account,
                sender_provider=conversation.sender_provider,
                sender_app_id=conversation.sender_app_id,
                sender_subject=conversation.sender_subject,
                customer_user_id=conversation.customer_user_id,
                kind=reply.kind,
                text=reply.text,
                payload=reply.as_payload(),
                reply_to=answered,
                intent="staff",
                delivery=Delivery.DEFERRED,
                staff_author=staff,
                request_token=request_token,
                created_at=timezone.now(),
            )
    except IntegrityError:
        earlier = ConversationMessage.objects.filter(request_token=request_token).first()
        if earlier is None:
            raise
        return earlier
    try:
        import_string(sender_path)(
            channel_account=conversation.channel_account, recipient=conversation.sender_subject, reply=reply
        )
    except (ChannelError, ValueError) as exc:
        _staff_reply_failed(outbound, conversation=conversation, staff=staff, error=str(exc))
        return outbound
    except Exception:
        _staff_reply_failed(outbound, conversation=conversation, staff=staff, error=_("系统内部错误"))
        raise
    _staff_reply_delivered(outbound, conversation=conversation, staff=staff)
    return outbound


@transaction.atomic
def _staff_reply_delivered(outbound: ConversationMessage, *, conversation: Conversation, staff) -> None:
    outbound.delivery = Delivery.SENT
    outbound.delivered_at = timezone.now()
    outbound.save(update_fields=["delivery", "delivered_at"])
    thread = thread_for_update(
        channel=conversation.channel,
        channel_account=conversation.channel_account,
        sender_subject=conversation.sender_subject,
    )
    thread.needs_reply = False
    thread.unread_count = 0
    thread.last_staff_reply_at = outbound.delivered_at
    if outbound.created_at >= thread.last_message_at:
        thread.last_message, thread.last_message_at = outbound, outbound.created_at
    thread.save()
    conversation.needs_reply, conversation.unread_count = False, 0
    conversation.last_staff_reply_at = thread.last_staff_reply_at
    event_record(
        kinds.STAFF_REPLIED,
        channel=conversation.channel,
        customer_user_id=conversation.customer_user_id,
        actor_staff_id=staff.pk,
        payload={
            "conversation_id": conversation.pk,
            "message_id": outbound.pk,
            "channel_account": conversation.channel_account,
            "kind": outbound.kind,
        },
    )


@transaction.atomic
def _staff_reply_failed(
    outbound: ConversationMessage, *, conversation: Conversation, staff, error: str
) -> None:
    outbound.delivery = Delivery.FAILED
    outbound.delivery_error = error[:255]
    outbound.save(update_fields=["delivery", "delivery_error"])
    log.warning(
        "staff reply failed",
        extra={"conversation": conversation.pk, "message_id": outbound.pk, "error": outbound.delivery_error},
    )
    event_record(
        kinds.STAFF_REPLY_FAILED,
        channel=conversation.channel,
        customer_user_id=conversation.customer_user_id,
        actor_staff_id=staff.pk,
        payload={
            "conversation_id": conversation.pk,
            "message_id": outbound.pk,
            "channel_account": conversation.channel_account,
            "error": outbound.delivery_error,
        },
    )
