"""Reads for the statistics page, for one Official Account and a range of local calendar days.

Our own figures are aggregated by the database — ``COUNT … GROUP BY`` the local day
(``TruncDate`` in the project's zone, Asia/Shanghai) — from what we recorded ourselves:

* the inbox (``conversations.ConversationMessage``, inbound rows of the account): subscribe and
  unsubscribe events, messages by kind, menu CLICK/VIEW events; its replies carry the keyword
  rule that answered them;
* the event log (``events.DomainEvent``): ``content.article_read``, one per H5 article view;
* the WeChat API call log (``channel_wechat_store.ApiCallLog``): latency and outcome per call.

Latency percentiles are computed from a histogram the database returns (one row per endpoint and
whole millisecond), so nothing is read row by row and the same query runs on SQLite and
PostgreSQL. WeChat's own figures come from the daily snapshots ``services.datacube_fetch`` stored.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.apps import apps as django_apps
from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.channel_stats.choices import user_source_label
from powerdesk.channel_stats.menu_buttons import menu_leaves
from powerdesk.channel_stats.models import (
    DatacubeArticleDay,
    DatacubeCumulateDay,
    DatacubeUserDay,
    MenuItemLabel,
)
from powerdesk.channels.wechat_store.models import ApiCallLog, WeChatAccount
from powerdesk.content.events import ARTICLE_READ
from powerdesk.conversations.choices import Direction, Intent, MessageKind
from powerdesk.conversations.engine import MENU_KEYS
from powerdesk.conversations.models import ConversationMessage, KeywordRule
from powerdesk.core.exceptions import ApplicationError
from powerdesk.events.choices import Channel
from powerdesk.events.models import DomainEvent

MAX_PERIOD_DAYS = 366
DEFAULT_PERIOD_DAYS = 30
# What a follower can send us; events are counted apart (growth, menu).
MESSAGE_KINDS = (
    MessageKind.TEXT,
    MessageKind.IMAGE,
    MessageKind.VOICE,
    MessageKind.VIDEO,
    MessageKind.LOCATION,
    MessageKind.LINK,
    MessageKind.OTHER,
)


def local_zone() -> ZoneInfo:
    """The zone business days are reckoned in (settings.TIME_ZONE, Asia/Shanghai by default) —
    never the zone a request may have activated."""
    return ZoneInfo(settings.TIME_ZONE)


def local_today() -> date:
    return timezone.now().astimezone(local_zone()).date()


# --- the period ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatsPeriod:
    """Local calendar days ``start`` … ``end``, both included."""

    start: date
    end: date

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """[first instant of ``start``, first instant after ``end``) as aware datetimes."""
        zone = local_zone()
        return (
            datetime.combine(self.start, time.min, tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone),
        )


def stats_period(*, start: date, end: date) -> StatsPeriod:
    """A checked period: ``start`` not after ``end``, at most ``MAX_PERIOD_DAYS`` days."""
    if end < start:
        raise ApplicationError("period_reversed", _("结束日期不能早于开始日期。"), field="end")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise ApplicationError(
            "period_too_long",
            _("统计区间最长 %(days)s 天。") % {"days": MAX_PERIOD_DAYS},
            field="start",
        )
    return StatsPeriod(start, end)


def default_period(*, days: int = DEFAULT_PERIOD_DAYS, today: date | None = None) -> StatsPeriod:
    """The last ``days`` local days, today included (our own figures are live)."""
    end = today or local_today()
    return StatsPeriod(end - timedelta(days=days - 1), end)


def wechat_accounts() -> list[WeChatAccount]:
    """The Official Accounts statistics can be shown for (active ones first, then by name)."""
    return list(WeChatAccount.objects.order_by("-is_active", "name", "slug"))


# --- helpers -------------------------------------------------------------------------------------


def _in_period(queryset: QuerySet, field: str, period: StatsPeriod) -> QuerySet:
    start, end = period.bounds
    return queryset.filter(**{f"{field}__gte": start, f"{field}__lt": end})


def _by_day(queryset: QuerySet, field: str) -> QuerySet:
    return queryset.annotate(day=TruncDate(field, tzinfo=local_zone()))


def _inbox(account: WeChatAccount) -> QuerySet:
    return ConversationMessage.objects.filter(
        direction=Direction.INBOUND, channel=Channel.WECHAT, channel_account=account.slug
    )


def percentile(histogram: Iterable[tuple[int, int]], fraction: float) -> int | None:
    """Nearest-rank percentile of a histogram of ``(value, count)``: the smallest value with at
    least ``ceil(fraction × n)`` of the ``n`` observations at or below it. None when empty."""
    pairs = sorted((value, count) for value, count in histogram if count > 0)
    total = sum(count for _value, count in pairs)
    if not total:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for value, count in pairs:
        seen += count
        if seen >= rank:
            return value
    return pairs[-1][0]  # not reached: rank <= total


def percent(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in per cent, one decimal, half up; None for nothing of nothing."""
    if not whole:
        return None
    return (Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- followers (our inbox) -----------------------------------------------------------------------


@dataclass(frozen=True)
class FollowerDay:
    day: date
    subscribed: int
    unsubscribed: int
    net: int
    cumulative: int  # net followers since our callback log began, at the end of the day


def follower_days(*, account: WeChatAccount, period: StatsPeriod) -> list[FollowerDay]:
    """Subscribe and unsubscribe events per local day, net, and the running total since our log
    began (our log knows nobody who followed before the callback was configured: WeChat's
    ``cumulate_user`` is the authoritative total)."""
    events = _inbox(account).filter(kind=MessageKind.EVENT, payload__event__in=("subscribe", "unsubscribe"))
    start, _end = period.bounds
    before = dict(
        events.filter(created_at__lt=start)
        .values(event=KT("payload__event"))
        .annotate(n=Count("id"))
        .order_by()
        .values_list("event", "n")
    )
    counts: dict[tuple[date, str], int] = {
        (row["day"], row["event"]): row["n"]
        for row in _by_day(_in_period(events, "created_at", period), "created_at")
        .values("day", event=KT("payload__event"))
        .annotate(n=Count("id"))
        .order_by()
    }
    running = before.get("subscribe", 0) - before.get("unsubscribe", 0)
    days = []
    for day in period.days:
        came, went = counts.get((day, "subscribe"), 0), counts.get((day, "unsubscribe"), 0)
        running += came - went
        days.append(FollowerDay(day, came, went, came - went, running))
    return days


# --- messages (our inbox) ------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageDay:
    day: date
    by_kind: dict[str, int]  # every kind of MESSAGE_KINDS, zero included
    total: int
    senders: int  # distinct followers who sent anything that day


def message_days(*, account: WeChatAccount, period: StatsPeriod) -> list[MessageDay]:
    """Messages followers sent (events excluded) per local day and kind, and how many sent."""
    messages = _by_day(
        _in_period(_inbox(account), "created_at", period).exclude(kind=MessageKind.EVENT), "created_at"
    )
    counts: dict[date, dict[str, int]] = defaultdict(dict)
    for row in messages.values("day", "kind").annotate(n=Count("id")).order_by():
        counts[row["day"]][row["kind"]] = row["n"]
    senders = dict(
        messages.values("day")
        .annotate(n=Count("sender_subject", distinct=True))
        .order_by()
        .values_list("day", "n")
    )
    days = []
    for day in period.days:
        of_day = counts.get(day, {})
        by_kind = {str(kind): of_day.get(kind, 0) for kind in MESSAGE_KINDS}
        # a kind stored that the list does not know yet still counts in the total, as "other"
        by_kind[MessageKind.OTHER] += sum(n for kind, n in of_day.items() if kind not in by_kind)
        days.append(MessageDay(day, by_kind, sum(by_kind.values()), senders.get(day, 0)))
    return days


# --- menu clicks (our inbox + the names of the published menu) -----------------------------------


@dataclass(frozen=True)
class MenuItemClicks:
    event: str  # "click" or "view"
    key: str  # the EventKey: a click button's key, a view button's URL
    name: str  # "" when the button is not known
    parent_name: str
    clicks: int
    users: int


def menu_clicks(*, account: WeChatAccount, period: StatsPeriod) -> list[MenuItemClicks]:
    """CLICK and VIEW events per menu button, most clicked first, named from the published menu
    (``MenuItemLabel``, refreshed with WeChat's figures) or, for the engine's own keys, by the
    intent they trigger."""
    rows = list(
        _in_period(_inbox(account), "created_at", period)
        .filter(kind=MessageKind.EVENT, payload__event__in=("click", "view"))
        .values(event=KT("payload__event"), key=KT("payload__event_key"))
        .annotate(clicks=Count("id"), users=Count("sender_subject", distinct=True))
        .order_by()
    )
    if not rows:
        return []
    names: dict[tuple[str, str], tuple[str, str]] = {
        (label.button_type, label.key): (label.name, label.parent_name)
        for label in MenuItemLabel.objects.filter(
            app_id=account.app_id,
            button_type__in=("click", "view"),
            key__in={row["key"] or "" for row in rows},
        )
    }
    for wanted, name in _published_menu_names(account).items():
        names.setdefault(wanted, name)
    items = []
    for row in rows:
        event, key = row["event"], row["key"] or ""
        name, parent = names.get((event, key), ("", ""))
        if not name and event == "click" and key.strip().upper() in MENU_KEYS:
            name = str(Intent(MENU_KEYS[key.strip().upper()]).label)
        items.append(MenuItemClicks(event, key, name, parent, row["clicks"], row["users"]))
    return sorted(items, key=lambda item: (-item.clicks, item.event, item.key))


PUBLICATIONS_READ = 20


def _published_menu_names(account: WeChatAccount) -> dict[tuple[str, str], tuple[str, str]]:
    """Button names from the menus we published ourselves (``powerdesk.menus``' publication
    record, when that app is installed), newest first: they name a button the moment it is
    live, before the next fetch reads the menu back from WeChat, and keep naming old keys."""
    if not django_apps.is_installed("powerdesk.menus"):
        return {}
    try:
        publication = django_apps.get_model("menus", "MenuPublication")
    except LookupError:
        return {}
    names: dict[tuple[str, str], tuple[str, str]] = {}
    published = (
        publication.objects.filter(account=account, action="publish", outcome="ok")
        .order_by("-created_at", "-id")
        .values_list("buttons", flat=True)[:PUBLICATIONS_READ]
    )
    for buttons in published:
        for leaf in menu_leaves(buttons):
            if leaf.button_type in ("click", "view"):
                names.setdefault((leaf.button_type, leaf.key), (leaf.name, leaf.parent_name))
    return names


# --- article reads (our event log) ---------------------------------------------------------------


@dataclass(frozen=True)
class ArticleReadDay:
    day: date
    reads: int
    readers: int  # distinct signed-in customers; anonymous reads count in ``reads`` only


@dataclass(frozen=True)
class ArticleReads:
    article_id: int
    title: str
    reads: int


def _article_reads(period: StatsPeriod) -> QuerySet:
    return _in_period(DomainEvent.objects.filter(kind=ARTICLE_READ.name), "occurred_at", period)


def article_read_days(*, period: StatsPeriod) -> list[ArticleReadDay]:
    """H5 article views per local day (``content.article_read`` events; articles belong to the
    company, not to one Official Account)."""
    rows = {
        row["day"]: row
        for row in _by_day(_article_reads(period), "occurred_at")
        .values("day")
        .annotate(reads=Count("id"), readers=Count("customer_user_id", distinct=True))
        .order_by()
    }
    return [
        ArticleReadDay(day, rows[day]["reads"], rows[day]["readers"])
        if day in rows
        else ArticleReadDay(day, 0, 0)
        for day in period.days
    ]


def top_articles_read(*, period: StatsPeriod, limit: int = 10) -> list[ArticleReads]:
    """The most read articles of the period, with their current titles."""
    from powerdesk.content.models import Article

    rows = list(
        _article_reads(period)
        .values(article=KT("payload__article_id"))
        .annotate(reads=Count("id"))
        .order_by("-reads", "article")[:limit]
    )
    # KT() yields text on PostgreSQL and the JSON number itself on SQLite
    reads = [(int(str(row["article"])), row["reads"]) for row in rows if str(row["article"]).isdigit()]
    titles = dict(Article.objects.filter(pk__in=[pk for pk, _n in reads]).values_list("pk", "title"))
    return [ArticleReads(pk, titles.get(pk, ""), n) for pk, n in reads]


# --- keyword rules (the rules and the replies that name them) ------------------------------------


@dataclass(frozen=True)
class KeywordRuleHits:
    rule_id: int
    pattern: str
    match_kind: str  # label
    reply: str  # label of what the rule answers with
    active: bool
    hits: int  # replies in the period that this rule answered
    hit_count: int  # since the rule was made (KeywordRule.hit_count)
    last_hit_at: datetime | None


def keyword_hits(*, account: WeChatAccount, period: StatsPeriod) -> list[KeywordRuleHits]:
    """Every keyword rule of the account with its hits in the period (counted from the replies
    it answered, ``ConversationMessage.keyword_rule``) and since it was made, most hit first."""
    in_period = dict(
        _in_period(
            ConversationMessage.objects.filter(
                direction=Direction.OUTBOUND,
                channel=Channel.WECHAT,
                channel_account=account.slug,
                keyword_rule__isnull=False,
            ),
            "created_at",
            period,
        )
        .values("keyword_rule_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("keyword_rule_id", "n")
    )
    rules = KeywordRule.objects.filter(channel=Channel.WECHAT, channel_account=account.slug).order_by("id")
    result = []
    for rule in rules:
        reply = rule.get_reply_kind_display()
        if rule.reply_intent:
            reply = f"{reply}：{rule.get_reply_intent_display()}"
        result.append(
            KeywordRuleHits(
                rule.pk,
                rule.pattern,
                str(rule.get_match_kind_display()),
                str(reply),
                rule.active,
                in_period.get(rule.pk, 0),
                rule.hit_count,
                rule.last_hit_at,
            )
        )
    return sorted(result, key=lambda item: (-item.hits, -item.hit_count, item.rule_id))


# --- WeChat API calls (our call log) -------------------------------------------------------------


@dataclass(frozen=True)
class EndpointCalls:
    endpoint: str
    calls: int
    errors: int  # any outcome but ok: WeChat errcode, HTTP error, no answer
    error_rate: Decimal | None  # per cent
    p50_ms: int | None
    p95_ms: int | None
    max_ms: int | None


@dataclass(frozen=True)
class ApiCallDay:
    day: date
    calls: int
    errors: int
    error_rate: Decimal | None
    p95_ms: int | None


def _calls_of(histogram: list[tuple[int, int, int]]) -> tuple[int, int, int | None, int | None, int | None]:
    """(latency, calls, errors) rows → calls, errors, p50, p95, max."""
    pairs = [(latency, n) for latency, n, _errors in histogram]
    return (
        sum(n for _latency, n, _errors in histogram),
        sum(errors for _latency, _n, errors in histogram),
        percentile(pairs, 0.50),
        percentile(pairs, 0.95),
        max((latency for latency, _n, _errors in histogram), default=None),
    )


def api_calls(*, account: WeChatAccount, period: StatsPeriod) -> tuple[list[EndpointCalls], list[ApiCallDay]]:
    """Calls we made to WeChat with this AppID, per endpoint (latency p50/p95/max, error rate)
    and per local day. A retry after a token refresh is a call of its own, as it was."""
    logs = _in_period(ApiCallLog.objects.filter(app_id=account.app_id), "at", period)
    failed = Count("id", filter=~Q(outcome=ApiCallLog.Outcome.OK))
    per_endpoint: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for row in logs.values("endpoint", "latency_ms").annotate(n=Count("id"), errors=failed).order_by():
        per_endpoint[row["endpoint"]].append((row["latency_ms"], row["n"], row["errors"]))
    per_day: dict[date, list[tuple[int, int, int]]] = defaultdict(list)
    for row in (
        _by_day(logs, "at").values("day", "latency_ms").annotate(n=Count("id"), errors=failed).order_by()
    ):
        per_day[row["day"]].append((row["latency_ms"], row["n"], row["errors"]))
    endpoints = []
    for endpoint, histogram in per_endpoint.items():
        calls, errors, p50, p95, slowest = _calls_of(histogram)
        endpoints.append(EndpointCalls(endpoint, calls, errors, percent(errors, calls), p50, p95, slowest))
    endpoints.sort(key=lambda item: (-item.calls, item.endpoint))
    days = []
    for day in period.days:
        calls, errors, _p50, p95, _max = _calls_of(per_day.get(day, []))
        days.append(ApiCallDay(day, calls, errors, percent(errors, calls), p95))
    return endpoints, days


# --- WeChat's own figures (datacube snapshots) ---------------------------------------------------


@dataclass(frozen=True)
class WeChatUserDay:
    day: date
    fetched: bool  # WeChat's figures for the day are stored (its cumulate_user row is)
    new_user: int | None
    cancel_user: int | None
    net: int | None
    cumulate_user: int | None


@dataclass(frozen=True)
class WeChatUserSource:
    source: int
    label: str
    new_user: int
    cancel_user: int


def wechat_user_days(*, account: WeChatAccount, period: StatsPeriod) -> list[WeChatUserDay]:
    """WeChat's new/cancelled followers and total per day; None for days not fetched (today, or
    days no fetch has covered yet)."""
    sums = {
        row["ref_date"]: row
        for row in DatacubeUserDay.objects.filter(
            app_id=account.app_id, ref_date__range=(period.start, period.end)
        )
        .values("ref_date")
        .annotate(new=Sum("new_user"), cancel=Sum("cancel_user"))
        .order_by()
    }
    totals = dict(
        DatacubeCumulateDay.objects.filter(
            app_id=account.app_id, ref_date__range=(period.start, period.end)
        ).values_list("ref_date", "cumulate_user")
    )
    days = []
    for day in period.days:
        if day not in totals and day not in sums:
            days.append(WeChatUserDay(day, False, None, None, None, None))
            continue
        new, cancel = (sums[day]["new"], sums[day]["cancel"]) if day in sums else (0, 0)
        days.append(WeChatUserDay(day, True, new, cancel, new - cancel, totals.get(day)))
    return days


def wechat_user_sources(*, account: WeChatAccount, period: StatsPeriod) -> list[WeChatUserSource]:
    """New and cancelled followers over the period by WeChat's user_source, largest first."""
    rows = (
        DatacubeUserDay.objects.filter(app_id=account.app_id, ref_date__range=(period.start, period.end))
        .values("user_source")
        .annotate(new=Sum("new_user"), cancel=Sum("cancel_user"))
        .order_by()
    )
    sources = [
        WeChatUserSource(row["user_source"], user_source_label(row["user_source"]), row["new"], row["cancel"])
        for row in rows
    ]
    return sorted(sources, key=lambda item: (-item.new_user, item.source))


@dataclass(frozen=True)
class WeChatArticleDay:
    day: date
    fetched: bool
    read_user: int | None
    read_count: int | None
    share_count: int | None
    fav_count: int | None
    articles: int | None


@dataclass(frozen=True)
class WeChatArticle:
    msgid: str
    title: str
    read_user: int
    read_count: int
    share_count: int


def wechat_article_days(*, account: WeChatAccount, period: StatsPeriod) -> list[WeChatArticleDay]:
    """Reads of the articles mass-sent each day, as WeChat counts them (``int_page_read_*``).
    A day with no mass send has no rows: it shows zero when that day's figures were fetched."""
    sums = {
        row["ref_date"]: row
        for row in DatacubeArticleDay.objects.filter(
            app_id=account.app_id, ref_date__range=(period.start, period.end)
        )
        .values("ref_date")
        .annotate(
            read_user=Sum("int_page_read_user"),
            read_count=Sum("int_page_read_count"),
            share=Sum("share_count"),
            fav=Sum("add_to_fav_count"),
            articles=Count("id"),
        )
        .order_by()
    }
    fetched = set(
        DatacubeCumulateDay.objects.filter(
            app_id=account.app_id, ref_date__range=(period.start, period.end)
        ).values_list("ref_date", flat=True)
    )
    days = []
    for day in period.days:
        row = sums.get(day)
        if row is not None:
            days.append(
                WeChatArticleDay(
                    day, True, row["read_user"], row["read_count"], row["share"], row["fav"], row["articles"]
                )
            )
        elif day in fetched:
            days.append(WeChatArticleDay(day, True, 0, 0, 0, 0, 0))
        else:
            days.append(WeChatArticleDay(day, False, None, None, None, None, None))
    return days


def wechat_top_articles(
    *, account: WeChatAccount, period: StatsPeriod, limit: int = 10
) -> list[WeChatArticle]:
    rows = (
        DatacubeArticleDay.objects.filter(app_id=account.app_id, ref_date__range=(period.start, period.end))
        .values("msgid")
        .annotate(
            title=Max("title"),
            read_user=Sum("int_page_read_user"),
            read_count=Sum("int_page_read_count"),
            share=Sum("share_count"),
        )
        .order_by("-read_count", "msgid")[:limit]
    )
    return [
        WeChatArticle(row["msgid"], row["title"], row["read_user"], row["read_count"], row["share"])
        for row in rows
    ]


def datacube_last_fetched(*, account: WeChatAccount) -> datetime | None:
    """When WeChat's figures were last fetched for the account."""
    return DatacubeCumulateDay.objects.filter(app_id=account.app_id).aggregate(at=Max("fetched_at"))["at"]
