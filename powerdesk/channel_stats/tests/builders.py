"""Builders for hand-made statistics data.

Inbox rows are written by the conversation engine's own writers (``inbound_record``,
``reply_record``) so they have exactly the shape the callback stores; only the clock is ours.
Times are given in Asia/Shanghai, the zone the statistics count days in.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction

from powerdesk.channels.wechat_store.models import ApiCallLog, WeChatAccount
from powerdesk.conversations.choices import Delivery, MessageKind
from powerdesk.conversations.demo import DEMO_APP_ID
from powerdesk.conversations.messages import InboundMessage, Reply, SenderIdentity
from powerdesk.conversations.models import ConversationMessage
from powerdesk.conversations.services import inbound_record, reply_record
from powerdesk.events.choices import Channel

SHANGHAI = ZoneInfo("Asia/Shanghai")
_serial = itertools.count(1)


def local(text: str) -> datetime:
    """``"2026-03-01 00:00:00"`` in Asia/Shanghai, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def inbound(
    account: WeChatAccount,
    *,
    at: str,
    sender: str = "o_follower_1",
    kind: MessageKind = MessageKind.TEXT,
    text: str = "",
    event: str = "",
    event_key: str = "",
    dedup_key: str | None = None,
) -> ConversationMessage | None:
    """Store one inbound message as the WeChat adapter would (None: a retry, stored once)."""
    message = InboundMessage(
        channel=Channel.WECHAT,
        channel_account=account.slug,
        sender=SenderIdentity(provider="wechat_openid", app_id=account.app_id, subject=sender),
        kind=kind,
        dedup_key=dedup_key or f"msgid:{next(_serial)}",
        received_at=local(at),
        text=text,
        event=event,
        event_key=event_key,
    )
    with transaction.atomic():
        return inbound_record(message=message, customer_user_id=None)


def event(
    account: WeChatAccount, name: str, *, at: str, sender: str = "o_follower_1", key: str = "", **extra
):
    return inbound(account, at=at, sender=sender, kind=MessageKind.EVENT, event=name, event_key=key, **extra)


def rule_reply(message: ConversationMessage, rule, *, at: str) -> ConversationMessage:
    """The reply a keyword rule gave to ``message``, stored as the engine stores it, at ``at``."""
    with transaction.atomic():
        outbound = reply_record(
            inbound=message, reply=Reply.text_reply("好的", rule_id=rule.pk), delivery=Delivery.PASSIVE
        )
    ConversationMessage.objects.filter(pk=outbound.pk).update(created_at=local(at))
    return outbound


def api_call(*, at: str, endpoint: str, latency_ms: int, outcome: str = "ok", app_id: str = DEMO_APP_ID):
    """One row of the WeChat API call log (its ``at`` is set on insert, so moved afterwards)."""
    row = ApiCallLog.objects.create(
        app_id=app_id,
        endpoint=endpoint,
        outcome=outcome,
        http_status=200,
        errcode=0 if outcome == "ok" else 45009,
        latency_ms=latency_ms,
    )
    ApiCallLog.objects.filter(pk=row.pk).update(at=local(at))
    return row
