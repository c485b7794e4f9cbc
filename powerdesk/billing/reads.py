"""Reads behind the customer's 电费 pages, the /api/v1/me/ billing endpoints, the statement PDF
and the console 账务 tab, so every face gives the same answer for an account's billing.

The two writes here are audit events of reading (a bill viewed, a statement downloaded): they
change no money, and each face calls them once per view, with the channel it serves.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.billing import events as kinds
from powerdesk.billing.models import Bill, DailyReading, LedgerEntry, Payment, PointsEntry
from powerdesk.billing.selectors import BillWithStatus, account_balance_fen, bills_with_status
from powerdesk.core.exceptions import ApplicationError, NotFound
from powerdesk.core.rowsql import select_rows
from powerdesk.customers.models import Account, Binding, CustomerUser
from powerdesk.customers.services import active_bindings
from powerdesk.customers.validation import clean_account_number
from powerdesk.events.choices import Channel
from powerdesk.events.services import event_record

TREND_MONTHS = 24
USAGE_DAYS = (30, 90)
STATEMENT_MONTHS = 12


def fen_to_yuan(fen: int | None) -> str:
    """Exact yuan from integer fen: 123456 → "1234.56", -5 → "-0.05". Never through float."""
    if fen is None:
        return ""
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def period_parse(value: str) -> date:
    """ "2026-09" → date(2026, 9, 1); anything else is refused with ``invalid_period``."""
    try:
        parsed = datetime.strptime((value or "").strip(), "%Y-%m").date()
    except ValueError:
        raise ApplicationError(
            "invalid_period", _("电费年月格式应为 YYYY-MM，例如 2026-09。"), field="period"
        ) from None
    return parsed


def months_back(period: date, months: int) -> date:
    """The first day of the month ``months`` before ``period``."""
    index = period.year * 12 + period.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


# --- whose account ----------------------------------------------------------------------------


def customer_accounts(*, customer_user: CustomerUser) -> list[Account]:
    """Accounts actively bound to the customer, in the order they were bound."""
    bindings = (
        active_bindings()
        .filter(customer_user=customer_user)
        .select_related("account")
        .order_by("valid_from", "pk")
    )
    return [binding.account for binding in bindings]


def customer_accounts_brief(*, customer_user_id: int) -> list[Account]:
    """``customer_accounts`` in one statement written once, for the channel answers that run on
    every message: each account comes with ``id``, ``number`` and ``holder_name`` loaded (any
    other field loads if read). Same bindings, same order (``test_reads`` pins it)."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    return select_rows(
        Account, _brief_accounts_sql(), [customer_user_id, now], fields=("id", "number", "holder_name")
    )


@functools.cache
def _brief_accounts_sql() -> str:
    binding, account = Binding._meta.db_table, Account._meta.db_table
    return (
        f'SELECT a."id", a."number", a."holder_name" FROM "{binding}" b JOIN "{account}" a ON a."id" = b."account_id" '  # noqa: S608 (names from the models; values are parameters)
        'WHERE b."customer_user_id" = %s AND b."ended_at" IS NULL AND (b."valid_until" IS NULL OR b."valid_until" > %s) '
        'ORDER BY b."valid_from", b."id"'
    )


def account_get_for_customer(*, customer_user: CustomerUser, number: str) -> Account:
    """The account 户号 ``number`` if it is actively bound to ``customer_user``.

    Not bound, ended, expired and nonexistent are the same NotFound ``account_not_bound``: the
    answer never tells a customer that someone else's 户号 exists.
    """
    number = clean_account_number(number)
    binding = (
        active_bindings()
        .filter(customer_user=customer_user, account__number=number)
        .select_related("account")
        .first()
    )
    if binding is None:
        raise NotFound(
            "account_not_bound",
            _("您的账户未绑定户号 %(number)s。") % {"number": number},
            field="account_number",
        )
    return binding.account


# --- money -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    """The ledger sum split for display: what is owed, or what is held as prepaid credit."""

    balance_fen: int

    @property
    def owed_fen(self) -> int:
        return max(self.balance_fen, 0)

    @property
    def credit_fen(self) -> int:
        return max(-self.balance_fen, 0)


def account_balance(*, account: Account) -> Balance:
    return Balance(account_balance_fen(account))


@dataclass(frozen=True)
class BillDetail:
    """One month: its current version with status, and every version newest first."""

    current: BillWithStatus
    versions: list[Bill]

    @property
    def bill(self) -> Bill:
        return self.current.bill

    @property
    def is_corrected(self) -> bool:
        return self.bill.version > 1

    @property
    def corrected_by_fen(self) -> int:
        """The total of all corrections (退补) since the first version."""
        return sum(version.difference_fen for version in self.versions)


def bill_detail(*, account: Account, period: date, bills: list[BillWithStatus] | None = None) -> BillDetail:
    """The bill of ``period`` (first of the month); NotFound ``bill_not_found`` if there is none."""
    bills = bills if bills is not None else bills_with_status(account)
    current = next((row for row in bills if row.bill.period == period), None)
    if current is None:
        raise NotFound(
            "bill_not_found",
            _("户号 %(number)s 没有 %(month)s 的电费账单。")
            % {"number": account.number, "month": f"{period:%Y-%m}"},
            field="period",
        )
    versions = list(Bill.objects.filter(account=account, period=period).order_by("-version"))
    return BillDetail(current, versions)


