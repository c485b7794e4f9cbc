"""Strict validation of tariff definitions: each refusal names the field and says why in Chinese."""

from datetime import date, time
from decimal import Decimal as D

import pytest

from powerdesk.core.exceptions import ApplicationError
from powerdesk.tariffs.tests.catalogue import BUSINESS_TOU_WINDOWS, definition, tariff
from powerdesk.tariffs.validation import clean_tariff


def refusal(which: str, /, **overrides) -> ApplicationError:
    with pytest.raises(ApplicationError) as error:
        clean_tariff(**definition(which, **overrides))
    return error.value


def test_every_catalogue_tariff_is_valid():
    for name in ("business_flat", "agricultural", "residential_monthly", "residential_yearly",
                 "residential_tou_yearly", "residential_tou_monthly", "business_tou", "two_part"):  # fmt: skip
        assert tariff(name).code


def test_prices_are_normalised_and_windows_parsed():
    snap = tariff("business_tou")
    assert snap.band_prices == (
        ("sharp", D("1.0843")),
        ("peak", D("0.9012")),
        ("flat", D("0.6131")),
        ("valley", D("0.325")),
    )
    assert str(snap.price_of("valley")) == "0.325"
    assert snap.windows[0].starts_at == time(22) and snap.windows[0].ends_at == time(8)
    assert snap.windows[4].months == frozenset({7, 8})


def test_overlapping_windows_are_refused():
    windows = [
        {"band": "peak", "start": "08:00", "end": "22:00"},
        {"band": "valley", "start": "21:00", "end": "08:00"},
    ]
    error = refusal("residential_tou_monthly", windows=windows)
    assert (error.code, error.field) == ("windows_overlap", "windows")
    assert "重叠" in error.message and "1月" in error.message


def test_windows_overlapping_only_in_summer_are_refused():
    windows = [*BUSINESS_TOU_WINDOWS, {"band": "sharp", "start": "10:00", "end": "11:00", "months": [8]}]
    error = refusal("business_tou", windows=windows)
    assert (error.code, error.field) == ("windows_overlap", "windows")
    assert "8月" in error.message


def test_windows_leaving_a_gap_are_refused():
    windows = [
        {"band": "peak", "start": "08:00", "end": "22:00"},
        {"band": "valley", "start": "23:00", "end": "08:00"},
    ]
    error = refusal("residential_tou_monthly", windows=windows)
    assert (error.code, error.field) == ("windows_gap", "windows")
    assert "22:00–23:00" in error.message


def test_a_month_without_windows_is_a_gap():
    windows = [
        {**window, "months": [7]} if window["band"] == "sharp" else window for window in BUSINESS_TOU_WINDOWS
    ]
    error = refusal("business_tou", windows=windows)  # August now has nothing at 19:00–21:00
    assert error.code == "windows_gap" and "8月" in error.message


def test_window_edges_must_be_quarter_hours():
    windows = [
        {"band": "peak", "start": "08:10", "end": "22:00"},
        {"band": "valley", "start": "22:00", "end": "08:10"},
    ]
    error = refusal("residential_tou_monthly", windows=windows)
    assert (error.code, error.field) == ("window_not_quarter_hour", "windows[0].start")


def test_window_months_must_be_1_to_12():
    windows = [{"band": "peak", "start": "08:00", "end": "22:00", "months": [0, 1]}, BUSINESS_TOU_WINDOWS[0]]
    error = refusal("residential_tou_monthly", windows=windows)
    assert (error.code, error.field) == ("invalid_months", "windows[0].months")


def test_window_band_must_be_priced():
    windows = [
        {"band": "flat", "start": "08:00", "end": "22:00"},
        {"band": "valley", "start": "22:00", "end": "08:00"},
    ]
    error = refusal("residential_tou_monthly", windows=windows)
    assert (error.code, error.field) == ("window_band_not_priced", "windows[0].band")


def test_priced_band_must_have_a_window():
    error = refusal(
        "residential_tou_monthly", band_prices={"peak": "0.568", "flat": "0.4", "valley": "0.288"}
    )
    assert (error.code, error.field) == ("band_without_window", "band_prices.flat")


def test_descending_tiers_are_refused():
    tiers = [
        {"upper_kwh": 400, "surcharge_per_kwh": "0"},
        {"upper_kwh": 230, "surcharge_per_kwh": "0.05"},
        {"upper_kwh": None, "surcharge_per_kwh": "0.30"},
    ]
    error = refusal("residential_monthly", tiers=tiers)
    assert (error.code, error.field) == ("tiers_not_ascending", "tiers[1].upper_kwh")
    assert "230" in error.message and "400" in error.message


def test_equal_tier_thresholds_are_refused():
    tiers = [
        {"upper_kwh": 230},
        {"upper_kwh": 230, "surcharge_per_kwh": "0.05"},
        {"surcharge_per_kwh": "0.3"},
    ]
    assert refusal("residential_monthly", tiers=tiers).field == "tiers[1].upper_kwh"


def test_last_tier_is_open_and_the_others_are_not():
    closed = [{"upper_kwh": 230}, {"upper_kwh": 400, "surcharge_per_kwh": "0.05"}]
    assert refusal("residential_monthly", tiers=closed).field == "tiers[1].upper_kwh"
    gap = [{"upper_kwh": 230}, {"surcharge_per_kwh": "0.05"}, {"surcharge_per_kwh": "0.3"}]
    assert refusal("residential_monthly", tiers=gap).field == "tiers[1].upper_kwh"


