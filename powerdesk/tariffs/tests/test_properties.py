"""Properties that hold for every tariff kind and any usage (hypothesis)."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from powerdesk.tariffs.calculator import PeriodUsage, compute_bill
from powerdesk.tariffs.tests.catalogue import DEFINITIONS, tariff

NAMES = sorted(DEFINITIONS)
TIERED = ["residential_monthly", "residential_yearly", "residential_tou_monthly", "residential_tou_yearly"]
kwh = st.decimals(min_value=0, max_value=20000, places=2)


@cache
def snapshot(name):
    return tariff(name)


def usage_for(name, kwh_values, start, end, prior, extra_kva):
    snap = snapshot(name)
    bands = [band for band, _price in snap.band_prices]
    kwh_by_band = {band: kwh_values[i % len(kwh_values)] for i, band in enumerate(bands)}
    starts_tier_year = start.day == 1 and start.month == snap.tier_year_start_month
    return PeriodUsage(
        period_start=start,
        period_end=end,
        kwh_by_band=kwh_by_band,
        prior_kwh_in_tier_year=(Decimal(0) if starts_tier_year else prior) if snap.has_yearly_tiers else None,
        transformer_kva=extra_kva if snap.kind == "two_part" else None,
    )


periods = st.tuples(
    st.dates(min_value=date(2023, 1, 1), max_value=date(2025, 12, 31)), st.integers(min_value=2, max_value=62)
)


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(NAMES),
    kwh_values=st.lists(kwh, min_size=1, max_size=4),
    period=periods,
    prior=kwh,
    kva=st.decimals(min_value=0, max_value=5000, places=1),
)
def test_total_is_the_sum_of_the_lines(name, kwh_values, period, prior, kva):
    start, days = period
    usage = usage_for(name, kwh_values, start, start + timedelta(days=days), prior, kva)
    result = compute_bill([snapshot(name)], usage)
    assert result.total_fen == sum(line.amount_fen for line in result.lines)
    assert all(isinstance(line.amount_fen, int) and line.amount_fen >= 0 for line in result.lines)
    for band in usage.kwh_by_band:
        assert sum(s.kwh_by_band.get(band, 0) for s in result.segments) == usage.kwh_by_band[band]


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(TIERED),
    kwh_values=st.lists(kwh, min_size=1, max_size=2),
    more=kwh,
    which=st.integers(min_value=0, max_value=1),
    period=periods,
    prior=kwh,
)
def test_tiered_totals_never_fall_when_kwh_rise(name, kwh_values, more, which, period, prior):
    start, days = period
    usage = usage_for(name, kwh_values, start, start + timedelta(days=days), prior, None)
    bands = list(usage.kwh_by_band)
    band = bands[which % len(bands)]
    bigger = replace(usage, kwh_by_band={**usage.kwh_by_band, band: usage.kwh_by_band[band] + more})
    assert compute_bill([snapshot(name)], usage).total_fen <= compute_bill([snapshot(name)], bigger).total_fen


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(NAMES),
    kwh_values=st.lists(kwh, min_size=1, max_size=4),
    period=st.tuples(
        st.dates(min_value=date(2023, 1, 1), max_value=date(2025, 12, 31)),
        st.integers(min_value=2, max_value=31),
    ),
    cut=st.integers(min_value=1, max_value=30),
    prior=kwh,
    kva=st.decimals(min_value=0, max_value=5000, places=1),
)
def test_splitting_the_period_at_any_day_costs_about_the_same(name, kwh_values, period, cut, prior, kva):
    # Two versions with the same prices, the second starting on any day inside the period, must
    # price the period like the single version, give or take rounding: each line of either bill
    # is off its exact value by at most half a fen, kWh shares conserve each band's total, and
    # monthly tier thresholds shared to 0.01 kWh can move a hundredth of a kWh between tiers
    # (≤ 0.01 × 0.30 元 per boundary, under a fen in all). Hence 2 × |difference| ≤ lines + 2.
    start, days = period
    cut = 1 + (cut - 1) % (days - 1)
    change = start + timedelta(days=cut)
    usage = usage_for(name, kwh_values, start, start + timedelta(days=days), prior, kva)
    whole = compute_bill([snapshot(name)], usage)
    versions = [
        replace(snapshot(name), code="A", valid_to=change),
        replace(snapshot(name), code="B", valid_from=change),
    ]
    split = compute_bill(versions, usage)
    assert 2 * abs(split.total_fen - whole.total_fen) <= len(split.lines) + len(whole.lines) + 2
    assert split.tier_year_kwh_at_end == whole.tier_year_kwh_at_end
