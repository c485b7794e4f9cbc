"""Reconciliation against a gateway statement: every difference is listed."""

import json
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from powerdesk.billing.reconciliation import reconcile
from powerdesk.billing.services import payment_record
from powerdesk.billing.tests.test_import_files import write_csv

pytestmark = pytest.mark.django_db
COLUMNS = ["渠道流水号", "金额", "到账时间"]


def pay(account, txn, amount, when, gateway="alipay"):
    payment_record(
        account=account,
        amount_fen=amount,
        gateway=gateway,
        gateway_txn_id=txn,
        paid_at=when,
        channel="alipay",
    )


@pytest.fixture
def ours(account_a):
    pay(account_a, "OK1", 11298, datetime(2025, 12, 1, 2, tzinfo=UTC))
    pay(account_a, "AMT", 500, datetime(2025, 12, 1, 3, tzinfo=UTC))
    pay(account_a, "ONLYOURS", 700, datetime(2025, 12, 2, 3, tzinfo=UTC))
    pay(account_a, "EARLY", 900, datetime(2025, 11, 20, 3, tzinfo=UTC))
    pay(account_a, "OTHERGW", 100, datetime(2025, 12, 1, 3, tzinfo=UTC), gateway="wechat_pay")
    pay(account_a, "OUTSIDE", 100, datetime(2025, 12, 5, 3, tzinfo=UTC))


def statement(tmp_path, rows):
    return write_csv(
        tmp_path / "alipay-statement.csv", [dict(zip(COLUMNS, r, strict=True)) for r in rows], COLUMNS
    )


def test_every_kind_of_difference_is_listed(ours, tmp_path):
    path = statement(
        tmp_path,
        [
            ("OK1", "112.98", "2025-12-01 10:00:00"),
            ("AMT", "5.01", "2025-12-01 11:00:00"),
            ("ONLYTHEIRS", "3.00", "2025-12-02 09:00:00"),
            ("EARLY", "9.00", "2025-12-02 09:00:00"),
            ("OK1", "112.98", "2025-12-01 10:00:00"),
            ("BAD", "1.005", "2025-12-01 10:00:00"),
        ],
    )
    result = reconcile(gateway="alipay", statement=path)
    kinds = sorted((d.kind, d.gateway_txn_id) for d in result.differences)
    assert kinds == [
        ("amount_differs", "AMT"),
        ("bad_row", "BAD"),
        ("day_differs", "EARLY"),
        ("duplicate_in_statement", "OK1"),
        ("missing_ours", "ONLYTHEIRS"),
        ("missing_theirs", "ONLYOURS"),
    ]
    assert result.matched == 1
    amount = next(d for d in result.differences if d.kind == "amount_differs")
    assert (amount.ours_amount, amount.theirs_amount) == ("5.00", "5.01")


def test_command_exits_1_with_json_and_csv_report_and_0_when_clean(ours, tmp_path, capsys):
    path = statement(
        tmp_path, [("OK1", "112.98", "2025-12-01 10:00:00"), ("AMT", "5.00", "2025-12-01 11:00:00")]
    )
    call_command("billing_reconcile", "--gateway", "alipay", str(path))
    document = json.loads(capsys.readouterr().out)
    assert document["matched"] == 2 and document["differences"] == []
    bad = statement(tmp_path, [("OK1", "112.98", "2025-12-01 10:00:00")])
    with pytest.raises(CommandError) as excinfo:
        call_command("billing_reconcile", "--gateway", "alipay", str(bad))
    assert excinfo.value.returncode == 1
    document = json.loads(capsys.readouterr().out)
    assert document["difference_counts"] == {"missing_theirs": 1}
    assert "AMT" in (tmp_path / "alipay-statement.csv.reconciliation.csv").read_text(encoding="utf-8-sig")
