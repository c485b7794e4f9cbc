"""Every write of the conversation engine: keyword rules and the inbox.

Rule writes bump the account's ``KeywordRuleSetVersion`` in the same transaction, so every
process rebuilds its automaton on its next lookup (keywords.py).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.conversations import events as kinds
from powerdesk.conversations.choices import Delivery, Direction, Intent, MatchKind, RuleReplyKind
from powerdesk.conversations.keywords import max_regex_rules, normalise, regex_check
from powerdesk.conversations.messages import MAX_ARTICLES, InboundMessage, Reply
from powerdesk.conversations.models import ConversationMessage, KeywordRule, KeywordRuleSetVersion
from powerdesk.core.exceptions import ApplicationError
from powerdesk.events.choices import Channel
from powerdesk.events.services import event_record

# --- keyword rules -----------------------------------------------------------------------------


def _rule_set_touch(*, channel: str, channel_account: str) -> None:
    updated = KeywordRuleSetVersion.objects.filter(channel=channel, channel_account=channel_account).update(
        version=F("version") + 1
    )
    if not updated:
        try:
            with transaction.atomic():
                KeywordRuleSetVersion.objects.create(
                    channel=channel, channel_account=channel_account, version=1
                )
        except IntegrityError:  # created concurrently: bump that one
            KeywordRuleSetVersion.objects.filter(channel=channel, channel_account=channel_account).update(
                version=F("version") + 1
            )


def _clean_articles(articles: Any) -> list[dict[str, str]]:
    if not isinstance(articles, list) or not 1 <= len(articles) <= MAX_ARTICLES:
        raise ApplicationError(
            "articles_invalid",
            _("图文回复应有 1 至 %(max)s 篇。") % {"max": MAX_ARTICLES},
            field="reply_articles",
        )
    cleaned = []
    for item in articles:
        if not isinstance(item, dict) or not str(item.get("title", "")).strip():
            raise ApplicationError("articles_invalid", _("每篇图文都需要标题。"), field="reply_articles")
        cleaned.append(
            {name: str(item.get(name, "")).strip() for name in ("title", "description", "url", "pic_url")}
        )
    return cleaned


def _rule_validate(rule: KeywordRule) -> None:
    rule.pattern = (rule.pattern or "").strip()
    if rule.match_kind == MatchKind.REGEX:
        regex_check(rule.pattern)
        if rule.active:
            others = KeywordRule.objects.filter(
                channel=rule.channel,
                channel_account=rule.channel_account,
                match_kind=MatchKind.REGEX,
                active=True,
            ).exclude(pk=rule.pk)
            if others.count() >= max_regex_rules():
                raise ApplicationError(
                    "too_many_regex_rules",
                    _("每个账号最多启用 %(max)s 条正则表达式规则。") % {"max": max_regex_rules()},
                    field="match_kind",
                )
    elif not normalise(rule.pattern):
        raise ApplicationError("pattern_empty", _("请填写关键词。"), field="pattern")
    if rule.reply_kind == RuleReplyKind.ARTICLES:
        rule.reply_articles = _clean_articles(rule.reply_articles)
    elif rule.reply_kind == RuleReplyKind.INTENT:
        if rule.reply_intent not in Intent.values:
            raise ApplicationError("intent_unknown", _("请选择业务功能。"), field="reply_intent")
    elif rule.reply_kind == RuleReplyKind.TEXT and not rule.reply_text.strip():
        raise ApplicationError("reply_empty", _("请填写回复文本。"), field="reply_text")
    elif rule.reply_kind == RuleReplyKind.IMAGE and not rule.reply_media_id.strip():
        raise ApplicationError("reply_empty", _("请填写图片素材 media_id。"), field="reply_media_id")


def _rule_save(rule: KeywordRule) -> KeywordRule:
    _rule_validate(rule)
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError as exc:
        raise ApplicationError(
            "rule_exists", _("该账号已有相同匹配方式的同一关键词。"), field="pattern", status=409
        ) from exc
    _rule_set_touch(channel=rule.channel, channel_account=rule.channel_account)
    return rule


@transaction.atomic
def keyword_rule_create(
    *,
    channel: Channel | str = Channel.WECHAT,
    channel_account: str,
    match_kind: MatchKind | str,
    pattern: str,
    reply_kind: RuleReplyKind | str,
    reply_text: str = "",
    reply_articles: list | None = None,
    reply_media_id: str = "",
    reply_intent: Intent | str = "",
    priority: int = 0,
    active: bool = True,
) -> KeywordRule:
    """Add a keyword rule (regex patterns are checked for safety and capped in number)."""
    rule = KeywordRule(
        channel=Channel(channel),
        channel_account=channel_account,
        match_kind=MatchKind(match_kind),
        pattern=pattern,
        priority=priority,
        reply_kind=RuleReplyKind(reply_kind),
        reply_text=reply_text,
        reply_articles=reply_articles or [],
        reply_media_id=reply_media_id,
        reply_intent=str(reply_intent or ""),
        active=active,
    )
    return _rule_save(rule)


_EDITABLE = {
    "match_kind",
    "pattern",
    "priority",
    "reply_kind",
    "reply_text",
    "reply_articles",
    "reply_media_id",
    "reply_intent",
    "active",
}


@transaction.atomic
def keyword_rule_update(*, rule: KeywordRule, **changes: Any) -> KeywordRule:
    """Change a rule's fields (those in ``_EDITABLE``); the automaton is rebuilt on next use."""
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        setattr(rule, name, value)
    return _rule_save(rule)


