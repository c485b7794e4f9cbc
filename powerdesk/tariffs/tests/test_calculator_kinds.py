"""Hand-worked bills, one or more per tariff kind. Each comment holds the arithmetic a reviewer
can redo on paper: every line is quantity × unit price, rounded ROUND_HALF_UP to the fen, and the
total is the sum of the rounded lines. Periods are ``[start, end)``."""

from datetime import date
from decimal import Decimal as D

import pytest

from powerdesk.core.exceptions import ApplicationError
from powerdesk.tariffs.calculator import LineKind, PeriodUsage, compute_bill, to_fen
from powerdesk.tariffs.tests.catalogue import tariff

JULY = {"period_start": date(2024, 7, 1), "period_end": date(2024, 8, 1)}
MAY = {"period_start": date(2024, 5, 1), "period_end": date(2024, 6, 1)}


def lines(result):
    return [(line.description, line.quantity, line.unit_price, line.amount_fen) for line in result.lines]


def test_business_flat_prices_every_register_at_one_price():
    # 一般工商业单一制 0.6644 元/kWh; the meter has 峰/谷 registers, a flat tariff adds them up.
    # 800 + 434 = 1234 kWh × 0.6644 = 819.8696 元 → 81986.96 分 → 81987 分
    result = compute_bill(
        [tariff("business_flat")], PeriodUsage(**JULY, kwh_by_band={"peak": 800, "valley": 434})
    )
    assert lines(result) == [("电度电费", D(1234), D("0.6644"), 81987)]
    assert result.total_fen == 81987
    assert result.kwh_total == D(1234)


def test_agricultural_flat():
    # 农业生产 0.4672 元/kWh: 3560 kWh × 0.4672 = 1663.232 元 → 166323.2 分 → 166323 分
    result = compute_bill([tariff("agricultural")], PeriodUsage(**JULY, kwh_by_band={"flat": D("3560")}))
    assert lines(result) == [("电度电费", D(3560), D("0.4672"), 166323)]
    assert result.total_fen == 166323


def test_residential_monthly_tiers_crossing_both_boundaries():
    # 230 / 400 kWh per month; 0.538, 0.538 + 0.05 = 0.588, 0.538 + 0.30 = 0.838. 450 kWh:
    #   第一档 230 × 0.538 = 123.74 元 → 12374 分
    #   第二档 (400 − 230) = 170 × 0.588 = 99.96 元 → 9996 分
    #   第三档 (450 − 400) = 50 × 0.838 = 41.90 元 → 4190 分
    #   total 12374 + 9996 + 4190 = 26560 分 (265.60 元)
    result = compute_bill([tariff("residential_monthly")], PeriodUsage(**JULY, kwh_by_band={"flat": 450}))
    assert lines(result) == [
        ("第一档电量", D(230), D("0.538"), 12374),
        ("第二档电量", D(170), D("0.588"), 9996),
        ("第三档电量", D(50), D("0.838"), 4190),
    ]
    assert result.total_fen == 26560
    assert [line.tier for line in result.lines] == [1, 2, 3]
    assert {line.kind for line in result.lines} == {LineKind.TIER}


@pytest.mark.parametrize(
    ("kwh", "expected"),
    [
        # exactly 230: all in tier 1, 230 × 0.538 = 123.74 元 → 12374 分
        (230, [("第一档电量", D(230), D("0.538"), 12374)]),
        # 231: one kWh in tier 2, 1 × 0.588 = 0.588 元 = 58.8 分 → 59 分; total 12374 + 59 = 12433
        (231, [("第一档电量", D(230), D("0.538"), 12374), ("第二档电量", D(1), D("0.588"), 59)]),
    ],
)
def test_residential_monthly_tier_boundary_is_inclusive_of_the_threshold(kwh, expected):
    result = compute_bill([tariff("residential_monthly")], PeriodUsage(**JULY, kwh_by_band={"flat": kwh}))
    assert lines(result) == expected
    assert result.total_fen == sum(amount for *_rest, amount in expected)


def test_two_month_reading_cycle_doubles_monthly_thresholds():
    # 双月抄表: July + August read together, tier_months=2 → thresholds 460 / 800 kWh. 700 kWh:
    #   第一档 460 × 0.538 = 247.48 元 → 24748 分
    #   第二档 (700 − 460) = 240 × 0.588 = 141.12 元 → 14112 分
    #   total 38860 分
    usage = PeriodUsage(
        period_start=date(2024, 7, 1), period_end=date(2024, 9, 1), kwh_by_band={"flat": 700}, tier_months=2
    )
    result = compute_bill([tariff("residential_monthly")], usage)
    assert [(line.quantity, line.amount_fen) for line in result.lines] == [(D(460), 24748), (D(240), 14112)]
    assert result.total_fen == 38860


