"""``handle_inbound``: the one entry point every channel adapter calls.

Intent resolution runs in a fixed order; the first step that answers wins:

1. **event / menu key** — subscribe → greeting, unsubscribe → nothing, a menu click's key →
   its intent (``MENU_KEYS``, or a key spelled like an intent); other events → nothing.
   A location message → the outage intent; a voice message with recognised speech is resolved
   as its text; other media → the fallback.
2. **keyword rules** of the channel account (keywords.py: exact, contains, regex).
3. **SMS command** — a parser registered for the channel (``command_parser_register``); the SMS
   adapter registers one, no other channel has any. A parser returns an ``Intent``, or an
   ``intents.Command`` carrying arguments (the 户号 of ``CXDF 0000000001``), or None; a channel
   may register its own help text with it, which the menu intent and the fallback then show.
4. **knowledge base** — ``powerdesk.content``'s article search, when that app is installed.
5. **fallback** — "not found" and the menu of keywords.

Storage and dedup: the inbound message is stored together with its reply (one statement on
PostgreSQL, one transaction elsewhere; an answer that writes is resolved after the message was
stored, in its transaction); a second arrival with the same dedup key (a channel retry, even one
racing the first) stores nothing, acts on nothing, and gets the first answer back verbatim
(``Reply.replayed``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

from django.apps import apps
from django.db import transaction
from django.utils.translation import gettext as _

from powerdesk.conversations import intents, services
from powerdesk.conversations.choices import Delivery, Intent, MessageKind, ReplyKind, RuleReplyKind
from powerdesk.conversations.keywords import account_rules
from powerdesk.conversations.messages import (
    MAX_ARTICLES,
    Article,
    ChannelContext,
    InboundMessage,
    Reply,
)
from powerdesk.conversations.models import KeywordRule
from powerdesk.conversations.sender import Sender
from powerdesk.customers.models import CustomerUser

log = logging.getLogger(__name__)

Renderer = Callable[[Reply], str]
CommandParser = Callable[[InboundMessage], "Intent | intents.Command | None"]

# Menu (CLICK) event keys → intents. A key spelled like an intent ("bill", "BILL") works too.
MENU_KEYS: dict[str, Intent] = {
    "BILL_QUERY": Intent.BILL,
    "BALANCE_QUERY": Intent.BALANCE,
    "PAY_BILL": Intent.PAY,
    "OUTAGE_QUERY": Intent.OUTAGE,
    "REPAIR": Intent.REPAIR,
    "HUMAN_SERVICE": Intent.HUMAN,
    "HELP": Intent.MENU,
}

_command_parsers: dict[str, CommandParser] = {}


def command_parser_register(
    channel: str, parser: CommandParser, *, menu: Callable[[], str] | None = None
) -> None:
    """Step 3's hook: the SMS adapter registers its command parser (CXDF, YE, TD, BZ…) here,
    and with ``menu`` the list of its commands (shown for the menu intent and the fallback)."""
    _command_parsers[str(channel)] = parser
    if menu is not None:
        intents.channel_menu_register(channel, menu)


# --- the entry point ---------------------------------------------------------------------------


def handle_inbound(
    message: InboundMessage, *, context: ChannelContext | None = None, render: Renderer | None = None
) -> Reply:
    """Store ``message``, resolve and store the reply, emit both events, and return the reply.

    ``render`` turns a reply into the channel's answer body; its result is stored with the
    reply and is what ``Reply.rendered`` holds — also for every retry. A reply that
    is deferred (``context.defer_reply``, or not ready within ``context.passive_reply_seconds``)
    renders as ``""`` and is sent through the channel's API after commit (tasks.py).

    Most answers only read (a bill, the menu, a rule's text): the reply is resolved first and
    then stored with the message in one write (``services.exchange_record``). An answer that
    writes (``intents.WRITING_INTENTS``: 退订) is resolved only after the message was stored, in
    the same transaction, so a retry never acts twice.
    """
    context = context or ChannelContext()
    sender = Sender(message.sender)  # looked up when an intent first needs it, or below
    try:
        reply = resolve_reply(message, sender=sender, context=context, writes_allowed=False)
    except intents.WritesNeeded:
        return _handle_writing(message, customer_user=sender.customer_user, context=context, render=render)
    delivery, rendered, deferred = _delivery(reply, context, render)
    customer_user = sender.customer_user
    stored = services.exchange_record(
        message=message,
        customer_user_id=customer_user.pk if customer_user else None,
        reply=reply,
        delivery=delivery,
        rendered=rendered,
    )
    if stored is None:
        return _replay(message)
    if deferred:
        _deferred_dispatch(stored[1])
    return reply.with_outcome(rendered=rendered, deferred=deferred)


def _handle_writing(
    message: InboundMessage,
    *,
    customer_user: CustomerUser | None,
    context: ChannelContext,
    render: Renderer | None,
) -> Reply:
    """The message stored first, then the answer that writes, in one transaction."""
    with transaction.atomic():
        events: list = []
        inbound = services.inbound_record(
            message=message,
            customer_user_id=customer_user.pk if customer_user else None,
            pending_events=events,
            touch_thread=False,
        )
        if inbound is None:
            return _replay(message)
        reply = resolve_reply(message, sender=Sender.known(customer_user), context=context)
        delivery, rendered, deferred = _delivery(reply, context, render)
        outbound = services.reply_and_rest_record(
            inbound=inbound, reply=reply, delivery=delivery, rendered=rendered, pending_events=events
        )
        if deferred:
            _deferred_dispatch(outbound)
    return reply.with_outcome(rendered=rendered, deferred=deferred)


def _delivery(reply: Reply, context: ChannelContext, render: Renderer | None) -> tuple[Delivery, str, bool]:
    deferred = not reply.is_nothing and (context.defer_reply or _too_late(context))
    delivery = Delivery.NONE if reply.is_nothing else Delivery.DEFERRED if deferred else Delivery.PASSIVE
    rendered = render(reply) if render is not None and delivery == Delivery.PASSIVE else ""
    return delivery, rendered, deferred


def _deferred_dispatch(outbound) -> None:
    from powerdesk.conversations.tasks import reply_deliver_dispatch

    reply_deliver_dispatch(message_id=outbound.pk)


def _too_late(context: ChannelContext) -> bool:
    if context.passive_reply_seconds is None or context.started_at is None:
        return False
    return time.monotonic() - context.started_at > context.passive_reply_seconds


def _replay(message: InboundMessage) -> Reply:
    inbound = services.inbound_find(message=message)
    outbound = inbound.replies.order_by("id").first() if inbound else None
    if outbound is None:  # cannot happen: both are written in one transaction
        return Reply.nothing().with_outcome(rendered="", replayed=True)
    reply = Reply.from_payload(outbound.payload)
    return reply.with_outcome(
        rendered=outbound.rendered_reply, replayed=True, deferred=outbound.delivery != Delivery.PASSIVE
    )


# --- resolution, in the documented order -------------------------------------------------------


def resolve_reply(
    message: InboundMessage,
    *,
    sender: Sender | None = None,
    customer_user: CustomerUser | None = None,
    context: ChannelContext,
    writes_allowed: bool = True,
) -> Reply:
    """The reply to ``message`` from ``sender`` (or a sender known to be ``customer_user``).
    With ``writes_allowed=False`` nothing is written: an answer that would write raises
    ``intents.WritesNeeded`` instead (the engine's first try, and the console's test box)."""
    request = intents.IntentRequest(
        message=message,
        sender=sender or Sender.known(customer_user),
        context=context,
        writes_allowed=writes_allowed,
    )
    text = message.text.strip()
    if message.kind == MessageKind.EVENT:
        return intents.answer(_event_intent(message), request)
    if message.kind == MessageKind.LOCATION:
        return intents.answer(Intent.OUTAGE, request)
    if text and message.kind in (MessageKind.TEXT, MessageKind.VOICE):
        for step in (_keyword_reply, _command_reply, _knowledge_base_reply):
            reply = step(message, text, request)
            if reply is not None:
                return reply
    return fallback_reply(message)


def _event_intent(message: InboundMessage) -> Intent:
    event = message.event
    if event in ("subscribe", "scan"):
        return Intent.GREETING
    if event == "click":
        key = message.event_key.strip()
        intent = MENU_KEYS.get(key.upper())
        if intent is None and key.lower() in Intent.values:
            intent = Intent(key.lower())
        return intent or Intent.MENU
    # unsubscribe, reported locations, link clicks (VIEW), job-finished reports, anything new
    return Intent.SILENT


def _keyword_reply(message: InboundMessage, text: str, request: intents.IntentRequest) -> Reply | None:
    loaded = account_rules(channel=message.channel, channel_account=message.channel_account)
    match = loaded.matcher.match(text)
    if match is None:
        return None
    return rule_reply(loaded.rules[match.rule.rule_id], request)


def rule_reply(rule: KeywordRule, request: intents.IntentRequest) -> Reply:
    if rule.reply_kind == RuleReplyKind.INTENT:
        return replace(intents.answer(rule.reply_intent, request), rule_id=rule.pk)
    if rule.reply_kind == RuleReplyKind.ARTICLES:
        articles = tuple(
            Article(
                title=item.get("title", ""),
                description=item.get("description", ""),
                url=item.get("url", ""),
                pic_url=item.get("pic_url", ""),
            )
            for item in rule.reply_articles[:MAX_ARTICLES]
        )
        return Reply(kind=ReplyKind.ARTICLES, articles=articles, intent="keyword", rule_id=rule.pk)
    if rule.reply_kind == RuleReplyKind.IMAGE:
        return Reply(kind=ReplyKind.IMAGE, media_id=rule.reply_media_id, intent="keyword", rule_id=rule.pk)
    return Reply.text_reply(rule.reply_text, intent="keyword", rule_id=rule.pk)


def _command_reply(message: InboundMessage, text: str, request: intents.IntentRequest) -> Reply | None:
    parser = _command_parsers.get(str(message.channel))
    parsed = parser(message) if parser is not None else None
    if parsed is None:
        return None
    if isinstance(parsed, intents.Command):
        return intents.answer(parsed.intent, replace(request, command=parsed))
    return intents.answer(parsed, request)


def _article_search():
    """``powerdesk.content``'s ``article_search``, imported only when that app is installed (it
    is built beside this engine; without it the knowledge-base step never answers)."""
    if not apps.is_installed("powerdesk.content"):
        return None
    try:
        from powerdesk.content.selectors import article_search
    except ImportError:
        return None
    return article_search


def _article_from_hit(hit, context: ChannelContext) -> Article:
    article = hit.article
    url = article.get_absolute_url() if hasattr(article, "get_absolute_url") else ""
    if url.startswith("/"):
        url = context.site_url.rstrip("/") + url
    cover = getattr(article, "cover_url", "")
    cover = (cover() if callable(cover) else cover) or ""
    if cover.startswith("/"):
        cover = context.site_url.rstrip("/") + cover
    return Article(
        title=str(getattr(article, "title", "")),
        description=str(getattr(hit, "snippet", "") or getattr(article, "summary", "") or ""),
        url=url,
        pic_url=cover,
    )


def _knowledge_base_reply(message: InboundMessage, text: str, request: intents.IntentRequest) -> Reply | None:
    search = _article_search()
    if search is None:
        return None
    try:
        hits = search(query=text, limit=MAX_ARTICLES)
        articles = tuple(_article_from_hit(hit, request.context) for hit in hits[:MAX_ARTICLES])
    except Exception:  # a broken search must not cost the sender the fallback answer
        log.exception("knowledge-base search failed", extra={"channel": message.channel})
        return None
    articles = tuple(article for article in articles if article.title)
    if not articles:
        return None
    return Reply(kind=ReplyKind.ARTICLES, articles=articles, intent="knowledge_base")


def fallback_reply(message: InboundMessage) -> Reply:
    """The account's own default reply (关键词回复 → 默认回复) when staff set one, else ours."""
    from powerdesk.conversations.selectors import fallback_text_for

    custom = fallback_text_for(channel=message.channel, channel_account=message.channel_account)
    if custom:
        return Reply.text_reply(custom, intent="fallback")
    if message.kind in (MessageKind.TEXT, MessageKind.VOICE):
        lead = _("抱歉，暂时没有找到与您的问题相关的内容。")
    else:
        lead = _("已收到您的消息。")
    return Reply.text_reply(lead + "\n\n" + intents.menu_text(message.channel), intent="fallback")
