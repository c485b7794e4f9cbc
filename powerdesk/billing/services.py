"""Every write to billing: bill versions, payments, refunds, adjustments, points.

Each posting to the ledger carries a unique ``reference`` naming the business fact it records
("bill:0000000001:2026-10:v2", "payment:alipay:2026…"), so replaying any import or notification
posts nothing twice: the unique constraint, not a prior SELECT, is what guarantees it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.billing import events as kinds
from powerdesk.billing.choices import BillSource, LedgerKind, PaymentStatus, PointsReason
from powerdesk.billing.models import Bill, LedgerEntry, Payment, PointsEntry
from powerdesk.core.exceptions import ApplicationError
from powerdesk.customers.models import Account
from powerdesk.events.choices import Channel
from powerdesk.events.services import event_record

# One point per full yuan paid online (an adjustable business rule, kept in one place).
POINTS_PER_YUAN_ONLINE = 1
ONLINE_CHANNELS = {Channel.WECHAT, Channel.ALIPAY, Channel.H5, Channel.APP, Channel.API, Channel.WEB}


@dataclass(frozen=True)
class BillData:
    """What the billing system says a bill is (one version)."""

    period: date  # first day of the month
    kwh_total: Decimal
    kwh_sharp: Decimal
    kwh_peak: Decimal
    kwh_flat: Decimal
    kwh_valley: Decimal
    amount_fen: int
    issued_on: date
    due_date: date
    source_ref: str = ""

    def content_hash(self) -> str:
        canonical = json.dumps(
            {
                "period": self.period.isoformat(),
                "kwh": [
                    str(v)
                    for v in (self.kwh_total, self.kwh_sharp, self.kwh_peak, self.kwh_flat, self.kwh_valley)
                ],
                "amount_fen": self.amount_fen,
                "issued_on": self.issued_on.isoformat(),
                "due_date": self.due_date.isoformat(),
                "source_ref": self.source_ref,
            },
            sort_keys=True,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def _check_period(period: date) -> None:
    if period.day != 1:
        raise ApplicationError("invalid_period", _("电费年月须为当月 1 日。"), field="period")


@transaction.atomic
def bill_record_version(
    *, account: Account, data: BillData, source: str = BillSource.IMPORT
) -> tuple[Bill, bool]:
    """Store ``data`` as the account's bill for its month; returns (bill, changed).

    Same content as the current version → nothing happens. Different content → a new version
    beside the old one, and the ledger gets the difference as a correction (退补).
    """
    _check_period(data.period)
    if data.amount_fen < 0:
        raise ApplicationError("negative_amount", _("账单金额不能为负。"), field="amount_fen")
    if data.due_date < data.issued_on:
        raise ApplicationError("due_before_issue", _("缴费截止日不能早于出账日期。"), field="due_date")
    content_hash = data.content_hash()
    current = (
        Bill.objects.select_for_update().filter(account=account, period=data.period, is_current=True).first()
    )
    if current is not None and current.content_hash == content_hash:
        return current, False
    version = (current.version + 1) if current else 1
    difference = data.amount_fen - (current.amount_fen if current else 0)
    if current is not None:
        Bill.objects.filter(pk=current.pk).update(is_current=False, updated_at=timezone.now())
    bill = Bill.objects.create(
        account=account,
        period=data.period,
        version=version,
        is_current=True,
        source=source,
        source_ref=data.source_ref,
        kwh_total=data.kwh_total,
        kwh_sharp=data.kwh_sharp,
        kwh_peak=data.kwh_peak,
        kwh_flat=data.kwh_flat,
        kwh_valley=data.kwh_valley,
        amount_fen=data.amount_fen,
        difference_fen=difference if current else 0,
        issued_on=data.issued_on,
        due_date=data.due_date,
        previous=current,
        content_hash=content_hash,
    )
    reference = f"bill:{account.number}:{data.period:%Y-%m}:v{version}"
    if current is None:
        _post(
            account,
            LedgerKind.BILL_ISSUED,
            data.amount_fen,
            reference,
            bill=bill,
            memo=_("%(month)s 电费") % {"month": f"{data.period:%Y-%m}"},
        )
        event_record(
            kinds.BILL_IMPORTED,
            channel=Channel.SYSTEM,
            account_id=account.pk,
            payload={"period": f"{data.period:%Y-%m}", "amount_fen": data.amount_fen},
        )
    elif difference:
        _post(
            account,
            LedgerKind.BILL_CORRECTION,
            difference,
            reference,
            bill=bill,
            memo=_("%(month)s 电费退补") % {"month": f"{data.period:%Y-%m}"},
        )
    if current is not None:
        event_record(
            kinds.BILL_CORRECTED,
            channel=Channel.SYSTEM,
            account_id=account.pk,
            payload={"period": f"{data.period:%Y-%m}", "version": version, "difference_fen": difference},
        )
    return bill, True


def _post(
    account: Account,
    kind: str,
    amount_fen: int,
    reference: str,
    *,
    bill: Bill | None = None,
    payment: Payment | None = None,
    memo: str = "",
    occurred_at: datetime | None = None,
    actor_staff_id: int | None = None,
) -> LedgerEntry:
    return LedgerEntry.objects.create(
        account=account,
        kind=kind,
        amount_fen=amount_fen,
        reference=reference,
        bill=bill,
        payment=payment,
        memo=memo[:200],
        occurred_at=occurred_at or timezone.now(),
        actor_staff_id=actor_staff_id,
    )


def payment_record(
    *,
    account: Account,
    amount_fen: int,
    gateway: str,
    gateway_txn_id: str,
    paid_at: datetime,
    channel: Channel | str,
    customer_user_id: int | None = None,
) -> tuple[Payment, bool]:
    """Credit a payment exactly once; returns (payment, created).

    Concurrent deliveries of the same (gateway, txn) race to the unique constraint; the loser
    rolls back its savepoint and gets the winner's row with ``created=False``. Over-payment
    simply leaves the ledger in credit (prepaid balance); partial payment leaves the rest due.
    """
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise ApplicationError("invalid_amount", _("缴费金额必须是大于零的整数分。"), field="amount_fen")
    if not gateway_txn_id:
        raise ApplicationError("missing_txn_id", _("缺少渠道流水号。"), field="gateway_txn_id")
    channel = Channel(channel)
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                account=account,
                amount_fen=amount_fen,
                gateway=gateway,
                gateway_txn_id=gateway_txn_id,
                channel=channel,
                paid_at=paid_at,
                customer_user_id=customer_user_id,
            )
            _post(
                account,
                LedgerKind.PAYMENT,
                -amount_fen,
                f"payment:{gateway}:{gateway_txn_id}",
                payment=payment,
                occurred_at=paid_at,
                memo=_("缴费"),
            )
            if channel in ONLINE_CHANNELS and amount_fen >= 100:
                PointsEntry.objects.create(
                    account=account,
                    points=(amount_fen // 100) * POINTS_PER_YUAN_ONLINE,
                    reason=PointsReason.ONLINE_PAYMENT,
                    reference=f"points:payment:{gateway}:{gateway_txn_id}",
                    occurred_at=paid_at,
                )
            event_record(
                kinds.PAYMENT_RECEIVED,
                channel=channel,
                account_id=account.pk,
                customer_user_id=customer_user_id,
                payload={"amount_fen": amount_fen, "gateway": gateway, "txn": gateway_txn_id},
            )
    except IntegrityError:
        existing = Payment.objects.filter(gateway=gateway, gateway_txn_id=gateway_txn_id).first()
        if existing is None:
            raise
        if existing.account_id != account.pk or existing.amount_fen != amount_fen:
            raise ApplicationError(
                "txn_conflict", _("该渠道流水号已以不同户号或金额入账。"), field="gateway_txn_id", status=409
            ) from None
        return existing, False
    return payment, True


@transaction.atomic
def payment_refund(
    *, payment: Payment, amount_fen: int, refund_id: str, reason: str = "", actor_staff_id: int | None = None
) -> LedgerEntry:
    """Refund part or all of a payment once per ``refund_id``; the ledger gets a charge back."""
    if not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ApplicationError("invalid_amount", _("退款金额必须是大于零的整数分。"), field="amount_fen")
    reference = f"refund:{payment.gateway}:{refund_id}"
    existing = LedgerEntry.objects.filter(reference=reference).first()
    if existing is not None:
        return existing
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.refunded_fen + amount_fen > payment.amount_fen:
        raise ApplicationError("refund_exceeds_payment", _("退款总额不能超过缴费金额。"), field="amount_fen")
    payment.refunded_fen += amount_fen
    payment.status = (
        PaymentStatus.REFUNDED
        if payment.refunded_fen == payment.amount_fen
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    payment.save(update_fields=["refunded_fen", "status", "updated_at"])
    entry = _post(
        payment.account,
        LedgerKind.REFUND,
        amount_fen,
        reference,
        payment=payment,
        memo=reason or _("退款"),
        actor_staff_id=actor_staff_id,
    )
    event_record(
        kinds.PAYMENT_REFUNDED,
        channel=Channel.SYSTEM,
        account_id=payment.account_id,
        actor_staff_id=actor_staff_id,
        payload={"amount_fen": amount_fen, "refund_id": refund_id},
    )
    return entry


@transaction.atomic
def ledger_adjust(
    *,
    account: Account,
    amount_fen: int,
    kind: str,
    reference: str,
    memo: str,
    actor_staff_id: int | None = None,
) -> LedgerEntry:
    """A late fee, reversal or manual adjustment, idempotent by ``reference``."""
    kind = LedgerKind(kind)
    if kind not in (LedgerKind.LATE_FEE, LedgerKind.REVERSAL, LedgerKind.ADJUSTMENT):
        raise ApplicationError("invalid_kind", _("该类型不能手工调整。"), field="kind")
    if not memo.strip():
        raise ApplicationError("memo_required", _("调整须填写摘要。"), field="memo")
    existing = LedgerEntry.objects.filter(reference=reference).first()
    if existing is not None:
        return existing
    entry = _post(account, kind, amount_fen, reference, memo=memo, actor_staff_id=actor_staff_id)
    event_record(
        kinds.LEDGER_ADJUSTED,
        channel=Channel.CONSOLE,
        account_id=account.pk,
        actor_staff_id=actor_staff_id,
        payload={"kind": kind, "amount_fen": amount_fen},
    )
    return entry
