"""Helpers shared by the billing import tests: write a CSV of dict rows."""

import csv
import io
from pathlib import Path

BILL_COLUMNS = [
    "account_number",
    "period",
    "kwh_total",
    "kwh_sharp",
    "kwh_peak",
    "kwh_flat",
    "kwh_valley",
    "amount_fen",
    "issued_on",
    "due_date",
    "source_ref",
]


def write_csv(path: Path, rows: list[dict], columns: list[str], *, encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def read_report(path: Path) -> list[dict]:
    report = path.with_name(path.name + ".rejected.csv")
    with report.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def bill_row(number: str = "0000000001", month: int = 9, amount: int = 11298, **changes) -> dict:
    row = {
        "account_number": number,
        "period": f"2025-{month:02d}",
        "kwh_total": "210.00",
        "kwh_sharp": "0",
        "kwh_peak": "130.00",
        "kwh_flat": "0",
        "kwh_valley": "80.00",
        "amount_fen": str(amount),
        "issued_on": f"2025-{month:02d}-05",
        "due_date": f"2025-{month:02d}-25",
        "source_ref": "",
    }
    row.update(changes)
    return row


# --- file-level behaviour shared by every billing import kind ------------------------------------

import pytest  # noqa: E402

from powerdesk.billing.importers import import_bills, import_meters  # noqa: E402
from powerdesk.billing.models import Bill, Meter  # noqa: E402
from powerdesk.core.exceptions import ApplicationError  # noqa: E402

METER_COLUMNS = ["meter_number", "account_number", "multiplier", "is_smart", "installed_on"]


@pytest.mark.django_db
def test_gbk_csv_with_chinese_values_is_read(account_a, tmp_path):
    rows = [
        {
            "meter_number": "3300001",
            "account_number": "0000000001",
            "multiplier": "1",
            "is_smart": "是",
            "installed_on": "2019/05/01",
        }
    ]
    path = write_csv(tmp_path / "meters_gbk.csv", rows, METER_COLUMNS, encoding="gbk")
    result = import_meters(path)
    assert (result.created, result.rejected) == (1, 0)
    meter = Meter.objects.get()
    assert meter.is_smart and str(meter.installed_on) == "2019-05-01"


@pytest.mark.django_db
def test_parquet_bills_import_like_csv(account_a, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [bill_row(month=m) for m in (1, 2)] + [bill_row(month=3, amount="1.5")]
    table = pa.Table.from_pylist(rows)
    path = tmp_path / "bills.parquet"
    pq.write_table(table, path)
    result = import_bills(path)
    assert (result.created, result.rejected) == (2, 1)
    assert read_report(path)[0]["row"] == "3"
    assert import_bills(path).unchanged == 2


@pytest.mark.django_db
def test_a_wrongly_encoded_file_is_refused_as_a_whole(account_a, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(",".join(BILL_COLUMNS).encode() + b"\n\xff\xfe\xfa,2025-01\n")
    with pytest.raises(ApplicationError):
        list_ = import_bills(path)  # noqa: F841
    assert Bill.objects.count() == 0


@pytest.mark.django_db
def test_a_row_with_the_wrong_number_of_cells_is_rejected(account_a, tmp_path):
    path = write_csv(tmp_path / "short.csv", [bill_row()], BILL_COLUMNS)
    path.write_text(path.read_text() + "0000000001,2025-10\n")
    result = import_bills(path)
    assert (result.created, result.rejected) == (1, 1)
    assert read_report(path)[0]["column"] == "*"
