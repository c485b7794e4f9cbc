"""Reads of the conversation engine used by the console: keyword rules, the keyword test box, the
inbox (threads scoped to the staff member, followers' masked profiles, the reply window).

Scope of the inbox (docs/inbox.md): a staff member sees a follower's thread when the follower is
bound (actively) to at least one account of the staff member's supply unit or below, or is bound
to no account at all. An out-of-scope thread answers NotFound, exactly like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.conversations.choices import ConversationStatus, MatchKind, MessageKind
from powerdesk.conversations.keywords import RuleMatch, decisive_reason, keyword_rule_test
from powerdesk.conversations.models import AutoReplySettings, Conversation, ConversationMessage, KeywordRule
from powerdesk.core.exceptions import NotFound
from powerdesk.customers.models import Account, Identity
from powerdesk.customers.services import active_bindings
from powerdesk.customers.validators import mask_name
from powerdesk.events.choices import Channel
from powerdesk.staff.roles import ROLE_PERMISSIONS, Perm
from powerdesk.staff.scoping import scope_to_staff

# --- keyword rules -----------------------------------------------------------------------------


def keyword_rules(
    *,
    channel: str,
    channel_account: str,
    match_kind: str = "",
    reply_kind: str = "",
    active: bool | None = None,
    query: str = "",
    order: str = "priority",
) -> QuerySet[KeywordRule]:
    """An account's rules, filtered; ``order`` is ``priority`` (the matcher's tie order) or ``hits``."""
    rules = KeywordRule.objects.filter(channel=channel, channel_account=channel_account)
    if match_kind:
        rules = rules.filter(match_kind=match_kind)
    if reply_kind:
        rules = rules.filter(reply_kind=reply_kind)
    if active is not None:
        rules = rules.filter(active=active)
    if query.strip():
        rules = rules.filter(pattern__icontains=query.strip())
    if order == "hits":
        return rules.order_by("-hit_count", "-priority", "id")
    return rules.order_by("-priority", "id")


def keyword_rule_get(*, rule_id: int, channel: str = Channel.WECHAT) -> KeywordRule:
    rule = KeywordRule.objects.filter(pk=rule_id, channel=channel).first()
    if rule is None:
        raise NotFound("rule_not_found", _("没有这条关键词规则。"))
    return rule


def fallback_text_for(*, channel: str, channel_account: str) -> str:
    """The account's own default reply, or ``""`` for the engine's built-in one."""
    return (
        AutoReplySettings.objects.filter(channel=channel, channel_account=channel_account)
        .values_list("fallback_text", flat=True)
        .first()
        or ""
    )


@dataclass(frozen=True)
class Candidate:
    match: RuleMatch
    rule: KeywordRule | None
    lost_because: str  # empty for the winner


@dataclass(frozen=True)
class KeywordTestOutcome:
    text: str
    normalised: str
    candidates: list[Candidate]
    regex_skipped: bool  # regex rules exist but were not evaluated: an exact/contains rule matched

    @property
    def winner(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


def keyword_test(*, channel: str, channel_account: str, text: str) -> KeywordTestOutcome:
    """The console's test box: the engine's own matcher (``keywords.keyword_rule_test``, the
    same cached automaton ``handle_inbound`` uses), every candidate best first, and for each
    loser the criterion that decided against it. Counts no hit."""
    result = keyword_rule_test(channel=channel, channel_account=channel_account, text=text)
    rules = KeywordRule.objects.in_bulk([match.rule.rule_id for match in result.candidates])
    candidates = [
        Candidate(
            match=match,
            rule=rules.get(match.rule.rule_id),
            lost_because="" if index == 0 else decisive_reason(result.candidates[0], match),
        )
        for index, match in enumerate(result.candidates)
    ]
    regex_skipped = bool(
        result.candidates
        and result.candidates[0].match_kind != MatchKind.REGEX
        and KeywordRule.objects.filter(
            channel=channel, channel_account=channel_account, match_kind=MatchKind.REGEX, active=True
        ).exists()
    )
    return KeywordTestOutcome(
        text=text, normalised=result.normalised, candidates=candidates, regex_skipped=regex_skipped
    )


# --- the inbox ---------------------------------------------------------------------------------


def _bound_to(prefix: str = "") -> QuerySet:
    """Active bindings of the customer user owning the thread's sender identity."""
    return active_bindings().filter(
        customer_user__is_active=True,
        customer_user__identities__provider=OuterRef(f"{prefix}sender_provider"),
        customer_user__identities__app_id=OuterRef(f"{prefix}sender_app_id"),
        customer_user__identities__subject=OuterRef(f"{prefix}sender_subject"),
    )


