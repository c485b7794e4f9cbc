"""Importing accounts from the billing system: streaming, idempotent, every rejection reported."""

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from powerdesk.core.exceptions import ApplicationError
from powerdesk.customers.importer import REQUIRED_COLUMNS, import_accounts
from powerdesk.customers.models import Account
from powerdesk.customers.pii import id_card_reveal
from powerdesk.customers.services import active_bindings

pytestmark = pytest.mark.django_db

COLUMNS = [
    *REQUIRED_COLUMNS,
    "id_card_number",
    "phone",
    "town_code",
    "lng_wgs84",
    "lat_wgs84",
    "is_important",
    "opened_on",
]


def row(number: str, **overrides) -> dict:
    base = {
        "account_number": number,
        "holder_kind": "个人",
        "holder_name": "王小明",
        "tariff_class": "居民生活",
        "supply_unit_code": "33010201",
        "province_code": "330000",
        "city_code": "330100",
        "county_code": "330102",
        "address": "浙江省杭州市上城区湖滨街道平海路1号",
        "id_card_number": "",
        "phone": "13711112222",
        "town_code": "330102001",
        "lng_wgs84": "120.165",
        "lat_wgs84": "30.255",
        "is_important": "否",
        "opened_on": "2018-05-02",
    }
    base.update(overrides)
    return base


def write_csv(path: Path, rows: list[dict], *, encoding: str = "utf-8", columns=COLUMNS) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def test_import_creates_accounts_with_gcj02_and_sealed_ids(company, tmp_path):
    path = write_csv(
        tmp_path / "accounts.csv",
        [
            row("1000000001", id_card_number="330102199003071230"),
            row("1000000002", holder_kind="单位", holder_name="示范科技有限公司", tariff_class="一般工商业"),
        ],
    )
    result = import_accounts(path)
    assert (result.created, result.updated, result.rejected) == (2, 0, 0)
    person = Account.objects.get(number="1000000001")
    assert id_card_reveal(person) == "330102199003071230"
    assert "330102199003071230" not in person.holder_id_card_ciphertext
    assert float(person.lng_gcj02) - 120.165 > 0.003  # GCJ-02 is shifted east in Hangzhou
    assert not result.report_path().exists()


def test_reimporting_the_same_file_changes_nothing(company, tmp_path):
    path = write_csv(tmp_path / "accounts.csv", [row(f"10000000{n:02d}") for n in range(10)])
    import_accounts(path)
    stamps = dict(Account.objects.values_list("number", "updated_at"))
    again = import_accounts(path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 10)
    assert dict(Account.objects.values_list("number", "updated_at")) == stamps


def test_a_changed_row_updates_and_a_new_holder_ends_bindings(company, customer, account_a, tmp_path):
    path = write_csv(
        tmp_path / "a.csv",
        [row("0000000001", holder_name="张三", phone="13800000000", supply_unit_code="33010201")],
    )
    import_accounts(path)
    assert active_bindings().filter(account=account_a).count() == 1  # same holder: binding kept
    path = write_csv(tmp_path / "a.csv", [row("0000000001", holder_name="赵六", phone="13800000000")])
    result = import_accounts(path)
    assert result.updated == 1
    assert not active_bindings().filter(account=account_a).exists()


def test_gbk_csv_from_excel_is_read(company, tmp_path):
    path = write_csv(tmp_path / "gbk.csv", [row("1000000009")], encoding="gbk")
    assert import_accounts(path).created == 1
    assert Account.objects.get(number="1000000009").holder_name == "王小明"


def test_parquet_is_read(company, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [row("1000000011"), row("1000000012", lng_wgs84="", lat_wgs84="")]
    table = pa.Table.from_pylist(rows)
    pq.write_table(table, tmp_path / "accounts.parquet")
    result = import_accounts(tmp_path / "accounts.parquet")
    assert result.created == 2
    assert Account.objects.get(number="1000000012").lng_wgs84 is None


def test_every_bad_row_is_reported_with_row_column_and_reason(company, tmp_path):
    rows = [
        row("1000000021"),
        row("12345"),  # line 3
        row("1000000023", id_card_number="330102199003071231"),  # bad checksum
        row("1000000024", phone="12345"),
        row("1000000025", supply_unit_code="nope"),
        row("1000000026", lng_wgs84="east"),
        row("1000000027", opened_on="2018-02-30"),
        row("1000000021"),  # duplicate of line 2
        row("1000000029", tariff_class="太阳能"),
    ]
    path = write_csv(tmp_path / "bad.csv", rows)
    result = import_accounts(path)
    assert result.created == 1 and result.rejected == 8
    with result.report_path().open(encoding="utf-8-sig") as handle:
        report = list(csv.DictReader(handle))
    by_row = {int(r["row"]): r for r in report}
    assert by_row[3]["column"] == "account_number"
    assert by_row[4]["column"] == "id_card_number"
    assert by_row[5]["column"] == "phone"
    assert by_row[6]["column"] == "supply_unit_code" and "nope" in by_row[6]["reason"]
    assert by_row[7]["column"] == "lng_wgs84"
    assert by_row[8]["column"] == "opened_on"
    assert by_row[9]["column"] == "account_number" and "第 2 行" in by_row[9]["reason"]
    assert by_row[10]["column"] == "tariff_class"
    assert all(r["file"] == "bad.csv" for r in report)


def test_missing_columns_refuse_the_whole_file(company, tmp_path):
    path = write_csv(tmp_path / "short.csv", [row("1000000031")], columns=["account_number", "holder_name"])
    with pytest.raises(ApplicationError) as exc:
        import_accounts(path)
    assert exc.value.code == "missing_columns" and "tariff_class" in exc.value.message
    assert not Account.objects.exists()


def test_undecodable_bytes_are_refused_with_their_row(company, tmp_path):
    path = write_csv(tmp_path / "mixed.csv", [row("1000000041")])
    path.write_bytes(path.read_bytes() + b"1000000042,\xff\xfe\xfd,broken\n")
    with pytest.raises(ApplicationError) as exc:
        import_accounts(path)
    assert exc.value.code in {"bad_encoding", "unknown_encoding"}


def test_writes_are_batched_not_per_row(company, tmp_path):
    path = write_csv(tmp_path / "many.csv", [row(f"2{n:09d}") for n in range(1200)])
    with CaptureQueriesContext(connection) as queries:
        import_accounts(path, batch_size=500)
    inserts = [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert Account.objects.count() == 1200
    # SQLite caps bound parameters per statement (~33 rows of 30 columns); PostgreSQL takes the
    # whole batch. Either way far from the 1,200 INSERTs a per-row save() would issue.
    assert len(inserts) <= 1200 / 25


def test_command_exit_codes_and_summary(company, tmp_path, capsys):
    good = write_csv(tmp_path / "good.csv", [row("1000000051")])
    call_command("import", "accounts", str(good))
    assert '"created": 1' in capsys.readouterr().out
    bad = write_csv(tmp_path / "bad.csv", [row("1000000052"), row("oops")])
    with pytest.raises(CommandError) as exc:
        call_command("import", "accounts", str(bad))
    assert exc.value.returncode == 1
    assert (tmp_path / "bad.csv.rejected.csv").exists()
    with pytest.raises(SystemExit) as refused:
        call_command("import", "accounts", str(tmp_path / "absent.csv"))
    assert refused.value.code == 2
