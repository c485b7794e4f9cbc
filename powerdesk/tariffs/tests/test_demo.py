"""The demo catalogue is valid, idempotent, and prices a bill for every tariff class."""

from datetime import date
from decimal import Decimal as D

import pytest

from powerdesk.customers.choices import TariffClass
from powerdesk.tariffs.calculator import PeriodUsage, compute_bill
from powerdesk.tariffs.demo import DEMO_SERIES_BY_CLASS, DEMO_TARIFFS, DEMO_TOU_SERIES_BY_CLASS, demo_tariffs
from powerdesk.tariffs.models import Tariff
from powerdesk.tariffs.selectors import snapshot, tariffs_in_force

pytestmark = pytest.mark.django_db


def test_demo_catalogue_is_created_once():
    first = demo_tariffs()
    assert set(first) == {definition["code"] for definition in DEMO_TARIFFS}
    assert all("示范" in tariff.name and "演示" in tariff.note for tariff in first.values())
    second = demo_tariffs()
    assert {code: t.pk for code, t in second.items()} == {code: t.pk for code, t in first.items()}
    assert Tariff.objects.count() == len(DEMO_TARIFFS)


def test_every_tariff_class_has_a_demo_series():
    demo_tariffs()
    assert set(DEMO_SERIES_BY_CLASS) == set(TariffClass.values)
    for series in [*DEMO_SERIES_BY_CLASS.values(), *DEMO_TOU_SERIES_BY_CLASS.values()]:
        assert tariffs_in_force(code_or_class=series, start=date(2024, 1, 1), end=date(2026, 1, 1))


def test_demo_residential_tiered_bill():
    # 居民阶梯 (yearly 2760/4800, 0.538 / +0.05 / +0.30): prior 2700, December 200 kWh.
    #   第一档 60 × 0.538 = 32.28 元 → 3228 分; 第二档 140 × 0.588 = 82.32 元 → 8232 分; total 11460 分
    demo_tariffs()
    versions = [
        snapshot(t)
        for t in tariffs_in_force(code_or_class="ZJ-RES-TIER", start=date(2024, 12, 1), end=date(2025, 1, 1))
    ]
    usage = PeriodUsage(
        period_start=date(2024, 12, 1),
        period_end=date(2025, 1, 1),
        kwh_by_band={"flat": D(200)},
        prior_kwh_in_tier_year=D(2700),
    )
    assert compute_bill(versions, usage).total_fen == 11460


def test_demo_business_flat_spans_its_2025_price_change():
    # May 2025 … June 2025 (61 days), 6100 kWh: 3100 kWh × 0.6644 (31 May days) = 2059.64 元 → 205964 分;
    # 3000 kWh × 0.65 (30 June days) = 1950.00 元 → 195000 分; total 400964 分.
    demo_tariffs()
    start, end = date(2025, 5, 1), date(2025, 7, 1)
    versions = [snapshot(t) for t in tariffs_in_force(code_or_class="ZJ-GC-FLAT", start=start, end=end)]
    usage = PeriodUsage(period_start=start, period_end=end, kwh_by_band={"flat": D(6100)})
    assert compute_bill(versions, usage).total_fen == 400964
