"""The calculator's check of imported bills, with hand-worked figures on the demo catalogue.

Residential 居民阶梯 (ZJ-RES-TIER-2021): 0.538 元/kWh in tier 1, +0.05 in tier 2 (2760–4800 kWh
of the calendar year), +0.30 above. Business flat 0.6644 until 2025-05-31, 0.65 from 2025-06-01.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from powerdesk.billing.checks import account_tariff_set, bill_check, bill_checks_for_period
from powerdesk.billing.models import (
    Bill,
    BillCheck,
    BillCheckStatus,
    DailyReading,
    LoadCurve,
    Meter,
    UsageSource,
)
from powerdesk.billing.services import BillData, bill_record_version
from powerdesk.billing.tasks import bill_check_task, bill_checks_dispatch
from powerdesk.core.exceptions import ApplicationError
from powerdesk.core.testing import make_account
from powerdesk.customers.choices import TariffClass
from powerdesk.customers.models import Account
from powerdesk.tariffs.demo import demo_tariffs

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def catalogue(db):
    return demo_tariffs()


def bill(account, period: date, amount_fen: int, total, *, sharp=0, peak=0, flat=0, valley=0) -> Bill:
    data = BillData(
        period=period,
        kwh_total=Decimal(str(total)),
        kwh_sharp=Decimal(str(sharp)),
        kwh_peak=Decimal(str(peak)),
        kwh_flat=Decimal(str(flat)),
        kwh_valley=Decimal(str(valley)),
        amount_fen=amount_fen,
        issued_on=period + timedelta(days=40),
        due_date=period + timedelta(days=55),
        source_ref=f"YX{period:%Y%m}",
    )
    return bill_record_version(account=account, data=data)[0]


def business(company, number="0000000011", klass=TariffClass.GENERAL_COMMERCIAL, **changes):
    account = make_account(number=number, unit=company.station_a, holder_name="示范商店")
    Account.objects.filter(pk=account.pk).update(tariff_class=klass, **changes)
    account.refresh_from_db()
    return account


# --- residential yearly tiers --------------------------------------------------------------------


def test_a_bill_that_matches_the_calculator_is_ok(account_a):
    # January starts the tier year: 300 kWh × 0.538 = 161.40 元.
    check = bill_check(bill=bill(account_a, date(2025, 1, 1), 16140, 300))
    assert check.status == BillCheckStatus.OK
    assert (check.computed_fen, check.imported_fen, check.difference_fen) == (16140, 16140, 0)
    assert check.tariff_codes == "ZJ-RES-TIER-2021"
    assert check.usage_source == UsageSource.BILL_REGISTERS
    assert check.prior_kwh_in_tier_year == 0
    assert check.lines == [
        {
            "description": "第一档电量",
            "kind": "tier",
            "quantity": "300.00",
            "unit": "kWh",
            "unit_price": "0.538",
            "amount_fen": 16140,
            "tariff_code": "ZJ-RES-TIER-2021",
            "band": "flat",
            "tier": 1,
        }
    ]


def test_a_mismatch_is_recorded_with_the_exact_difference(account_a):
    check = bill_check(bill=bill(account_a, date(2025, 1, 1), 16201, 300))
    assert check.status == BillCheckStatus.MISMATCH
    assert (check.computed_fen, check.difference_fen) == (16140, 61)  # imported − computed


def test_one_fen_off_is_a_mismatch_tolerance_is_zero(account_a):
    assert bill_check(bill=bill(account_a, date(2025, 1, 1), 16139, 300)).difference_fen == -1


def test_the_tier_year_counter_comes_from_earlier_bills_and_crosses_a_tier(account_a):
    # Jan–Aug 300 kWh each: 2400 kWh before September. September 400 kWh:
    # 360 kWh in tier 1 × 0.538 = 193.68; 40 kWh in tier 2 × 0.588 = 23.52; total 217.20 元.
    for month in range(1, 9):
        bill(account_a, date(2025, month, 1), 16140, 300)
    check = bill_check(bill=bill(account_a, date(2025, 9, 1), 21720, 400))
    assert check.status == BillCheckStatus.OK, check.reason
    assert check.prior_kwh_in_tier_year == 2400
    assert [(line["quantity"], line["amount_fen"]) for line in check.lines] == [
        ("360.00", 19368),
        ("40.00", 2352),
    ]


def test_a_missing_month_in_the_tier_year_makes_the_bill_not_computable(account_a):
    bill(account_a, date(2025, 1, 1), 16140, 300)
    check = bill_check(bill=bill(account_a, date(2025, 3, 1), 16140, 300))
    assert check.status == BillCheckStatus.NOT_COMPUTABLE
    assert check.reason_code == "tier_year_history_missing"
    assert "2025-02" in check.reason
    assert check.computed_fen is None and check.difference_fen is None


def test_months_before_the_account_was_opened_are_not_needed(company):
    account = business(company, "0000000021", TariffClass.RESIDENTIAL, opened_on=date(2025, 3, 10))
    check = bill_check(bill=bill(account, date(2025, 4, 1), 16140, 300))
    assert check.reason_code == "tier_year_history_missing" and "2025-03" in check.reason
    bill(account, date(2025, 3, 1), 10760, 200)
    check = bill_check(bill=Bill.objects.get(account=account, period=date(2025, 4, 1)))
    assert check.status == BillCheckStatus.OK and check.prior_kwh_in_tier_year == 200


def test_no_tariff_in_force_is_not_computable_with_the_reason(account_a):
    check = bill_check(bill=bill(account_a, date(2020, 6, 1), 10000, 200))  # the catalogue starts in 2021
    assert check.status == BillCheckStatus.NOT_COMPUTABLE
    assert check.reason_code == "no_tariff_in_force"
    assert check.reason == "2020-06 没有执行中的电价（ZJ-RES-TIER），无法核算。"


# --- other kinds and the account's own tariff ------------------------------------------------------


def test_business_flat_uses_the_version_in_force_in_the_month(company):
    account = business(company)
    may = bill_check(bill=bill(account, date(2025, 5, 1), 66440, 1000))  # 1000 × 0.6644
    june = bill_check(bill=bill(account, date(2025, 6, 1), 65000, 1000))  # 1000 × 0.65
    assert (may.status, may.tariff_codes) == (BillCheckStatus.OK, "ZJ-GC-FLAT-2023")
    assert (june.status, june.tariff_codes) == (BillCheckStatus.OK, "ZJ-GC-FLAT-2025")


def test_an_account_tariff_row_overrides_the_class_default(company):
    account = business(company)
    account_tariff_set(account=account, series="ZJ-GC-TOU", valid_from=date(2023, 1, 1))
    # July: 峰 500 × 0.9012 = 450.60, 平 200 × 0.6131 = 122.62, 谷 300 × 0.325 = 97.50 → 670.72 元.
    check = bill_check(bill=bill(account, date(2025, 7, 1), 67072, 1000, peak=500, flat=200, valley=300))
    assert check.status == BillCheckStatus.OK
    assert [line["amount_fen"] for line in check.lines] == [45060, 12262, 9750]


def test_a_bill_before_the_account_tariff_took_effect_is_not_computable(company):
    account = business(company)
    account_tariff_set(account=account, series="ZJ-GC-TOU", valid_from=date(2025, 7, 1))
    check = bill_check(bill=bill(account, date(2025, 6, 1), 65000, 1000))
    assert check.reason_code == "before_account_tariff"


def test_an_unknown_series_is_refused(company):
    with pytest.raises(ApplicationError) as caught:
        account_tariff_set(account=business(company), series="NOPE", valid_from=date(2025, 1, 1))
    assert caught.value.code == "unknown_tariff" and caught.value.field == "series"


def test_two_part_needs_the_transformer_capacity_from_the_account_tariff(company):
    account = business(company, "0000000031", TariffClass.LARGE_INDUSTRY)
    period = date(2025, 3, 1)
    # 峰 1000 × 0.8342 = 834.20; 谷 1000 × 0.299 = 299.00; 400 kVA × 30 = 12000.00 → 13133.20 元.
    imported = bill(account, period, 1313320, 2000, peak=1000, valley=1000)
    assert bill_check(bill=imported).reason_code == "transformer_kva_required"
    account_tariff_set(
        account=account,
        series="ZJ-LI-2P",
        valid_from=date(2023, 1, 1),
        charge_basis="capacity",
        transformer_kva=Decimal(400),
    )
    check = bill_check(bill=imported)
    assert check.status == BillCheckStatus.OK
    assert check.lines[-1]["description"] == "基本电费（按容量）" and check.lines[-1]["amount_fen"] == 1200000


def test_two_part_demand_from_the_load_curves(company):
    account = business(company, "0000000032", TariffClass.LARGE_INDUSTRY)
    account_tariff_set(
        account=account,
        series="ZJ-LI-2P",
        valid_from=date(2023, 1, 1),
        charge_basis="demand",
        max_demand_source="load_curve",
    )
    meter = Meter.objects.create(account=account, number="M32")
    points = ["0"] * 96
    points[40] = "62.5"  # 62.5 kWh in 15 minutes = 250 kW
    LoadCurve.objects.create(meter=meter, curve_date=date(2025, 3, 14), points=points)
    # 谷 1000 × 0.299 = 299.00; 250 kW × 40 = 10000.00 → 10299.00 元.
    check = bill_check(bill=bill(account, date(2025, 3, 1), 1029900, 1000, valley=1000))
    assert check.status == BillCheckStatus.OK, check.reason
    assert check.lines[-1]["quantity"] == "250.0"


def test_full_daily_readings_that_add_up_are_the_usage_source(account_a):
    meter = Meter.objects.create(account=account_a, number="M1")
    DailyReading.objects.bulk_create(
        DailyReading(
            meter=meter,
            reading_date=date(2025, 1, 1) + timedelta(days=n),
            register_total=100 + n,
            kwh_total=10,
            kwh_peak=6,
            kwh_valley=4,
        )
        for n in range(31)
    )
    check = bill_check(bill=bill(account_a, date(2025, 1, 1), 16678, 310, peak=186, valley=124))
    assert (check.status, check.usage_source, check.note) == (
        BillCheckStatus.OK,
        UsageSource.DAILY_READINGS,
        "",
    )
    other = bill(account_a, date(2025, 1, 1), 17216, 320, peak=196, valley=124)  # a 退补 version
    check = bill_check(bill=other)
    assert (
        check.usage_source == UsageSource.BILL_REGISTERS and "日冻结读数合计与账单分时电量不符" in check.note
    )


# --- idempotence, bulk, task ------------------------------------------------------------------------


def test_checking_again_updates_the_one_row_per_bill_version(account_a):
    first = bill(account_a, date(2025, 1, 1), 16140, 300)
    bill_check(bill=first)
    bill_check(bill=first)
    assert BillCheck.objects.filter(bill=first).count() == 1
    corrected = bill(account_a, date(2025, 1, 1), 16200, 300, flat=300)  # new version (退补)
    bill_check(bill=corrected)
    assert BillCheck.objects.count() == 2
    assert BillCheck.objects.get(bill=corrected).difference_fen == 60


def test_the_bulk_command_checks_every_current_imported_bill_of_the_month(account_a, account_b, company):
    bill(account_a, date(2025, 1, 1), 16140, 300)
    bill(account_b, date(2025, 1, 1), 16150, 300)
    shop = business(company)
    bill(shop, date(2025, 1, 1), 66440, 1000)
    bill(shop, date(2025, 2, 1), 1, 1000)  # another month: not checked
    out = StringIO()
    call_command("billing_check", "--period", "2025-01", "--chunk-size", "2", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary == {
        "period": "2025-01",
        "checked": 3,
        "ok": 2,
        "mismatch": 1,
        "not_computable": 0,
        "difference_fen": 10,
    }
    call_command("billing_check", "--period", "2025-01", stdout=StringIO())
    assert BillCheck.objects.count() == 3
    assert BillCheck.objects.get(account=account_b).difference_fen == 10


def test_the_bulk_check_agrees_with_the_single_check(account_a):
    for month in range(1, 10):
        bill(account_a, date(2025, month, 1), 16140 if month < 9 else 21720, 300 if month < 9 else 400)
    bill_checks_for_period(period=date(2025, 9, 1))
    bulk = BillCheck.objects.get(period=date(2025, 9, 1))
    assert (bulk.status, bulk.computed_fen, bulk.prior_kwh_in_tier_year) == (BillCheckStatus.OK, 21720, 2400)


def test_the_command_refuses_a_bad_period():
    with pytest.raises(Exception, match="YYYY-MM"):
        call_command("billing_check", "--period", "2025-13", stdout=StringIO())


def test_the_task_checks_a_bill_after_commit(account_a, settings, django_capture_on_commit_callbacks):
    settings.TASKS = IMMEDIATE
    imported = bill(account_a, date(2025, 1, 1), 16201, 300)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        bill_checks_dispatch(bill_ids=[imported.pk, imported.pk])
    assert not BillCheck.objects.exists()  # nothing before the commit
    for callback in callbacks:
        callback()
    assert BillCheck.objects.get(bill=imported).difference_fen == 61
    assert bill_check_task.enqueue(10**9).return_value == "missing"


def test_a_bills_import_queues_one_bulk_check_per_changed_month(
    tmp_path, settings, company, django_capture_on_commit_callbacks
):
    """The importer hands the months it changed to the worker; a re-import queues nothing."""
    from django_tasks_db.models import DBTaskResult

    from powerdesk.billing.importers import import_bills
    from powerdesk.core.testing import make_account

    make_account(number="1000000001", unit=company.station_a)
    path = tmp_path / "bills.csv"
    path.write_text(
        "account_number,period,kwh_total,amount_fen,issued_on,due_date\n"
        "1000000001,2026-01,300,16140,2026-02-05,2026-02-25\n"
        "1000000001,2026-02,280,15064,2026-03-05,2026-03-25\n",
        encoding="utf-8",
    )
    with django_capture_on_commit_callbacks(execute=True):
        import_bills(path)
    queued = list(DBTaskResult.objects.values_list("args_kwargs", flat=True))
    assert sorted(q["args"][0] for q in queued) == ["2026-01-01", "2026-02-01"]
    with django_capture_on_commit_callbacks(execute=True):
        import_bills(path)
    assert DBTaskResult.objects.count() == 2
