"""`powerdesk import <kind> FILE`: load billing-system data; rejected rows go to FILE.rejected.csv.

Exit status 0 when every row was accepted, 1 when any row was rejected, 2 when the file as a
whole was refused (missing columns, unreadable encoding) and nothing was stored.
"""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from powerdesk.core.exceptions import ApplicationError

# kind → importer(path, *, encoding, progress) -> ImportResult. Each domain adds its own line.
IMPORTERS = {
    "accounts": "powerdesk.customers.importer.import_accounts",
    "meters": "powerdesk.billing.importers.import_meters",
    "bills": "powerdesk.billing.importers.import_bills",
    "readings": "powerdesk.billing.importers.import_readings",
    "payments": "powerdesk.billing.importers.import_payments",
}


class Command(BaseCommand):
    help = "从营销业务系统导入数据（CSV 或 Parquet）/ import billing-system data"

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(IMPORTERS))
        parser.add_argument("file", type=Path)
        parser.add_argument("--encoding", help="CSV encoding (default: detect UTF-8 / GBK)")

    def handle(self, *args, kind: str, file: Path, encoding: str | None, **options):
        importer = import_string(IMPORTERS[kind])
        show_progress = sys.stderr.isatty()

        def progress(rows: int) -> None:
            if show_progress:
                sys.stderr.write(f"\r{kind}: {rows:,} 行已读取")
                sys.stderr.flush()

        try:
            result = importer(file, encoding=encoding, progress=progress)
        except ApplicationError as exc:
            self.stderr.write(f"导入失败，未写入任何数据：{exc.message}")
            raise SystemExit(2) from None
        if show_progress:
            sys.stderr.write("\n")
        self.stdout.write(json.dumps(result.summary(), ensure_ascii=False))
        if result.rejections:
            self.stderr.write(f"{result.rejected} 行被拒绝，明细见 {result.report_path()}")
            raise CommandError("some rows were rejected", returncode=1)
