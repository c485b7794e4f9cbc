"""Readings retention: whole months of daily readings and load curves older than
``READINGS_KEEP_DAYS`` leave the database for the Parquet lake; a ``MonthlyUsage`` row per meter
and month stays behind (what the TOU advice needs of older months).

Lake layout (Hive-style partitions; DuckDB, Spark and ``pyarrow.dataset`` read it as one table)::

    <LAKE_DIR>/billing/daily_readings/month=YYYY-MM/part-<first id>-<last id>.parquet
    <LAKE_DIR>/billing/load_curves/month=YYYY-MM/part-<first id>-<last id>.parquet

Kilowatt-hours are ``decimal128(14, 2)`` as in the database (exact); a curve's 96 points are the
decimal strings the database holds. Each row carries the meter and account numbers, so the lake
needs no join back to the database.

Nothing is lost, and a re-run converges: rows leave the database in chunks, in id order. For
each chunk the Parquet part is written first (to a temporary name, flushed, then renamed: a part
is whole or absent), then one transaction adds the chunk to ``MonthlyUsage`` and deletes exactly
those rows. A crash before the commit leaves the rows in the database, and the next run writes
the same chunk to the same part name again (same rows, same ids); after the commit the chunk is
gone from the database and lives in its part.

A month is archived only when all of it is older than the cutoff, so the database keeps between
``READINGS_KEEP_DAYS`` and about a month more. Readings imported later for an archived month are
refused by the importer (importers.py), so the lake and the sums stay the single record.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from powerdesk.billing.models import DailyReading, LoadCurve, MonthlyUsage

CHUNK_ROWS = 50_000
BANDS = ("sharp", "peak", "flat", "valley")
KWH_TYPE = pa.decimal128(14, 2)

READINGS_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("meter_number", pa.string()),
        ("account_number", pa.string()),
        ("reading_date", pa.date32()),
        ("register_total", KWH_TYPE),
        ("kwh_total", KWH_TYPE),
        *((f"kwh_{band}", KWH_TYPE) for band in BANDS),
    ]
)
CURVES_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("meter_number", pa.string()),
        ("account_number", pa.string()),
        ("curve_date", pa.date32()),
        ("points", pa.list_(pa.string(), 96)),
    ]
)


@dataclass
class ArchiveResult:
    cutoff: date
    months: list[str] = field(default_factory=list)
    readings: int = 0
    curves: int = 0
    parts: int = 0

    def as_dict(self) -> dict:
        return {
            "cutoff": self.cutoff.isoformat(),
            "months": self.months,
            "readings": self.readings,
            "curves": self.curves,
            "parts": self.parts,
        }


def archive_cutoff(*, today: date | None = None, keep_days: int | None = None) -> date:
    """The first day of the month that holds ``today - keep_days``: everything before it goes."""
    today = today or timezone.localdate()
    keep_days = settings.READINGS_KEEP_DAYS if keep_days is None else keep_days
    return (today - timedelta(days=keep_days)).replace(day=1)


def lake_path(kind: str, month: date, *, lake_dir: Path | None = None) -> Path:
    return Path(lake_dir or settings.LAKE_DIR) / "billing" / kind / f"month={month:%Y-%m}"


def month_is_archived(*, meter_id: int, period: date) -> bool:
    return MonthlyUsage.objects.filter(meter_id=meter_id, period=period.replace(day=1)).exists()


def readings_archive(
    *,
    today: date | None = None,
    keep_days: int | None = None,
    lake_dir: Path | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ArchiveResult:
    """Move every whole month before the cutoff to the lake (see the module doc)."""
    cutoff = archive_cutoff(today=today, keep_days=keep_days)
    result = ArchiveResult(cutoff=cutoff)
    months = sorted(
        {
            d.replace(day=1)
            for d in DailyReading.objects.filter(reading_date__lt=cutoff).dates("reading_date", "month")
        }
        | {
            d.replace(day=1)
            for d in LoadCurve.objects.filter(curve_date__lt=cutoff).dates("curve_date", "month")
        }
    )
    for month in months:
        result.months.append(f"{month:%Y-%m}")
        end = _next_month(month)
        while True:
            chunk = list(
                DailyReading.objects.filter(reading_date__gte=month, reading_date__lt=end)
                .order_by("id")
                .values_list(
                    "id",
                    "meter_id",
                    "meter__number",
                    "meter__account__number",
                    "reading_date",
                    "register_total",
                    "kwh_total",
                    *(f"kwh_{band}" for band in BANDS),
                )[:chunk_rows]
            )
            if not chunk:
                break
            _write_part(
                READINGS_SCHEMA, [_reading_record(row) for row in chunk], "daily_readings", month, lake_dir
            )
            _commit_readings(month, chunk)
            result.readings += len(chunk)
            result.parts += 1
        while True:
            chunk = list(
                LoadCurve.objects.filter(curve_date__gte=month, curve_date__lt=end)
                .order_by("id")
                .values_list(
                    "id", "meter_id", "meter__number", "meter__account__number", "curve_date", "points"
                )[:chunk_rows]
            )
            if not chunk:
                break
            _write_part(CURVES_SCHEMA, [_curve_record(row) for row in chunk], "load_curves", month, lake_dir)
            _commit_curves(month, chunk)
            result.curves += len(chunk)
            result.parts += 1
    return result


def _next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _reading_record(row) -> dict:
    pk, _meter_id, meter, account, day, register, total, *bands = row
    record = {"id": pk, "meter_number": meter, "account_number": account, "reading_date": day}
    record |= {"register_total": register, "kwh_total": total}
    record |= {f"kwh_{band}": value for band, value in zip(BANDS, bands, strict=True)}
    return record


def _curve_record(row) -> dict:
    pk, _meter_id, meter, account, day, points = row
    return {
        "id": pk,
        "meter_number": meter,
        "account_number": account,
        "curve_date": day,
        "points": [str(p) for p in points],
    }


def _write_part(
    schema: pa.Schema, records: list[dict], kind: str, month: date, lake_dir: Path | None
) -> Path:
    """Write one part whole or not at all: temporary file, fsync, rename over the final name."""
    directory = lake_path(kind, month, lake_dir=lake_dir)
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"part-{records[0]['id']:012d}-{records[-1]['id']:012d}.parquet"
    temporary = final.with_suffix(".parquet.tmp")
    table = pa.Table.from_pylist(records, schema=schema)
    pq.write_table(table, temporary, compression="zstd")
    with open(temporary, "rb") as written:
        os.fsync(written.fileno())
    os.replace(temporary, final)
    return final


def _usage_rows(month: date, meter_ids) -> dict[int, MonthlyUsage]:
    """The month's sums for these meters, locked (a concurrent run waits), new ones unsaved."""
    wanted = set(meter_ids)
    rows = {
        u.meter_id: u
        for u in MonthlyUsage.objects.select_for_update().filter(period=month, meter_id__in=wanted)
    }
    for meter_id in wanted - set(rows):
        rows[meter_id] = MonthlyUsage(meter_id=meter_id, period=month)
    return rows