@transaction.atomic
def keyword_rule_delete(*, rule: KeywordRule) -> None:
    channel, channel_account = rule.channel, rule.channel_account
    rule.delete()
    _rule_set_touch(channel=channel, channel_account=channel_account)


def keyword_rule_hit(*, rule_id: int) -> None:
    """Count a hit (an UPDATE with F(), so concurrent hits all count)."""
    KeywordRule.objects.filter(pk=rule_id).update(hit_count=F("hit_count") + 1, last_hit_at=timezone.now())


# --- the inbox ---------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def inbound_payload(message: InboundMessage) -> dict[str, Any]:
    payload: dict[str, Any] = {"raw": _jsonable(message.raw)}
    if message.event:
        payload["event"] = message.event
        payload["event_key"] = message.event_key
    if message.media is not None:
        payload["media"] = _jsonable(message.media.__dict__)
    if message.location is not None:
        payload["location"] = _jsonable(message.location.__dict__)
    return payload


def stored_dedup_key(message: InboundMessage) -> str:
    """The dedup key as stored: verbatim when it fits the column, else its SHA-256 (an event's
    key embeds the EventKey, which a channel may make long)."""
    key = message.dedup_key
    if len(key) <= 200:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def inbound_record(*, message: InboundMessage, customer_user_id: int | None) -> ConversationMessage | None:
    """Store an inbound message and emit ``conversation.message_received``; None when the
    channel account already has a message with this dedup key (a retry). Must run inside the
    caller's transaction: the unique constraint is what stops two racing retries."""
    try:
        with transaction.atomic():
            stored = ConversationMessage.objects.create(
                direction=Direction.INBOUND,
                channel=message.channel,
                channel_account=message.channel_account,
                sender_provider=message.sender.provider,
                sender_app_id=message.sender.app_id,
                sender_subject=message.sender.subject,
                customer_user_id=customer_user_id,
                kind=message.kind,
                text=message.text,
                payload=inbound_payload(message),
                dedup_key=stored_dedup_key(message),
                created_at=message.received_at,
            )
    except IntegrityError:
        if inbound_find(message=message) is None:
            raise
        return None
    event_record(
        kinds.MESSAGE_RECEIVED,
        channel=message.channel,
        customer_user_id=customer_user_id,
        occurred_at=message.received_at,
        payload={
            "message_id": stored.pk,
            "channel_account": message.channel_account,
            "kind": message.kind,
            "event": message.event,
            "event_key": message.event_key,
        },
    )
    return stored


