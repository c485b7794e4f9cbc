"""Importing payments: credited once per (gateway, txn) however often the file is imported."""

import pytest

from powerdesk.billing.importers import IMPORTED_MARK, import_payments
from powerdesk.billing.models import LedgerEntry, Payment, PointsEntry
from powerdesk.billing.selectors import account_balance_fen
from powerdesk.billing.services import payment_record
from powerdesk.billing.tests.test_import_files import read_report, write_csv

pytestmark = pytest.mark.django_db

COLUMNS = ["account_number", "amount_fen", "gateway", "gateway_txn_id", "channel", "paid_at"]


def pay(txn="T1", amount="11298", **changes):
    return {
        "account_number": "0000000001",
        "amount_fen": amount,
        "gateway": "",
        "gateway_txn_id": txn,
        "channel": "营业厅",
        "paid_at": "2025-12-10 09:30:00",
        **changes,
    }


def test_reimporting_payments_never_double_credits(account_a, tmp_path):
    path = write_csv(
        tmp_path / "p.csv", [pay("T1"), pay("T2", "500", channel="支付宝", gateway="alipay")], COLUMNS
    )
    first = import_payments(path)
    again = import_payments(path)
    assert (first.created, again.created, again.unchanged) == (2, 0, 2)
    assert Payment.objects.count() == 2 and LedgerEntry.objects.count() == 2
    assert account_balance_fen(account_a) == -11798
    sg186 = Payment.objects.get(gateway_txn_id="T1")
    assert (sg186.gateway, sg186.channel, sg186.posted_in_file) == ("sg186", "outlet", IMPORTED_MARK)
    assert sg186.paid_at.isoformat() == "2025-12-10T01:30:00+00:00"  # Beijing time in the file
    assert PointsEntry.objects.get().points == 5  # online channel: 1 point per yuan


def test_import_and_gateway_notification_share_one_key(account_a, tmp_path):
    path = write_csv(tmp_path / "p.csv", [pay("N1", "500", gateway="alipay", channel="alipay")], COLUMNS)
    import_payments(path)
    _payment, created = payment_record(
        account=account_a,
        amount_fen=500,
        gateway="alipay",
        gateway_txn_id="N1",
        paid_at=Payment.objects.get().paid_at,
        channel="alipay",
    )
    assert not created and Payment.objects.count() == 1


def test_batched_payments_match_the_single_row_service(account_a, account_b, tmp_path):
    path = write_csv(tmp_path / "p.csv", [pay("S1", "1234", gateway="alipay", channel="alipay")], COLUMNS)
    import_payments(path)
    payment_record(
        account=account_b,
        amount_fen=1234,
        gateway="alipay",
        gateway_txn_id="S2",
        paid_at=Payment.objects.get().paid_at,
        channel="alipay",
    )
    a, b = Payment.objects.order_by("gateway_txn_id")
    fields = ["amount_fen", "gateway", "channel", "paid_at", "status", "refunded_fen", "customer_user_id"]
    assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
    la, lb = LedgerEntry.objects.filter(payment__isnull=False).order_by("reference")
    assert (la.kind, la.amount_fen, la.memo, la.occurred_at) == (
        lb.kind,
        lb.amount_fen,
        lb.memo,
        lb.occurred_at,
    )
    pa, pb = PointsEntry.objects.order_by("reference")
    assert (pa.points, pa.reason) == (pb.points, pb.reason)


def test_bad_payment_rows_are_reported_and_nothing_half_stored(account_a, tmp_path):
    import_payments(write_csv(tmp_path / "first.csv", [pay("T1")], COLUMNS))
    rows = [
        pay("T1", "999"),  # same txn, other amount: conflict, not a second credit
        pay("T2", "-5"),
        pay("T3", "12.5"),
        pay("T4", "0"),
        pay("T5", paid_at="2025-12-10 25:00"),
        pay("T6", account_number="0000009999"),
        pay("T7", channel="飞鸽"),
        pay("T8", gateway_txn_id=""),
        pay("T9"),
        pay("T9"),
    ]
    path = write_csv(tmp_path / "p.csv", rows, COLUMNS)
    result = import_payments(path)
    assert (result.created, result.rejected) == (1, 9)
    assert [(r["row"], r["column"]) for r in read_report(path)] == [
        ("2", "gateway_txn_id"),
        ("3", "amount_fen"),
        ("4", "amount_fen"),
        ("5", "amount_fen"),
        ("6", "paid_at"),
        ("7", "account_number"),
        ("8", "channel"),
        ("9", "gateway_txn_id"),
        ("11", "gateway_txn_id"),
    ]
    assert Payment.objects.count() == LedgerEntry.objects.count() == 2
    assert account_balance_fen(account_a) == -11298 * 2


def test_amount_in_yuan_must_be_whole_fen(account_a, tmp_path):
    columns = [c if c != "amount_fen" else "amount_yuan" for c in COLUMNS]
    rows = [{**pay("Y1"), "amount_yuan": "112.98"}, {**pay("Y2"), "amount_yuan": "1.005"}]
    path = write_csv(tmp_path / "y.csv", rows, columns)
    result = import_payments(path)
    assert (result.created, result.rejected) == (1, 1)
    assert Payment.objects.get().amount_fen == 11298


@pytest.mark.parametrize("name", ["银行代扣", "代扣", "银行", "bank"])
def test_bank_withholding_is_its_own_channel(account_a, tmp_path, name):
    import_payments(write_csv(tmp_path / "b.csv", [pay("B1", channel=name)], COLUMNS))
    assert Payment.objects.get().channel == "bank"
    assert not PointsEntry.objects.exists()  # withholding is not an online payment
