"""The portal's 电费 tab: balance, bills by month, trend and daily charts, payments, points and
the statement PDF, for accounts actively bound to the signed-in customer.

Any other 户号 (someone else's, ended, or nonexistent) is the same 404 ``account_not_bound``.
Viewing a month and downloading the PDF each record one event on channel h5.

The pay button links to ``portal:pay`` (views_pay.py; kwarg ``account_number``, query
``?period=YYYY-MM``); it is hidden when that URL cannot be resolved.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from powerdesk.billing import reads
from powerdesk.billing.selectors import account_points, bills_with_status
from powerdesk.billing.statement import statement_pdf
from powerdesk.billing.tou import TouRecommendation, tou_recommendation, tou_recommendation_cached
from powerdesk.core.exceptions import ApplicationError, NotFound
from powerdesk.customers.models import Account
from powerdesk.events.choices import Channel
from powerdesk.portal.auth import customer_required

PAY_URL_NAME = "portal:pay"
PAGE_SIZE = 20


def pay_url(account: Account, period: str = "") -> str | None:
    """Where the 缴费 button goes, or None while the payments app has not registered it."""
    try:
        url = reverse(PAY_URL_NAME, kwargs={"account_number": account.number})
    except NoReverseMatch:
        return None
    return f"{url}?period={period}" if period else url


def bound_account_view(view: Callable) -> Callable:
    """Resolve ``account_number`` to an account bound to the customer (else a 404 page)."""

    @wraps(view)
    def wrapped(request: HttpRequest, account_number: str, *args, **kwargs) -> HttpResponse:
        try:
            account = reads.account_get_for_customer(
                customer_user=request.customer_user, number=account_number
            )
            return view(request, account, *args, **kwargs)
        except NotFound as exc:
            return _not_found(request, exc)
        except ApplicationError as exc:
            return _not_found(request, exc, status=exc.status)

    return wrapped


def _not_found(request: HttpRequest, exc: ApplicationError, *, status: int = 404) -> HttpResponse:
    context = {"error": exc, "tab": "billing"}
    return render(request, "portal/billing/not_found.html", context, status=status)


def _context(request: HttpRequest, account: Account, **extra) -> dict:
    accounts = reads.customer_accounts(customer_user=request.customer_user)
    return {"account": account, "accounts": accounts, "tab": "billing", **extra}


@customer_required
@require_GET
def billing_home(request: HttpRequest) -> HttpResponse:
    """电费 tab: the first bound account's page, or how to bind one."""
    accounts = reads.customer_accounts(customer_user=request.customer_user)
    if not accounts:
        return render(request, "portal/billing/no_accounts.html", {"tab": "billing"})
    return redirect("portal:billing_account", account_number=accounts[0].number)


@customer_required
@require_GET
@bound_account_view
def billing_account(request: HttpRequest, account: Account) -> HttpResponse:
    days = 90 if request.GET.get("days") == "90" else 30
    bills = bills_with_status(account)
    trend = reads.monthly_trend(bills)
    usage = reads.daily_usage(account=account, days=days)
    current = bills[0] if bills else None
    chart_data = {
        "trend": {
            "months": [f"{point.period:%Y-%m}" for point in trend],
            "kwh": [str(point.kwh_total) for point in trend],
            "yuan": [reads.fen_to_yuan(point.amount_fen) for point in trend],
        },
        "usage": {
            "days": [f"{row.reading_date:%m-%d}" for row in usage],
            "kwh": [str(row.kwh_total) for row in usage],
        },
    }
    context = _context(
        request,
        account,
        balance=reads.account_balance(account=account),
        current=current,
        bills=bills,
        days=days,
        usage_total=sum((row.kwh_total for row in usage), 0),
        chart_data=chart_data,
        points=account_points(account),
        pay_url=pay_url(account, f"{current.bill.period:%Y-%m}" if current else ""),
        tou_card=_tou_card(account, bills),
    )
    return render(request, "portal/billing/account.html", context)


def _tou_card(account: Account, bills) -> TouRecommendation | None:
    """The 峰谷电价建议 card's recommendation, only when switching would have saved money."""
    recommendation = tou_recommendation_cached(account=account, bills=[row.bill for row in bills])
    return recommendation if recommendation.shows_card else None


@customer_required
@require_GET
@bound_account_view
def billing_tou(request: HttpRequest, account: Account) -> HttpResponse:
    """The 峰谷电价建议 details: month by month, flat vs TOU (only a saving is ever shown)."""
    recommendation = tou_recommendation(account=account)
    context = _context(request, account, tou=recommendation if recommendation.shows_card else None)
    return render(request, "portal/billing/tou.html", context)


@customer_required
@require_GET
@bound_account_view
def billing_month(request: HttpRequest, account: Account, period: str) -> HttpResponse:
    detail = reads.bill_detail(account=account, period=reads.period_parse(period))
    reads.bill_view_record(bill=detail.bill, channel=Channel.H5, customer_user_id=request.customer_user.pk)
    context = _context(request, account, detail=detail, pay_url=pay_url(account, period))
    return render(request, "portal/billing/month.html", context)


@customer_required
@require_GET
@bound_account_view
def billing_payments(request: HttpRequest, account: Account) -> HttpResponse:
    page = Paginator(reads.account_payments(account=account), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "portal/billing/payments.html", _context(request, account, page=page))


@customer_required
@require_GET
@bound_account_view
def billing_points(request: HttpRequest, account: Account) -> HttpResponse:
    page = Paginator(reads.account_points_entries(account=account), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = _context(request, account, page=page, points=account_points(account))
    return render(request, "portal/billing/points.html", context)


@customer_required
@require_GET
@bound_account_view
def billing_statement(request: HttpRequest, account: Account) -> HttpResponse:
    period_from, period_to = reads.statement_range(
        period_from=request.GET.get("from", ""), period_to=request.GET.get("to", "")
    )
    pdf = statement_pdf(reads.statement_data(account=account, period_from=period_from, period_to=period_to))
    reads.statement_download_record(
        account=account,
        period_from=period_from,
        period_to=period_to,
        channel=Channel.H5,
        customer_user_id=request.customer_user.pk,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"statement-{account.number}-{period_from:%Y%m}-{period_to:%Y%m}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
