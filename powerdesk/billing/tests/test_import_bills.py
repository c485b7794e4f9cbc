"""Importing bills: batched versioning identical to bill_record_version, idempotent, rejections."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from powerdesk.billing.importers import import_bills
from powerdesk.billing.models import Bill, LedgerEntry
from powerdesk.billing.selectors import account_balance_fen
from powerdesk.billing.services import BillData, bill_record_version
from powerdesk.billing.tests.test_import_files import BILL_COLUMNS, bill_row, read_report, write_csv
from powerdesk.core.testing import make_account
from powerdesk.events.models import DomainEvent

pytestmark = pytest.mark.django_db


def _data(row: dict) -> BillData:
    return BillData(
        period=date.fromisoformat(row["period"] + "-01"),
        kwh_total=Decimal(row["kwh_total"]).quantize(Decimal("0.01")),
        **{
            k: Decimal(row[k] or 0).quantize(Decimal("0.01"))
            for k in ("kwh_sharp", "kwh_peak", "kwh_flat", "kwh_valley")
        },
        amount_fen=int(row["amount_fen"]),
        issued_on=date.fromisoformat(row["issued_on"]),
        due_date=date.fromisoformat(row["due_date"]),
        source_ref=row["source_ref"],
    )


def _snapshot(account_numbers):
    bills = sorted(
        (
            b.account.number,
            b.period,
            b.version,
            b.is_current,
            b.source,
            b.source_ref,
            b.kwh_total,
            b.kwh_sharp,
            b.kwh_peak,
            b.kwh_flat,
            b.kwh_valley,
            b.amount_fen,
            b.difference_fen,
            b.issued_on,
            b.due_date,
            b.previous.version if b.previous else None,
            b.content_hash,
        )
        for b in Bill.objects.filter(account__number__in=account_numbers).select_related(
            "account", "previous"
        )
    )
    ledger = sorted(
        (e.account.number, e.kind, e.amount_fen, e.reference, e.bill.version if e.bill else None, e.memo)
        for e in LedgerEntry.objects.filter(account__number__in=account_numbers).select_related(
            "account", "bill"
        )
    )
    events = sorted(
        (e.kind, e.channel, tuple(sorted(e.payload.items())))
        for e in DomainEvent.objects.filter(kind__startswith="bill.")
        if e.account_id
        in set(Bill.objects.filter(account__number__in=account_numbers).values_list("account_id", flat=True))
    )
    return bills, ledger, events


ROUNDS = [
    # three files in sequence: first versions, then corrections (amount up, kWh-only, amount down), then a repeat
    [bill_row(month=m, amount=10000 + m) for m in (7, 8, 9)],
    [
        bill_row(month=7, amount=10007),
        bill_row(month=8, amount=12000),
        bill_row(month=9, amount=10009, kwh_total="211.00", kwh_peak="131.00"),
    ],
    [
        bill_row(month=7, amount=9000),
        bill_row(month=8, amount=12000),
        bill_row(month=9, amount=10009, kwh_total="211.00", kwh_peak="131.00"),
    ],
]


def test_batched_import_and_single_row_service_store_identical_rows(company, tmp_path):
    via_import = make_account(number="0000000011", unit=company.station_a)
    via_service = make_account(number="0000000012", unit=company.station_a, id_card=None)
    for index, rows in enumerate(ROUNDS):
        path = write_csv(
            tmp_path / f"bills{index}.csv",
            [{**r, "account_number": "0000000011"} for r in rows],
            BILL_COLUMNS,
        )
        result = import_bills(path, batch_size=2)
        assert result.rejected == 0
        for row in rows:
            bill_record_version(account=via_service, data=_data(row))
    imported, served = _snapshot(["0000000011"]), _snapshot(["0000000012"])

    def strip(snap):  # the account number is all that may differ
        return (
            [b[1:] for b in snap[0]],
            [
                (e[1], e[2], e[3].replace("0000000011", "X").replace("0000000012", "X"), *e[4:])
                for e in snap[1]
            ],
            snap[2],
        )

    assert strip(imported) == strip(served)
    assert len(imported[0]) == 3 + 2 + 1  # v1×3, then 8 and 9 corrected, then 7 corrected
    assert account_balance_fen(via_import) == account_balance_fen(via_service) == 9000 + 12000 + 10009


def test_same_file_twice_changes_nothing(account_a, tmp_path):
    path = write_csv(tmp_path / "bills.csv", [bill_row(month=m) for m in range(1, 13)], BILL_COLUMNS)
    first = import_bills(path)
    counts = (Bill.objects.count(), LedgerEntry.objects.count(), DomainEvent.objects.count())
    again = import_bills(path)
    assert (first.created, first.unchanged) == (12, 0)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 12)
    assert (Bill.objects.count(), LedgerEntry.objects.count(), DomainEvent.objects.count()) == counts
    assert not path.with_name("bills.csv.rejected.csv").exists()


def test_a_changed_bill_becomes_a_new_version_with_the_difference(account_a, tmp_path):
    import_bills(write_csv(tmp_path / "a.csv", [bill_row(month=9, amount=11298)], BILL_COLUMNS))
    result = import_bills(
        write_csv(
            tmp_path / "b.csv",
            [bill_row(month=9, amount=10500, kwh_total="195.00", kwh_peak="115.00")],
            BILL_COLUMNS,
        )
    )
    assert (result.created, result.updated) == (0, 1)
    v1, v2 = Bill.objects.order_by("version")
    assert (v1.is_current, v2.is_current, v2.previous_id, v2.difference_fen) == (False, True, v1.pk, -798)
    assert LedgerEntry.objects.get(reference="bill:0000000001:2025-09:v2").amount_fen == -798
    assert account_balance_fen(account_a) == 10500


def test_amount_in_yuan_is_accepted(account_a, tmp_path):
    row = {**bill_row(), "amount_yuan": "112.98"}
    path = write_csv(
        tmp_path / "y.csv", [row], [c if c != "amount_fen" else "amount_yuan" for c in BILL_COLUMNS]
    )
    assert import_bills(path).created == 1
    assert Bill.objects.get().amount_fen == 11298


def test_every_bad_row_is_reported_and_the_good_ones_stored(account_a, tmp_path):
    rows = [
        bill_row(month=1),
        bill_row(month=2, amount="12.5"),  # fractional fen
        bill_row(month=3, amount="-100"),  # negative
        bill_row(month=4, kwh_total="abc"),  # not a number
        bill_row(month=5, issued_on="2025-02-30"),  # no such date
        bill_row(month=6, account_number="0000009999"),  # unknown 户号
        bill_row(month=7, kwh_total="300.00"),  # bands sum to 210
        bill_row(month=1, amount=1),  # duplicate key in the file
        bill_row(month=8, period="2025-13"),
        bill_row(month=9, due_date="2025-09-01"),  # due before issue
        bill_row(month=10, kwh_peak="130.001"),  # fractional hundredths of kWh
        bill_row(month=11, account_number="12345"),
    ]
    path = write_csv(tmp_path / "bad.csv", rows, BILL_COLUMNS)
    result = import_bills(path)
    report = read_report(path)
    assert result.created == 1 and result.rejected == 11
    got = {(int(r["row"]), r["column"]) for r in report}
    assert got == {
        (3, "amount_fen"),
        (4, "amount_fen"),
        (5, "kwh_total"),
        (6, "issued_on"),
        (7, "account_number"),
        (8, "kwh_total"),
        (9, "period"),
        (10, "period"),
        (11, "due_date"),
        (12, "kwh_peak"),
        (13, "account_number"),
    }
    assert all(r["file"] == "bad.csv" and r["reason"] for r in report)
    assert "第 2 行" in next(r["reason"] for r in report if r["row"] == "9")
    assert Bill.objects.count() == 1 and LedgerEntry.objects.count() == 1


def test_command_exits_1_on_rejections_and_0_otherwise(account_a, tmp_path, capsys):
    good = write_csv(tmp_path / "good.csv", [bill_row()], BILL_COLUMNS)
    call_command("import", "bills", str(good))
    bad = write_csv(tmp_path / "bad.csv", [bill_row(month=2, amount="x")], BILL_COLUMNS)
    with pytest.raises(CommandError) as excinfo:
        call_command("import", "bills", str(bad))
    assert excinfo.value.returncode == 1


def test_missing_columns_refuse_the_file_with_exit_2(account_a, tmp_path):
    path = write_csv(tmp_path / "cols.csv", [bill_row()], [c for c in BILL_COLUMNS if c != "due_date"])
    with pytest.raises(SystemExit) as excinfo:
        call_command("import", "bills", str(path))
    assert excinfo.value.code == 2
    assert Bill.objects.count() == 0


# --- the fast path reads and hashes exactly like the Decimal / BillData one ----------------------

KWH_TEXTS = [
    "0",
    "0.0",
    "007.5",
    "12.3",
    "210.00",
    "999999999999.99",
    "0000000000001.25",
    "1,234.5",
    "1e2",
    "12.",
    ".5",
    "-0",
    "-1",
    "1_000",
    "١٢",
    "1.001",
    "1000000000000",
    "NaN",
    "Infinity",
    "abc",
    "",
]


@pytest.mark.parametrize("raw", KWH_TEXTS)
@pytest.mark.parametrize("required", [True, False])
def test_fast_kwh_reading_agrees_with_the_decimal_one(raw, required):
    from powerdesk.billing.importers import RowError, _kwh, _kwh_text

    def outcome(read):
        try:
            return read()
        except RowError as exc:
            return ("rejected", exc.column, exc.reason)

    def by_decimal():
        value = _kwh(raw, "kwh_peak", default=None if required else Decimal("0.00"))
        return int(value.scaleb(2)), str(value)

    assert outcome(lambda: _kwh_text(raw, "kwh_peak", required=required)) == outcome(by_decimal)


SOURCE_REFS = [
    "",
    "SG0000000001202509",
    'A"B',
    "A\\B",
    "tab\there",
    "中文单号",
    "😀",
    "\x7f",
    "a\nb",
    "x/y-z_1",
]


@pytest.mark.parametrize("source_ref", SOURCE_REFS)
def test_content_hash_is_the_one_bill_data_computes(source_ref):
    from powerdesk.billing.importers import _clean_bill

    raw = bill_row(kwh_total="0210.5", kwh_peak="130.5", kwh_valley="80", amount="0", source_ref=source_ref)
    row = _clean_bill(raw)
    data = BillData(
        period=date(2025, 9, 1),
        kwh_total=Decimal("210.50"),
        kwh_sharp=Decimal("0.00"),
        kwh_peak=Decimal("130.50"),
        kwh_flat=Decimal("0.00"),
        kwh_valley=Decimal("80.00"),
        amount_fen=0,
        issued_on=date(2025, 9, 5),
        due_date=date(2025, 9, 25),
        source_ref=source_ref,
    )
    assert row.bill_data() == data
    assert row.content_hash == data.content_hash()


def test_free_text_with_copy_special_characters_is_stored_as_written(account_a, tmp_path):
    refs = ["A\\B\tC", 'q"uote,中文', "line\nbreak", "back\\\\slash\\N"]
    rows = [bill_row(month=m, source_ref=ref) for m, ref in enumerate(refs, start=1)]
    path = write_csv(tmp_path / "refs.csv", rows, BILL_COLUMNS)
    assert import_bills(path).created == len(refs)
    for bill in Bill.objects.order_by("period"):
        data = _data({**bill_row(month=bill.period.month), "source_ref": bill.source_ref})
        assert bill.content_hash == data.content_hash()
    assert list(Bill.objects.order_by("period").values_list("source_ref", flat=True)) == refs
    assert import_bills(path).unchanged == len(refs)


def test_ledger_and_event_ids_are_increasing_uuid7():
    import uuid

    from powerdesk.billing.importers import uuid7_hex_block
    from powerdesk.core.ids import uuid7

    before = uuid7()
    block = [uuid.UUID(h) for h in uuid7_hex_block(1000)]
    after = uuid7()
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in block)
    assert [before, *block, after] == sorted({before, *block, after})


def test_a_file_error_met_while_reading_ahead_keeps_the_batches_before_it(account_a, tmp_path):
    """Rows are read ahead while a batch is written; a malformed row found then still lets
    that batch commit and stops the import before the next one — as when reading in order."""
    from powerdesk.core.exceptions import ApplicationError

    rows = [bill_row(month=m) for m in range(1, 8)]
    rows[5]["source_ref"] = "x" * 200_000  # row 7 of the file: longer than the csv field limit
    path = write_csv(tmp_path / "broken.csv", rows, BILL_COLUMNS)
    seen = []
    with pytest.raises(ApplicationError) as excinfo:
        import_bills(path, batch_size=2, progress=seen.append)
    assert excinfo.value.code == "malformed_csv"
    # batches (1, 2) and (3, 4) were written; month 5 was waiting for its batch to fill
    assert sorted(Bill.objects.values_list("period__month", flat=True)) == [1, 2, 3, 4]
    assert LedgerEntry.objects.count() == DomainEvent.objects.filter(kind="bill.imported").count() == 4


def test_progress_counts_every_row_read(account_a, tmp_path, monkeypatch):
    from powerdesk.billing import importers

    monkeypatch.setattr(importers, "PROGRESS_EVERY", 3)
    rows = [bill_row(month=m) for m in range(1, 13)] + [bill_row(month=1)]  # one duplicate
    path = write_csv(tmp_path / "p.csv", rows, BILL_COLUMNS)
    seen = []
    result = import_bills(path, batch_size=4, progress=seen.append)
    assert (result.read, result.created, result.rejected) == (13, 12, 1)
    assert seen == [3, 6, 9, 12, 13]
