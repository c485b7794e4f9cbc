"""Benchmark + invariant check: 1,000 orders paid through the payment sandbox with notifications
repeated (×1–4), reordered, delayed and ~5 % tampered with. Prints one JSON document:
{orders, notifications_sent, credited, double_credits, lost, suspense, refused, seconds, …}
and exits 1 unless double_credits == lost == 0 and the ledger equals the orders.

    python bench/payments_chaos.py                 # 1,000 orders, fresh SQLite in a temp dir
    python bench/payments_chaos.py --smoke         # 50 orders
    python bench/payments_chaos.py --database-url postgres://…   # an empty PostgreSQL database

The sandbox runs as a real HTTP server in a thread (orders, cashier, control API); its
notifications are handed to Django's test client in this process (see docs/payments.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _child(orders: int, seed: int) -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "powerdesk.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings
    from django.utils import timezone

    from powerdesk.core.testing import make_account, make_company
    from powerdesk.customers.models import Binding, CustomerUser
    from powerdesk.payments.chaos import chaos_run
    from powerdesk.payments.sandbox_keys import load_or_create
    from powerdesk.payments.sandbox_server import running_sandbox

    call_command("migrate", interactive=False, verbosity=0)
    company = make_company()
    customer = CustomerUser.objects.create(phone="13800000000", display_name="压测客户")
    numbers = []
    for index in range(10):
        account = make_account(number=f"{index + 1:010d}", unit=company.station_a, id_card=None)
        Binding.objects.create(
            customer_user=customer,
            account=account,
            role="holder",
            verified_by="sms_otp",
            channel="h5",
            valid_from=timezone.now(),
        )
        numbers.append(account.number)
    keys = load_or_create(settings.PAYMENTS_SANDBOX_KEY_FILE)
    client = Client()

    def transport(url: str, body: bytes, headers: dict) -> tuple[int, str]:
        extra = {
            f"HTTP_{k.upper().replace('-', '_')}": v
            for k, v in headers.items()
            if k.lower() != "content-type"
        }
        response = client.post(
            url.removeprefix("http://testserver"),
            data=body,
            content_type=headers.get("Content-Type", ""),
            **extra,
        )
        return response.status_code, response.content.decode()

    with (
        running_sandbox(keys) as sandbox,
        override_settings(
            PAYMENTS_SANDBOX_URL=sandbox.url,
            PAYMENTS_NOTIFY_BASE_URL="http://testserver",
            PAYMENTS_MODE="sandbox",
        ),
    ):
        result = chaos_run(
            sandbox=sandbox,
            transport=transport,
            customer_user=customer,
            account_numbers=numbers,
            orders=orders,
            seed=seed,
        )
    from django.db import connection

    return {"engine": connection.vendor, **result}


def run(*, orders: int, seed: int = 20261123, database_url: str | None = None) -> dict:
    """Run the chaos in a child process with a fresh var dir (and SQLite file unless a URL)."""
    with tempfile.TemporaryDirectory(prefix="powerdesk-payments-chaos-") as var_dir:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env |= {"POWERDESK_VAR_DIR": var_dir, "POWERDESK_LOG_LEVEL": "ERROR", "PYTHONPATH": str(ROOT)}
        if database_url:
            env["DATABASE_URL"] = database_url
        completed = subprocess.run(
            [sys.executable, __file__, "--child", "--orders", str(orders), "--seed", str(seed)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"payments chaos child failed:\n{completed.stderr[-4000:]}")
        return json.loads(completed.stdout.strip().splitlines()[-1])


def bench(*, smoke: bool = False, sizes=None, database_url: str | None = None, **_options) -> dict:
    result = run(orders=50 if smoke else 1000)
    if database_url:
        result = {
            "sqlite": result,
            "postgresql": run(orders=50 if smoke else 1000, database_url=database_url),
        }
    for one in result.values() if database_url else [result]:
        if (
            one["double_credits"]
            or one["lost"]
            or not one["ledger_equals_orders"]
            or one["tampered_credited"]
        ):
            raise AssertionError(f"payments chaos invariant broken: {one}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="50 orders")
    parser.add_argument("--orders", type=int)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database to use instead")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    orders = args.orders or (50 if args.smoke else 1000)
    if args.child:
        print(json.dumps(_child(orders, args.seed), ensure_ascii=False))
        return 0
    result = run(orders=orders, seed=args.seed, database_url=args.database_url)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    ok = not result["double_credits"] and not result["lost"] and result["ledger_equals_orders"]
    return 0 if ok and not result["tampered_credited"] else 1


if __name__ == "__main__":
    sys.exit(main())