def inbound_find(*, message: InboundMessage) -> ConversationMessage | None:
    return ConversationMessage.objects.filter(
        direction=Direction.INBOUND,
        channel=message.channel,
        channel_account=message.channel_account,
        dedup_key=stored_dedup_key(message),
    ).first()


def reply_record(*, inbound: ConversationMessage, reply: Reply, delivery: Delivery) -> ConversationMessage:
    """Store the reply to ``inbound`` and emit ``conversation.reply_sent`` (for a deferred reply
    the event is emitted when the channel's API accepted it, in ``reply_delivered``)."""
    outbound = ConversationMessage.objects.create(
        direction=Direction.OUTBOUND,
        channel=inbound.channel,
        channel_account=inbound.channel_account,
        sender_provider=inbound.sender_provider,
        sender_app_id=inbound.sender_app_id,
        sender_subject=inbound.sender_subject,
        customer_user_id=inbound.customer_user_id,
        kind=reply.kind,
        text=reply.text,
        payload=reply.as_payload(),
        reply_to=inbound,
        intent=reply.intent,
        keyword_rule_id=reply.rule_id,
        delivery=delivery,
        delivered_at=timezone.now() if delivery == Delivery.PASSIVE else None,
    )
    if delivery in (Delivery.PASSIVE, Delivery.NONE):
        _reply_sent_event(outbound)
    return outbound


def _reply_sent_event(outbound: ConversationMessage) -> None:
    event_record(
        kinds.REPLY_SENT,
        channel=outbound.channel,
        customer_user_id=outbound.customer_user_id,
        payload={
            "message_id": outbound.pk,
            "reply_to": outbound.reply_to_id,
            "channel_account": outbound.channel_account,
            "kind": outbound.kind,
            "intent": outbound.intent,
            "keyword_rule_id": outbound.keyword_rule_id,
            "delivery": outbound.delivery,
        },
    )


def inbound_rendered_store(*, inbound: ConversationMessage, rendered: str) -> None:
    ConversationMessage.objects.filter(pk=inbound.pk).update(rendered_reply=rendered)
    inbound.rendered_reply = rendered


@transaction.atomic
def reply_delivered(*, outbound: ConversationMessage) -> None:
    """A deferred reply went out through the channel's API."""
    outbound.delivery = Delivery.SENT
    outbound.delivered_at = timezone.now()
    outbound.delivery_error = ""
    outbound.save(update_fields=["delivery", "delivered_at", "delivery_error"])
    _reply_sent_event(outbound)


def reply_delivery_failed(*, outbound: ConversationMessage, error: str, permanent: bool) -> None:
    """Record a failed attempt; a permanent failure ends the reply's delivery."""
    outbound.delivery_error = error[:255]
    if permanent:
        outbound.delivery = Delivery.FAILED
    outbound.save(update_fields=["delivery", "delivery_error"])


# --- deferred replies --------------------------------------------------------------------------

# Channel → the dotted path of its outbound sender, ``send(*, channel_account, recipient, reply)``,
# which raises ``ChannelError(permanent=…)`` on failure. A dotted path, so that domain code never
# imports a channel package.
REPLY_SENDERS: dict[str, str] = {
    Channel.WECHAT: "powerdesk.channels.wechat.outbound.reply_send",
}


def reply_deliver(*, outbound: ConversationMessage) -> str:
    """Send a deferred reply through its channel's API; returns the delivery state.

    A permanent failure (the follower left, the 48-hour window closed) is recorded and ends
    it; a transient one is recorded and raised, so the task shows as failed and can be retried.
    """
    from django.utils.module_loading import import_string

    from powerdesk.channels.base import ChannelError

    if outbound.delivery != Delivery.DEFERRED:
        return outbound.delivery
    send = import_string(REPLY_SENDERS[outbound.channel])
    try:
        send(
            channel_account=outbound.channel_account,
            recipient=outbound.sender_subject,
            reply=Reply.from_payload(outbound.payload),
        )
    except ChannelError as exc:
        reply_delivery_failed(outbound=outbound, error=str(exc), permanent=exc.permanent)
        if not exc.permanent:
            raise
        return outbound.delivery
    reply_delivered(outbound=outbound)
    return outbound.delivery
