"""`powerdesk billing_reconcile --gateway NAME STATEMENT_FILE`: list every difference.

JSON on stdout, a CSV report beside the statement (STATEMENT.reconciliation.csv, or --report);
exit 0 when everything matches, 1 when there are differences, 2 when the statement is refused.
"""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from powerdesk.billing.reconciliation import reconcile
from powerdesk.core.exceptions import ApplicationError


class Command(BaseCommand):
    help = "将本系统某渠道的缴费与渠道对账单逐笔核对，列出全部差异"

    def add_arguments(self, parser):
        parser.add_argument("--gateway", required=True, help="收款渠道，如 alipay、wechat_pay")
        parser.add_argument("statement", type=Path, help="渠道对账单 CSV / Parquet")
        parser.add_argument("--report", type=Path, help="差异明细 CSV（默认：对账单旁 .reconciliation.csv）")
        parser.add_argument("--encoding", help="CSV encoding (default: detect UTF-8 / GBK)")

    def handle(
        self, *args, gateway: str, statement: Path, report: Path | None, encoding: str | None, **options
    ):
        try:
            result = reconcile(gateway=gateway, statement=statement, encoding=encoding)
        except ApplicationError as exc:
            self.stderr.write(f"对账失败：{exc.message}")
            sys.exit(2)
        path = result.write_report(report or statement.with_name(statement.name + ".reconciliation.csv"))
        document = result.as_dict()
        document["report"] = str(path)
        self.stdout.write(json.dumps(document, ensure_ascii=False))
        if result.differences:
            raise CommandError(f"{len(result.differences)} 处差异，明细见 {path}", returncode=1)
