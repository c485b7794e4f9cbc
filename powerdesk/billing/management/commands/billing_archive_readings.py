"""``powerdesk billing_archive_readings``: move old months of readings and curves to the lake."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from powerdesk.billing.retention import readings_archive


class Command(BaseCommand):
    help = "Move whole months of daily readings and load curves older than the retention to Parquet."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--keep-days", type=int, default=None, help="default POWERDESK_READINGS_KEEP_DAYS"
        )
        parser.add_argument("--lake-dir", type=Path, default=None, help="default POWERDESK_LAKE_DIR")

    def handle(self, *args, keep_days: int | None, lake_dir: Path | None, **options) -> None:
        if keep_days is not None and keep_days < 35:
            raise CommandError("--keep-days must be at least 35 (the portal shows the last 30 days)")
        result = readings_archive(keep_days=keep_days, lake_dir=lake_dir)
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