def test_residential_yearly_tiers_continue_from_prior_kwh_in_tier_year():
    # 2760 / 4800 kWh per tier year. 2700 kWh already used this year; November uses 100 kWh:
    #   第一档 2760 − 2700 = 60 × 0.538 = 32.28 元 → 3228 分
    #   第二档 100 − 60 = 40 × 0.588 = 23.52 元 → 2352 分
    #   total 5580 分; the tier-year counter ends at 2700 + 100 = 2800
    usage = PeriodUsage(
        period_start=date(2023, 11, 1),
        period_end=date(2023, 12, 1),
        kwh_by_band={"flat": 100},
        prior_kwh_in_tier_year=D(2700),
    )
    result = compute_bill([tariff("residential_yearly")], usage)
    assert lines(result) == [
        ("第一档电量", D(60), D("0.538"), 3228),
        ("第二档电量", D(40), D("0.588"), 2352),
    ]
    assert result.total_fen == 5580
    assert result.tier_year_kwh_at_end == D(2800)


def test_residential_yearly_tiers_roll_over_at_the_tier_year_start():
    # Period 2023-12-20 … 2024-01-19 (end 2024-01-20 exclusive) = 31 days: 12 in 2023, 19 in 2024.
    # 310 kWh, monthly total only → shared by days: 310 × 12/31 = 120.00 kWh in 2023, 190 in 2024.
    # 2023 part, counter 4700 (near the 4800 boundary):
    #   第二档 4800 − 4700 = 100 × 0.588 = 58.80 元 → 5880 分
    #   第三档 120 − 100 = 20 × 0.838 = 16.76 元 → 1676 分
    # 2024 part, counter back to 0:
    #   第一档 190 × 0.538 = 102.22 元 → 10222 分
    # total 5880 + 1676 + 10222 = 17778 分; the counter ends at 190 (kWh of the new tier year)
    usage = PeriodUsage(
        period_start=date(2023, 12, 20),
        period_end=date(2024, 1, 20),
        kwh_by_band={"flat": 310},
        prior_kwh_in_tier_year=D(4700),
    )
    result = compute_bill([tariff("residential_yearly")], usage)
    assert lines(result) == [
        ("第二档电量（2023-12-20至2023-12-31）", D(100), D("0.588"), 5880),
        ("第三档电量（2023-12-20至2023-12-31）", D(20), D("0.838"), 1676),
        ("第一档电量（2024-01-01至2024-01-19）", D(190), D("0.538"), 10222),
    ]
    assert result.total_fen == 17778
    assert result.tier_year_kwh_at_end == D(190)
    assert [(s.start, s.tier_year_kwh_before) for s in result.segments] == [
        (date(2023, 12, 20), D(4700)),
        (date(2024, 1, 1), D(0)),
    ]


def test_yearly_tier_roll_over_with_a_tier_year_starting_in_july():
    # Tier year from July. Period 2024-06-16 … 2024-07-15 (30 days): 15 days in June, 15 in July.
    # 200 kWh → 100 + 100. June part, counter 2750: 第一档 10 × 0.538 = 5.38 元 → 538 分,
    #   第二档 90 × 0.588 = 52.92 元 → 5292 分; July part from 0: 第一档 100 × 0.538 = 53.80 元 → 5380 分.
    # total 538 + 5292 + 5380 = 11210 分
    usage = PeriodUsage(
        period_start=date(2024, 6, 16),
        period_end=date(2024, 7, 16),
        kwh_by_band={"flat": 200},
        prior_kwh_in_tier_year=D(2750),
    )
    result = compute_bill([tariff("residential_yearly", tier_year_start_month=7)], usage)
    assert [line.amount_fen for line in result.lines] == [538, 5292, 5380]
    assert result.total_fen == 11210


def test_yearly_tiers_need_the_prior_kwh():
    usage = PeriodUsage(**JULY, kwh_by_band={"flat": 100})
    with pytest.raises(ApplicationError) as error:
        compute_bill([tariff("residential_yearly")], usage)
    assert (error.value.code, error.value.field) == ("prior_kwh_required", "prior_kwh_in_tier_year")


def test_a_period_starting_the_tier_year_has_no_prior_kwh():
    usage = PeriodUsage(
        period_start=date(2024, 1, 1),
        period_end=date(2024, 2, 1),
        kwh_by_band={"flat": 100},
        prior_kwh_in_tier_year=D(5),
    )
    with pytest.raises(ApplicationError) as error:
        compute_bill([tariff("residential_yearly")], usage)
    assert error.value.field == "prior_kwh_in_tier_year"


