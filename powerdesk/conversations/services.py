"""Every write of the conversation engine: keyword rules and the inbox.

Rule writes bump the account's ``KeywordRuleSetVersion`` in the same transaction, so every
process rebuilds its automaton on its next lookup (keywords.py).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.conversations import events as kinds
from powerdesk.conversations.choices import (
    ConversationStatus,
    Delivery,
    Direction,
    Intent,
    MatchKind,
    MessageKind,
    RuleReplyKind,
)
from powerdesk.conversations.keywords import matcher_forget, max_regex_rules, normalise, regex_check
from powerdesk.conversations.messages import MAX_ARTICLES, InboundMessage, Reply
from powerdesk.conversations.models import (
    AutoReplySettings,
    Conversation,
    ConversationMessage,
    KeywordRule,
    KeywordRuleSetVersion,
)
from powerdesk.core.exceptions import ApplicationError
from powerdesk.core.rowsql import WriteBatch, insert_rows, insert_select_statement, insert_statement
from powerdesk.events.choices import Channel
from powerdesk.events.models import DomainEvent
from powerdesk.events.services import event_build, event_record, events_counted, events_save

# WeChat refuses a text message over 2,048 bytes (UTF-8), passive or customer-service; it is the
# tightest text limit of our channels, so every stored reply text is held to it.
MAX_TEXT_BYTES = 2048
MAX_PATTERN_LENGTH = 200  # KeywordRule.pattern
PRIORITY_MIN, PRIORITY_MAX = -9999, 9999
_MEDIA_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")

# --- keyword rules -----------------------------------------------------------------------------


def _rule_set_touch(*, channel: str, channel_account: str) -> None:
    matcher_forget(channel=channel, channel_account=channel_account)
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
        entry: dict[str, Any] = {
            name: str(item.get(name, "")).strip() for name in ("title", "description", "url", "pic_url")
        }
        if isinstance(item.get("article_id"), int):  # chosen from our published articles
            entry["article_id"] = item["article_id"]
        cleaned.append(entry)
    return cleaned


def text_check(text: str, *, field: str, label: str) -> str:
    """``text`` stripped, or ``ApplicationError`` when empty or over WeChat's 2,048 bytes."""
    text = (text or "").strip()
    if not text:
        raise ApplicationError("reply_empty", _("请填写%(label)s。") % {"label": label}, field=field)
    size = len(text.encode("utf-8"))
    if size > MAX_TEXT_BYTES:
        raise ApplicationError(
            "text_too_long",
            _("%(label)s为 %(size)s 字节，超过微信文本消息上限 %(max)s 字节（约 %(chars)s 个汉字）。")
            % {"label": label, "size": size, "max": MAX_TEXT_BYTES, "chars": MAX_TEXT_BYTES // 3},
            field=field,
        )
    return text


def keyword_articles_from_content(*, article_ids: list[int], site_url: str) -> list[dict[str, Any]]:
    """The articles reply of a rule, built from our *published* content articles, in the order
    given, with absolute links (``site_url`` + the H5 article page) as WeChat requires."""
    from powerdesk.content.models import Article as ContentArticle

    ids = list(dict.fromkeys(article_ids))
    if not 1 <= len(ids) <= MAX_ARTICLES:
        raise ApplicationError(
            "articles_invalid",
            _("图文回复应选择 1 至 %(max)s 篇已发布的文章。") % {"max": MAX_ARTICLES},
            field="reply_articles",
        )
    found = {article.pk: article for article in ContentArticle.objects.filter(pk__in=ids)}
    base = site_url.rstrip("/")
    chosen = []
    for article_id in ids:
        article = found.get(article_id)
        if article is None or not article.is_published:
            raise ApplicationError(
                "article_unpublished",
                _("文章 %(id)s 不存在或未发布，只能选择已发布的文章。") % {"id": article_id},
                field="reply_articles",
            )
        cover = article.cover_url()
        chosen.append(
            {
                "title": article.title,
                "description": article.summary,
                "url": base + article.get_absolute_url(),
                "pic_url": base + cover if cover else "",
                "article_id": article.pk,
            }
        )
    return chosen


def _pattern_taken(rule: KeywordRule) -> KeywordRule | None:
    """Another rule of the account with the same match kind whose pattern is the same once
    normalised (``电 费`` and ``电费`` are one automaton key: the second would never be told apart)."""
    key = normalise(rule.pattern) if rule.match_kind != MatchKind.REGEX else rule.pattern
    others = KeywordRule.objects.filter(
        channel=rule.channel, channel_account=rule.channel_account, match_kind=rule.match_kind
    ).exclude(pk=rule.pk)
    if rule.match_kind == MatchKind.REGEX:
        return others.filter(pattern=key).first()
    for pk, pattern in others.values_list("pk", "pattern").iterator(chunk_size=2000):
        if normalise(pattern) == key:
            return KeywordRule.objects.get(pk=pk)
    return None


def _rule_validate(rule: KeywordRule) -> None:
    rule.pattern = (rule.pattern or "").strip()
    if len(rule.pattern) > MAX_PATTERN_LENGTH:
        raise ApplicationError(
            "pattern_too_long",
            _("关键词不能超过 %(max)s 个字符。") % {"max": MAX_PATTERN_LENGTH},
            field="pattern",
        )
    if not isinstance(rule.priority, int) or not PRIORITY_MIN <= rule.priority <= PRIORITY_MAX:
        raise ApplicationError(
            "priority_invalid",
            _("优先级应为 %(min)s 至 %(max)s 之间的整数。") % {"min": PRIORITY_MIN, "max": PRIORITY_MAX},
            field="priority",
        )
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
    taken = _pattern_taken(rule)
    if taken is not None:
        raise ApplicationError(
            "rule_exists",
            _("已有%(kind)s规则“%(pattern)s”（编号 %(id)s）与此关键词相同（不区分全角半角、大小写和空格）。")
            % {"kind": MatchKind(rule.match_kind).label, "pattern": taken.pattern, "id": taken.pk},
            field="pattern",
            status=409,
        )
    if rule.reply_kind == RuleReplyKind.ARTICLES:
        rule.reply_articles = _clean_articles(rule.reply_articles)
    elif rule.reply_kind == RuleReplyKind.INTENT:
        if rule.reply_intent not in Intent.values:
            raise ApplicationError("intent_unknown", _("请选择业务功能。"), field="reply_intent")
    elif rule.reply_kind == RuleReplyKind.TEXT:
        rule.reply_text = text_check(rule.reply_text, field="reply_text", label=_("回复文本"))
    elif rule.reply_kind == RuleReplyKind.IMAGE:
        rule.reply_media_id = (rule.reply_media_id or "").strip()
        if not rule.reply_media_id:
            raise ApplicationError("reply_empty", _("请填写图片素材 media_id。"), field="reply_media_id")
        if not _MEDIA_ID.fullmatch(rule.reply_media_id):
            raise ApplicationError(
                "media_id_invalid",
                _("media_id 只能由字母、数字、下划线和连字符组成，最长 128 个字符。"),
                field="reply_media_id",
            )
    # Only the reply of the chosen kind is kept, so a rule never carries a stale other reply.
    if rule.reply_kind != RuleReplyKind.TEXT:
        rule.reply_text = ""
    if rule.reply_kind != RuleReplyKind.ARTICLES:
        rule.reply_articles = []
    if rule.reply_kind != RuleReplyKind.IMAGE:
        rule.reply_media_id = ""
    if rule.reply_kind != RuleReplyKind.INTENT:
        rule.reply_intent = ""


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


def _rule_event(kind, rule: KeywordRule, *, actor_staff_id: int | None, rule_id: int | None = None) -> None:
    event_record(
        kind,
        channel=Channel.CONSOLE if actor_staff_id else Channel.SYSTEM,
        actor_staff_id=actor_staff_id,
        payload={
            "rule_id": rule_id or rule.pk,
            "channel": rule.channel,
            "channel_account": rule.channel_account,
            "match_kind": rule.match_kind,
            "pattern": rule.pattern,
            "priority": rule.priority,
            "reply_kind": rule.reply_kind,
            "active": rule.active,
        },
    )


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
    actor_staff_id: int | None = None,
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
    _rule_save(rule)
    _rule_event(kinds.KEYWORD_RULE_CREATED, rule, actor_staff_id=actor_staff_id)
    return rule


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
def keyword_rule_update(
    *, rule: KeywordRule, actor_staff_id: int | None = None, **changes: Any
) -> KeywordRule:
    """Change a rule's fields (those in ``_EDITABLE``); the automaton is rebuilt on next use.

    On a refusal the rule object gets its stored values back, so the caller's copy never
    shows a change that was not saved.
    """
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    before = {name: getattr(rule, name) for name in _EDITABLE}
    for name, value in changes.items():
        setattr(rule, name, value)
    try:
        _rule_save(rule)
    except ApplicationError:
        for name, value in before.items():
            setattr(rule, name, value)
        raise
    _rule_event(kinds.KEYWORD_RULE_UPDATED, rule, actor_staff_id=actor_staff_id)
    return rule


@transaction.atomic
def keyword_rule_delete(*, rule: KeywordRule, actor_staff_id: int | None = None) -> None:
    channel, channel_account, rule_id = rule.channel, rule.channel_account, rule.pk
    rule.delete()
    _rule_set_touch(channel=channel, channel_account=channel_account)
    _rule_event(kinds.KEYWORD_RULE_DELETED, rule, actor_staff_id=actor_staff_id, rule_id=rule_id)


# --- the account's greeting and default reply ---------------------------------------------------


@transaction.atomic
def greeting_update(*, account, greeting: str, actor_staff_id: int | None = None) -> None:
    """Set a WeChat account's subscribe greeting (``WeChatAccount.greeting``, which the callback
    hands to the engine); empty restores the built-in one. ``account`` is the account row."""
    greeting = (greeting or "").strip()
    if greeting:
        greeting = text_check(greeting, field="greeting", label=_("关注欢迎语"))
    account.greeting = greeting
    account.save(update_fields=["greeting", "updated_at"])
    event_record(
        kinds.AUTO_REPLY_CHANGED,
        channel=Channel.CONSOLE,
        actor_staff_id=actor_staff_id,
        payload={"channel": Channel.WECHAT, "channel_account": account.slug, "field": "greeting"},
    )


@transaction.atomic
def fallback_reply_update(
    *, channel: Channel | str, channel_account: str, fallback_text: str, actor_staff_id: int | None = None
) -> AutoReplySettings:
    """Set the account's default reply (what answers when no rule, command or article does);
    empty restores the engine's built-in "not found" text with the keyword menu."""
    fallback_text = (fallback_text or "").strip()
    if fallback_text:
        fallback_text = text_check(fallback_text, field="fallback_text", label=_("默认回复"))
    row, _created = AutoReplySettings.objects.select_for_update().get_or_create(
        channel=Channel(channel), channel_account=channel_account
    )
    row.fallback_text = fallback_text
    row.updated_by_id = actor_staff_id
    row.save()
    event_record(
        kinds.AUTO_REPLY_CHANGED,
        channel=Channel.CONSOLE,
        actor_staff_id=actor_staff_id,
        payload={"channel": str(channel), "channel_account": channel_account, "field": "fallback_text"},
    )
    return row


def keyword_rule_hit(*, rule_id: int, batch: WriteBatch | None = None) -> None:
    """Count a hit: one UPDATE adding 1 in the database, so concurrent hits all count (with
    ``batch``, added to it). The engine writes it last before commit, since the row lock it
    takes is shared by every message the rule answers (the statement is written once, not
    compiled per message)."""
    sql, params = _rule_hit_statement(rule_id)
    if batch is not None:
        batch.add(sql, params)
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _rule_hit_statement(rule_id: int, *, only_if: str = "") -> tuple[str, list]:
    table = KeywordRule._meta.db_table
    sql = f'UPDATE "{table}" SET "hit_count" = "hit_count" + 1, "last_hit_at" = %s WHERE "id" = %s'  # noqa: S608 (names from the model)
    if only_if:
        sql += f" AND {only_if}"
    return sql, [connection.ops.adapt_datetimefield_value(timezone.now()), rule_id]


@transaction.atomic
def auto_replies_update(
    *, account, greeting: str, fallback_text: str, actor_staff_id: int | None = None
) -> None:
    """Both of a WeChat account's automatic texts at once: all saved, or (on a refusal) none."""
    greeting_update(account=account, greeting=greeting, actor_staff_id=actor_staff_id)
    fallback_reply_update(
        channel=Channel.WECHAT,
        channel_account=account.slug,
        fallback_text=fallback_text,
        actor_staff_id=actor_staff_id,
    )


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


def inbound_record(
    *,
    message: InboundMessage,
    customer_user_id: int | None,
    pending_events: list[DomainEvent] | None = None,
    touch_thread: bool = True,
) -> ConversationMessage | None:
    """Store an inbound message and emit ``conversation.message_received``; None when the
    channel account already has a message with this dedup key (a retry). Must run inside the
    caller's transaction: the unique constraint is what stops two racing retries (the second
    INSERT waits for the first transaction and then inserts nothing).

    ``pending_events``: append the event there for the caller to write with its others
    (``events_save``) instead of writing it now. ``touch_thread=False``: the caller updates the
    sender's thread itself, once, with ``thread_touch`` (the engine does, after the reply).
    """
    stored = _inbound_row(message, customer_user_id)
    (key,) = insert_rows([stored], on_conflict="nothing", returning_pk=True)
    if key is None:
        return None
    _event_emit(_received_event(stored, message), pending_events)
    if touch_thread:
        thread_touch(stored, needs_staff=False)
    return stored


def _inbound_row(message: InboundMessage, customer_user_id: int | None) -> ConversationMessage:
    return ConversationMessage(
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


def _received_event(stored: ConversationMessage, message: InboundMessage) -> DomainEvent:
    """``conversation.message_received`` for ``stored`` (its ``message_id`` is None until it
    has been saved: ``exchange_record`` fills it in within its statement)."""
    return event_build(
        kinds.MESSAGE_RECEIVED,
        channel=message.channel,
        customer_user_id=stored.customer_user_id,
        occurred_at=message.received_at,
        payload={
            "message_id": stored.pk,
            "channel_account": message.channel_account,
            "kind": message.kind,
            "event": message.event,
            "event_key": message.event_key,
        },
    )


def _event_emit(event: DomainEvent, pending_events: list[DomainEvent] | None) -> None:
    if pending_events is None:
        events_save([event])
    else:
        pending_events.append(event)


def inbound_find(*, message: InboundMessage) -> ConversationMessage | None:
    return ConversationMessage.objects.filter(
        direction=Direction.INBOUND,
        channel=message.channel,
        channel_account=message.channel_account,
        dedup_key=stored_dedup_key(message),
    ).first()


def reply_record(
    *,
    inbound: ConversationMessage,
    reply: Reply,
    delivery: Delivery,
    rendered: str = "",
    pending_events: list[DomainEvent] | None = None,
    touch_thread: bool = True,
) -> ConversationMessage:
    """Store the reply to ``inbound`` — with ``rendered``, the exact answer body the channel got
    (a retry gets it back verbatim) — and emit ``conversation.reply_sent`` (for a deferred reply
    the event is emitted when the channel's API accepted it, in ``reply_delivered``)."""
    outbound = _reply_row(inbound, reply, delivery, rendered)
    outbound.reply_to = inbound
    insert_rows([outbound], returning_pk=True)
    if _reply_emits_event(delivery):
        _event_emit(_reply_sent_event(outbound), pending_events)
    if touch_thread and reply_needs_staff(reply):
        thread_touch(inbound, needs_staff=True)
    return outbound


def _reply_row(inbound: ConversationMessage, reply: Reply, delivery: Delivery, rendered: str) -> ConversationMessage:
    return ConversationMessage(
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
        reply_to_id=inbound.pk,
        intent=reply.intent,
        keyword_rule_id=reply.rule_id,
        rendered_reply=rendered,
        delivery=delivery,
        delivered_at=timezone.now() if delivery == Delivery.PASSIVE else None,
    )


def _reply_emits_event(delivery: Delivery) -> bool:
    """A deferred reply's ``reply_sent`` waits until the channel's API accepted it."""
    return delivery in (Delivery.PASSIVE, Delivery.NONE)


# --- inbox threads (one per sender and account; the console's 留言) ------------------------------

# Events WeChat itself sends (FromUserName "mphelper"): not a follower, no thread.
NOT_FROM_FOLLOWER = frozenset({"masssendjobfinish", "templatesendjobfinish"})
# Events that, like any message, open WeChat's customer-service window (docs/inbox.md).
WINDOW_EVENTS = frozenset({"subscribe", "scan", "click"})
# Automatic answers that leave the follower waiting for a person.
NEEDS_STAFF_INTENTS = frozenset({"fallback", Intent.HUMAN.value})


def reply_needs_staff(reply: Reply) -> bool:
    return str(reply.intent) in NEEDS_STAFF_INTENTS


def thread_for_update(
    *, channel: str, channel_account: str, sender_subject: str, **create: Any
) -> Conversation:
    """The sender's thread, locked for this transaction, created on first contact (a create
    racing another waits on the unique index, then locks the winner's row)."""
    key = {"channel": channel, "channel_account": channel_account, "sender_subject": sender_subject}
    thread = Conversation.objects.select_for_update().filter(**key).first()
    if thread is not None:
        return thread
    try:
        with transaction.atomic():
            return Conversation.objects.create(**key, **create)
    except IntegrityError:
        return Conversation.objects.select_for_update().get(**key)


THREAD_ALIAS = "t"  # the thread INSERT's target in its ON CONFLICT clause


def _thread_upsert_clause() -> str:
    """What ``thread_touch`` does to an existing thread, as one ``ON CONFLICT … DO UPDATE``
    (PostgreSQL and SQLite share the syntax; ``excluded`` is the row we tried to insert, ``t``
    the thread as it is — the INSERT names its target ``THREAD_ALIAS``)."""
    newer = '(t."last_message_id" IS NULL OR excluded."last_message_at" >= t."last_message_at")'
    return (
        'ON CONFLICT ("channel", "channel_account", "sender_subject") DO UPDATE SET '
        f'"last_message_id" = CASE WHEN {newer} THEN excluded."last_message_id" ELSE t."last_message_id" END, '
        f'"last_message_at" = CASE WHEN {newer} THEN excluded."last_message_at" ELSE t."last_message_at" END, '
        '"customer_user_id" = excluded."customer_user_id", '
        '"last_interaction_at" = CASE WHEN excluded."last_interaction_at" IS NOT NULL AND '
        '(t."last_interaction_at" IS NULL OR excluded."last_interaction_at" > t."last_interaction_at") '
        'THEN excluded."last_interaction_at" ELSE t."last_interaction_at" END, '
        '"unread_count" = t."unread_count" + excluded."unread_count", '
        '"needs_reply" = CASE WHEN excluded."needs_reply" THEN excluded."needs_reply" ELSE t."needs_reply" END, '
        '"status" = CASE WHEN excluded."needs_reply" THEN excluded."status" ELSE t."status" END, '
        '"updated_at" = excluded."updated_at"'
    )


def thread_touch(inbound: ConversationMessage, *, needs_staff: bool, batch: WriteBatch | None = None) -> None:
    """File an inbound message in its sender's thread — created on first contact — in one
    statement: it becomes the thread's last message (unless a newer one is there), counts as
    unread when it is a message, opens the customer-service window when it is a message or a
    window event, and with ``needs_staff`` (the automatic answer was not enough) marks the
    thread as needing a person and reopens it. Automatic replies are not the thread's last
    message: the inbox lists what the follower (or a staff member) last said. With ``batch``
    the statement is added to it."""
    row = _thread_row(inbound, needs_staff=needs_staff)
    if row is None:
        return
    if batch is not None:
        batch.add(*insert_statement([row], on_conflict=_thread_upsert_clause(), alias=THREAD_ALIAS))
        return
    insert_rows([row], on_conflict=_thread_upsert_clause(), alias=THREAD_ALIAS)


def _thread_row(inbound: ConversationMessage, *, needs_staff: bool) -> Conversation | None:
    """The thread row ``thread_touch`` upserts for ``inbound`` (None: WeChat's own reports)."""
    event = (inbound.payload or {}).get("event", "")
    if inbound.kind == MessageKind.EVENT and event in NOT_FROM_FOLLOWER:
        return None
    is_message = inbound.kind != MessageKind.EVENT
    at = inbound.created_at
    return Conversation(
        channel=inbound.channel,
        channel_account=inbound.channel_account,
        sender_subject=inbound.sender_subject,
        sender_provider=inbound.sender_provider,
        sender_app_id=inbound.sender_app_id,
        customer_user_id=inbound.customer_user_id,
        last_message_id=inbound.pk,
        last_message_at=at,
        last_interaction_at=at if (is_message or event in WINDOW_EVENTS) else None,
        unread_count=1 if is_message else 0,
        needs_reply=needs_staff,
        status=ConversationStatus.OPEN,
        created_at=at,
    )


# --- a message and its automatic reply, stored together (the engine's write) -------------------


def exchange_record(
    *,
    message: InboundMessage,
    customer_user_id: int | None,
    reply: Reply,
    delivery: Delivery,
    rendered: str = "",
) -> tuple[ConversationMessage, ConversationMessage] | None:
    """Store an inbound message with the reply already resolved for it, both events, the
    sender's thread and the keyword rule's hit: all of it, or nothing when the channel account
    already has a message with this dedup key (a retry, even one racing the first: None).

    On PostgreSQL this is **one** statement — the inbound INSERT … ON CONFLICT DO NOTHING in a
    ``WITH`` clause and every other write selecting from its ``RETURNING`` row, so they happen
    exactly when it did. Outside a transaction it commits on its own: three round trips per
    message fewer than BEGIN, the INSERTs and COMMIT (docs/performance.md, fifth pass). Elsewhere
    (SQLite) the same writes run in order in one transaction.

    The rows are the ones ``inbound_record`` + ``reply_record`` + ``thread_touch`` +
    ``keyword_rule_hit`` write (tests/test_exchange_record.py compares them)."""
    write = _exchange_record_one_statement if connection.vendor == "postgresql" else _exchange_record_in_order
    return write(
        message=message, customer_user_id=customer_user_id, reply=reply, delivery=delivery, rendered=rendered
    )


def _exchange_record_in_order(
    *,
    message: InboundMessage,
    customer_user_id: int | None,
    reply: Reply,
    delivery: Delivery,
    rendered: str,
) -> tuple[ConversationMessage, ConversationMessage] | None:
    with transaction.atomic():
        events: list[DomainEvent] = []
        inbound = inbound_record(
            message=message, customer_user_id=customer_user_id, pending_events=events, touch_thread=False
        )
        if inbound is None:
            return None
        return inbound, reply_and_rest_record(
            inbound=inbound, reply=reply, delivery=delivery, rendered=rendered, pending_events=events
        )


def reply_and_rest_record(
    *,
    inbound: ConversationMessage,
    reply: Reply,
    delivery: Delivery,
    rendered: str,
    pending_events: list[DomainEvent],
) -> ConversationMessage:
    """After ``inbound_record`` (in the caller's transaction): the reply, the events (those in
    ``pending_events`` and the reply's), the thread and the rule's hit — the last three as one
    statement on PostgreSQL, after the reply: the thread and the rule are rows other messages
    share, locked from here until commit."""
    outbound = reply_record(
        inbound=inbound,
        reply=reply,
        delivery=delivery,
        rendered=rendered,
        pending_events=pending_events,
        touch_thread=False,
    )
    writes = WriteBatch()
    events_save(pending_events, batch=writes)
    thread_touch(inbound, needs_staff=reply_needs_staff(reply), batch=writes)
    if reply.rule_id is not None:
        keyword_rule_hit(rule_id=reply.rule_id, batch=writes)
    writes.run()
    return outbound


# The inbound row's columns the other rows repeat: taken from its RETURNING row in the statement
# rather than sent again as parameters. Fewer parameters are less to adapt, and psycopg caches a
# statement's conversion only up to 50 of them (psycopg._queries.MAX_CACHED_STATEMENT_PARAMS;
# test_exchange_record pins ours under it).
_SHARED = ("channel", "channel_account", "sender_provider", "sender_app_id", "sender_subject", "customer_user_id")
_FROM_INBOUND = {name: f'inbound."{name}"' for name in _SHARED}
_INBOUND_RETURNING = ' RETURNING "id", "created_at", ' + ", ".join(f'"{name}"' for name in _SHARED)
# What an automatic reply never has (a staff reply's fields, an inbound row's dedup key).
_REPLY_CONSTANTS = {"dedup_key": "''", "request_token": "''", "delivery_error": "''", "staff_author_id": "NULL"}
_EVENT_FROM_INBOUND = {
    "channel": 'inbound."channel"',
    "customer_user_id": 'inbound."customer_user_id"',
    "account_id": "NULL",  # a message is about no one account, and no staff member acts
    "actor_staff_id": "NULL",
}


def _exchange_record_one_statement(
    *,
    message: InboundMessage,
    customer_user_id: int | None,
    reply: Reply,
    delivery: Delivery,
    rendered: str,
) -> tuple[ConversationMessage, ConversationMessage] | None:
    inbound = _inbound_row(message, customer_user_id)
    outbound = _reply_row(inbound, reply, delivery, rendered)
    events = [_received_event(inbound, message)]
    inbound_sql, inbound_params = insert_statement([inbound], on_conflict="nothing")
    clauses: list[tuple[str, list]] = [
        (inbound_sql + _INBOUND_RETURNING, inbound_params),
        insert_select_statement(
            outbound,
            source="inbound",
            expressions={**_FROM_INBOUND, **_REPLY_CONSTANTS, "reply_to_id": 'inbound."id"'},
            returning_pk=True,
        ),
        insert_select_statement(
            events[0],
            source="inbound",
            expressions={
                **_EVENT_FROM_INBOUND,
                "occurred_at": 'inbound."created_at"',
                "payload": "CAST(%s AS jsonb) || jsonb_build_object('message_id', inbound.\"id\")",
            },
        ),
    ]
    if _reply_emits_event(delivery):
        events.append(_reply_sent_event(outbound))
        clauses.append(
            insert_select_statement(
                events[1],
                source="inbound, outbound",
                expressions={
                    **_EVENT_FROM_INBOUND,
                    "payload": "CAST(%s AS jsonb) || jsonb_build_object("
                    "'message_id', outbound.\"id\", 'reply_to', inbound.\"id\")",
                },
            )
        )
    thread = _thread_row(inbound, needs_staff=reply_needs_staff(reply))
    if thread is not None:
        clauses.append(
            insert_select_statement(
                thread,
                source="inbound",
                expressions={
                    **_FROM_INBOUND,
                    "last_message_id": 'inbound."id"',
                    "last_message_at": 'inbound."created_at"',
                    "created_at": 'inbound."created_at"',
                },
                on_conflict=_thread_upsert_clause(),
                alias=THREAD_ALIAS,
            )
        )
    if reply.rule_id is not None:
        clauses.append(_rule_hit_statement(reply.rule_id, only_if="EXISTS (SELECT FROM inbound)"))
    names = ["inbound", "outbound"] + [f"w{index}" for index in range(2, len(clauses))]
    # The clauses are built from the models above; every value is a parameter.
    with_clauses = ", ".join(f"{name} AS ({clause})" for name, (clause, _p) in zip(names, clauses, strict=True))
    sql = f'WITH {with_clauses} SELECT inbound."id", outbound."id" FROM inbound, outbound'  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for _clause, params in clauses for value in params])
        row = cursor.fetchone()
    if row is None:  # the dedup key was taken: nothing was written
        return None
    for stored, key in zip((inbound, outbound), row, strict=True):
        stored.pk = key
        stored._state.adding = False
        stored._state.db = connection.alias
    outbound.reply_to = inbound
    for event in events:
        event._state.adding = False
    events_counted(events)
    return inbound, outbound


def _reply_sent_event(outbound: ConversationMessage) -> DomainEvent:
    return event_build(
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


@transaction.atomic
def reply_delivered(*, outbound: ConversationMessage) -> None:
    """A deferred reply went out through the channel's API."""
    outbound.delivery = Delivery.SENT
    outbound.delivered_at = timezone.now()
    outbound.delivery_error = ""
    outbound.save(update_fields=["delivery", "delivered_at", "delivery_error"])
    events_save([_reply_sent_event(outbound)])


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
