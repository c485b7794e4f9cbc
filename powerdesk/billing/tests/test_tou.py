"""峰谷电价建议 with hand-worked figures on the demo catalogue.

Residential: flat 居民阶梯 0.538 元/kWh vs 峰谷 峰 0.568 / 谷 0.288 (same tiers; all our months stay
in tier 1). Business: flat 0.6644 (2023 version) vs TOU 峰 0.9012 / 平 0.6131 / 谷 0.325.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from powerdesk.billing.checks import account_tariff_set
from powerdesk.billing.models import DailyReading, LoadCurve, Meter, UsageSource
from powerdesk.billing.reads import months_back
from powerdesk.billing.tests.test_checks import bill, business
from powerdesk.billing.tou import TouStatus, tou_recommendation
from powerdesk.customers.choices import TariffClass
from powerdesk.tariffs.demo import demo_tariffs

pytestmark = pytest.mark.django_db

LAST = date(2025, 10, 1)
WINDOW = [months_back(LAST, back) for back in range(11, -1, -1)]  # 2024-11 … 2025-10


@pytest.fixture(autouse=True)
def catalogue(db):
    return demo_tariffs()


def twelve_months(account, *, peak, valley, amount_fen=10760):
    for period in WINDOW:
        bill(account, period, amount_fen, peak + valley, peak=peak, valley=valley)


def test_a_valley_heavy_profile_saves_money(account_a):
    # Each month 200 kWh: flat 200 × 0.538 = 107.60 元; TOU 60 × 0.568 + 140 × 0.288 = 34.08 + 40.32
    # = 74.40 元; saving 33.20 元 a month, 398.40 元 over 12 months.
    twelve_months(account_a, peak=60, valley=140)
    result = tou_recommendation(account=account_a)
    assert result.status == TouStatus.AVAILABLE
    assert (result.flat_fen, result.tou_fen, result.saving_fen) == (12 * 10760, 12 * 7440, 39840)
    assert result.months_used == 12 and result.data_source == UsageSource.BILL_REGISTERS
    assert [m.period for m in result.months] == WINDOW
    assert result.months[0].kwh_by_band == {"peak": Decimal(60), "valley": Decimal(140)}
    assert (result.current_series, result.tou_series) == ("ZJ-RES-TIER", "ZJ-RES-TOU")
    assert result.shows_card


def test_a_peak_heavy_profile_would_pay_more(account_a):
    # 190 × 0.568 + 10 × 0.288 = 107.92 + 2.88 = 110.80 元 vs 107.60: 3.20 元 more each month.
    twelve_months(account_a, peak=190, valley=10)
    result = tou_recommendation(account=account_a)
    assert result.status == TouStatus.AVAILABLE
    assert result.saving_fen == -12 * 320
    assert not result.shows_card


def test_only_the_last_twelve_months_count(account_a):
    twelve_months(account_a, peak=60, valley=140)
    bill(account_a, date(2024, 10, 1), 99999, 1000, peak=1000)  # older: outside the window
    result = tou_recommendation(account=account_a)
    assert result.saving_fen == 39840 and result.first_period == date(2024, 11, 1)


def test_the_tier_year_counter_is_the_same_for_both_tariffs(account_a):
    # 600 kWh a month: by October 2025, 6000 kWh in the year; tiers 2 and 3 cost the same surcharges
    # on both tariffs, so the saving is still the band prices' difference: 600 kWh split 180 / 420:
    # flat 600 × 0.538 = 322.80; TOU 180 × 0.568 + 420 × 0.288 = 102.24 + 120.96 = 223.20 → 99.60 a month.
    twelve_months(account_a, peak=180, valley=420)
    result = tou_recommendation(account=account_a)
    assert result.saving_fen == 12 * 9960
    assert result.months[-1].flat_fen > 32280  # October pays tier-3 surcharges


def test_load_curves_split_the_kwh_when_the_bill_has_no_band_registers(company):
    account = business(company)
    meter = Meter.objects.create(account=account, number="M11")
    # A January day: 谷 22–08 40 slots × 0.5 = 20 kWh; 峰 08–11 and 13–22 48 slots × 0.25 = 12 kWh;
    # 平 11–13 8 slots × 0.5 = 4 kWh. 36 kWh a day, 1116 kWh in January.
    day = ["0.5"] * 32 + ["0.25"] * 12 + ["0.5"] * 8 + ["0.25"] * 36 + ["0.5"] * 8
    LoadCurve.objects.bulk_create(
        LoadCurve(meter=meter, curve_date=date(2025, 1, 1) + timedelta(days=n), points=day) for n in range(31)
    )
    bill(account, date(2025, 1, 1), 74147, 1116)
    result = tou_recommendation(account=account, months=1)
    assert result.status == TouStatus.AVAILABLE, result.reason
    (month,) = result.months
    assert month.source == UsageSource.LOAD_CURVE
    assert month.kwh_by_band == {"peak": Decimal(372), "flat": Decimal(124), "valley": Decimal(620)}
    # Flat: 1116 × 0.6644 = 741.4704 → 74147 分. TOU: 372 × 0.9012 = 335.2464 → 33525;
    # 124 × 0.6131 = 76.0244 → 7602; 620 × 0.325 = 201.50 → 20150; total 61277 分.
    assert (month.flat_fen, month.tou_fen, result.saving_fen) == (74147, 61277, 12870)


def test_daily_readings_split_the_kwh_when_there_are_no_registers_or_curves(account_a):
    meter = Meter.objects.create(account=account_a, number="M1")
    DailyReading.objects.bulk_create(
        DailyReading(
            meter=meter,
            reading_date=date(2025, 3, 1) + timedelta(days=n),
            register_total=100 + n,
            kwh_total=10,
            kwh_peak=3,
            kwh_valley=7,
        )
        for n in range(31)
    )
    bill(account_a, date(2025, 3, 1), 16678, 310)
    result = tou_recommendation(account=account_a, months=1)
    (month,) = result.months
    # 310 kWh split 3 : 7 → 93 / 217. Flat 310 × 0.538 = 166.78; TOU 93 × 0.568 = 52.824 → 5282
    # + 217 × 0.288 = 62.496 → 6250 = 11532 分. Saving 5146 分.
    assert month.source == UsageSource.DAILY_READINGS
    assert month.kwh_by_band == {"peak": Decimal(93), "valley": Decimal(217)}
    assert (month.flat_fen, month.tou_fen, result.saving_fen) == (16678, 11532, 5146)


def test_shares_are_rounded_to_the_hundredth_and_add_up(account_a):
    meter = Meter.objects.create(account=account_a, number="M1")
    DailyReading.objects.bulk_create(
        DailyReading(
            meter=meter,
            reading_date=date(2025, 3, 1) + timedelta(days=n),
            register_total=100 + n,
            kwh_total=3,
            kwh_peak=1,
            kwh_valley=2,
        )
        for n in range(31)
    )
    bill(account_a, date(2025, 3, 1), 5380, 100)
    (month,) = tou_recommendation(account=account_a, months=1).months
    assert month.kwh_by_band == {"peak": Decimal("33.33"), "valley": Decimal("66.67")}


def test_a_missing_month_makes_it_unavailable(account_a):
    for period in WINDOW:
        if period != date(2025, 2, 1):
            bill(account_a, period, 10760, 200, peak=60, valley=140)
    result = tou_recommendation(account=account_a)
    assert result.status == TouStatus.UNAVAILABLE and result.reason_code == "bills_missing"
    assert result.reason == "近 12 个月缺少 2025-02 的账单，无法测算。" and not result.shows_card


def test_bills_without_usable_band_data_make_it_unavailable(account_a):
    # 尖/平 registers mean nothing to the residential 峰谷 tariff, and there are no curves or readings.
    for period in WINDOW:
        bill(account_a, period, 10760, 200, sharp=20, peak=80, flat=40, valley=60)
    result = tou_recommendation(account=account_a)
    assert result.status == TouStatus.UNAVAILABLE and result.reason_code == "no_band_data"
    assert "2024-11" in result.reason


def test_no_bills_at_all(account_a):
    result = tou_recommendation(account=account_a)
    assert (result.status, result.reason_code) == (TouStatus.UNAVAILABLE, "no_bills")


def test_an_account_already_on_tou_gets_no_recommendation(account_a):
    account_tariff_set(account=account_a, series="ZJ-RES-TOU", valid_from=date(2021, 1, 1))
    twelve_months(account_a, peak=60, valley=140)
    result = tou_recommendation(account=account_a)
    assert (result.status, result.reason_code) == (TouStatus.NOT_APPLICABLE, "no_tou_tariff")


def test_agriculture_has_no_tou_tariff(company):
    account = business(company, "0000000041", TariffClass.AGRICULTURAL)
    assert tou_recommendation(account=account).reason_code == "no_tou_tariff"


def test_two_part_is_not_a_flat_tariff(company):
    account = business(company, "0000000042", TariffClass.LARGE_INDUSTRY)
    account_tariff_set(
        account=account, series="ZJ-LI-2P", tou_series="ZJ-GC-TOU", valid_from=date(2023, 1, 1)
    )
    bill(account, date(2025, 1, 1), 100, 100, peak=100)
    assert tou_recommendation(account=account, months=1).reason_code == "already_tou"
