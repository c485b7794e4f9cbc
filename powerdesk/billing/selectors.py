"""Reads derived from the ledger: balance, bill status, points."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from powerdesk.billing.choices import BillStatus, LedgerKind
from powerdesk.billing.models import Bill, LedgerEntry, PointsEntry
from powerdesk.core.rowsql import loaded_instance, select_rows
from powerdesk.customers.models import Account, Binding
from powerdesk.customers.selectors import active_identity_user_sql

_CHARGES = (LedgerKind.BILL_ISSUED, LedgerKind.BILL_CORRECTION, LedgerKind.LATE_FEE)


def account_balance_fen(account: Account) -> int:
    """What the customer owes (positive) or holds in credit (negative), in fen."""
    return LedgerEntry.objects.filter(account=account).aggregate(total=Sum("amount_fen"))["total"] or 0


def account_points(account: Account) -> int:
    return PointsEntry.objects.filter(account=account).aggregate(total=Sum("points"))["total"] or 0


@dataclass(frozen=True)
class BillWithStatus:
    bill: Bill
    status: BillStatus
    outstanding_fen: int


def bills_with_status(account: Account, *, today: date | None = None) -> list[BillWithStatus]:
    """Current bill versions, newest first, each with a status derived by settling the
    account's credits against its bills oldest first (FIFO)."""
    today = today or timezone.localdate()
    bills = list(Bill.objects.filter(account=account, is_current=True).order_by("period"))
    entries = LedgerEntry.objects.filter(account=account)
    credits = -(entries.filter(amount_fen__lt=0).aggregate(t=Sum("amount_fen"))["t"] or 0)
    # Positive non-bill postings (refunds, reversals, adjustments) give back credit.
    credits -= (
        entries.filter(amount_fen__gt=0).exclude(kind__in=_CHARGES).aggregate(t=Sum("amount_fen"))["t"] or 0
    )
    late_fees = entries.filter(kind=LedgerKind.LATE_FEE).aggregate(t=Sum("amount_fen"))["t"] or 0
    credits -= late_fees  # fees are settled first
    result = []
    for bill in bills:
        settled = max(0, min(bill.amount_fen, credits))
        credits -= settled
        outstanding = bill.amount_fen - settled
        if outstanding == 0:
            status = BillStatus.PAID
        elif bill.due_date < today:
            status = BillStatus.OVERDUE
        elif settled:
            status = BillStatus.PARTIAL
        else:
            status = BillStatus.UNPAID
        result.append(BillWithStatus(bill, status, outstanding))
    return list(reversed(result))


def newest_bill_with_status(account_id: int, *, today: date | None = None) -> BillWithStatus | None:
    """``bills_with_status(account)[0]`` in one statement, for answering "电费" on a channel.

    FIFO settles older bills first, so what reaches the newest bill is whatever credit is left
    after all older bills: ``settled = clamp(credits - older bills, 0, amount)``. The bill comes
    back with only the fields a reply shows (the rest load if read); ``test_selectors`` pins it
    to ``bills_with_status`` on random ledgers.
    """
    today = today or timezone.localdate()
    rows = select_rows(
        Bill,
        _newest_bill_sql(),
        [*_CHARGES, LedgerKind.LATE_FEE, account_id, True],
        fields=_NEWEST_BILL_FIELDS,
    )
    return _with_status(rows[0], today) if rows else None


def _with_status(bill: Bill, today: date) -> BillWithStatus:
    """The status of a bill read with its ledger sums (``_newest_bill_columns``)."""
    credits = -bill.negative_fen - bill.other_positive_fen - bill.late_fee_fen
    settled = max(0, min(bill.amount_fen, credits - bill.older_fen))
    outstanding = bill.amount_fen - settled
    if outstanding == 0:
        status = BillStatus.PAID
    elif bill.due_date < today:
        status = BillStatus.OVERDUE
    elif settled:
        status = BillStatus.PARTIAL
    else:
        status = BillStatus.UNPAID
    return BillWithStatus(bill, status, outstanding)


@dataclass(frozen=True)
class AccountNewestBill:
    account: Account  # id, number and holder_name loaded (others load if read)
    newest: BillWithStatus | None  # None: no bill yet, or beyond ``bills_for``


def customer_newest_bills(
    *, customer_user_id: int, bills_for: int, today: date | None = None
) -> list[AccountNewestBill]:
    """The accounts actively bound to the customer, in binding order (``customer_accounts``),
    the first ``bills_for`` of them with their newest bill and its status — one statement, for
    "电费" on a channel (instead of one for the accounts and one per account).
    ``test_newest_bill`` pins it to ``customer_accounts_brief`` and ``newest_bill_with_status``."""
    today = today or timezone.localdate()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = select_rows(
        Bill,
        _customer_newest_bills_sql(by_identity=False),
        [*_CHARGES, LedgerKind.LATE_FEE, customer_user_id, now, bills_for, True],
        fields=_NEWEST_BILL_FIELDS,
    )
    return _account_newest_bills(rows, today)


@dataclass(frozen=True)
class SenderNewestBills:
    customer_user_id: int | None  # the active customer user owning the identity; None: a stranger
    accounts: list[AccountNewestBill]


