"""Every write of the statistics app: WeChat's daily figures (datacube) and menu button names.

``datacube_fetch`` asks WeChat for the last N days up to yesterday (Beijing time: the datacube
has nothing for today) within WeChat's limits — ``getusersummary`` / ``getusercumulate`` at most
7 days per call, ``getarticlesummary`` one day per call — and stores each answer as daily rows.
Rows are upserted on their natural key (AppID, day[, source | msgid]) with one
``INSERT … ON CONFLICT DO UPDATE`` per answer, and rows WeChat no longer reports for a fetched
day are removed: fetching a day again updates it, never duplicates it, even when two fetches
run at once. Each answer is checked whole before anything of it is written, and written in its
own transaction, so a refused answer leaves what was stored before intact and a re-run carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.channel_stats import events as kinds
from powerdesk.channel_stats.menu_buttons import menu_leaves
from powerdesk.channel_stats.models import (
    DatacubeArticleDay,
    DatacubeCumulateDay,
    DatacubeUserDay,
    MenuItemLabel,
)
from powerdesk.channels.wechat_store.client import WeChatApiClient
from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.core.exceptions import ApplicationError
from powerdesk.events.choices import Channel
from powerdesk.events.services import event_record

log = logging.getLogger(__name__)

BEIJING = ZoneInfo("Asia/Shanghai")  # WeChat's day, whatever our own zone is
USER_DAYS_PER_CALL = 7  # getusersummary / getusercumulate
MAX_FETCH_DAYS = 366
_UINT32 = 2**32 - 1
ARTICLE_FIELDS = (
    "int_page_read_user",
    "int_page_read_count",
    "ori_page_read_user",
    "ori_page_read_count",
    "share_user",
    "share_count",
    "add_to_fav_user",
    "add_to_fav_count",
)


@dataclass
class DatacubeFetchSummary:
    """What one fetch stored: the days asked for and the rows written per table."""

    app_id: str
    first_day: date
    last_day: date
    calls: int = 0
    user_rows: int = 0
    cumulate_rows: int = 0
    article_rows: int = 0
    removed_rows: int = 0
    menu_labels: int | None = None  # None: the menu was not read
    days: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["first_day"], data["last_day"] = self.first_day.isoformat(), self.last_day.isoformat()
        data.pop("days")
        return data


def wechat_yesterday(*, today: date | None = None) -> date:
    """The newest day WeChat's datacube has figures for: yesterday in Beijing."""
    return (today or timezone.now().astimezone(BEIJING).date()) - timedelta(days=1)


def _client_for(account: WeChatAccount) -> WeChatApiClient:
    secret = account.app_secret
    if not secret:
        raise ApplicationError(
            "app_secret_missing",
            _("公众号 %(slug)s 未配置 AppSecret，无法调用微信数据接口。") % {"slug": account.slug},
            field="app_secret",
        )
    return WeChatApiClient.from_settings(app_id=account.app_id, app_secret=secret)


