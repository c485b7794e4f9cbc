"""A billing period spanning a tariff change is cut at the change date. Without daily readings
each band's kWh is shared by days (to 0.01 kWh, ROUND_HALF_UP on the running total, so the parts
add up exactly); with daily readings the actual kWh of each part are used. Monthly tier
thresholds are shared by days the same way; each part is then priced by its own version."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from powerdesk.core.exceptions import ApplicationError
from powerdesk.tariffs.calculator import PeriodUsage, compute_bill
from powerdesk.tariffs.tests.catalogue import tariff

CHANGE = date(2024, 7, 15)  # July: 1–14 (14 days) under the old price, 15–31 (17 days) under the new
JULY = {"period_start": date(2024, 7, 1), "period_end": date(2024, 8, 1)}


def business_flat_versions():
    old = tariff("business_flat", code="T-GC-FLAT-OLD", valid_to=CHANGE)
    new = tariff("business_flat", code="T-GC-FLAT-NEW", valid_from=CHANGE, band_prices={"flat": "0.65"})
    return [new, old]  # any order


def test_monthly_total_is_shared_by_days():
    # 1000 kWh over 31 days: old part 1000 × 14/31 = 451.6129… → 451.61 kWh; new part 548.39 kWh.
    #   451.61 × 0.6644 = 300.049684 元 → 30004.9684 分 → 30005 分
    #   548.39 × 0.6500 = 356.4535 元   → 35645.35 分   → 35645 分
    #   total 30005 + 35645 = 65650 分
    result = compute_bill(business_flat_versions(), PeriodUsage(**JULY, kwh_by_band={"flat": 1000}))
    assert [(line.description, line.quantity, line.unit_price, line.amount_fen) for line in result.lines] == [
        ("电度电费（2024-07-01至2024-07-14）", D("451.61"), D("0.6644"), 30005),
        ("电度电费（2024-07-15至2024-07-31）", D("548.39"), D("0.65"), 35645),
    ]
    assert [(line.tariff_code, line.period_start, line.period_end) for line in result.lines] == [
        ("T-GC-FLAT-OLD", date(2024, 7, 1), CHANGE),
        ("T-GC-FLAT-NEW", CHANGE, date(2024, 8, 1)),
    ]
    assert result.total_fen == 65650
    assert sum(segment.kwh_total for segment in result.segments) == D(1000)


def test_daily_readings_are_used_when_given():
    # 20 kWh a day on 1–14 July (280 kWh), 40 kWh a day on 15–31 July (17 × 40 = 680 kWh): 960 kWh.
    #   280 × 0.6644 = 186.032 元 → 18603.2 分 → 18603 分
    #   680 × 0.6500 = 442.00 元  → 44200 分
    #   total 62803 分
    # (Shared by days instead, 960 × 14/31 = 433.55 kWh old and 526.45 new would give
    #  28805 + 34219 = 63024 分 — the actual readings matter.)
    daily = {date(2024, 7, 1) + timedelta(days=n): {"flat": D(20) if n < 14 else D(40)} for n in range(31)}
    usage = PeriodUsage.from_daily(**JULY, daily_kwh=daily)
    assert usage.kwh_by_band == {"flat": D(960)}
    result = compute_bill(business_flat_versions(), usage)
    assert [(line.quantity, line.amount_fen) for line in result.lines] == [(D(280), 18603), (D(680), 44200)]
    assert result.total_fen == 62803
    by_days = compute_bill(business_flat_versions(), PeriodUsage(**JULY, kwh_by_band={"flat": 960}))
    assert [(line.quantity, line.amount_fen) for line in by_days.lines] == [
        (D("433.55"), 28805),
        (D("526.45"), 34219),
    ]


def test_monthly_tier_thresholds_are_shared_by_days_too():
    # Residential 230 / 400 kWh per month; base 0.538 until 14 July, 0.558 from 15 July
    # (tier prices 0.538/0.588/0.838, then 0.558/0.608/0.858). 500 kWh in July.
    # Old part (14/31): kWh 500 × 14/31 = 225.806… → 225.81; thresholds 230 × 14/31 = 103.870… → 103.87
    #   and 400 × 14/31 = 180.645… → 180.65.
    #   第一档 103.87 × 0.538 = 55.88206 元 → 5588 分
    #   第二档 (180.65 − 103.87) = 76.78 × 0.588 = 45.14664 元 → 4515 分
    #   第三档 (225.81 − 180.65) = 45.16 × 0.838 = 37.84408 元 → 3784 分
    # New part (17/31): kWh 500 − 225.81 = 274.19; thresholds 230 − 103.87 = 126.13, 400 − 180.65 = 219.35.
    #   第一档 126.13 × 0.558 = 70.38054 元 → 7038 分
    #   第二档 (219.35 − 126.13) = 93.22 × 0.608 = 56.67776 元 → 5668 分
    #   第三档 (274.19 − 219.35) = 54.84 × 0.858 = 47.05272 元 → 4705 分
    # total 5588 + 4515 + 3784 + 7038 + 5668 + 4705 = 31298 分
    # (tier quantities still add up to the whole month's 230 / 170 / 100 kWh)
    old = tariff("residential_monthly", code="T-RES-M-OLD", valid_to=CHANGE)
    new = tariff("residential_monthly", code="T-RES-M-NEW", valid_from=CHANGE, band_prices={"flat": "0.558"})
    result = compute_bill([old, new], PeriodUsage(**JULY, kwh_by_band={"flat": 500}))
    assert [(line.tier, line.quantity, line.unit_price, line.amount_fen) for line in result.lines] == [
        (1, D("103.87"), D("0.538"), 5588),
        (2, D("76.78"), D("0.588"), 4515),
        (3, D("45.16"), D("0.838"), 3784),
        (1, D("126.13"), D("0.558"), 7038),
        (2, D("93.22"), D("0.608"), 5668),
        (3, D("54.84"), D("0.858"), 4705),
    ]
    assert result.total_fen == 31298


def test_two_part_basic_charge_is_shared_by_days():
    # Capacity price 30 → 32 元/kVA·月 from 15 July; 400 kVA; no energy.
    #   400 × 30 × 14/31 = 5419.3548… 元 → 541935.48 分 → 541935 分
    #   400 × 32 × 17/31 = 7019.3548… 元 → 701935.48 分 → 701935 分
    old = tariff("two_part", code="T-LI-OLD", valid_to=CHANGE)
    new = tariff("two_part", code="T-LI-NEW", valid_from=CHANGE, capacity_price_per_kva_month="32")
    result = compute_bill([old, new], PeriodUsage(**JULY, kwh_by_band={}, transformer_kva=D(400)))
    assert [(line.description, line.amount_fen) for line in result.lines] == [
        ("基本电费（按容量）（14/31 月）（2024-07-01至2024-07-14）", 541935),
        ("基本电费（按容量）（17/31 月）（2024-07-15至2024-07-31）", 701935),
    ]


def test_versions_must_cover_the_whole_period():
    old = tariff("business_flat", code="OLD", valid_to=date(2024, 7, 10))
    late = tariff("business_flat", code="LATE", valid_from=CHANGE)
    with pytest.raises(ApplicationError) as error:
        compute_bill([old, late], PeriodUsage(**JULY, kwh_by_band={"flat": 1}))
    assert (error.value.code, error.value.field) == ("tariff_not_in_force", "tariff_versions")
    assert "2024-07-10" in error.value.message
    with pytest.raises(ApplicationError) as error:
        compute_bill([], PeriodUsage(**JULY, kwh_by_band={"flat": 1}))
    assert error.value.code == "tariff_not_in_force"


def test_overlapping_versions_are_refused():
    open_ended = tariff("business_flat", code="A")
    newer = tariff("business_flat", code="B", valid_from=CHANGE)
    with pytest.raises(ApplicationError) as error:
        compute_bill([open_ended, newer], PeriodUsage(**JULY, kwh_by_band={"flat": 1}))
    assert error.value.code == "tariff_versions_overlap"


def test_versions_outside_the_period_are_ignored():
    ended = tariff("business_flat", code="ENDED", valid_to=date(2024, 1, 1), band_prices={"flat": "9"})
    current = tariff("business_flat", code="CURRENT", valid_from=date(2024, 1, 1))
    result = compute_bill([ended, current], PeriodUsage(**JULY, kwh_by_band={"flat": 100}))
    assert [line.tariff_code for line in result.lines] == ["CURRENT"]


def test_daily_readings_must_cover_every_day_and_match_the_totals():
    daily = {date(2024, 7, 1) + timedelta(days=n): {"flat": D(1)} for n in range(30)}  # 31 July missing
    with pytest.raises(ApplicationError) as error:
        PeriodUsage(**JULY, kwh_by_band={"flat": 30}, daily_kwh=daily)
    assert (error.value.code, error.value.field) == ("daily_kwh_dates", "daily_kwh")
    daily[date(2024, 7, 31)] = {"flat": D(1)}
    with pytest.raises(ApplicationError) as error:
        PeriodUsage(**JULY, kwh_by_band={"flat": 30}, daily_kwh=daily)
    assert (error.value.code, error.value.field) == ("daily_kwh_mismatch", "daily_kwh")
    assert PeriodUsage(**JULY, kwh_by_band={"flat": 31}, daily_kwh=daily).kwh_total == D(31)
