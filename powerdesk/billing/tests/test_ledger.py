"""Bills are versioned, payments credit once, balances and bill status come from the ledger."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from powerdesk.billing.choices import BillStatus
from powerdesk.billing.models import Bill, LedgerEntry, Payment
from powerdesk.billing.selectors import account_balance_fen, account_points, bills_with_status
from powerdesk.billing.services import (
    BillData,
    bill_record_version,
    ledger_adjust,
    payment_record,
    payment_refund,
)
from powerdesk.core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db


def bill(month: int, amount_fen: int, **changes) -> BillData:
    values = dict(
        period=date(2026, month, 1),
        kwh_total=Decimal("210.00"),
        kwh_sharp=Decimal(0),
        kwh_peak=Decimal("130.00"),
        kwh_flat=Decimal(0),
        kwh_valley=Decimal("80.00"),
        amount_fen=amount_fen,
        issued_on=date(2026, month, 5),
        due_date=date(2026, month, 25),
    )
    values.update(changes)
    return BillData(**values)


def pay(account, amount_fen: int, txn: str, gateway: str = "sandbox_alipay"):
    return payment_record(
        account=account,
        amount_fen=amount_fen,
        gateway=gateway,
        gateway_txn_id=txn,
        paid_at=timezone.now(),
        channel="h5",
    )


def test_same_bill_twice_changes_nothing(account_a):
    first, changed = bill_record_version(account=account_a, data=bill(9, 11298))
    again, changed_again = bill_record_version(account=account_a, data=bill(9, 11298))
    assert changed and not changed_again and first.pk == again.pk
    assert account_balance_fen(account_a) == 11298
    assert LedgerEntry.objects.count() == 1


def test_corrected_bill_becomes_a_new_version_with_the_difference(account_a):
    v1, _ = bill_record_version(account=account_a, data=bill(9, 11298))
    v2, _ = bill_record_version(account=account_a, data=bill(9, 10500, kwh_total=Decimal("195.00")))
    v1.refresh_from_db()
    assert (v1.is_current, v2.is_current, v2.version, v2.previous_id) == (False, True, 2, v1.pk)
    assert v2.difference_fen == -798
    assert account_balance_fen(account_a) == 10500
    assert Bill.objects.filter(account=account_a).count() == 2


def test_payment_credits_exactly_once_and_earns_points(account_a):
    bill_record_version(account=account_a, data=bill(9, 11298))
    payment, created = pay(account_a, 11298, "T1")
    again, created_again = pay(account_a, 11298, "T1")
    assert created and not created_again and payment.pk == again.pk
    assert account_balance_fen(account_a) == 0
    assert account_points(account_a) == 112
    assert Payment.objects.count() == 1


def test_same_txn_with_a_different_amount_is_a_conflict_not_a_credit(account_a):
    pay(account_a, 5000, "T2")
    with pytest.raises(ApplicationError) as exc:
        pay(account_a, 6000, "T2")
    assert exc.value.code == "txn_conflict"
    assert account_balance_fen(account_a) == -5000


@pytest.mark.parametrize("amount", [0, -100, Decimal("10.5"), 1.5, True])
def test_non_positive_or_fractional_amounts_are_refused(account_a, amount):
    with pytest.raises(ApplicationError) as exc:
        pay(account_a, amount, "T3")
    assert exc.value.code == "invalid_amount"
    assert not Payment.objects.exists()


def test_partial_payment_leaves_the_rest_due_and_overpayment_is_prepaid(account_a):
    bill_record_version(account=account_a, data=bill(9, 10000))
    bill_record_version(account=account_a, data=bill(10, 8000))
    pay(account_a, 12000, "P1")
    statuses = {
        b.bill.period.month: (b.status, b.outstanding_fen)
        for b in bills_with_status(account_a, today=date(2026, 10, 10))
    }
    assert statuses == {9: (BillStatus.PAID, 0), 10: (BillStatus.PARTIAL, 6000)}
    pay(account_a, 10000, "P2")
    assert account_balance_fen(account_a) == -4000  # 40 yuan prepaid
    assert {b.status for b in bills_with_status(account_a, today=date(2026, 10, 10))} == {BillStatus.PAID}


def test_unpaid_bill_after_its_due_date_is_overdue(account_a):
    bill_record_version(account=account_a, data=bill(9, 10000))
    [entry] = bills_with_status(account_a, today=date(2026, 9, 26))
    assert entry.status == BillStatus.OVERDUE


def test_refund_is_once_per_refund_id_and_within_the_payment(account_a):
    payment, _ = pay(account_a, 5000, "R1")
    payment_refund(payment=payment, amount_fen=2000, refund_id="RF1")
    payment_refund(payment=payment, amount_fen=2000, refund_id="RF1")
    assert account_balance_fen(account_a) == -3000
    with pytest.raises(ApplicationError) as exc:
        payment_refund(payment=payment, amount_fen=3001, refund_id="RF2")
    assert exc.value.code == "refund_exceeds_payment"
    payment.refresh_from_db()
    assert (payment.refunded_fen, payment.status) == (2000, "partially_refunded")


def test_late_fee_is_idempotent_and_needs_a_memo(account_a):
    ledger_adjust(account=account_a, amount_fen=56, kind="late_fee", reference="late:2026-09", memo="违约金")
    ledger_adjust(account=account_a, amount_fen=56, kind="late_fee", reference="late:2026-09", memo="违约金")
    assert account_balance_fen(account_a) == 56
    with pytest.raises(ApplicationError):
        ledger_adjust(account=account_a, amount_fen=1, kind="adjustment", reference="x", memo=" ")


def test_bad_bill_data_is_refused(account_a):
    with pytest.raises(ApplicationError) as exc:
        bill_record_version(account=account_a, data=bill(9, 100, period=date(2026, 9, 2)))
    assert exc.value.field == "period"
    with pytest.raises(ApplicationError) as exc:
        bill_record_version(account=account_a, data=bill(9, -1))
    assert exc.value.code == "negative_amount"
    assert not Bill.objects.exists()


def test_ledger_cannot_be_rewritten(account_a):
    pay(account_a, 100, "L1")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE billing_ledgerentry SET amount_fen = 0")
    assert account_balance_fen(account_a) == -100


def test_paid_at_is_kept_in_utc(account_a):
    moment = datetime(2026, 9, 10, 2, 30, tzinfo=UTC)
    payment, _ = payment_record(
        account=account_a, amount_fen=100, gateway="g", gateway_txn_id="t", paid_at=moment, channel="alipay"
    )
    payment.refresh_from_db()
    assert payment.paid_at == moment