def test_residential_tou_with_yearly_tiers_adds_the_tier_surcharge_to_band_prices():
    # 峰 0.568 / 谷 0.288; tiers on the total kWh add +0.05 (tier 2) / +0.30 (tier 3) per kWh.
    # Prior 2700 kWh this tier year; June: 峰 120 + 谷 80 = 200 kWh.
    #   峰 120 × 0.568 = 68.16 元 → 6816 分
    #   谷 80 × 0.288 = 23.04 元 → 2304 分
    #   tier 2 holds 2700 + 200 − 2760 = 140 kWh: 第二档加价 140 × 0.05 = 7.00 元 → 700 分
    #   total 6816 + 2304 + 700 = 9820 分
    # (The same as Zhejiang's printed tier-2 prices 峰 0.618 / 谷 0.338 applied to the kWh above
    #  the boundary: the surcharge does not depend on the band.)
    usage = PeriodUsage(
        period_start=date(2024, 6, 1),
        period_end=date(2024, 7, 1),
        kwh_by_band={"peak": 120, "valley": 80},
        prior_kwh_in_tier_year=D(2700),
    )
    result = compute_bill([tariff("residential_tou_yearly")], usage)
    assert lines(result) == [
        ("峰段电量", D(120), D("0.568"), 6816),
        ("谷段电量", D(80), D("0.288"), 2304),
        ("第二档加价电量", D(140), D("0.05"), 700),
    ]
    assert result.total_fen == 9820


def test_residential_tou_with_monthly_tiers_reaching_tier_three():
    # 230 / 400 kWh per month. 峰 300 + 谷 200 = 500 kWh:
    #   峰 300 × 0.568 = 170.40 元 → 17040 分;  谷 200 × 0.288 = 57.60 元 → 5760 分
    #   第二档加价 (400 − 230) = 170 × 0.05 = 8.50 元 → 850 分
    #   第三档加价 (500 − 400) = 100 × 0.30 = 30.00 元 → 3000 分
    #   total 17040 + 5760 + 850 + 3000 = 26650 分
    result = compute_bill(
        [tariff("residential_tou_monthly")], PeriodUsage(**JULY, kwh_by_band={"peak": 300, "valley": 200})
    )
    assert lines(result) == [
        ("峰段电量", D(300), D("0.568"), 17040),
        ("谷段电量", D(200), D("0.288"), 5760),
        ("第二档加价电量", D(170), D("0.05"), 850),
        ("第三档加价电量", D(100), D("0.3"), 3000),
    ]
    assert result.total_fen == 26650


def test_business_tou_with_sharp_band_in_july():
    # 尖 1.0843 / 峰 0.9012 / 平 0.6131 / 谷 0.3250; July has 尖峰 19:00–21:00.
    #   尖 150 × 1.0843 = 162.645 元 = 16264.5 分 → 16265 分 (half-up; half-even would say 16264)
    #   峰 1200 × 0.9012 = 1081.44 元 → 108144 分
    #   平 400 × 0.6131 = 245.24 元 → 24524 分
    #   谷 900 × 0.3250 = 292.50 元 → 29250 分
    #   total 16265 + 108144 + 24524 + 29250 = 178183 分
    result = compute_bill(
        [tariff("business_tou")],
        PeriodUsage(**JULY, kwh_by_band={"sharp": 150, "peak": 1200, "flat": 400, "valley": 900}),
    )
    assert lines(result) == [
        ("尖段电量", D(150), D("1.0843"), 16265),
        ("峰段电量", D(1200), D("0.9012"), 108144),
        ("平段电量", D(400), D("0.6131"), 24524),
        ("谷段电量", D(900), D("0.325"), 29250),
    ]
    assert result.total_fen == 178183


def test_kwh_in_a_band_the_tariff_does_not_price_is_refused():
    usage = PeriodUsage(**JULY, kwh_by_band={"sharp": 10, "peak": 100, "valley": 50})
    with pytest.raises(ApplicationError) as error:
        compute_bill([tariff("residential_tou_monthly")], usage)
    assert (error.value.code, error.value.field) == ("band_not_priced", "kwh_by_band")


# Energy of the two-part examples, May (no 尖):
#   峰 52000 × 0.8342 = 43378.40 元 → 4337840 分
#   平 18000 × 0.5726 = 10306.80 元 → 1030680 分
#   谷 40000 × 0.2990 = 11960.00 元 → 1196000 分
#   energy 4337840 + 1030680 + 1196000 = 6564520 分
TWO_PART_MAY = {"peak": 52000, "flat": 18000, "valley": 40000}
TWO_PART_ENERGY_FEN = [4337840, 1030680, 1196000]


