"""Console pages for 统计分析 (WeChat Official Account statistics): the charts page, the CSV
export of each series, and a button that queues a fetch of WeChat's figures.

Every page needs WECHAT_STATS_VIEW (staff/roles.py: analysts, department managers, admins).
The figures are aggregates over the whole account — no follower, openid or customer appears —
so there is no supply-unit scope to apply.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from powerdesk.channel_stats import selectors
from powerdesk.channel_stats.forms import DatacubeFetchForm, StatsFilterForm
from powerdesk.channel_stats.report import SERIES, Series, report_build, series_csv
from powerdesk.channel_stats.selectors import StatsPeriod
from powerdesk.channel_stats.tasks import datacube_fetch_dispatch
from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.console.forms import add_application_error
from powerdesk.console.htmx import render_page
from powerdesk.console.permissions import requires
from powerdesk.core.exceptions import ApplicationError, NotFound
from powerdesk.staff.roles import Perm

QUICK_RANGES = (7, 30, 90)


def _filters(request: HttpRequest) -> tuple[StatsFilterForm, WeChatAccount | None, StatsPeriod]:
    """The account and period asked for; the defaults (first account, last 30 days) for what is
    missing, and for what is wrong too, with the form showing why."""
    accounts = selectors.wechat_accounts()
    form = StatsFilterForm(request.GET, accounts=accounts)
    period = selectors.default_period()
    account = accounts[0] if accounts else None
    if form.is_valid():
        slug = form.cleaned_data["account"]
        account = next((a for a in accounts if a.slug == slug), account)
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        if start or end:
            end = end or selectors.local_today()
            start = start or end - timedelta(days=selectors.DEFAULT_PERIOD_DAYS - 1)
            try:
                period = selectors.stats_period(start=start, end=end)
            except ApplicationError as exc:
                add_application_error(form, exc)
    return form, account, period


def _query(account: WeChatAccount, period: StatsPeriod) -> str:
    return urlencode({"account": account.slug, "start": period.start, "end": period.end})


def _headline(report: dict[str, Series]) -> list[dict]:
    """The figures above the charts: period totals, each with its source."""

    def total(key: str, column: int) -> int:
        return sum(row[column] or 0 for row in report[key].rows)

    followers, wechat = report["followers"], report["wechat_users"]
    latest = next((row[4] for row in reversed(wechat.rows) if row[4] is not None), None)
    api_calls, api_errors = total("api_days", 1), total("api_days", 2)
    return [
        {"label": _("新关注"), "value": total("followers", 1), "source": followers.source_label},
        {"label": _("取消关注"), "value": total("followers", 2), "source": followers.source_label},
        {"label": _("净增关注"), "value": total("followers", 3), "source": followers.source_label},
        {"label": _("累计关注"), "value": latest, "source": wechat.source_label},
        {
            "label": _("粉丝消息"),
            "value": total("messages", len(report["messages"].columns) - 2),
            "source": report["messages"].source_label,
        },
        {"label": _("菜单点击"), "value": total("menu", 4), "source": report["menu"].source_label},
        {"label": _("图文阅读"), "value": total("articles", 1), "source": report["articles"].source_label},
        {
            "label": _("接口失败率"),
            "value": selectors.percent(api_errors, api_calls),
            "suffix": "%",
            "source": report["api_days"].source_label,
        },
    ]


@require_GET
@requires(Perm.WECHAT_STATS_VIEW)
def stats_page(request: HttpRequest) -> HttpResponse:
    form, account, period = _filters(request)
    context: dict = {"form": form, "account": account, "period": period}
    if account is not None:
        report = report_build(account=account, period=period)
        today = selectors.local_today()
        context.update(
            report=report,
            headline=_headline(report),
            charts={key: series.chart for key, series in report.items() if series.chart and series.rows},
            query=_query(account, period),
            quick_ranges=[
                {
                    "days": days,
                    "query": _query(account, selectors.default_period(days=days, today=today)),
                    "active": period == selectors.default_period(days=days, today=today),
                }
                for days in QUICK_RANGES
            ],
            last_fetched=selectors.datacube_last_fetched(account=account),
            fetch_form=DatacubeFetchForm(initial={"account": account.slug, "days": 7}),
        )
    return render_page(request, "channel_stats/console/stats.html", context)


@require_GET
@requires(Perm.WECHAT_STATS_VIEW)
def stats_export(request: HttpRequest, series_key: str) -> HttpResponse:
    build = SERIES.get(series_key)
    if build is None:
        raise Http404
    form, account, period = _filters(request)
    if account is None:
        raise NotFound("no_wechat_account", _("尚未配置公众号。"))
    if form.errors:  # a wrong period is refused rather than exported as another one
        reasons = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponseBadRequest(reasons, content_type="text/plain; charset=utf-8")
    series = build(account, period)
    response = HttpResponse(series_csv(series), content_type="text/csv; charset=utf-8")
    filename = f"wechat-stats-{account.slug}-{series_key}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
@requires(Perm.WECHAT_STATS_VIEW)
def stats_fetch(request: HttpRequest) -> HttpResponse:
    """Queue a fetch of WeChat's figures (the worker runs it; the page shows them once stored)."""
    form = DatacubeFetchForm(request.POST)
    target = reverse("console:channel_stats")
    if not form.is_valid():
        messages.error(request, _("请选择公众号，天数为 1 至 366。"))
        return redirect(target)
    account = WeChatAccount.objects.filter(slug=form.cleaned_data["account"]).first()
    if account is None:
        raise NotFound("no_wechat_account", _("没有这个公众号。"))
    days = form.cleaned_data["days"]
    datacube_fetch_dispatch(account_id=account.pk, days=days)
    messages.success(
        request,
        _("已提交获取任务：%(name)s 截至昨天的 %(days)s 天微信统计数据，完成后刷新本页即可看到。")
        % {"name": account.name or account.slug, "days": days},
    )
    return redirect(f"{target}?{urlencode({'account': account.slug})}")
