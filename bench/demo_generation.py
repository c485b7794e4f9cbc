"""Benchmark: how fast ``powerdesk demo`` generates N customers, and how big the database gets.

Each size runs in a fresh child process against a fresh database (a new SQLite file in a
temporary var dir; with ``--database-url`` or ``--postgres`` also a new PostgreSQL database),
migrated first; only the generation itself is timed. Prints one JSON document.

    python bench/demo_generation.py --sizes 10000,100000
    python bench/demo_generation.py --sizes 10000 --postgres              # throw-away PostgreSQL 15
    python bench/demo_generation.py --sizes 10000 --database-url postgres://user@host/db
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = [10_000, 100_000]
SMOKE_SIZES = [500]
DEFAULT_SEED = 20261123


def _child(customers: int, seed: int) -> None:
    """Runs in the child: migrate, generate, measure, print one JSON line."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "powerdesk.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from powerdesk.demo.generator import generate_demo_utility

    call_command("migrate", interactive=False, verbosity=0)
    cpu_before = time.process_time()
    started = time.perf_counter()
    # The registry alone (issue 3's figure); billing history is measured by bench/billing_import.py.
    report = generate_demo_utility(customers=customers, seed=seed, billing=False)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_before
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
            db_bytes = cursor.fetchone()[0]
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db_bytes = Path(settings.DATABASES["default"]["NAME"]).stat().st_size
    rows = report.accounts + report.customer_users + report.identities + report.bindings
    print(json.dumps({
        "customers": customers,
        "engine": connection.vendor,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "rows": rows,
        "rows_per_second": round(rows / seconds),
        "accounts_per_second": round(report.accounts / seconds),
        "db_bytes": db_bytes,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "accounts": report.accounts,
        "customer_users": report.customer_users,
        "identities": report.identities,
        "bindings": report.bindings,
        "transformer_areas": report.transformer_areas,
        "outlets": report.outlets,
        "timings": report.timings,
    }))


def _run_one(customers: int, seed: int, *, database_url: str | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="powerdesk-bench-") as var_dir:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(POWERDESK_VAR_DIR=var_dir, POWERDESK_SQLITE_PATH=str(Path(var_dir) / "bench.sqlite3"),
                   POWERDESK_LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="powerdesk.settings",
                   PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
        if database_url:
            env["DATABASE_URL"] = database_url
        result = subprocess.run(
            [sys.executable, __file__, "--child", "--customers", str(customers), "--seed", str(seed)],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"generating {customers} customers failed:\n{result.stderr[-4000:]}")
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    if measured["accounts"] != customers:
        raise RuntimeError(f"asked for {customers} customers, got {measured['accounts']}")
    return measured


def _fresh_postgres_database(stack: ExitStack, server_url: str, customers: int) -> str:
    """Create an empty database beside the one in ``server_url``; dropped when the stack closes."""
    import psycopg

    parts = urlsplit(server_url)
    name = f"powerdesk_bench_{customers}_{os.getpid()}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    stack.callback(drop)
    return urlunsplit(parts._replace(path=f"/{name}"))


def run(sizes: list[int], *, seed: int = DEFAULT_SEED, database_url: str | None = None,
        postgres: bool = False, sqlite: bool = True) -> list[dict]:
    """Measure every size on SQLite and, if asked, on PostgreSQL."""
    results = []
    with ExitStack() as stack:
        if postgres and not database_url:
            sys.path.insert(0, str(ROOT / "scripts"))
            from pg_server import postgres_server

            database_url = stack.enter_context(postgres_server())
        for customers in sizes:
            if sqlite:
                results.append(_run_one(customers, seed, database_url=None))
                _progress(results[-1])
            if database_url:
                with ExitStack() as per_size:
                    url = _fresh_postgres_database(per_size, database_url, customers)
                    results.append(_run_one(customers, seed, database_url=url))
                    _progress(results[-1])
    return results


def bench(*, smoke: bool = False, sizes: list[int] | None = None, **options) -> dict:
    """Entry point for bench/run_all.py."""
    sizes = sizes or (SMOKE_SIZES if smoke else DEFAULT_SIZES)
    return {"results": run(sizes, **options)}


def _progress(result: dict) -> None:
    print(f"demo_generation: {result['customers']:,} customers on {result['engine']} in "
          f"{result['seconds']:.1f}s ({result['accounts_per_second']:,}/s)", file=sys.stderr, flush=True)


def parse_sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=parse_sizes, default=DEFAULT_SIZES, help="comma-separated customer counts")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or None,
                        help="also measure on this PostgreSQL server (a fresh database per size)")
    parser.add_argument("--postgres", action="store_true", help="also measure on a throw-away PostgreSQL 15")
    parser.add_argument("--no-sqlite", dest="sqlite", action="store_false", help="PostgreSQL only")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--customers", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.customers, args.seed)
        return 0
    results = run(args.sizes, seed=args.seed, database_url=args.database_url, postgres=args.postgres,
                  sqlite=args.sqlite)
    print(json.dumps({"benchmark": "demo_generation", "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