@dataclass(frozen=True)
class TrendPoint:
    period: date
    kwh_total: Decimal
    amount_fen: int


def monthly_trend(bills: list[BillWithStatus], *, months: int = TREND_MONTHS) -> list[TrendPoint]:
    """The last ``months`` billed months, oldest first (for a chart's x axis)."""
    newest = bills[:months]
    return [TrendPoint(row.bill.period, row.bill.kwh_total, row.bill.amount_fen) for row in reversed(newest)]


@dataclass(frozen=True)
class DailyUsage:
    reading_date: date
    kwh_total: Decimal


def daily_usage(*, account: Account, days: int = 30, today: date | None = None) -> list[DailyUsage]:
    """kWh per day over the last ``days`` days, summed over the account's meters (a meter
    exchange mid-period leaves two meters reading the same account)."""
    today = today or timezone.localdate()
    rows = (
        DailyReading.objects.filter(
            meter__account=account, reading_date__gt=today - timedelta(days=days), reading_date__lte=today
        )
        .values("reading_date")
        .annotate(kwh=Sum("kwh_total"))
        .order_by("reading_date")
    )
    return [DailyUsage(row["reading_date"], row["kwh"]) for row in rows]


def account_payments(*, account: Account) -> QuerySet[Payment]:
    """Payments received, newest first."""
    return Payment.objects.filter(account=account).order_by("-paid_at", "-id")


def account_points_entries(*, account: Account) -> QuerySet[PointsEntry]:
    return PointsEntry.objects.filter(account=account).order_by("-occurred_at", "-id")


def account_ledger(*, account: Account) -> QuerySet[LedgerEntry]:
    """Ledger movements, newest first (uuid7 ids break ties in posting order)."""
    return LedgerEntry.objects.filter(account=account).order_by("-occurred_at", "-id")


def account_bill_versions(*, account: Account) -> QuerySet[Bill]:
    """Every version of every bill, newest month first, newest version first within a month."""
    return Bill.objects.filter(account=account).order_by("-period", "-version")


@dataclass(frozen=True)
class StatementData:
    """What a statement covers: bills of ``period_from``…``period_to`` and payments received
    in those months."""

    account: Account
    period_from: date
    period_to: date
    bills: list[BillWithStatus]  # oldest first
    payments: list[Payment]
    balance: Balance

    @property
    def kwh_totals(self) -> dict[str, Decimal]:
        fields = ("kwh_total", "kwh_sharp", "kwh_peak", "kwh_flat", "kwh_valley")
        return {name: sum((getattr(row.bill, name) for row in self.bills), Decimal(0)) for name in fields}

    @property
    def amount_fen(self) -> int:
        return sum(row.bill.amount_fen for row in self.bills)

    @property
    def outstanding_fen(self) -> int:
        return sum(row.outstanding_fen for row in self.bills)

    @property
    def paid_fen(self) -> int:
        return sum(payment.amount_fen - payment.refunded_fen for payment in self.payments)


def statement_range(
    *, period_from: str = "", period_to: str = "", today: date | None = None
) -> tuple[date, date]:
    """The months a statement covers; by default the last 12 up to this month."""
    today = today or timezone.localdate()
    end = period_parse(period_to) if period_to else today.replace(day=1)
    start = period_parse(period_from) if period_from else months_back(end, STATEMENT_MONTHS - 1)
    if start > end:
        raise ApplicationError("invalid_period_range", _("起始月份不能晚于截止月份。"), field="from")
    if months_back(end, 120) > start:
        raise ApplicationError("period_range_too_long", _("一份清单最多包含 120 个月。"), field="from")
    return start, end


def statement_data(*, account: Account, period_from: date, period_to: date) -> StatementData:
    bills = [
        row for row in reversed(bills_with_status(account)) if period_from <= row.bill.period <= period_to
    ]
    zone = timezone.get_current_timezone()
    start = datetime.combine(period_from, time.min, tzinfo=zone)
    end = datetime.combine(months_back(period_to, -1), time.min, tzinfo=zone)
    payments = list(
        Payment.objects.filter(account=account, paid_at__gte=start, paid_at__lt=end).order_by("paid_at", "id")
    )
    return StatementData(account, period_from, period_to, bills, payments, account_balance(account=account))


# --- audit events of reading -------------------------------------------------------------------


def bill_view_record(*, bill: Bill, channel: Channel | str, customer_user_id: int | None = None) -> None:
    """Record that a customer looked at one month's bill (once per view)."""
    event_record(
        kinds.BILL_VIEWED,
        channel=channel,
        account_id=bill.account_id,
        customer_user_id=customer_user_id,
        payload={"period": f"{bill.period:%Y-%m}", "version": bill.version},
    )


def statement_download_record(
    *,
    account: Account,
    period_from: date,
    period_to: date,
    channel: Channel | str,
    customer_user_id: int | None,
) -> None:
    """Record that a customer downloaded a statement PDF (once per download)."""
    event_record(
        kinds.BILL_STATEMENT_DOWNLOADED,
        channel=channel,
        account_id=account.pk,
        customer_user_id=customer_user_id,
        payload={"from": f"{period_from:%Y-%m}", "to": f"{period_to:%Y-%m}"},
    )