def datacube_fetch(
    *,
    account: WeChatAccount,
    days: int,
    today: date | None = None,
    client: WeChatApiClient | None = None,
    menu: bool = True,
) -> DatacubeFetchSummary:
    """Fetch and store WeChat's figures for the ``days`` days up to yesterday (Beijing), and
    refresh the menu button names (``menu=False`` skips that).

    ``today`` is for tests and back-fills against a fake whose clock runs ahead; a
    ``WeChatApiError`` (a ``ChannelError``) is raised as it comes, after the answers before it
    were stored.
    """
    if not isinstance(days, int) or not 1 <= days <= MAX_FETCH_DAYS:
        raise ApplicationError(
            "days_out_of_range",
            _("天数应在 1 至 %(max)s 之间。") % {"max": MAX_FETCH_DAYS},
            field="days",
        )
    wechat = client or _client_for(account)
    last = wechat_yesterday(today=today)
    first = last - timedelta(days=days - 1)
    summary = DatacubeFetchSummary(app_id=account.app_id, first_day=first, last_day=last)
    begin = first
    while begin <= last:
        end = min(begin + timedelta(days=USER_DAYS_PER_CALL - 1), last)
        user_summary = wechat.user_summary(begin, end)
        user_cumulate = wechat.user_cumulate(begin, end)
        summary.calls += 2
        _user_days_store(
            app_id=account.app_id,
            begin=begin,
            end=end,
            user_summary=user_summary,
            user_cumulate=user_cumulate,
            summary=summary,
        )
        begin = end + timedelta(days=1)
    day = first
    while day <= last:
        rows = wechat.article_summary(day)
        summary.calls += 1
        _article_day_store(app_id=account.app_id, day=day, rows=rows, summary=summary)
        day += timedelta(days=1)
    if menu:
        published = wechat.menu_get()
        summary.calls += 1
        summary.menu_labels = menu_labels_store(app_id=account.app_id, menu=published)
    with transaction.atomic():
        event_record(kinds.DATACUBE_FETCHED, channel=Channel.SYSTEM, payload=summary.as_dict())
    return summary


# --- checking WeChat's answers -------------------------------------------------------------------


def _refused(endpoint: str, index: int, name: str, why: str) -> ApplicationError:
    return ApplicationError(
        "datacube_answer_invalid",
        _("微信数据接口 %(endpoint)s 返回的第 %(row)s 行 %(field)s 无效：%(why)s")
        % {"endpoint": endpoint, "row": index + 1, "field": name, "why": why},
        field=name,
        status=502,
        extra={"endpoint": endpoint, "row": index + 1},
    )


def _row_date(endpoint: str, index: int, row: Any, begin: date, end: date) -> date:
    if not isinstance(row, Mapping):
        raise _refused(endpoint, index, "row", _("不是对象"))
    try:
        ref_date = date.fromisoformat(str(row.get("ref_date", "")))
    except ValueError:
        raise _refused(endpoint, index, "ref_date", _("不是日期")) from None
    if not begin <= ref_date <= end:
        raise _refused(endpoint, index, "ref_date", _("不在请求的日期范围内"))
    return ref_date


def _count(endpoint: str, index: int, row: Mapping, name: str, *, default: int | None = None) -> int:
    value = row.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _UINT32:
        raise _refused(endpoint, index, name, _("不是非负整数"))
    return value


# --- storing -------------------------------------------------------------------------------------


@transaction.atomic
def _user_days_store(
    *,
    app_id: str,
    begin: date,
    end: date,
    user_summary: Iterable[Any],
    user_cumulate: Iterable[Any],
    summary: DatacubeFetchSummary,
) -> None:
    fetched_at = timezone.now()
    sources: dict[tuple[date, int], DatacubeUserDay] = {}
    for index, row in enumerate(user_summary):
        ref_date = _row_date("getusersummary", index, row, begin, end)
        source = _count("getusersummary", index, row, "user_source")
        new = _count("getusersummary", index, row, "new_user", default=0)
        cancel = _count("getusersummary", index, row, "cancel_user", default=0)
        known = sources.get((ref_date, source))
        if known is not None:  # WeChat splits nothing further; add up rather than drop one
            known.new_user += new
            known.cancel_user += cancel
            continue
        sources[(ref_date, source)] = DatacubeUserDay(
            app_id=app_id,
            ref_date=ref_date,
            user_source=source,
            new_user=new,
            cancel_user=cancel,
            fetched_at=fetched_at,
        )
    totals: dict[date, DatacubeCumulateDay] = {}
    for index, row in enumerate(user_cumulate):
        ref_date = _row_date("getusercumulate", index, row, begin, end)
        if ref_date in totals:
            raise _refused("getusercumulate", index, "ref_date", _("日期重复"))
        totals[ref_date] = DatacubeCumulateDay(
            app_id=app_id,
            ref_date=ref_date,
            cumulate_user=_count("getusercumulate", index, row, "cumulate_user"),
            fetched_at=fetched_at,
        )
    DatacubeUserDay.objects.bulk_create(
        list(sources.values()),
        update_conflicts=True,
        unique_fields=["app_id", "ref_date", "user_source"],
        update_fields=["new_user", "cancel_user", "fetched_at", "updated_at"],
    )
    DatacubeCumulateDay.objects.bulk_create(
        list(totals.values()),
        update_conflicts=True,
        unique_fields=["app_id", "ref_date"],
        update_fields=["cumulate_user", "fetched_at", "updated_at"],
    )
    # A source WeChat no longer lists for a day it answered for had nobody come or go.
    removed = 0
    day = begin
    while day <= end:
        stale = DatacubeUserDay.objects.filter(app_id=app_id, ref_date=day).exclude(
            user_source__in=[source for (ref_date, source) in sources if ref_date == day]
        )
        removed += stale.delete()[0]
        summary.days.append(day.isoformat())
        day += timedelta(days=1)
    summary.user_rows += len(sources)
    summary.cumulate_rows += len(totals)
    summary.removed_rows += removed


