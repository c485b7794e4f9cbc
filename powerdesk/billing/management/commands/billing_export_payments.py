"""`powerdesk billing_export_payments --date YYYY-MM-DD --out DIR`: the 销账 day file."""

import json
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from powerdesk.billing.posting import export_payments


class Command(BaseCommand):
    help = "导出某日缴费记录供营销系统销账（可重复运行，每笔缴费只出现在一个文件中）"

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, help="日期 YYYY-MM-DD（北京时间）")
        parser.add_argument("--out", required=True, type=Path, help="输出目录")

    def handle(self, *args, date: str, out: Path, **options):
        try:
            day = _parse_date(date)
        except ValueError:
            raise CommandError(f"--date {date!r} 不是有效日期（YYYY-MM-DD）") from None
        result = export_payments(day=day, out=out)
        self.stdout.write(json.dumps(result.summary(), ensure_ascii=False))


def _parse_date(text: str):
    return date.fromisoformat(text)