def scope_threads(threads: QuerySet[Conversation], staff) -> QuerySet[Conversation]:
    """Threads of followers bound to an account in the staff member's scope, or bound to none
    (fails closed: a staff member without a supply unit sees nothing)."""
    if getattr(staff, "supply_unit", None) is None:
        return threads.none()
    bound = _bound_to()
    in_scope = scope_to_staff(bound, staff, unit_field="account__supply_unit")
    return threads.filter(~Exists(bound) | Exists(in_scope))


class InboxView:
    ALL = "all"
    UNASSIGNED = "unassigned"
    MINE = "mine"
    NEEDS_REPLY = "needs_reply"
    choices = (ALL, UNASSIGNED, MINE, NEEDS_REPLY)


def inbox_threads(
    *,
    staff,
    channel: str = Channel.WECHAT,
    channel_account: str = "",
    view: str = InboxView.ALL,
    status: str = "",
) -> QuerySet[Conversation]:
    """The inbox as the console lists it, newest activity first; the same filters for every
    interface. ``view``: all / unassigned / mine / needs_reply."""
    threads = Conversation.objects.filter(channel=channel)
    if channel_account:
        threads = threads.filter(channel_account=channel_account)
    if view == InboxView.UNASSIGNED:
        threads = threads.filter(assigned_to__isnull=True).exclude(status=ConversationStatus.CLOSED)
    elif view == InboxView.MINE:
        threads = threads.filter(assigned_to=staff)
    elif view == InboxView.NEEDS_REPLY:
        threads = threads.filter(needs_reply=True)
    if status:
        threads = threads.filter(status=status)
    threads = scope_threads(threads, staff)
    return threads.select_related("last_message", "assigned_to").order_by("-last_message_at", "-id")


def conversation_get_for_staff(*, staff, conversation_id: int, for_update: bool = False) -> Conversation:
    threads = Conversation.objects.filter(pk=conversation_id)
    if for_update:
        threads = threads.select_for_update()
    thread = scope_threads(threads, staff).select_related("assigned_to").first()
    if thread is None:
        raise NotFound("conversation_not_found", _("没有这条留言会话，或它不在您的管辖范围内。"))
    return thread


def conversation_visible_to(*, staff, conversation: Conversation) -> bool:
    return scope_threads(Conversation.objects.filter(pk=conversation.pk), staff).exists()


def conversation_messages(*, conversation: Conversation, limit: int = 200) -> list[ConversationMessage]:
    """The thread's latest ``limit`` messages, oldest first (job-finished reports are left out)."""
    rows = (
        ConversationMessage.objects.filter(
            channel=conversation.channel,
            channel_account=conversation.channel_account,
            sender_subject=conversation.sender_subject,
        )
        .exclude(kind=MessageKind.NOTHING)
        .select_related("staff_author", "keyword_rule")
        .order_by("-created_at", "-id")[:limit]
    )
    return list(reversed(rows))


