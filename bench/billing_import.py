"""Benchmark: ``powerdesk import accounts`` + ``import bills`` (N accounts, 24·N bills) against a
per-row ORM loop (``bill_record_version`` per row, on a 20k-row sample) and, on PostgreSQL,
against ``COPY`` of the very rows the import wrote; plus a re-import of the same files. Prints
one JSON document.

    python bench/billing_import.py --accounts 10000            # SQLite + throw-away PostgreSQL 15
    python bench/billing_import.py --accounts 100000 --no-sqlite
    python bench/billing_import.py --smoke                     # tiny
    DATABASE_URL=postgres://… python bench/billing_import.py   # use that server (a new database on it)

Each engine runs in a fresh child process against a fresh, migrated database.

**The COPY baseline** (PostgreSQL; ``import_vs_copy_ratio`` = (accounts import + bills import
seconds) ÷ ``copy_seconds``). After the import and the re-import, the rows the import wrote are
dumped with ``COPY … TO STDOUT`` (text format) from the four tables it fills:
``customers_account`` (N accounts), ``billing_bill`` (24·N bills), ``billing_ledgerentry``
(24·N ``bill_issued`` entries) and ``events_domainevent`` (24·N ``bill.imported`` events). The
tables are emptied with ``TRUNCATE … CASCADE`` (which keeps every index, unique/partial-unique
and check constraint, foreign key and trigger) and the dumps are timed going back with
``COPY … FROM STDIN`` — one statement per table, each in its own transaction, parents first —
on the same server and database the import ran on. ``copy_rows`` counts the rows per table and
must equal what the import reported; ``copy_seconds_by_table`` splits the time. Left out: the
24 bill-check tasks the import queues (one row per month), nothing else.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ACCOUNTS = 10_000
SMOKE_ACCOUNTS = 100
ORM_SAMPLE = 20_000
MONTHS = 24


def _write_files(directory: Path, accounts: int) -> tuple[Path, Path, int]:
    from datetime import date

    from powerdesk.billing.demo import _BAND_SHARES, _split, demo_amount_fen, months_back

    periods = months_back(date(2026, 1, 1), MONTHS)
    accounts_path, bills_path = directory / "accounts.csv", directory / "bills.csv"
    with accounts_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "account_number",
                "holder_kind",
                "holder_name",
                "tariff_class",
                "supply_unit_code",
                "province_code",
                "city_code",
                "county_code",
                "address",
            ]
        )
        for n in range(1, accounts + 1):
            writer.writerow(
                [
                    f"{n:010d}",
                    "个人",
                    "王小明",
                    "居民生活",
                    "33010201",
                    "330000",
                    "330100",
                    "330102",
                    f"示范路{n}号",
                ]
            )
    shares = _BAND_SHARES["residential"]
    rows = 0
    with bills_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
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
        )
        for n in range(1, accounts + 1):
            for i, period in enumerate(periods):
                cents = 10_000 + (n * 7919 + i * 104729) % 40_000
                bands = _split(cents, shares)
                kwh = f"{cents // 100}.{cents % 100:02d}"
                from decimal import Decimal

                writer.writerow(
                    [
                        f"{n:010d}",
                        f"{period:%Y-%m}",
                        kwh,
                        *(f"{b // 100}.{b % 100:02d}" for b in bands),
                        demo_amount_fen("residential", Decimal(kwh)),
                        period.isoformat(),
                        period.replace(day=25).isoformat(),
                        f"SG{n:010d}{period:%Y%m}",
                    ]
                )
                rows += 1
    return accounts_path, bills_path, rows


def _child(accounts: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "powerdesk.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from powerdesk.organisation.services import supply_unit_create

    call_command("migrate", interactive=False, verbosity=0)
    province = supply_unit_create(code="33", name="示范省电力公司", level="province", division_code="330000")
    city = supply_unit_create(
        code="3301", name="示范市供电公司", level="city", parent=province, division_code="330100"
    )
    county = supply_unit_create(
        code="330102", name="上城区供电公司", level="county", parent=city, division_code="330102"
    )
    supply_unit_create(code="33010201", name="湖滨供电所", level="station", parent=county)
    work = Path(tempfile.mkdtemp(prefix="billing-bench-"))
    try:
        _measure(work, accounts)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _measure(work: Path, accounts: int) -> None:
    from datetime import date, timedelta
    from decimal import Decimal

    from django.db import connection

    from powerdesk.billing.importers import import_bills
    from powerdesk.billing.models import Bill, LedgerEntry
    from powerdesk.billing.services import BillData, bill_record_version
    from powerdesk.customers.importer import import_accounts
    from powerdesk.customers.models import Account
    from powerdesk.events.models import DomainEvent

    accounts_path, bills_path, bill_rows = _write_files(work, accounts)
    out: dict = {"engine": connection.vendor, "accounts": accounts, "bills": bill_rows}

    started = time.perf_counter()
    result = import_accounts(accounts_path)
    out["accounts_import_seconds"] = round(time.perf_counter() - started, 3)
    assert result.created == accounts, result.summary()
    started = time.perf_counter()
    result = import_bills(bills_path)
    seconds = time.perf_counter() - started
    assert result.created == bill_rows and not result.rejections, result.summary()
    out["bills_import_seconds"] = round(seconds, 3)
    out["bills_import_rows_per_second"] = round(bill_rows / seconds)
    total_import = out["accounts_import_seconds"] + seconds
    out["import_total_seconds"] = round(total_import, 3)
    out["import_rows_per_second"] = round((accounts + bill_rows) / total_import)

    started = time.perf_counter()
    again = import_bills(bills_path)
    out["bills_reimport_seconds"] = round(time.perf_counter() - started, 3)
    assert again.unchanged == bill_rows and again.created == again.updated == 0
    started = time.perf_counter()
    import_accounts(accounts_path)
    out["accounts_reimport_seconds"] = round(time.perf_counter() - started, 3)

    if connection.vendor == "postgresql":
        out.update(
            _copy_baseline(connection, [Account, Bill, LedgerEntry, DomainEvent], total_import, work)
        )
        expected = {"customers_account": accounts, "billing_bill": bill_rows}
        expected |= {"billing_ledgerentry": bill_rows, "events_domainevent": bill_rows}
        assert out["copy_rows"] == expected, out["copy_rows"]

    # Per-row ORM loop: bill_record_version per row, for months before the imported ones.
    sample = min(ORM_SAMPLE, bill_rows)
    ids = list(Account.objects.order_by("id").values_list("id", flat=True))
    account_objects = {a.pk: a for a in Account.objects.all()}
    started = time.perf_counter()
    for i in range(sample):
        account = account_objects[ids[i % len(ids)]]
        month = i // len(ids)
        period = date(2023 - month // 12, 12 - month % 12, 1)
        bill_record_version(
            account=account,
            data=BillData(
                period=period,
                kwh_total=Decimal("210.00"),
                kwh_sharp=Decimal("0.00"),
                kwh_peak=Decimal("130.00"),
                kwh_flat=Decimal("0.00"),
                kwh_valley=Decimal("80.00"),
                amount_fen=11298,
                issued_on=period,
                due_date=period + timedelta(days=24),
                source_ref="",
            ),
        )
    seconds = time.perf_counter() - started
    out["orm_loop_sample_rows"] = sample
    out["orm_loop_rows_per_second"] = round(sample / seconds)
    out["speedup_vs_orm_loop"] = round(
        out["bills_import_rows_per_second"] / out["orm_loop_rows_per_second"], 1
    )
    print(json.dumps(out))


def _copy_baseline(connection, models, import_seconds: float, work: Path) -> dict:
    """COPY the rows the import wrote (accounts, bills, their ledger entries and events) out,
    TRUNCATE, and time COPY of the same rows back into the same tables (see the module doc).

    The dumps go to files in ``work`` (24M bills do not fit in memory three times over) and
    are read back in 1 MiB parts; the timed part is the COPY FROM of each file.
    """
    assert connection.get_autocommit()  # each COPY below commits on its own
    tables = [m._meta.db_table for m in models]
    rows = {}
    with connection.cursor() as cursor:
        for table in tables:
            rows[table] = 0
            with open(work / f"{table}.copy", "wb") as dump:
                with cursor.cursor.copy(f'COPY "{table}" TO STDOUT') as copy:
                    for data in copy:
                        dump.write(data)
                        rows[table] += bytes(data).count(b"\n")
        cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
        by_table = {}
        for table in tables:
            started = time.perf_counter()
            with open(work / f"{table}.copy", "rb") as dump:
                with cursor.cursor.copy(f'COPY "{table}" FROM STDIN') as copy:
                    while part := dump.read(1 << 20):
                        copy.write(part)
            by_table[table] = time.perf_counter() - started
            (work / f"{table}.copy").unlink()
    seconds = sum(by_table.values())
    return {
        "copy_seconds": round(seconds, 3),
        "copy_seconds_by_table": {t: round(s, 3) for t, s in by_table.items()},
        "copy_rows": rows,
        "import_vs_copy_ratio": round(import_seconds / seconds, 2),
    }


def _run_one(accounts: int, *, database_url: str | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="powerdesk-bench-") as var_dir:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(
            POWERDESK_VAR_DIR=var_dir,
            POWERDESK_SQLITE_PATH=str(Path(var_dir) / "bench.sqlite3"),
            POWERDESK_LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="powerdesk.settings",
            PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        )
        if database_url:
            env["DATABASE_URL"] = database_url
        result = subprocess.run(
            [sys.executable, __file__, "--child", "--accounts", str(accounts)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"billing import bench failed:\n{result.stderr[-4000:]}")
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    # Written at once: a failure while cleaning up afterwards (dropping the database) must not
    # lose the figures of a run that took hours.
    print(f"billing_import result: {json.dumps(measured)}", file=sys.stderr, flush=True)
    return measured


def run(
    accounts: int, *, database_url: str | None = None, postgres: bool = True, sqlite: bool = True
) -> list[dict]:
    sys.path.insert(0, str(ROOT / "scripts"))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from demo_generation import _fresh_postgres_database

    results = [_run_one(accounts, database_url=None)] if sqlite else []
    if database_url or postgres:
        with ExitStack() as stack:
            if not database_url:
                from pg_server import postgres_server

                database_url = stack.enter_context(postgres_server())
            url = _fresh_postgres_database(stack, database_url, accounts)
            results.append(_run_one(accounts, database_url=url))
    return results


def bench(
    *, smoke: bool = False, sizes=None, database_url: str | None = None, postgres: bool = False, **_options
) -> dict:
    """For bench/run_all.py."""
    accounts = SMOKE_ACCOUNTS if smoke else DEFAULT_ACCOUNTS
    results = run(accounts, database_url=database_url, postgres=postgres or not smoke)
    return {"accounts": accounts, "results": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=DEFAULT_ACCOUNTS)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.accounts)
        return 0
    accounts = SMOKE_ACCOUNTS if args.smoke else args.accounts
    results = run(
        accounts,
        database_url=os.environ.get("DATABASE_URL") or None,
        postgres=not args.no_postgres,
        sqlite=not args.no_sqlite,
    )
    print(json.dumps({"benchmark": "billing_import", "accounts": accounts, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