def test_first_tier_is_the_base_price():
    tiers = [{"upper_kwh": 230, "surcharge_per_kwh": "0.01"}, {"surcharge_per_kwh": "0.05"}]
    error = refusal("residential_monthly", tiers=tiers)
    assert (error.code, error.field) == ("first_tier_surcharge", "tiers[0].surcharge_per_kwh")


@pytest.mark.parametrize(
    ("band_prices", "code", "field"),
    [
        ({"flat": "-0.538"}, "negative_number", "band_prices.flat"),
        ({"flat": "0.538001"}, "too_many_decimals", "band_prices.flat"),
        ({"flat": 0.538}, "not_decimal", "band_prices.flat"),
        ({"flat": "abc"}, "invalid_number", "band_prices.flat"),
        ({"flat": "NaN"}, "invalid_number", "band_prices.flat"),
        ({"flat": "10000000"}, "number_too_large", "band_prices.flat"),
        ({"night": "0.5"}, "invalid_band", "band_prices.night"),
        ({}, "band_prices_required", "band_prices"),
    ],
)
def test_bad_prices_are_refused(band_prices, code, field):
    error = refusal("business_flat", band_prices=band_prices)
    assert (error.code, error.field) == (code, field)


def test_five_decimals_are_accepted_and_trailing_zeros_do_not_count():
    assert tariff("business_flat", band_prices={"flat": "0.83425"}).price_of("flat") == D("0.83425")
    assert str(tariff("business_flat", band_prices={"flat": "0.5380000"}).price_of("flat")) == "0.538"


def test_tou_price_with_six_decimals_names_its_band():
    error = refusal(
        "business_tou", band_prices={"sharp": "1.0843", "peak": "0.901234", "flat": "0.6", "valley": "0.3"}
    )
    assert (error.code, error.field) == ("too_many_decimals", "band_prices.peak")
    assert "5" in error.message


def test_negative_tier_surcharge_and_basic_prices_are_refused():
    tiers = [{"upper_kwh": 230}, {"surcharge_per_kwh": "-0.05"}]
    assert refusal("residential_monthly", tiers=tiers).field == "tiers[1].surcharge_per_kwh"
    assert refusal("two_part", demand_price_per_kw_month="-1").field == "demand_price_per_kw_month"


@pytest.mark.parametrize(
    ("name", "overrides", "code", "field"),
    [
        ("business_flat", {"band_prices": {"peak": "1", "valley": "0.3"}}, "single_price_required", "band_prices"),
        ("business_flat", {"tiers": [{"upper_kwh": 1}, {}]}, "tiers_not_applicable", "tiers"),
        ("business_flat", {"tier_period": "monthly"}, "tier_period_not_applicable", "tier_period"),
        ("business_flat", {"capacity_price_per_kva_month": "30"}, "basic_price_not_applicable",
         "capacity_price_per_kva_month"),
        ("residential_monthly", {"tier_period": ""}, "tier_period_required", "tier_period"),
        ("residential_monthly", {"tier_period": "weekly"}, "invalid_tier_period", "tier_period"),
        ("residential_monthly", {"tiers": [{}]}, "tiers_required", "tiers"),
        ("residential_yearly", {"tier_year_start_month": 13}, "invalid_month", "tier_year_start_month"),
        ("business_tou", {"windows": []}, "windows_required", "windows"),
        ("business_tou", {"band_prices": {"flat": "0.6"}, "windows": []}, "tou_bands_required", "band_prices"),
        ("two_part", {"capacity_price_per_kva_month": None, "demand_price_per_kw_month": None},
         "basic_price_required", "capacity_price_per_kva_month"),
        ("business_flat", {"valid_to": date(2020, 1, 1)}, "invalid_validity", "valid_to"),
        ("business_flat", {"valid_from": "2020-01-01"}, "invalid_date", "valid_from"),
        ("business_flat", {"code": "含中文"}, "invalid_code", "code"),
        ("business_flat", {"tariff_class": "household"}, "invalid_tariff_class", "tariff_class"),
        ("business_flat", {"kind": "weird"}, "invalid_kind", "kind"),
        ("business_flat", {"name": " "}, "invalid_name", "name"),
    ],
)  # fmt: skip
def test_kind_shape_and_fields(name, overrides, code, field):
    error = refusal(name, **overrides)
    assert (error.code, error.field) == (code, field)


def test_two_part_without_tou_has_one_price():
    snap = tariff("two_part", band_prices={"flat": "0.6"}, windows=[], demand_price_per_kw_month=None)
    assert snap.is_single_price and snap.capacity_price_per_kva_month == D(30)


def test_a_whole_day_window_and_24_00_end():
    whole_day = [{"band": "peak", "start": "00:00", "end": "00:00", "months": [1]},
                 {"band": "peak", "start": "08:00", "end": "24:00", "months": list(range(2, 13))},
                 {"band": "valley", "start": "00:00", "end": "08:00", "months": list(range(2, 13))}]  # fmt: skip
    snap = tariff("residential_tou_monthly", windows=whole_day)
    assert snap.windows[1].ends_at == time(0)