def test_two_part_with_capacity_charge():
    # 基本电费（按容量） 630 kVA × 30 元/kVA·月 = 18900.00 元 → 1890000 分
    # total 6564520 + 1890000 = 8454520 分
    result = compute_bill(
        [tariff("two_part")], PeriodUsage(**MAY, kwh_by_band=TWO_PART_MAY, transformer_kva=D(630))
    )
    assert [line.amount_fen for line in result.lines] == [*TWO_PART_ENERGY_FEN, 1890000]
    basic = result.lines[-1]
    assert (basic.description, basic.kind, basic.quantity, basic.unit, basic.unit_price) == (
        "基本电费（按容量）",
        LineKind.CAPACITY,
        D(630),
        "kVA",
        D(30),
    )
    assert result.total_fen == 8454520


def test_two_part_with_demand_charge():
    # 基本电费（按需量） 415.37 kW × 40 元/kW·月 = 16614.80 元 → 1661480 分
    # total 6564520 + 1661480 = 8226000 分
    result = compute_bill(
        [tariff("two_part")], PeriodUsage(**MAY, kwh_by_band=TWO_PART_MAY, max_demand_kw=D("415.37"))
    )
    assert [line.amount_fen for line in result.lines] == [*TWO_PART_ENERGY_FEN, 1661480]
    assert (result.lines[-1].kind, result.lines[-1].unit) == (LineKind.DEMAND, "kW")
    assert result.total_fen == 8226000


def test_two_part_needs_to_know_the_basis_when_given_both_kva_and_kw():
    usage = PeriodUsage(**MAY, kwh_by_band=TWO_PART_MAY, transformer_kva=D(630), max_demand_kw=D(400))
    with pytest.raises(ApplicationError) as error:
        compute_bill([tariff("two_part")], usage)
    assert error.value.field == "charge_basis"
    chosen = PeriodUsage(
        **MAY, kwh_by_band=TWO_PART_MAY, transformer_kva=D(630), max_demand_kw=D(400), charge_basis="demand"
    )
    # 400 kW × 40 = 16000.00 元 → 1600000 分
    assert compute_bill([tariff("two_part")], chosen).lines[-1].amount_fen == 1600000


def test_two_part_without_kva_or_kw_is_refused():
    with pytest.raises(ApplicationError) as error:
        compute_bill([tariff("two_part")], PeriodUsage(**MAY, kwh_by_band=TWO_PART_MAY))
    assert (error.value.code, error.value.field) == ("transformer_kva_required", "transformer_kva")


def test_rounding_is_half_up_to_the_fen():
    # 25 kWh × 0.5378 = 13.445 元 = 1344.5 分: ROUND_HALF_UP → 1345 (ROUND_HALF_EVEN would give 1344)
    result = compute_bill(
        [tariff("business_flat", band_prices={"flat": "0.5378"})],
        PeriodUsage(**JULY, kwh_by_band={"flat": 25}),
    )
    assert result.total_fen == 1345
    assert to_fen(D("13.445")) == 1345
    assert to_fen(D("13.4449")) == 1344


def test_each_line_is_rounded_before_summing():
    # Two lines of exactly half a fen each: 1 × 0.005 元 (峰) and 1 × 0.005 元 (谷).
    # Per line: 0.5 分 → 1 分 each, total 2 分 (rounding the sum 1.0 分 would give 1).
    tou = tariff("residential_tou_monthly", band_prices={"peak": "0.005", "valley": "0.005"})
    result = compute_bill([tou], PeriodUsage(**JULY, kwh_by_band={"peak": 1, "valley": 1}))
    assert [line.amount_fen for line in result.lines] == [1, 1]
    assert result.total_fen == 2


def test_zero_usage_costs_nothing_but_the_basic_charge():
    assert compute_bill([tariff("residential_monthly")], PeriodUsage(**JULY, kwh_by_band={})).total_fen == 0
    result = compute_bill([tariff("two_part")], PeriodUsage(**MAY, kwh_by_band={}, transformer_kva=D(100)))
    assert lines(result) == [("基本电费（按容量）", D(100), D(30), 300000)]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"period_end": date(2024, 7, 1)}, "period_end"),
        ({"kwh_by_band": {"flat": -1}}, "kwh_by_band.flat"),
        ({"kwh_by_band": {"flat": 1.5}}, "kwh_by_band.flat"),
        ({"kwh_by_band": {"night": 1}}, "kwh_by_band.night"),
        ({"transformer_kva": "-5"}, "transformer_kva"),
        ({"charge_basis": "both"}, "charge_basis"),
        ({"tier_months": 0}, "tier_months"),
    ],
)
def test_bad_usage_is_refused_naming_the_field(changes, field):
    arguments = {**JULY, "kwh_by_band": {"flat": 1}, **changes}
    with pytest.raises(ApplicationError) as error:
        PeriodUsage(**arguments)
    assert error.value.field == field
