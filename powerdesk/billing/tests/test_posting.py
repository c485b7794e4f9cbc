"""Posting back (销账): day files, re-runnable, every payment in exactly one file."""

import csv
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command

from powerdesk.billing.importers import import_payments
from powerdesk.billing.models import Payment
from powerdesk.billing.posting import HEADER, export_file_name, export_payments, yuan
from powerdesk.billing.services import payment_record
from powerdesk.billing.tests.test_import_files import write_csv

pytestmark = pytest.mark.django_db


def pay(account, txn, amount, when, gateway="alipay", channel="alipay"):
    return payment_record(
        account=account, amount_fen=amount, gateway=gateway, gateway_txn_id=txn, paid_at=when, channel=channel
    )[0]


def read(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_yuan_is_exact():
    assert [yuan(v) for v in (0, 1, 10, 11298, 100000000001)] == [
        "0.00",
        "0.01",
        "0.10",
        "112.98",
        "1000000000.01",
    ]


def test_day_file_format_and_local_day_boundaries(account_a, tmp_path):
    pay(account_a, "A1", 11298, datetime(2025, 12, 9, 16, 30, tzinfo=UTC))  # 2025-12-10 00:30 Beijing
    pay(account_a, "A2", 5, datetime(2025, 12, 10, 15, 59, 59, tzinfo=UTC))  # 23:59:59 Beijing
    pay(account_a, "A3", 700, datetime(2025, 12, 10, 16, 0, tzinfo=UTC))  # next day in Beijing
    result = export_payments(day=date(2025, 12, 10), out=tmp_path)
    assert result.path.name == export_file_name(date(2025, 12, 10))
    assert read(result.path) == [
        HEADER,
        ["0000000001", "112.98", "alipay", "A1", "2025-12-10 00:30:00"],
        ["0000000001", "0.05", "alipay", "A2", "2025-12-10 23:59:59"],
    ]
    assert Payment.objects.get(gateway_txn_id="A3").posted_in_file == ""


def test_rerun_rewrites_the_same_file_and_each_payment_is_in_exactly_one_file(account_a, account_b, tmp_path):
    days = [date(2025, 12, d) for d in (1, 2, 3)]
    for index, day in enumerate(days):
        for n in range(5):
            account = account_a if n % 2 else account_b
            pay(
                account,
                f"D{index}-{n}",
                100 + n,
                datetime(day.year, day.month, day.day, 2 + n, tzinfo=UTC),
                gateway="wechat_pay" if n % 2 else "alipay",
                channel="wechat" if n % 2 else "alipay",
            )
    first = {day: export_payments(day=day, out=tmp_path) for day in days}
    contents = {day: first[day].path.read_bytes() for day in days}
    again = {day: export_payments(day=day, out=tmp_path) for day in reversed(days)}
    assert all(again[day].path.read_bytes() == contents[day] and again[day].newly_marked == 0 for day in days)
    listed = [tuple(row[2:4]) for day in days for row in read(first[day].path)[1:]]
    assert len(listed) == len(set(listed)) == Payment.objects.count() == 15
    assert Payment.objects.filter(posted_in_file="").count() == 0


def test_a_late_payment_goes_in_exactly_one_later_file(account_a, tmp_path):
    pay(account_a, "E1", 100, datetime(2025, 12, 1, 3, tzinfo=UTC))
    export_payments(day=date(2025, 12, 1), out=tmp_path)
    pay(account_a, "LATE", 200, datetime(2025, 12, 1, 4, tzinfo=UTC))  # recorded after the day was exported
    pay(account_a, "E2", 300, datetime(2025, 12, 2, 3, tzinfo=UTC))
    second = export_payments(day=date(2025, 12, 2), out=tmp_path)
    assert [row[3] for row in read(second.path)[1:]] == ["LATE", "E2"]
    assert [row[3] for row in read(export_payments(day=date(2025, 12, 1), out=tmp_path).path)[1:]] == ["E1"]


def test_payments_imported_from_the_billing_system_are_not_sent_back(account_a, tmp_path):
    path = write_csv(
        tmp_path / "p.csv",
        [
            {
                "account_number": "0000000001",
                "amount_fen": "500",
                "gateway_txn_id": "SG1",
                "paid_at": "2025-12-01 10:00:00",
            }
        ],
        ["account_number", "amount_fen", "gateway_txn_id", "paid_at"],
    )
    import_payments(path)
    assert export_payments(day=date(2025, 12, 1), out=tmp_path / "out").rows == 0


def test_command(account_a, tmp_path, capsys):
    pay(account_a, "C1", 1234, datetime(2025, 12, 5, 3, tzinfo=UTC))
    call_command("billing_export_payments", "--date", "2025-12-05", "--out", str(tmp_path))
    assert '"rows": 1' in capsys.readouterr().out
    assert (tmp_path / export_file_name(date(2025, 12, 5))).exists()


def test_every_exported_day_is_recorded_also_without_payments(account_a, tmp_path):
    from powerdesk.billing.models import PostingDay

    pay(account_a, "T1", 1000, datetime(2025, 3, 1, 2, tzinfo=UTC))
    export_payments(day=date(2025, 3, 1), out=tmp_path)
    empty = export_payments(day=date(2025, 3, 2), out=tmp_path)
    export_payments(day=date(2025, 3, 2), out=tmp_path)

    assert read(empty.path) == [HEADER]
    days = {d.day: d for d in PostingDay.objects.all()}
    assert (days[date(2025, 3, 1)].rows, days[date(2025, 3, 1)].amount_fen) == (1, 1000)
    assert (days[date(2025, 3, 2)].rows, days[date(2025, 3, 2)].runs) == (0, 2)
    assert days[date(2025, 3, 2)].file_name == export_file_name(date(2025, 3, 2))


def test_days_are_exported_in_order_unless_a_gap_is_allowed(account_a, tmp_path):
    from powerdesk.billing.posting import ExportGap

    pay(account_a, "T1", 1000, datetime(2025, 3, 2, 2, tzinfo=UTC))
    export_payments(day=date(2025, 3, 1), out=tmp_path)
    with pytest.raises(ExportGap) as excinfo:
        export_payments(day=date(2025, 3, 4), out=tmp_path)
    assert excinfo.value.missing == [date(2025, 3, 2), date(2025, 3, 3)]
    assert Payment.objects.get().posted_in_file == ""  # nothing marked by the refused export

    result = export_payments(day=date(2025, 3, 4), out=tmp_path, allow_gap=True)
    assert result.rows == 1  # the 2nd's payment lands in the 4th's file, as the flag says


def test_command_names_the_gap(account_a, tmp_path):
    from django.core.management.base import CommandError

    export_payments(day=date(2025, 3, 1), out=tmp_path)
    with pytest.raises(CommandError, match="2025-03-02 至 2025-03-02 共 1 天尚未导出"):
        call_command("billing_export_payments", "--date", "2025-03-03", "--out", str(tmp_path))
