"""Posting back (销账): the day files of our payments for the billing system.

A day's file holds every payment not yet exported that was received up to the end of that day
(Asia/Shanghai), and each of them is marked with the file's name (``Payment.posted_in_file``)
in the same transaction that writes the file. So:

* re-running a day rewrites the same file with the same rows, in the same order (plus, should
  one have been recorded late, a payment of that day or earlier that no file holds yet);
* a payment is in exactly one file: once marked it is never selected for another day;
* payments that came *from* the billing system (imported, marked ``imported``) are never sent back.

Format (docs/posting-back.md): UTF-8 with BOM, columns 户号, 金额 (yuan, 2 decimals, exact
from fen), 渠道, 渠道流水号, 到账时间 (Asia/Shanghai, ``YYYY-MM-DD HH:MM:SS``).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from powerdesk.billing.models import Payment, PostingDay

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
HEADER = ["户号", "金额", "渠道", "渠道流水号", "到账时间"]


def export_file_name(day: date) -> str:
    return f"xiaozhang-{day:%Y%m%d}.csv"


def yuan(fen: int) -> str:
    """Exact yuan text from integer fen: 11298 → "112.98", -5 → "-0.05"."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


@dataclass
class ExportResult:
    path: Path
    rows: int
    newly_marked: int
    amount_fen: int

    def summary(self) -> dict:
        return {
            "file": str(self.path),
            "rows": self.rows,
            "newly_marked": self.newly_marked,
            "amount": yuan(self.amount_fen),
        }


class ExportGap(Exception):
    """Days between the last exported day and the one asked for were never exported."""

    def __init__(self, missing: list[date]) -> None:
        self.missing = missing
        super().__init__(f"{len(missing)} day(s) not exported: {missing[0]} … {missing[-1]}")


def export_payments(*, day: date, out: Path, allow_gap: bool = False) -> ExportResult:
    """Write (or rewrite) ``out/<export_file_name(day)>``, mark its payments, record the day.

    Days are exported in order: a day after a gap (days since the last exported one that never
    were) raises ExportGap unless ``allow_gap`` — the skipped days' payments would otherwise land
    in this day's file.
    """
    from powerdesk.billing.importers import local_day_bounds

    latest = PostingDay.objects.order_by("-day").values_list("day", flat=True).first()
    if latest is not None and day > latest + timedelta(days=1) and not allow_gap:
        raise ExportGap([latest + timedelta(days=n) for n in range(1, (day - latest).days)])
    out.mkdir(parents=True, exist_ok=True)
    name = export_file_name(day)
    _start, end = local_day_bounds(day)
    path = out / name
    with transaction.atomic():
        # One conditional UPDATE: a concurrent export of another day cannot take the same rows.
        marked = Payment.objects.filter(posted_in_file="", paid_at__lt=end).update(
            posted_in_file=name, updated_at=timezone.now()
        )
        payments = (
            Payment.objects.filter(posted_in_file=name)
            .order_by("paid_at", "gateway", "gateway_txn_id", "id")
            .values_list("account__number", "amount_fen", "gateway", "gateway_txn_id", "paid_at")
        )
        temporary = path.with_name(f".{name}.tmp")
        rows = total = 0
        with temporary.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            for number, amount, gateway, txn, paid_at in payments.iterator(chunk_size=5000):
                writer.writerow(
                    [
                        number,
                        yuan(amount),
                        gateway,
                        txn,
                        paid_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S"),
                    ]
                )
                rows += 1
                total += amount
        now = timezone.now()
        record, _created = PostingDay.objects.select_for_update().get_or_create(
            day=day, defaults={"file_name": name, "first_exported_at": now, "last_exported_at": now}
        )
        record.rows, record.amount_fen, record.runs, record.last_exported_at = (
            rows,
            total,
            record.runs + 1,
            now,
        )
        record.save(update_fields=["rows", "amount_fen", "runs", "last_exported_at"])
        os.replace(temporary, path)  # inside the transaction: a failed write leaves nothing marked
    return ExportResult(path=path, rows=rows, newly_marked=marked, amount_fen=total)