@transaction.atomic
def _article_day_store(*, app_id: str, day: date, rows: Iterable[Any], summary: DatacubeFetchSummary) -> None:
    fetched_at = timezone.now()
    articles: dict[str, DatacubeArticleDay] = {}
    for index, row in enumerate(rows):
        _row_date("getarticlesummary", index, row, day, day)
        msgid = row.get("msgid")
        if not isinstance(msgid, str) or not msgid.strip() or len(msgid) > 64:
            raise _refused("getarticlesummary", index, "msgid", _("应为 1 至 64 个字符"))
        if msgid in articles:
            raise _refused("getarticlesummary", index, "msgid", _("重复"))
        title = row.get("title", "")
        if not isinstance(title, str):
            raise _refused("getarticlesummary", index, "title", _("不是文本"))
        figures = {name: _count("getarticlesummary", index, row, name, default=0) for name in ARTICLE_FIELDS}
        articles[msgid] = DatacubeArticleDay(
            app_id=app_id, ref_date=day, msgid=msgid, title=title[:200], fetched_at=fetched_at, **figures
        )
    DatacubeArticleDay.objects.bulk_create(
        list(articles.values()),
        update_conflicts=True,
        unique_fields=["app_id", "ref_date", "msgid"],
        update_fields=["title", *ARTICLE_FIELDS, "fetched_at", "updated_at"],
    )
    summary.removed_rows += (
        DatacubeArticleDay.objects.filter(app_id=app_id, ref_date=day)
        .exclude(msgid__in=list(articles))
        .delete()[0]
    )
    summary.article_rows += len(articles)


@transaction.atomic
def menu_labels_store(*, app_id: str, menu: Mapping[str, Any] | None) -> int:
    """Remember the names of the published menu's buttons (``menu`` as ``menu/get`` returns it,
    None when there is no menu); buttons no longer in it are kept with ``in_menu`` False."""
    seen_at = timezone.now()
    labels = {
        (kind, key): MenuItemLabel(
            app_id=app_id,
            button_type=kind,
            key=key,
            name=name,
            parent_name=parent,
            in_menu=True,
            seen_at=seen_at,
        )
        for kind, key, name, parent in menu_leaves(((menu or {}).get("menu") or {}).get("button"))
    }
    MenuItemLabel.objects.bulk_create(
        list(labels.values()),
        update_conflicts=True,
        unique_fields=["app_id", "button_type", "key"],
        update_fields=["name", "parent_name", "in_menu", "seen_at", "updated_at"],
    )
    current = MenuItemLabel.objects.filter(app_id=app_id, in_menu=True)
    for kind, key in labels:
        current = current.exclude(button_type=kind, key=key)
    current.update(in_menu=False)
    return len(labels)