def _save_usage(rows: dict[int, MonthlyUsage]) -> None:
    fields = [
        "reading_days",
        "kwh_total",
        *(f"kwh_{b}" for b in BANDS),
        "curve_days",
        "curve_slots",
        "archived_at",
    ]
    now = timezone.now()
    for usage in rows.values():
        usage.archived_at = now
    new = [u for u in rows.values() if u.pk is None]
    old = [u for u in rows.values() if u.pk is not None]
    MonthlyUsage.objects.bulk_create(new, batch_size=2000)
    MonthlyUsage.objects.bulk_update(old, fields, batch_size=2000)


def _commit_readings(month: date, chunk: list[tuple]) -> None:
    with transaction.atomic():
        usage = _usage_rows(month, (row[1] for row in chunk))
        for _pk, meter_id, _m, _a, _day, _register, total, *bands in chunk:
            row = usage[meter_id]
            row.reading_days += 1
            row.kwh_total += total
            for band, value in zip(BANDS, bands, strict=True):
                setattr(row, f"kwh_{band}", getattr(row, f"kwh_{band}") + value)
        _save_usage(usage)
        deleted, _by_model = DailyReading.objects.filter(id__in=[row[0] for row in chunk]).delete()
        if deleted != len(chunk):  # someone else archived or deleted them meanwhile: undo ours
            raise RuntimeError(
                f"archiving {month:%Y-%m}: expected to delete {len(chunk)} readings, deleted {deleted}"
            )


def _commit_curves(month: date, chunk: list[tuple]) -> None:
    sums: dict[int, list[Decimal]] = {}
    days: dict[int, int] = defaultdict(int)
    for _pk, meter_id, _m, _a, _day, points in chunk:
        slots = sums.setdefault(meter_id, [Decimal(0)] * 96)
        for index, point in enumerate(points):
            slots[index] += Decimal(str(point))
        days[meter_id] += 1
    with transaction.atomic():
        usage = _usage_rows(month, sums)
        for meter_id, slots in sums.items():
            row = usage[meter_id]
            if row.curve_slots:
                slots = [total + Decimal(v) for total, v in zip(slots, row.curve_slots, strict=True)]
            row.curve_slots = [str(total) for total in slots]
            row.curve_days += days[meter_id]
        _save_usage(usage)
        deleted, _by_model = LoadCurve.objects.filter(id__in=[row[0] for row in chunk]).delete()
        if deleted != len(chunk):
            raise RuntimeError(
                f"archiving {month:%Y-%m}: expected to delete {len(chunk)} curves, deleted {deleted}"
            )


def archived_usage(account, periods) -> dict[date, list[MonthlyUsage]]:
    """The account's ``MonthlyUsage`` rows for ``periods``, by period."""
    found: dict[date, list[MonthlyUsage]] = defaultdict(list)
    for usage in MonthlyUsage.objects.filter(meter__account=account, period__in=list(periods)):
        found[usage.period].append(usage)
    return found
