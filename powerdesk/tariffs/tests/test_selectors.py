"""Finding the versions in force and pricing a bill from the database end to end."""

from datetime import date
from decimal import Decimal as D

import pytest

from powerdesk.tariffs.calculator import PeriodUsage, compute_bill
from powerdesk.tariffs.selectors import snapshot, tariffs_in_force
from powerdesk.tariffs.services import tariff_create
from powerdesk.tariffs.tests.catalogue import definition

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    tariff_create(
        **definition(
            "business_flat",
            code="GC-2023",
            series="GC",
            valid_from=date(2023, 1, 1),
            valid_to=date(2024, 7, 15),
        )
    )
    tariff_create(
        **definition(
            "business_flat",
            code="GC-2024",
            series="GC",
            valid_from=date(2024, 7, 15),
            band_prices={"flat": "0.65"},
        )
    )
    tariff_create(**definition("business_tou", code="GC-TOU", series="GC-TOU", valid_from=date(2023, 1, 1)))
    tariff_create(**definition("agricultural", code="AG", valid_from=date(2023, 1, 1)))


def codes(tariffs):
    return [t.code for t in tariffs]


def test_in_force_by_series_code_and_class(catalogue):
    july = {"start": date(2024, 7, 1), "end": date(2024, 8, 1)}
    assert codes(tariffs_in_force(code_or_class="GC", **july)) == ["GC-2023", "GC-2024"]
    # a version code brings its whole series, so a period spanning the change gets both versions
    assert codes(tariffs_in_force(code_or_class="GC-2023", **july)) == ["GC-2023", "GC-2024"]
    assert codes(tariffs_in_force(code_or_class="general_commercial", **july)) == [
        "GC-2023",
        "GC-2024",
        "GC-TOU",
    ]
    assert codes(tariffs_in_force(code_or_class="agricultural", **july)) == ["AG"]
    assert codes(tariffs_in_force(code_or_class="NOPE", **july)) == []


def test_in_force_uses_half_open_dates(catalogue):
    assert codes(tariffs_in_force(code_or_class="GC", start=date(2024, 7, 1), end=date(2024, 7, 15))) == [
        "GC-2023"
    ]
    assert codes(tariffs_in_force(code_or_class="GC", start=date(2024, 7, 15), end=date(2024, 7, 16))) == [
        "GC-2024"
    ]
    assert codes(tariffs_in_force(code_or_class="GC", start=date(2022, 1, 1), end=date(2023, 1, 1))) == []


def test_snapshots_cost_no_query_after_the_selector(catalogue, django_assert_num_queries):
    with django_assert_num_queries(4):  # tariffs + tiers + band prices + windows
        tariffs = tariffs_in_force(
            code_or_class="general_commercial", start=date(2024, 1, 1), end=date(2025, 1, 1)
        )
        [snapshot(t) for t in tariffs]


def test_bill_from_the_database_across_a_price_change(catalogue):
    # The mid-period example of test_mid_period_change, from stored rows: 1000 kWh in July,
    # 451.61 kWh × 0.6644 → 30005 分 + 548.39 kWh × 0.65 → 35645 分 = 65650 分.
    versions = [
        snapshot(t)
        for t in tariffs_in_force(code_or_class="GC", start=date(2024, 7, 1), end=date(2024, 8, 1))
    ]
    usage = PeriodUsage(
        period_start=date(2024, 7, 1), period_end=date(2024, 8, 1), kwh_by_band={"flat": D(1000)}
    )
    assert compute_bill(versions, usage).total_fen == 65650
