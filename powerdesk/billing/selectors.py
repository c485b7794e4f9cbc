"""Reads derived from the ledger: balance, bill status, points."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Sum
from django.utils import timezone

from powerdesk.billing.choices import BillStatus, LedgerKind
from powerdesk.billing.models import Bill, LedgerEntry, PointsEntry
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
