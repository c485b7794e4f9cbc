"""Reconciliation (对账): our payments of one gateway against that gateway's statement file.

The statement is a CSV (UTF-8 or GBK) or Parquet with, per transaction, its id, amount in yuan
and paid time (Beijing time unless an offset is given); header names in English or Chinese:

    gateway_txn_id | txn_id | 渠道流水号 | 交易号     amount_yuan | amount | 金额     paid_at | 到账时间 | 交易时间

The range compared is the statement's first to last local day. Every difference is listed:
``missing_ours`` (in the statement, not recorded by us), ``missing_theirs`` (ours, not in the
statement), ``amount_differs``, ``day_differs`` (both have it, on different days — ours outside
the range), ``duplicate_in_statement`` and ``bad_row`` (unreadable statement row).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from powerdesk.billing.importers import RowError, _datetime, local_day_bounds
from powerdesk.billing.models import Payment
from powerdesk.billing.posting import yuan
from powerdesk.core.exceptions import ApplicationError
from powerdesk.core.imports.readers import read_rows

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
ALIASES = {
    "txn": ("gateway_txn_id", "txn_id", "渠道流水号", "交易号"),
    "amount": ("amount_yuan", "amount", "金额"),
    "paid_at": ("paid_at", "到账时间", "交易时间"),
}
REPORT_COLUMNS = [
    "kind",
    "gateway_txn_id",
    "row",
    "ours_amount",
    "theirs_amount",
    "ours_paid_at",
    "theirs_paid_at",
    "account_number",
    "detail",
]


@dataclass
class Difference:
    kind: str
    gateway_txn_id: str
    row: int | None = None
    ours_amount: str = ""
    theirs_amount: str = ""
    ours_paid_at: str = ""
    theirs_paid_at: str = ""
    account_number: str = ""
    detail: str = ""


@dataclass
class Reconciliation:
    gateway: str
    statement: Path
    first_day: date | None = None
    last_day: date | None = None
    statement_rows: int = 0
    our_payments: int = 0
    matched: int = 0
    differences: list[Difference] = field(default_factory=list)

    def as_dict(self) -> dict:
        counts: dict[str, int] = {}
        for d in self.differences:
            counts[d.kind] = counts.get(d.kind, 0) + 1
        return {
            "gateway": self.gateway,
            "statement": str(self.statement),
            "from": self.first_day.isoformat() if self.first_day else None,
            "to": self.last_day.isoformat() if self.last_day else None,
            "statement_rows": self.statement_rows,
            "our_payments": self.our_payments,
            "matched": self.matched,
            "difference_counts": counts,
            "differences": [d.__dict__ for d in self.differences],
        }

    def write_report(self, path: Path) -> Path:
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(REPORT_COLUMNS)
            for d in self.differences:
                writer.writerow([getattr(d, c) if getattr(d, c) is not None else "" for c in REPORT_COLUMNS])
        return path


def _local(value) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")


def reconcile(*, gateway: str, statement: Path, encoding: str | None = None) -> Reconciliation:
    columns, rows = read_rows(statement, required=[], encoding=encoding)
    chosen = {}
    for key, names in ALIASES.items():
        found = next((n for n in names if n in columns), None)
        if found is None:
            raise ApplicationError("missing_columns", f"{statement.name}: 缺少必需的列：{' / '.join(names)}")
        chosen[key] = found
    result = Reconciliation(gateway=gateway, statement=statement)
    theirs: dict[str, tuple[int, int, object]] = {}
    for row in rows:
        result.statement_rows += 1
        values = row.values
        if "__error__" in values:
            result.differences.append(Difference("bad_row", "", row.number, detail=values["__error__"]))
            continue
        txn = values.get(chosen["txn"], "")
        try:
            if not txn:
                raise RowError(chosen["txn"], "渠道流水号为空")
            raw = values.get(chosen["amount"], "").replace(",", "")
            try:
                amount = Decimal(raw) * 100
            except InvalidOperation:
                raise RowError(chosen["amount"], f"{raw!r} 不是数字") from None
            if not amount.is_finite() or amount != amount.to_integral_value():
                raise RowError(chosen["amount"], f"{raw} 不是精确到分的金额")
            paid_at = _datetime(values.get(chosen["paid_at"], ""), chosen["paid_at"])
        except RowError as exc:
            result.differences.append(
                Difference("bad_row", txn, row.number, detail=f"{exc.column}: {exc.reason}")
            )
            continue
        if txn in theirs:
            result.differences.append(
                Difference(
                    "duplicate_in_statement", txn, row.number, detail=f"首次出现在第 {theirs[txn][0]} 行"
                )
            )
            continue
        theirs[txn] = (row.number, int(amount), paid_at)
    if not theirs:
        return result
    local_days = [paid_at.astimezone(LOCAL_TZ).date() for _n, _a, paid_at in theirs.values()]
    result.first_day, result.last_day = min(local_days), max(local_days)
    start, _ = local_day_bounds(result.first_day)
    _, end = local_day_bounds(result.last_day)
    ours = {
        txn: (number, amount, paid_at)
        for txn, number, amount, paid_at in Payment.objects.filter(
            gateway=gateway, paid_at__gte=start, paid_at__lt=end
        ).values_list("gateway_txn_id", "account__number", "amount_fen", "paid_at")
    }
    result.our_payments = len(ours)
    outside = {
        txn: (number, amount, paid_at)
        for txn, number, amount, paid_at in Payment.objects.filter(
            gateway=gateway, gateway_txn_id__in=[t for t in theirs if t not in ours]
        ).values_list("gateway_txn_id", "account__number", "amount_fen", "paid_at")
    }
    for txn, (number, amount, paid_at) in sorted(theirs.items(), key=lambda item: item[1][0]):
        mine = ours.get(txn)
        if mine is None:
            other = outside.get(txn)
            if other is None:
                result.differences.append(
                    Difference(
                        "missing_ours",
                        txn,
                        number,
                        theirs_amount=yuan(amount),
                        theirs_paid_at=_local(paid_at),
                    )
                )
            else:
                result.differences.append(
                    Difference(
                        "day_differs",
                        txn,
                        number,
                        ours_amount=yuan(other[1]),
                        theirs_amount=yuan(amount),
                        ours_paid_at=_local(other[2]),
                        theirs_paid_at=_local(paid_at),
                        account_number=other[0],
                    )
                )
            continue
        if mine[1] != amount:
            result.differences.append(
                Difference(
                    "amount_differs",
                    txn,
                    number,
                    ours_amount=yuan(mine[1]),
                    theirs_amount=yuan(amount),
                    ours_paid_at=_local(mine[2]),
                    theirs_paid_at=_local(paid_at),
                    account_number=mine[0],
                )
            )
        else:
            result.matched += 1
    for txn, (number, amount, paid_at) in sorted(ours.items(), key=lambda item: (item[1][2], item[0])):
        if txn not in theirs:
            result.differences.append(
                Difference(
                    "missing_theirs",
                    txn,
                    None,
                    ours_amount=yuan(amount),
                    ours_paid_at=_local(paid_at),
                    account_number=number,
                )
            )
    return result
