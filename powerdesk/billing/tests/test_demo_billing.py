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

    from powerdesk.billing.demo import DemoPricer, _Chunk, _Prepared, months_back

    periods = months_back(REFERENCE_DATE, 24)
    chunk = _Chunk(_Prepared("sqlite"), "now", DemoPricer(periods))
    row = (
        Account.objects.filter(number=SHOWCASE_NUMBER)
        .values_list("id", "number", "tariff_class", "status", "consumption_level", "opened_on")
        .get()
    )
    chunk.account(Random(f"7:{SHOWCASE_NUMBER}"), row, periods, REFERENCE_DATE, 90)
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


def test_demo_bills_are_priced_by_the_calculator_and_check_ok():
    """``billing_check`` on the demo: every bill it can recompute agrees to the fen. The only
    ones it cannot are residential bills whose tier year began before the 24 generated months."""
    from collections import Counter

    from powerdesk.billing.checks import bill_checks_for_period
    from powerdesk.billing.demo import months_back
    from powerdesk.billing.models import AccountTariff, BillCheck

    generate_demo_utility(customers=100, seed=7)  # seed 7: all four tariff classes among 100
    periods = months_back(REFERENCE_DATE, 24)
    first_tier_year = periods[0].replace(month=1)
    for period in periods:
        summary = bill_checks_for_period(period=period)
        assert summary.checked == Bill.objects.filter(period=period).count() > 0
        assert summary.by_status["mismatch"] == 0, period
        if period.year > first_tier_year.year:  # a whole tier year of history: everything checks
            assert summary.by_status["ok"] == summary.checked, period
    problems = BillCheck.objects.exclude(status="ok")
    assert set(problems.values_list("reason_code", "account__tariff_class", "period__year")) <= {
        ("tier_year_history_missing", "residential", first_tier_year.year)
    }
    ok = Counter(BillCheck.objects.filter(status="ok").values_list("account__tariff_class", flat=True))
    assert set(ok) == {"residential", "general_commercial", "large_industry", "agricultural"}
    # large-industry accounts are billed on the two-part tariff by transformer capacity
    industry = Account.objects.filter(tariff_class="large_industry")
    assert (
        AccountTariff.objects.filter(account__in=industry, charge_basis="capacity").count()
        == industry.count()
    )
    # yearly tiers at work: some residential bills are priced partly in the second tier
    lines = BillCheck.objects.filter(status="ok").values_list("lines", flat=True)
    assert any(line["tier"] == 2 for bill_lines in lines for line in bill_lines)


def test_two_part_demo_price_is_what_the_check_computes(company):
    """A large-industry bill priced by ``DemoPricer`` is ``ok`` for ``bill_check``: energy by band
    plus 30 元/kVA·month of capacity, with the account's tariff as the demo records it."""
    from powerdesk.billing.checks import account_tariff_set, bill_check
    from powerdesk.billing.demo import DemoPricer, _split
    from powerdesk.billing.services import bill_record_version
    from powerdesk.core.testing import make_account
    from powerdesk.tariffs.demo import demo_tariffs

    demo_tariffs()
    account = make_account(number="0000000021", unit=company.station_a, holder_name="示范工厂")
    Account.objects.filter(pk=account.pk).update(tariff_class="large_industry")
    account.refresh_from_db()
    account_tariff_set(
        account=account,
        series="ZJ-LI-2P",
        valid_from=date(2020, 1, 1),
        charge_basis="capacity",
        transformer_kva=Decimal(630),
    )
    period = date(2025, 7, 1)
    cents = 9_000_000  # 90,000 kWh
    bands = _split(cents, (0.10, 0.35, 0.25, 0.30))
    amount = DemoPricer([period]).amount_fen("large_industry", period, cents, bands, kva=630)
    # 尖 9000×1.0166 + 峰 31500×0.8342 + 平 22500×0.5726 + 谷 27000×0.299 + 630 kVA × 30
    assert amount == 914940 + 2627730 + 1288350 + 807300 + 1890000
    bill, _changed = bill_record_version(
        account=account,
        data=BillData(
            period=period,
            kwh_total=Decimal("90000.00"),
            kwh_sharp=Decimal(bands[0]).scaleb(-2),
            kwh_peak=Decimal(bands[1]).scaleb(-2),
            kwh_flat=Decimal(bands[2]).scaleb(-2),
            kwh_valley=Decimal(bands[3]).scaleb(-2),
            amount_fen=amount,
            issued_on=period,
            due_date=date(2025, 7, 25),
        ),
    )
    check = bill_check(bill=bill)
    assert (check.status, check.difference_fen) == ("ok", 0)
