"""Which band a moment falls in, and a 96-point load curve split by band."""

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from powerdesk.core.exceptions import ApplicationError
from powerdesk.tariffs.tests.catalogue import tariff


@pytest.mark.parametrize(
    ("moment", "band"),
    [
        (datetime(2024, 3, 5, 7, 59, 59), "valley"),  # the valley window ends at 08:00, exclusive
        (datetime(2024, 3, 5, 8, 0), "peak"),  # … and the peak window starts there, inclusive
        (datetime(2024, 3, 5, 21, 59, 59), "peak"),
        (datetime(2024, 3, 5, 22, 0), "valley"),
        (datetime(2024, 3, 5, 23, 59, 59), "valley"),  # 22:00–08:00 crosses midnight
        (datetime(2024, 3, 6, 0, 0), "valley"),
        (datetime(2024, 3, 6, 3, 30), "valley"),
    ],
)
def test_residential_band_of_at_window_edges(moment, band):
    assert tariff("residential_tou_monthly").band_of(moment) == band


@pytest.mark.parametrize(
    ("moment", "band"),
    [
        (datetime(2024, 7, 15, 18, 59, 59), "peak"),
        (datetime(2024, 7, 15, 19, 0), "sharp"),  # 尖峰 19:00–21:00 in July and August
        (datetime(2024, 7, 15, 20, 59), "sharp"),
        (datetime(2024, 7, 15, 21, 0), "peak"),
        (datetime(2024, 6, 15, 19, 0), "peak"),  # … but not in June
        (datetime(2024, 9, 1, 20, 0), "peak"),
        (datetime(2024, 8, 31, 20, 0), "sharp"),
        (datetime(2024, 7, 15, 11, 0), "flat"),
        (datetime(2024, 7, 15, 12, 59, 59), "flat"),
        (datetime(2024, 7, 15, 13, 0), "peak"),
    ],
)
def test_business_band_of_with_summer_sharp(moment, band):
    assert tariff("business_tou").band_of(moment) == band


def test_aware_moments_are_read_in_local_time():
    # 00:30 UTC is 08:30 in Asia/Shanghai: peak, not valley.
    assert tariff("residential_tou_monthly").band_of(datetime(2024, 3, 5, 0, 30, tzinfo=UTC)) == "peak"
    # 13:59 UTC is 21:59 local, 14:00 UTC is 22:00 local.
    assert tariff("residential_tou_monthly").band_of(datetime(2024, 3, 5, 13, 59, tzinfo=UTC)) == "peak"
    assert tariff("residential_tou_monthly").band_of(datetime(2024, 3, 5, 14, 0, tzinfo=UTC)) == "valley"


def test_single_price_tariffs_answer_their_one_band():
    assert tariff("business_flat").band_of(datetime(2024, 7, 15, 19, 0)) == "flat"


def test_load_curve_split_residential():
    # 96 points of 0.25 kWh (1 kW all day). 峰 08:00–22:00 = 14 h = 56 points → 14.00 kWh;
    # 谷 22:00–08:00 = 10 h = 40 points → 10.00 kWh.
    split = tariff("residential_tou_monthly").split_load_curve_by_band(date(2024, 3, 5), [D("0.25")] * 96)
    assert split == {"peak": D(14), "valley": D(10)}
    assert list(split) == ["peak", "valley"]


def test_load_curve_split_edges_and_summer_sharp():
    # Points are kWh in [i×15 min, (i+1)×15 min): point 31 is 07:45–08:00 (谷), 32 is 08:00–08:15 (峰),
    # 76 is 19:00–19:15 (尖 in July), 83 is 20:45–21:00 (尖), 84 is 21:00–21:15 (峰), 88 is 22:00 (谷).
    values = [D(0)] * 96
    for index, kwh in {31: "1", 32: "2", 76: "4", 83: "8", 84: "16", 88: "32", 44: "64"}.items():
        values[index] = D(kwh)
    july = tariff("business_tou").split_load_curve_by_band(date(2024, 7, 1), values)
    # 44 is 11:00–11:15 (平)
    assert july == {"sharp": D(12), "peak": D(18), "flat": D(64), "valley": D(33)}
    june = tariff("business_tou").split_load_curve_by_band(date(2024, 6, 1), values)
    assert june == {"sharp": D(0), "peak": D(30), "flat": D(64), "valley": D(33)}


def test_load_curve_split_counts_points_per_band_in_july():
    # 1 kWh per point: 尖 19–21 = 8 points; 峰 08–11, 13–19, 21–22 = 12 + 24 + 4 = 40; 平 11–13 = 8;
    # 谷 22–08 = 40. 8 + 40 + 8 + 40 = 96.
    split = tariff("business_tou").split_load_curve_by_band(date(2024, 7, 1), [1] * 96)
    assert split == {"sharp": D(8), "peak": D(40), "flat": D(8), "valley": D(40)}


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        ([D(1)] * 95, "load_curve_length", "values"),
        ([D(1)] * 95 + [D(-1)], "negative_number", "values[95]"),
        ([D(1)] * 10 + [0.5] + [D(1)] * 85, "not_decimal", "values[10]"),
        ([D(1)] * 10 + [None] + [D(1)] * 85, "invalid_number", "values[10]"),
    ],
)
def test_bad_load_curves_are_refused(values, code, field):
    with pytest.raises(ApplicationError) as error:
        tariff("residential_tou_monthly").split_load_curve_by_band(date(2024, 3, 5), values)
    assert (error.value.code, error.value.field) == (code, field)
