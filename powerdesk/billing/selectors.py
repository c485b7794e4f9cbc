"""Reads derived from the ledger: balance, bill status, points."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from django.db.models import Sum
from django.utils import timezone

from powerdesk.billing.choices import BillStatus, LedgerKind
from powerdesk.billing.models import Bill, LedgerEntry, PointsEntry
from powerdesk.core.rowsql import select_rows
from powerdesk.customers.models import Account

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
        fields=("id", "account", "period", "version", "amount_fen", "kwh_total", "due_date"),
    )
    if not rows:
        return None
    bill = rows[0]
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


@functools.cache
def _newest_bill_sql() -> str:
    bills, ledger = Bill._meta.db_table, LedgerEntry._meta.db_table

    def ledger_sum(condition: str) -> str:
        return (
            f'(SELECT COALESCE(SUM(e."amount_fen"), 0) FROM "{ledger}" e '  # noqa: S608 (names from the models)
            f'WHERE e."account_id" = b."account_id" AND {condition})'
        )

    return (
        f'SELECT b."id", b."account_id", b."period", b."version", b."amount_fen", b."kwh_total", b."due_date", '  # noqa: S608 (names from the models; values are parameters)
        f'(SELECT COALESCE(SUM(o."amount_fen"), 0) FROM "{bills}" o WHERE o."account_id" = b."account_id" '
        'AND o."is_current" = b."is_current" AND o."period" < b."period") AS older_fen, '
        + ledger_sum('e."amount_fen" < 0')
        + " AS negative_fen, "
        + ledger_sum('e."amount_fen" > 0 AND e."kind" NOT IN (%s, %s, %s)')
        + " AS other_positive_fen, "
        + ledger_sum('e."kind" = %s')
        + f' AS late_fee_fen FROM "{bills}" b WHERE b."account_id" = %s AND b."is_current" = %s '
        'ORDER BY b."period" DESC LIMIT 1'
    )
