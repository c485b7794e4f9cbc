"""`powerdesk billing_demo_files --out DIR`: small sample meters/bills/readings/payments CSVs."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand

from powerdesk.billing.demo import write_demo_files
from powerdesk.customers.models import Account
from powerdesk.demo.generator import REFERENCE_DATE


class Command(BaseCommand):
    help = "生成营销系统导入样例文件（表计、账单、读数、缴费），格式见 docs/import-billing.md"

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, type=Path, help="输出目录")
        parser.add_argument(
            "--accounts", type=int, default=20, help="取数据库中前 N 个户号（默认 %(default)s）"
        )
        parser.add_argument("--seed", type=int, default=20261123)

    def handle(self, *args, out: Path, accounts: int, seed: int, **options):
        rows = list(Account.objects.order_by("number").values_list("number", "tariff_class")[:accounts])
        if not rows:  # no database content: sample numbers (import accounts first to use them)
            rows = [(f"{n:010d}", "residential") for n in range(1, accounts + 1)]
        paths = write_demo_files(out, accounts=rows, seed=seed, reference_date=REFERENCE_DATE)
        self.stdout.write(json.dumps({kind: str(path) for kind, path in paths.items()}, ensure_ascii=False))
