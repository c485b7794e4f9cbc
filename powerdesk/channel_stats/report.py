"""The statistics page's series: one table per chart, the same rows for the page, its chart and
its CSV export, each naming its source (我方事件日志 / 微信数据接口).

A ``Series`` holds display-ready cells (ints, Decimal strings, dates, None for "not known");
``chart`` is the small, library-neutral description ``stats.js`` turns into an ECharts option.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from powerdesk.channel_stats import selectors
from powerdesk.channel_stats.choices import Source
from powerdesk.channel_stats.selectors import MESSAGE_KINDS, StatsPeriod
from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.conversations.choices import MessageKind

Cell = int | str | Decimal | date | datetime | None

MENU_EVENTS = {"click": gettext_lazy("点击"), "view": gettext_lazy("跳转网页")}


@dataclass(frozen=True)
class Series:
    key: str
    title: str
    source: Source
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    chart: dict[str, Any] | None = None
    note: str = ""
    numeric: frozenset[int] = field(default_factory=frozenset)  # right-aligned column indexes

    @property
    def source_label(self) -> str:
        return str(self.source.label)


def _day(value: date) -> str:
    return value.isoformat()


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _chart(categories, series, *, axes=None, horizontal=False) -> dict[str, Any]:
    """``{"categories", "series": [{name, kind: bar|line, data, axis, stack}], "axes": [name…],
    "horizontal"}`` — all labels already translated."""
    return {
        "categories": [str(c) for c in categories],
        "series": series,
        "axes": axes or [_("次数")],
        "horizontal": horizontal,
    }


def _line(name: str, data: list, *, axis: int = 0) -> dict[str, Any]:
    return {"name": name, "kind": "line", "data": data, "axis": axis}


def _bar(name: str, data: list, *, axis: int = 0, stack: str = "") -> dict[str, Any]:
    return {"name": name, "kind": "bar", "data": data, "axis": axis, "stack": stack}


# --- the series ----------------------------------------------------------------------------------


def followers_series(account: WeChatAccount, period: StatsPeriod) -> Series:
    days = selectors.follower_days(account=account, period=period)
    columns = (_("日期"), _("新关注"), _("取消关注"), _("净增"), _("累计净增（自接入起）"))
    rows = tuple((_day(d.day), d.subscribed, d.unsubscribed, d.net, d.cumulative) for d in days)
    chart = _chart(
        [r[0] for r in rows],
        [
            _bar(columns[1], [r[1] for r in rows]),
            _bar(columns[2], [r[2] for r in rows]),
            _line(columns[3], [r[3] for r in rows]),
            _line(columns[4], [r[4] for r in rows], axis=1),
        ],
        axes=[_("人数"), _("累计")],
    )
    note = _("由关注/取消关注事件推送统计；接入回调前已关注的用户不在累计内。")
    return Series(
        "followers", _("关注与取消关注"), Source.OURS, columns, rows, chart, note, frozenset({1, 2, 3, 4})
    )


def wechat_users_series(account: WeChatAccount, period: StatsPeriod) -> Series:
    days = selectors.wechat_user_days(account=account, period=period)
    columns = (_("日期"), _("新关注"), _("取消关注"), _("净增"), _("累计关注"))
    rows = tuple((_day(d.day), d.new_user, d.cancel_user, d.net, d.cumulate_user) for d in days)
    chart = _chart(
        [r[0] for r in rows],
        [
            _bar(columns[1], [r[1] for r in rows]),
            _bar(columns[2], [r[2] for r in rows]),
            _line(columns[3], [r[3] for r in rows]),
            _line(columns[4], [r[4] for r in rows], axis=1),
        ],
        axes=[_("人数"), _("累计")],
    )
    note = _("微信数据接口只提供到昨天的数据；“—”表示该日尚未获取。")
    return Series(
        "wechat_users",
        _("用户增减（微信统计）"),
        Source.WECHAT,
        columns,
        rows,
        chart,
        note,
        frozenset({1, 2, 3, 4}),
    )


def wechat_sources_series(account: WeChatAccount, period: StatsPeriod) -> Series:
    sources = selectors.wechat_user_sources(account=account, period=period)
    columns = (_("关注来源"), _("新关注"), _("取消关注"))
    rows = tuple((s.label, s.new_user, s.cancel_user) for s in sources)
    chart = _chart(
        [r[0] for r in rows],
        [_bar(columns[1], [r[1] for r in rows]), _bar(columns[2], [r[2] for r in rows])],
        axes=[_("人数")],
        horizontal=True,
    )
    return Series(
        "wechat_sources",
        _("关注来源（微信统计）"),
        Source.WECHAT,
        columns,
        rows,
        chart,
        "",
        frozenset({1, 2}),
    )


def messages_series(account: WeChatAccount, period: StatsPeriod) -> Series:
    days = selectors.message_days(account=account, period=period)
    kind_labels = [str(MessageKind(kind).label) for kind in MESSAGE_KINDS]
    columns = (_("日期"), *kind_labels, _("合计"), _("发送人数"))
    rows = tuple(
        (_day(d.day), *(d.by_kind[str(kind)] for kind in MESSAGE_KINDS), d.total, d.senders) for d in days
    )
    series = [
        _bar(label, [r[1 + index] for r in rows], stack="kind")
        for index, label in enumerate(kind_labels)
        if any(r[1 + index] for r in rows) or index == 0  # kinds nobody sent stay out of the legend
    ]
    series.append(_line(columns[-1], [r[-1] for r in rows]))
    chart = _chart([r[0] for r in rows], series, axes=[_("条数")])
    note = _("粉丝发来的消息（不含事件），按类型逐日统计。")
    numeric = frozenset(range(1, len(columns)))
    return Series("messages", _("消息分析"), Source.OURS, columns, rows, chart, note, numeric)


def menu_series(account: WeChatAccount, period: StatsPeriod) -> Series:
    items = selectors.menu_clicks(account=account, period=period)
    columns = (_("菜单按钮"), _("所属主菜单"), _("类型"), _("KEY 或网址"), _("点击次数"), _("点击人数"))
    unknown = _("（未知按钮）")
    rows = tuple(
        (
            item.name or unknown,
            item.parent_name,
            str(MENU_EVENTS.get(item.event, item.event)),
            item.key,
            item.clicks,
            item.users,
        )
        for item in items
    )
    names = [r[0] if r[0] != unknown else r[3][:24] for r in rows]  # an unknown button by its key
    chart = _chart(
        list(reversed(names)),
        [
            _bar(columns[4], [r[4] for r in reversed(rows)]),
            _bar(columns[5], [r[5] for r in reversed(rows)]),
        ],
        horizontal=True,
    )
    note = _("菜单点击（CLICK）与跳转（VIEW）事件；按钮名称取自最近一次读取的已发布菜单。")
    return Series("menu", _("菜单点击"), Source.OURS, columns, rows, chart, note, frozenset({4, 5}))


def articles_series(account: WeChatAccount, period: StatsPeriod) -> Series:
    days = selectors.article_read_days(period=period)
    columns = (_("日期"), _("阅读次数"), _("阅读人数（已登录客户）"))
    rows = tuple((_day(d.day), d.reads, d.readers) for d in days)
    chart = _chart(
        [r[0] for r in rows],
        [_bar(columns[1], [r[1] for r in rows]), _line(columns[2], [r[2] for r in rows])],
    )
    note = _("H5 图文页的浏览（图文属于全公司，不区分公众号）。")
    return Series(
        "articles", _("图文阅读（H5 页面）"), Source.OURS, columns, rows, chart, note, frozenset({1, 2})
    )


def top_articles_series(account: WeChatAccount, period: StatsPeriod) -> Series:
    articles = selectors.top_articles_read(period=period)
    columns = (_("图文"), _("阅读次数"))
    rows = tuple((a.title or f"#{a.article_id}", a.reads) for a in articles)
    return Series(
        "top_articles", _("阅读最多的图文（H5 页面）"), Source.OURS, columns, rows, None, "", frozenset({1})
    )


def wechat_articles_series(account: WeChatAccount, period: StatsPeriod) -> Series:
    days = selectors.wechat_article_days(account=account, period=period)
    columns = (_("日期"), _("阅读人数"), _("阅读次数"), _("分享次数"), _("收藏次数"), _("图文篇数"))
    rows = tuple(
        (_day(d.day), d.read_user, d.read_count, d.share_count, d.fav_count, d.articles) for d in days
    )
    chart = _chart(
        [r[0] for r in rows],
        [_bar(columns[2], [r[2] for r in rows]), _line(columns[1], [r[1] for r in rows])],
    )
    note = _("当日群发图文在当日的阅读（微信图文分析）；“—”表示该日尚未获取。")
    return Series(
        "wechat_articles",
        _("群发图文阅读（微信统计）"),
        Source.WECHAT,
        columns,
        rows,
        chart,
        note,
        frozenset({1, 2, 3, 4, 5}),
    )


def wechat_top_articles_series(account: WeChatAccount, period: StatsPeriod) -> Series:
    articles = selectors.wechat_top_articles(account=account, period=period)
    columns = (_("标题"), _("图文消息 ID"), _("阅读人数"), _("阅读次数"), _("分享次数"))
    rows = tuple((a.title, a.msgid, a.read_user, a.read_count, a.share_count) for a in articles)
    return Series(
        "wechat_top_articles",
        _("阅读最多的群发图文（微信统计）"),
        Source.WECHAT,
        columns,
        rows,
        None,
        "",
        frozenset({2, 3, 4}),
    )


def keywords_series(account: WeChatAccount, period: StatsPeriod) -> Series:
    rules = selectors.keyword_hits(account=account, period=period)
    columns = (_("关键词"), _("匹配方式"), _("回复"), _("状态"), _("期间命中"), _("累计命中"), _("最近命中"))
    zone = selectors.local_zone()
    rows = tuple(
        (
            rule.pattern,
            rule.match_kind,
            rule.reply,
            _("启用") if rule.active else _("停用"),
            rule.hits,
            rule.hit_count,
            rule.last_hit_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if rule.last_hit_at else None,
        )
        for rule in rules
    )
    hit = [r for r in rows if r[4]]
    chart = _chart(
        [r[0] for r in reversed(hit)], [_bar(columns[4], [r[4] for r in reversed(hit)])], horizontal=True
    )
    note = _("期间命中按回复记录统计；累计命中为规则创建以来的命中次数。")
    return Series("keywords", _("关键词回复命中"), Source.OURS, columns, rows, chart, note, frozenset({4, 5}))


def _api_endpoints(endpoints: list[selectors.EndpointCalls]) -> Series:
    columns = (
        _("接口"),
        _("调用次数"),
        _("失败次数"),
        _("失败率（%）"),
        _("P50（毫秒）"),
        _("P95（毫秒）"),
        _("最长（毫秒）"),
    )
    rows = tuple(
        (e.endpoint, e.calls, e.errors, _decimal(e.error_rate), e.p50_ms, e.p95_ms, e.max_ms)
        for e in endpoints
    )
    chart = _chart(
        [r[0] for r in rows],
        [
            _bar(columns[4], [r[4] for r in rows]),
            _bar(columns[5], [r[5] for r in rows]),
            _line(columns[3], [r[3] for r in rows], axis=1),
        ],
        axes=[_("毫秒"), "%"],
    )
    note = _("我方调用微信接口的记录：耗时为请求往返时间，失败含微信错误码、HTTP 错误与网络错误。")
    return Series(
        "api_endpoints",
        _("接口调用（按接口）"),
        Source.OURS,
        columns,
        rows,
        chart,
        note,
        frozenset(range(1, 7)),
    )


def _api_days(days: list[selectors.ApiCallDay]) -> Series:
    columns = (_("日期"), _("调用次数"), _("失败次数"), _("失败率（%）"), _("P95（毫秒）"))
    rows = tuple((_day(d.day), d.calls, d.errors, _decimal(d.error_rate), d.p95_ms) for d in days)
    chart = _chart(
        [r[0] for r in rows],
        [
            _bar(_("成功"), [r[1] - r[2] for r in rows], stack="calls"),
            _bar(columns[2], [r[2] for r in rows], stack="calls"),
            _line(columns[4], [r[4] for r in rows], axis=1),
        ],
        axes=[_("次数"), _("毫秒")],
    )
    return Series(
        "api_days", _("接口调用（按日）"), Source.OURS, columns, rows, chart, "", frozenset({1, 2, 3, 4})
    )


def api_endpoints_series(account: WeChatAccount, period: StatsPeriod) -> Series:
    return _api_endpoints(selectors.api_calls(account=account, period=period)[0])


def api_days_series(account: WeChatAccount, period: StatsPeriod) -> Series:
    return _api_days(selectors.api_calls(account=account, period=period)[1])


SERIES: dict[str, Callable[[WeChatAccount, StatsPeriod], Series]] = {
    "followers": followers_series,
    "wechat_users": wechat_users_series,
    "wechat_sources": wechat_sources_series,
    "messages": messages_series,
    "menu": menu_series,
    "articles": articles_series,
    "top_articles": top_articles_series,
    "wechat_articles": wechat_articles_series,
    "wechat_top_articles": wechat_top_articles_series,
    "keywords": keywords_series,
    "api_endpoints": api_endpoints_series,
    "api_days": api_days_series,
}


def report_build(*, account: WeChatAccount, period: StatsPeriod) -> dict[str, Series]:
    """Every series of the page, by key (the API call log is read once for its two series)."""
    endpoints, days = selectors.api_calls(account=account, period=period)
    built = {"api_endpoints": _api_endpoints(endpoints), "api_days": _api_days(days)}
    for key, build in SERIES.items():
        if key not in built:
            built[key] = build(account, period)
    return {key: built[key] for key in SERIES}


# --- CSV -----------------------------------------------------------------------------------------


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, date | datetime) else str(value)
    # Text a spreadsheet would run as a formula (=, +, -, @, tab, CR) is quoted with '; numbers
    # are left alone (a negative net growth is a number, not a formula).
    if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            Decimal(text)
        except ArithmeticError:
            return "'" + text
    return text


def series_csv(series: Series) -> str:
    """The series as CSV (header row, then the rows), with a UTF-8 BOM so that spreadsheet
    programs read the Chinese; numbers unformatted, "not known" as an empty cell."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(series.columns)
    for row in series.rows:
        writer.writerow([_csv_cell(cell) for cell in row])
    return buffer.getvalue()
