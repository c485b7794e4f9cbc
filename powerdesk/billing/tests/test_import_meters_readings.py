"""Importing meters and daily readings: bulk, idempotent, unknown meters and bad values rejected."""

import pytest

from powerdesk.billing.importers import import_meters, import_readings
from powerdesk.billing.models import DailyReading, Meter
from powerdesk.billing.tests.test_import_files import METER_COLUMNS, read_report, write_csv

pytestmark = pytest.mark.django_db

READING_COLUMNS = [
    "meter_number",
    "reading_date",
    "register_total",
    "kwh_total",
    "kwh_sharp",
    "kwh_peak",
    "kwh_flat",
    "kwh_valley",
]


def meter(number="M1", account="0000000001", **changes):
    return {
        "meter_number": number,
        "account_number": account,
        "multiplier": "1",
        "is_smart": "1",
        "installed_on": "2019-05-01",
        **changes,
    }


def reading(day=1, meter="M1", **changes):
    return {
        "meter_number": meter,
        "reading_date": f"2025-12-{day:02d}",
        "register_total": f"{1000 + day * 7}.50",
        "kwh_total": "7.00",
        "kwh_sharp": "0",
        "kwh_peak": "4.50",
        "kwh_flat": "0",
        "kwh_valley": "2.50",
        **changes,
    }


def test_meters_are_created_then_unchanged_then_updated(account_a, account_b, tmp_path):
    path = write_csv(tmp_path / "m.csv", [meter(), meter("M2", "0000000002", is_smart="0")], METER_COLUMNS)
    assert import_meters(path).created == 2
    again = import_meters(path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = write_csv(tmp_path / "m2.csv", [meter(multiplier="30")], METER_COLUMNS)
    assert import_meters(changed).updated == 1
    assert str(Meter.objects.get(number="M1").multiplier) == "30.00"


def test_bad_meter_rows_are_reported(account_a, tmp_path):
    rows = [
        meter(),
        meter("M2", "0000009999"),
        meter("M3", multiplier="0"),
        meter("M4", is_smart="maybe"),
        meter("M1"),
        meter("M5", installed_on="yesterday"),
    ]
    path = write_csv(tmp_path / "m.csv", rows, METER_COLUMNS)
    result = import_meters(path)
    assert (result.created, result.rejected) == (1, 5)
    assert [(r["row"], r["column"]) for r in read_report(path)] == [
        ("3", "account_number"),
        ("4", "multiplier"),
        ("5", "is_smart"),
        ("6", "meter_number"),
        ("7", "installed_on"),
    ]


@pytest.fixture
def meter_m1(account_a, tmp_path):
    import_meters(write_csv(tmp_path / "meters.csv", [meter()], METER_COLUMNS))
    return Meter.objects.get(number="M1")


def test_readings_import_once_and_corrections_replace(meter_m1, tmp_path):
    path = write_csv(tmp_path / "r.csv", [reading(d) for d in range(1, 11)], READING_COLUMNS)
    assert import_readings(path).created == 10
    again = import_readings(path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 10)
    fixed = write_csv(tmp_path / "r2.csv", [reading(3, kwh_total="8.00", kwh_peak="5.50")], READING_COLUMNS)
    assert import_readings(fixed).updated == 1
    assert DailyReading.objects.count() == 10
    assert str(DailyReading.objects.get(reading_date="2025-12-03").kwh_total) == "8.00"


def test_bad_readings_are_reported(meter_m1, tmp_path):
    rows = [
        reading(1),
        reading(2, meter="NOPE"),  # unknown meter
        reading(3, kwh_total="-1"),  # negative
        reading(4, kwh_total="9.00"),  # bands sum to 7
        reading(5, reading_date="2025-12-32"),
        reading(1),  # duplicate (meter, day)
        reading(6, register_total="1e"),
    ]
    path = write_csv(tmp_path / "r.csv", rows, READING_COLUMNS)
    result = import_readings(path)
    assert (result.created, result.rejected) == (1, 6)
    assert [(r["row"], r["column"]) for r in read_report(path)] == [
        ("3", "meter_number"),
        ("4", "kwh_total"),
        ("5", "kwh_total"),
        ("6", "reading_date"),
        ("7", "reading_date"),
        ("8", "register_total"),
    ]


def test_bands_within_a_hundredth_are_accepted(meter_m1, tmp_path):
    path = write_csv(tmp_path / "r.csv", [reading(1, kwh_total="7.01")], READING_COLUMNS)
    assert import_readings(path).created == 1
