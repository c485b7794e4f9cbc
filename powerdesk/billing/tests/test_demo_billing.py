"""Demo billing data: deterministic, complete for the showcase, consistent with the services."""

from datetime import date
from decimal import Decimal

import pytest

from powerdesk.billing.choices import BillStatus
from powerdesk.billing.demo import demo_amount_fen, write_demo_files
from powerdesk.billing.importers import import_bills, import_meters, import_payments, import_readings
from powerdesk.billing.models import Bill, DailyReading, LedgerEntry, Meter, Payment, PointsEntry
from powerdesk.billing.selectors import account_balance_fen, bills_with_status
from powerdesk.billing.services import BillData
from powerdesk.customers.models import Account
from powerdesk.demo.generator import REFERENCE_DATE, SHOWCASE_NUMBER, generate_demo_utility

pytestmark = pytest.mark.django_db(transaction=True)


def _fingerprint():
    bills = list(
        Bill.objects.order_by("account__number", "period").values_list(
            "account__number", "period", "kwh_total", "kwh_peak", "amount_fen", "content_hash"
        )
    )
    payments = list(
        Payment.objects.order_by("gateway", "gateway_txn_id").values_list(
            "account__number", "gateway", "gateway_txn_id", "amount_fen", "channel", "paid_at"
        )
    )
    readings = list(
        DailyReading.objects.order_by("meter__number", "reading_date").values_list(
            "meter__number", "reading_date", "register_total", "kwh_total"
        )
    )
    return bills, payments, readings


def test_demo_billing_is_complete_consistent_and_deterministic():
    generate_demo_utility(customers=60, seed=7)
    showcase = Account.objects.get(number=SHOWCASE_NUMBER)
    statuses = bills_with_status(showcase, today=REFERENCE_DATE)
    assert len(statuses) == 24
    assert statuses[0].bill.period == REFERENCE_DATE.replace(day=1)
    assert statuses[0].status == BillStatus.UNPAID
    assert all(s.status == BillStatus.PAID for s in statuses[1:])
    assert account_balance_fen(showcase) == statuses[0].bill.amount_fen
    assert Meter.objects.count() == Account.objects.count()
    assert Meter.objects.filter(account=showcase, is_smart=True).exists()
    assert DailyReading.objects.filter(meter__account=showcase).count() == 90
    # rows as the services write them: bands sum to the total, hash as BillData computes it
    for bill in Bill.objects.all()[:200]:
        assert bill.kwh_sharp + bill.kwh_peak + bill.kwh_flat + bill.kwh_valley == bill.kwh_total
        data = BillData(
            period=bill.period,
            kwh_total=bill.kwh_total,
            kwh_sharp=bill.kwh_sharp,
            kwh_peak=bill.kwh_peak,
            kwh_flat=bill.kwh_flat,
            kwh_valley=bill.kwh_valley,
            amount_fen=bill.amount_fen,
            issued_on=bill.issued_on,
            due_date=bill.due_date,
            source_ref=bill.source_ref,
        )
        assert data.content_hash() == bill.content_hash
    assert LedgerEntry.objects.filter(kind="bill_issued").count() == Bill.objects.count()
    assert LedgerEntry.objects.filter(kind="payment").count() == Payment.objects.count()
    assert PointsEntry.objects.count() > 0
    assert {"alipay", "wechat_pay", "sg186"} <= set(Payment.objects.values_list("gateway", flat=True))
    first = _fingerprint()
    # Same seed, same rows: the builder run again for the showcase gives the stored bills.
    from random import Random

    from powerdesk.billing.demo import _Chunk, _Prepared, months_back

    chunk = _Chunk(_Prepared("sqlite"), "now")
    row = (
        Account.objects.filter(number=SHOWCASE_NUMBER)
        .values_list("id", "number", "tariff_class", "status", "consumption_level", "opened_on")
        .get()
    )
    chunk.account(Random(f"7:{SHOWCASE_NUMBER}"), row, months_back(REFERENCE_DATE, 24), REFERENCE_DATE, 90)
    assert [b["content_hash"] for b in chunk.bills] == [h for n, *_r, h in first[0] if n == SHOWCASE_NUMBER]


def test_demo_amount_is_flat_price_rounded_half_up():
    assert demo_amount_fen("residential", Decimal("100.00")) == 5380
    assert demo_amount_fen("residential", Decimal("0.25")) == 13  # 13.45 fen → 13
    assert demo_amount_fen("residential", Decimal("0.65")) == 35  # 34.97 → 35


def test_sample_files_import_cleanly_and_twice_change_nothing(company, tmp_path):
    from powerdesk.core.testing import make_account

    make_account(number="0000000001", unit=company.station_a)
    make_account(number="0000000002", unit=company.station_a, id_card=None)
    paths = write_demo_files(
        tmp_path,
        accounts=[("0000000001", "residential"), ("0000000002", "general_commercial")],
        seed=1,
        reference_date=date(2026, 1, 1),
    )
    importers = {
        "meters": import_meters,
        "bills": import_bills,
        "readings": import_readings,
        "payments": import_payments,
    }
    for kind, importer in importers.items():
        result = importer(paths[kind])
        assert result.rejected == 0 and result.created > 0, kind
    for kind, importer in importers.items():
        result = importer(paths[kind])
        assert result.created == result.updated == 0 and result.unchanged == result.read, kind
