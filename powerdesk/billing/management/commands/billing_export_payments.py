"""`powerdesk billing_export_payments --date YYYY-MM-DD --out DIR`: the 销账 day file."""

import json
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from powerdesk.billing.posting import ExportGap, export_payments


class Command(BaseCommand):
    help = "导出某日缴费记录供营销系统销账（可重复运行，每笔缴费只出现在一个文件中）"

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, help="日期 YYYY-MM-DD（北京时间）")
        parser.add_argument("--out", required=True, type=Path, help="输出目录")
        parser.add_argument(
            "--allow-gap", action="store_true", help="允许跳过未导出的日期（其缴费将并入本日文件）"
        )

    def handle(self, *args, date: str, out: Path, allow_gap: bool, **options):
        try:
            day = _parse_date(date)
        except ValueError:
            raise CommandError(f"--date {date!r} 不是有效日期（YYYY-MM-DD）") from None
        try:
            result = export_payments(day=day, out=out, allow_gap=allow_gap)
        except ExportGap as gap:
            raise CommandError(
                f"{gap.missing[0]} 至 {gap.missing[-1]} 共 {len(gap.missing)} 天尚未导出，请按日期顺序导出，"
                "或加 --allow-gap 将这些天的缴费并入本日文件"
            ) from None
        self.stdout.write(json.dumps(result.summary(), ensure_ascii=False))


def _parse_date(text: str):
    return date.fromisoformat(text)