def sender_newest_bills(
    *, provider: str, app_id: str, subject: str, bills_for: int, today: date | None = None
) -> SenderNewestBills:
    """``customer_newest_bills`` for the active customer user who owns a channel identity
    (``Identity`` (provider, app_id, subject)), found in the same statement: what "电费" from a
    follower needs, in one round trip instead of two. ``test_newest_bill`` pins it to
    ``customer_newest_bills``."""
    today = today or timezone.localdate()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    who = [provider, app_id, subject]
    rows = select_rows(
        Bill,
        _customer_newest_bills_sql(by_identity=True),
        [*_CHARGES, LedgerKind.LATE_FEE, *who, *who, now, bills_for, True],
        fields=_NEWEST_BILL_FIELDS,
    )
    if not rows:
        return SenderNewestBills(None, [])
    return SenderNewestBills(rows[0].sender_user_id, _account_newest_bills(rows, today))


def _account_newest_bills(rows: list[Bill], today: date) -> list[AccountNewestBill]:
    result = []
    for row in rows:
        if row.acct_id is None:  # a known sender without bound accounts
            continue
        account = loaded_instance(
            Account, ("id", "number", "holder_name"), (row.acct_id, row.acct_number, row.acct_holder_name)
        )
        result.append(AccountNewestBill(account, _with_status(row, today) if row.pk is not None else None))
    return result


_NEWEST_BILL_FIELDS = ("id", "account", "period", "version", "amount_fen", "kwh_total", "due_date")


def _newest_bill_columns(bill: str) -> str:
    """Bill ``bill``'s columns (``_NEWEST_BILL_FIELDS``) and the sums its FIFO status needs:
    older current bills, and the account's credits, other positive postings (parameters: the
    three charge kinds) and late fees (parameter: the late-fee kind)."""
    bills, ledger = Bill._meta.db_table, LedgerEntry._meta.db_table

    def ledger_sum(condition: str) -> str:
        return (
            f'(SELECT COALESCE(SUM(e."amount_fen"), 0) FROM "{ledger}" e '  # noqa: S608 (names from the models)
            f'WHERE e."account_id" = {bill}."account_id" AND {condition})'
        )

    return (
        f'{bill}."id", {bill}."account_id", {bill}."period", {bill}."version", {bill}."amount_fen", '  # noqa: S608 (names from the models and our aliases)
        f'{bill}."kwh_total", {bill}."due_date", '
        f'(SELECT COALESCE(SUM(o."amount_fen"), 0) FROM "{bills}" o WHERE o."account_id" = {bill}."account_id" '
        f'AND o."is_current" = {bill}."is_current" AND o."period" < {bill}."period") AS older_fen, '
        + ledger_sum('e."amount_fen" < 0')
        + " AS negative_fen, "
        + ledger_sum('e."amount_fen" > 0 AND e."kind" NOT IN (%s, %s, %s)')
        + " AS other_positive_fen, "
        + ledger_sum('e."kind" = %s')
        + " AS late_fee_fen"
    )


@functools.cache
def _customer_newest_bills_sql(*, by_identity: bool) -> str:
    """Bound accounts (as ``customer_accounts_brief`` reads them), numbered in binding order,
    each joined to its newest current bill when its number is within ``bills_for``; a scalar
    subquery picks that bill, so SQLite (no LATERAL) runs it too.

    ``by_identity``: the customer is the owner of an identity, and the statement starts from
    that one user (no row: a stranger) with the accounts left-joined to it (one row with no
    account: a known sender without bindings); each row carries ``sender_user_id``."""
    bills, binding, account = Bill._meta.db_table, Binding._meta.db_table, Account._meta.db_table
    customer = f"({active_identity_user_sql()})" if by_identity else "%s"
    accounts = (
        'SELECT a."id", a."number", a."holder_name", b."valid_from", b."id" AS binding_id, '  # noqa: S608 (names from the models; values are parameters)
        'b."customer_user_id" AS owner_id, ROW_NUMBER() OVER (ORDER BY b."valid_from", b."id") AS position '
        f'FROM "{binding}" b JOIN "{account}" a ON a."id" = b."account_id" '
        f'WHERE b."customer_user_id" = {customer} AND b."ended_at" IS NULL '
        'AND (b."valid_until" IS NULL OR b."valid_until" > %s)'
    )
    source = (
        f"({active_identity_user_sql()}) s LEFT JOIN ({accounts}) a ON a.\"owner_id\" = s.\"id\""
        if by_identity
        else f"({accounts}) a"
    )
    sender = ', s."id" AS sender_user_id' if by_identity else ""
    return (
        f"SELECT {_newest_bill_columns('nb')}, "  # noqa: S608 (names from the models; values are parameters)
        f'a."id" AS acct_id, a."number" AS acct_number, a."holder_name" AS acct_holder_name{sender} '
        f"FROM {source} "
        f'LEFT JOIN "{bills}" nb ON a."position" <= %s AND nb."id" = ('
        f'SELECT x."id" FROM "{bills}" x WHERE x."account_id" = a."id" AND x."is_current" = %s '
        'ORDER BY x."period" DESC LIMIT 1) '
        'ORDER BY a."valid_from", a."binding_id"'
    )


@functools.cache
def _newest_bill_sql() -> str:
    bills = Bill._meta.db_table
    return (
        f"SELECT {_newest_bill_columns('b')} "  # noqa: S608 (names from the models; values are parameters)
        f'FROM "{bills}" b WHERE b."account_id" = %s AND b."is_current" = %s ORDER BY b."period" DESC LIMIT 1'
    )