def last_inbound_message(*, conversation: Conversation) -> ConversationMessage | None:
    return (
        ConversationMessage.objects.filter(
            channel=conversation.channel,
            channel_account=conversation.channel_account,
            sender_subject=conversation.sender_subject,
            direction="inbound",
        )
        .order_by("-created_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class FollowerProfile:
    """What the inbox shows about a follower: masked, never the full name or 户号."""

    bound: bool
    masked_name: str
    masked_numbers: tuple[str, ...]
    account_numbers: tuple[str, ...]  # for links to the 360 page (which checks scope itself)
    customer_user_id: int | None

    @property
    def numbers(self) -> list[tuple[str, str]]:
        """(户号, masked 户号) pairs."""
        return list(zip(self.account_numbers, self.masked_numbers, strict=True))

    @property
    def label(self) -> str:
        if not self.bound:
            return _("未绑定户号的粉丝")
        return self.masked_name


def mask_account_number(number: str) -> str:
    """0000000001 → ******0001: enough to recognise one's own, not to look anyone up."""
    return "*" * max(len(number) - 4, 0) + number[-4:]


def follower_profiles(threads: list[Conversation]) -> dict[int, FollowerProfile]:
    """Profiles of a page of threads in two queries (identities, then active bindings)."""
    if not threads:
        return {}
    identities = Identity.objects.filter(
        customer_user__is_active=True, subject__in={thread.sender_subject for thread in threads}
    ).values_list("provider", "app_id", "subject", "customer_user_id")
    owner = {(provider, app_id, subject): user_id for provider, app_id, subject, user_id in identities}
    thread_owner = {
        thread.pk: owner.get((thread.sender_provider, thread.sender_app_id, thread.sender_subject))
        for thread in threads
    }
    accounts: dict[int, list[Account]] = {}
    bindings = (
        active_bindings()
        .filter(customer_user_id__in={user_id for user_id in thread_owner.values() if user_id})
        .select_related("account")
        .order_by("valid_from", "pk")
    )
    for binding in bindings:
        accounts.setdefault(binding.customer_user_id, []).append(binding.account)
    profiles = {}
    for thread in threads:
        user_id = thread_owner[thread.pk]
        bound = accounts.get(user_id, []) if user_id else []
        profiles[thread.pk] = FollowerProfile(
            bound=bool(bound),
            masked_name=mask_name(bound[0].holder_name) if bound else "",
            masked_numbers=tuple(mask_account_number(account.number) for account in bound),
            account_numbers=tuple(account.number for account in bound),
            customer_user_id=user_id,
        )
    return profiles


# Hours of each channel's customer-service window, by the setting that holds it; a channel not
# listed has no window.
REPLY_WINDOW_SETTINGS = {Channel.WECHAT: "WECHAT_CS_WINDOW_HOURS"}


@dataclass(frozen=True)
class ReplyWindow:
    is_open: bool
    hours: int | None
    closes_at: datetime | None
    reason: str  # why replying is refused; empty when open


def reply_window(*, conversation: Conversation, now: datetime | None = None) -> ReplyWindow:
    """Whether staff may still answer through the channel's customer-service API: WeChat accepts
    such messages only within ``WECHAT_CS_WINDOW_HOURS`` (48 h) of the follower's last message,
    menu click or subscription."""
    setting = REPLY_WINDOW_SETTINGS.get(conversation.channel)
    if setting is None:
        return ReplyWindow(True, None, None, "")
    hours = getattr(settings, setting)
    now = now or timezone.now()
    if conversation.last_interaction_at is None:
        return ReplyWindow(False, hours, None, _("该粉丝还没有主动发过消息，无法通过客服消息接口回复。"))
    closes_at = conversation.last_interaction_at + timedelta(hours=hours)
    if now >= closes_at:
        return ReplyWindow(
            False,
            hours,
            closes_at,
            _("已超过客服消息回复时限：粉丝最后一次互动后 %(hours)s 小时内才能回复（已于 %(at)s 截止）。")
            % {"hours": hours, "at": timezone.localtime(closes_at).strftime("%Y-%m-%d %H:%M")},
        )
    return ReplyWindow(True, hours, closes_at, "")


def inbox_assignees(*, conversation: Conversation) -> list:
    """Active staff who may take the thread: they hold WECHAT_INBOX_REPLY and can see it."""
    from powerdesk.staff.models import StaffUser

    roles = [role for role, perms in ROLE_PERMISSIONS.items() if Perm.WECHAT_INBOX_REPLY in perms]
    candidates = StaffUser.objects.filter(
        is_active=True, supply_unit__isnull=False, role__in=roles
    ).select_related("supply_unit")
    bound_units = list(
        active_bindings()
        .filter(
            customer_user__is_active=True,
            customer_user__identities__provider=conversation.sender_provider,
            customer_user__identities__app_id=conversation.sender_app_id,
            customer_user__identities__subject=conversation.sender_subject,
        )
        .values_list("account__supply_unit__path", flat=True)
    )
    allowed = []
    for staff in candidates.order_by("username"):
        if not staff.can(Perm.WECHAT_INBOX_REPLY):
            continue
        if bound_units and not any(path.startswith(staff.supply_unit.path) for path in bound_units):
            continue
        allowed.append(staff)
    return allowed


def inbox_counts(*, staff, channel: str = Channel.WECHAT) -> dict[str, int]:
    """Badge counts for the inbox's filter tabs (scoped like the list)."""
    threads = scope_threads(Conversation.objects.filter(channel=channel), staff)
    return {
        InboxView.UNASSIGNED: threads.filter(assigned_to__isnull=True)
        .exclude(status=ConversationStatus.CLOSED)
        .count(),
        InboxView.MINE: threads.filter(assigned_to=staff).exclude(status=ConversationStatus.CLOSED).count(),
        InboxView.NEEDS_REPLY: threads.filter(needs_reply=True).count(),
    }
