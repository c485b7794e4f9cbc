"""`powerdesk billing_check --period YYYY-MM`: recompute every current imported bill of a month.

Bulk: batches of bills, a fixed number of queries per batch, one upsert per batch. Re-running
updates the same rows (one check per bill version). Prints a JSON summary; exit 0 whatever the
checks found (the disagreements are for staff, in the console's 账务 tab).
"""

import json

from django.core.management.base import BaseCommand, CommandError

from powerdesk.billing.checks import CHECK_CHUNK, bill_checks_for_period
from powerdesk.billing.reads import period_parse
from powerdesk.core.exceptions import ApplicationError


class Command(BaseCommand):
    help = "用电价计算器核算某月全部当前版本的导入账单，记录差异"

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="电费年月，YYYY-MM")
        parser.add_argument("--chunk-size", type=int, default=CHECK_CHUNK, help="每批账单数")

    def handle(self, *args, period: str, chunk_size: int, **options):
        try:
            summary = bill_checks_for_period(period=period_parse(period), chunk_size=max(1, chunk_size))
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(json.dumps(summary.as_dict(), ensure_ascii=False))
