"""Readings retention: old whole months move to the Parquet lake exactly once, their sums stay,
the TOU advice still works from the sums, and a crash mid-way loses nothing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pyarrow.dataset as ds
import pytest
from django.core.management import call_command

from powerdesk.billing import retention
from powerdesk.billing.importers import import_readings
from powerdesk.billing.models import DailyReading, LoadCurve, Meter, MonthlyUsage, UsageSource
from powerdesk.billing.tests.test_checks import bill, business
from powerdesk.billing.tou import TouStatus, tou_recommendation
from powerdesk.tariffs.demo import demo_tariffs

pytestmark = pytest.mark.django_db
TODAY = date(2025, 6, 15)  # keep 90 days → cutoff 2025-03-01: January and February go


def _readings(meter, start: date, days: int, *, peak="3", valley="7"):
    DailyReading.objects.bulk_create(
        DailyReading(
            meter=meter,
            reading_date=start + timedelta(days=n),
            register_total=Decimal(100 + 10 * n),
            kwh_total=Decimal(peak) + Decimal(valley),
            kwh_peak=Decimal(peak),
            kwh_valley=Decimal(valley),
        )
        for n in range(days)
    )


def _lake_rows(lake, kind: str) -> list[dict]:
    return ds.dataset(lake / "billing" / kind, format="parquet", partitioning="hive").to_table().to_pylist()


def test_whole_months_before_the_cutoff_move_to_the_lake(account_a, tmp_path):
    meter = Meter.objects.create(account=account_a, number="M1")
    _readings(meter, date(2025, 1, 1), 31 + 28 + 31 + 30)  # January to April

    result = retention.readings_archive(today=TODAY, keep_days=90, lake_dir=tmp_path)

    assert result.cutoff == date(2025, 3, 1)
    assert (result.months, result.readings) == (["2025-01", "2025-02"], 59)
    assert DailyReading.objects.filter(reading_date__lt=date(2025, 3, 1)).count() == 0
    assert DailyReading.objects.count() == 61  # March and April stay
    rows = _lake_rows(tmp_path, "daily_readings")
    assert len(rows) == 59
    first = min(rows, key=lambda r: r["reading_date"])
    assert first["meter_number"] == "M1" and first["account_number"] == account_a.number
    assert first["kwh_peak"] == Decimal("3.00") and first["register_total"] == Decimal("100.00")
    assert {str(r["month"]) for r in rows} == {"2025-01", "2025-02"}
    january = MonthlyUsage.objects.get(meter=meter, period=date(2025, 1, 1))
    assert (january.reading_days, january.kwh_total, january.kwh_peak, january.kwh_valley) == (
        31,
        Decimal("310.00"),
        Decimal("93.00"),
        Decimal("217.00"),
    )


def test_running_again_moves_nothing_more(account_a, tmp_path):
    meter = Meter.objects.create(account=account_a, number="M1")
    _readings(meter, date(2025, 1, 1), 59)
    retention.readings_archive(today=TODAY, keep_days=90, lake_dir=tmp_path)
    again = retention.readings_archive(today=TODAY, keep_days=90, lake_dir=tmp_path)
    assert (again.readings, again.parts) == (0, 0)
    assert len(_lake_rows(tmp_path, "daily_readings")) == 59
    assert MonthlyUsage.objects.get(period=date(2025, 1, 1)).reading_days == 31


def test_a_crash_before_the_commit_loses_nothing_and_the_rerun_rewrites_the_same_part(
    account_a, tmp_path, monkeypatch
):
    meter = Meter.objects.create(account=account_a, number="M1")
    _readings(meter, date(2025, 1, 1), 31)
    real_commit = retention._commit_readings
    calls = []

    def crash_on_second_chunk(month, chunk):
        calls.append(len(chunk))
        if len(calls) == 2:
            raise RuntimeError("power cut")
        real_commit(month, chunk)

    monkeypatch.setattr(retention, "_commit_readings", crash_on_second_chunk)
    with pytest.raises(RuntimeError, match="power cut"):
        retention.readings_archive(today=TODAY, keep_days=90, lake_dir=tmp_path, chunk_rows=10)
    assert DailyReading.objects.count() == 21  # first chunk moved; the second one is still here
    monkeypatch.setattr(retention, "_commit_readings", real_commit)

    retention.readings_archive(today=TODAY, keep_days=90, lake_dir=tmp_path, chunk_rows=10)

    assert DailyReading.objects.count() == 0
    rows = _lake_rows(tmp_path, "daily_readings")
    assert sorted(r["reading_date"] for r in rows) == [
        date(2025, 1, 1) + timedelta(days=n) for n in range(31)
    ]
    parts = sorted(p.name for p in (tmp_path / "billing" / "daily_readings" / "month=2025-01").iterdir())
    assert len(parts) == 4 and all(p.endswith(".parquet") for p in parts)  # no leftover .tmp
    usage = MonthlyUsage.objects.get(meter=meter, period=date(2025, 1, 1))
    assert (usage.reading_days, usage.kwh_total) == (31, Decimal("310.00"))


def test_a_reading_for_an_archived_month_is_refused_on_import(account_a, tmp_path):
    meter = Meter.objects.create(account=account_a, number="M1")
    _readings(meter, date(2025, 1, 1), 31)
    retention.readings_archive(today=TODAY, keep_days=90, lake_dir=tmp_path)
    path = tmp_path / "late.csv"
    path.write_text(
        "meter_number,reading_date,register_total,kwh_total,kwh_peak,kwh_valley\n"
        "M1,2025-01-05,140,10,3,7\nM1,2025-05-01,500,10,3,7\n",
        encoding="utf-8",
    )
    result = import_readings(path)
    assert (result.created, result.rejected) == (1, 1)
    (rejection,) = result.rejections
    assert rejection.row == 2 and rejection.column == "reading_date" and "已归档" in rejection.reason
    assert MonthlyUsage.objects.get(period=date(2025, 1, 1)).reading_days == 31


def test_load_curves_move_and_keep_their_slot_totals(company, tmp_path):
    demo_tariffs()
    account = business(company)
    meter = Meter.objects.create(account=account, number="M11")
    day = ["0.5"] * 32 + ["0.25"] * 12 + ["0.5"] * 8 + ["0.25"] * 36 + ["0.5"] * 8
    LoadCurve.objects.bulk_create(
        LoadCurve(meter=meter, curve_date=date(2025, 1, 1) + timedelta(days=n), points=day) for n in range(31)
    )
    bill(account, date(2025, 1, 1), 74147, 1116)
    before = tou_recommendation(account=account, months=1)

    result = retention.readings_archive(today=TODAY, keep_days=90, lake_dir=tmp_path, chunk_rows=7)

    assert (result.curves, LoadCurve.objects.count()) == (31, 0)
    usage = MonthlyUsage.objects.get(meter=meter, period=date(2025, 1, 1))
    assert usage.curve_days == 31
    assert usage.curve_slots[0] == "15.5" and usage.curve_slots[32] == "7.75"  # 31 × 0.5, 31 × 0.25
    curves = _lake_rows(tmp_path, "load_curves")
    assert len(curves) == 31 and curves[0]["points"] == day
    after = tou_recommendation(account=account, months=1)
    assert after.status == TouStatus.AVAILABLE, after.reason
    (month,) = after.months
    assert month.source == UsageSource.LOAD_CURVE
    # the same hand-worked figures as test_tou's load-curve case, now from the monthly sums
    assert month.kwh_by_band == {"peak": Decimal(372), "flat": Decimal(124), "valley": Decimal(620)}
    assert (after.flat_fen, after.tou_fen) == (before.flat_fen, before.tou_fen) == (74147, 61277)


def test_tou_advice_from_archived_daily_readings(account_a, tmp_path):
    demo_tariffs()
    meter = Meter.objects.create(account=account_a, number="M1")
    _readings(meter, date(2025, 1, 1), 31)
    bill(account_a, date(2025, 1, 1), 16678, 310)
    retention.readings_archive(today=TODAY, keep_days=90, lake_dir=tmp_path)

    result = tou_recommendation(account=account_a, months=1)

    (month,) = result.months
    assert month.source == UsageSource.DAILY_READINGS
    assert month.kwh_by_band == {"peak": Decimal(93), "valley": Decimal(217)}
    assert result.tou_fen == 11532


def test_archive_command_prints_what_it_moved(account_a, tmp_path, settings, capsys):
    settings.LAKE_DIR = tmp_path
    meter = Meter.objects.create(account=account_a, number="M1")
    _readings(meter, date(2020, 1, 1), 3)
    call_command("billing_archive_readings", "--keep-days", "90")
    out = capsys.readouterr().out
    assert '"readings": 3' in out and '"2020-01"' in out
