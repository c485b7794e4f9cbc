"""Benchmark: a WeChat mass message (群发) to N bound customers against the fake WeChat API,
then the same again with the sending process killed (SIGKILL) mid-chunk and resumed.

    python bench/wechat_mass_send.py                       # 1,000,000 openids, SQLite
    python bench/wechat_mass_send.py --openids 100000 --postgres
    python bench/wechat_mass_send.py --smoke               # 5,000 openids in chunks of 500
    DATABASE_URL=postgres://… python bench/wechat_mass_send.py --openids 100000   # that server

Each engine runs in a fresh child process against a fresh, migrated database; the fake WeChat
API runs as its own process (``fake_server --open-audience``: any openid counts as a follower),
so its work does not share our interpreter. Set-up (not timed in the results' phases): N
accounts, customer users, WeChat identities and bindings written with ``TextRows``.

**run** — one broadcast to every bound customer: ``materialise_seconds`` is the start
(quota check, one INSERT … SELECT of N recipients numbered into balanced chunks, the chunk rows);
``send_seconds`` is ``broadcast_send`` (one ``mass/send`` of ≤ 10,000 openids per chunk, each
chunk's recipients marked submitted); ``reports_seconds`` applies the N/10,000
MASSSENDJOBFINISH reports (each marks its chunk's recipients sent).

**kill_resume** — a second broadcast (other text, so the fake counts its deliveries apart),
started here, sent by a separate process. Once half its chunks are out, the fake is told to
answer the next ``mass/send`` only after 20 s (having taken the job first, as WeChat would);
when that call has arrived the sender is killed with SIGKILL — its chunk is claimed, the job is
at WeChat, the msg_id is nowhere in our database. After the chunk's lease (5 s here) runs out,
``broadcasts_resume`` (what ``powerdesk broadcast_resume`` runs) finishes the broadcast. The
fake's recorded jobs are then read back recipient by recipient: ``duplicates`` (deliveries beyond
one per openid, plus the fake's own duplicate counter) and ``lost`` (openids of the list never
delivered) must both be 0, or the benchmark fails.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OPENIDS = 1_000_000
SMOKE_OPENIDS = 5_000
SMOKE_CHUNK_SIZE = 500
LEASE_SECONDS = 5
BATCH = 20_000
MASS_SEND = "/cgi-bin/message/mass/send"


# --- the fake WeChat API, as a process ----------------------------------------------------------


class FakeProcess:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "powerdesk.channels.wechat_store.fake_server",
                "--port",
                "0",
                "--open-audience",
                "--quiet",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"the fake WeChat API did not start: {line!r}")
        self.url = line.split("listening on ")[1].split()[0]

    def call(self, method: str, path: str, payload: dict | None = None) -> dict:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(  # noqa: S310  (our own loopback fake)
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return json.loads(response.read())

    def jobs(self, prefix: str) -> list[dict]:
        return [j for j in self.call("GET", "/_fake/mass")["jobs"] if j["clientmsgid"].startswith(prefix)]

    def mass_send_calls(self) -> list[dict]:
        return self.call("GET", f"/_fake/calls?path={MASS_SEND}")["calls"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


# --- the child: one engine ----------------------------------------------------------------------


def _setup(count: int) -> dict:
    """The company tree, one admin, the Official Account, and ``count`` bound customers."""
    from django.db import connection, transaction
    from django.utils import timezone

    from powerdesk.channels.wechat_store.fake_server import DEMO_APP_ID, DEMO_APP_SECRET
    from powerdesk.channels.wechat_store.models import WeChatAccount
    from powerdesk.customers.models import Account, Binding, CustomerUser, Identity
    from powerdesk.demo.bulk import TextRows
    from powerdesk.organisation.services import supply_unit_create
    from powerdesk.staff.roles import Role
    from powerdesk.staff.services import staff_create

    province = supply_unit_create(code="33", name="示范省电力公司", level="province", division_code="330000")
    city = supply_unit_create(code="3301", name="示范市供电公司", level="city", parent=province)
    county = supply_unit_create(code="330102", name="上城区供电公司", level="county", parent=city)
    station = supply_unit_create(code="33010201", name="湖滨供电所", level="station", parent=county)
    admin = staff_create(
        username="bench",
        password=secrets.token_urlsafe(16),  # nobody signs in: the bench calls services directly
        role=Role.ADMIN,
        supply_unit=province,
        full_name="bench",
    )
    account = WeChatAccount(
        slug="demo",
        name="示范供电公司",
        app_id=DEMO_APP_ID,
        token="powerdesk",  # noqa: S106  (the demo's published callback token)
        safe_mode=False,
    )
    account.set_app_secret(DEMO_APP_SECRET)
    account.save()

    now = timezone.now()
    started = time.perf_counter()
    using = connection.alias
    probe = TextRows(Account, ["id"], using=using)
    ts, null, false, true = probe.datetime(now), probe.null, probe.false, probe.true
    account_constants = {
        "status": "active", "holder_kind": "person", "holder_name": "王小明", "holder_id_card_key_id": "",
        "holder_id_card_ciphertext": "", "holder_id_card_hash": "", "holder_org_code": "", "phone": "",
        "email": "", "tariff_class": "residential", "supply_unit_id": str(station.pk), "province_code": "330000",
        "city_code": "330100", "county_code": "330102", "town_code": "", "is_important": false,
        "age_group": "", "occupation": "", "consumption_level": "", "credit_rating": "",
        "preferred_channel": "", "tags": "[]", "created_at": ts, "updated_at": ts,
    }  # fmt: skip
    user_constants = {"display_name": "", "phone": null, "email": "", "is_active": true, "created_at": ts,
                      "updated_at": ts}  # fmt: skip
    identity_constants = {"provider": "wechat_openid", "app_id": DEMO_APP_ID, "created_at": ts,
                          "last_seen_at": null, "updated_at": ts}  # fmt: skip
    binding_constants = {"role": "holder", "verified_by": "import", "channel": "wechat", "valid_from": ts,
                         "valid_until": null, "ended_at": null, "end_reason": "", "created_at": ts,
                         "updated_at": ts}  # fmt: skip
    accounts = TextRows(Account, ["id", "number", "address", *account_constants], using=using)
    users = TextRows(CustomerUser, ["id", *user_constants], using=using)
    identities = TextRows(Identity, ["id", "customer_user_id", "subject", *identity_constants], using=using)
    bindings = TextRows(Binding, ["id", "customer_user_id", "account_id", *binding_constants], using=using)
    account_tail, user_tail = tuple(account_constants.values()), tuple(user_constants.values())
    identity_tail, binding_tail = tuple(identity_constants.values()), tuple(binding_constants.values())
    with transaction.atomic():
        for first in range(1, count + 1, BATCH):
            ids = [str(n) for n in range(first, min(first + BATCH, count + 1))]
            accounts.insert([(n, n.zfill(10), f"示范路{n}号", *account_tail) for n in ids])
            users.insert([(n, *user_tail) for n in ids])
            identities.insert([(n, n, f"oBench{n.zfill(22)}", *identity_tail) for n in ids])
            bindings.insert([(n, n, n, *binding_tail) for n in ids])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (Account, CustomerUser, Identity, Binding):
                    table = model._meta.db_table
                    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {count})")
    if connection.vendor == "postgresql":  # what autovacuum would do after a load like this one
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"admin": admin, "account": account, "setup_seconds": round(time.perf_counter() - started, 3)}


def _draft(admin, account, text: str):
    from powerdesk.broadcasts.audience import AudienceChoice
    from powerdesk.broadcasts.choices import BroadcastStatus
    from powerdesk.broadcasts.models import Broadcast
    from powerdesk.broadcasts.services import broadcast_create

    broadcast = broadcast_create(
        staff=admin,
        wechat_account=account,
        title="bench",
        message_kind="text",
        text_content=text,
        audience=AudienceChoice(kind="segment"),
    )
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.QUEUED)
    return broadcast


def _materialise(broadcast) -> float:
    from powerdesk.broadcasts.delivery import broadcast_start

    started = time.perf_counter()
    status = broadcast_start(broadcast_id=broadcast.pk)
    assert status == "sending", status
    return time.perf_counter() - started


def _audit(fake: FakeProcess, broadcast, expected: set[str]) -> dict:
    """Read back every recipient the fake delivered this broadcast's content to."""
    from powerdesk.broadcasts.models import BroadcastChunk

    prefix = f"pd-bc{broadcast.pk}-"
    jobs = fake.jobs(prefix)
    delivered: list[str] = []
    for job in jobs:
        [full] = fake.call("GET", f"/_fake/mass?msg_id={job['msg_id']}&recipients=1")["jobs"]
        delivered += full["recipients"]
    distinct = set(delivered)
    chunks = BroadcastChunk.objects.filter(broadcast=broadcast).count()
    return {
        "chunks": chunks,
        "jobs_at_wechat": len(jobs),
        "delivered": len(delivered),
        "duplicates": len(delivered)
        - len(distinct)
        + fake.call("GET", "/_fake/mass")["duplicate_deliveries"],
        "lost": len(expected - distinct),
        "unexpected": len(distinct - expected),
    }


def _reports(fake: FakeProcess, broadcast) -> float:
    """Apply the jobs' MASSSENDJOBFINISH reports as the callback would (service call)."""
    from powerdesk.broadcasts.delivery import broadcast_progress_update, job_report_record

    started = time.perf_counter()
    for job in fake.jobs(f"pd-bc{broadcast.pk}-"):
        outcome = job_report_record(
            app_id=job["appid"],
            msg_id=str(job["msg_id"]),
            status="send success",
            total_count=job["total_count"],
            filter_count=job["sent_count"],
            sent_count=job["sent_count"],
        )
        assert outcome == "applied", outcome
    status = broadcast_progress_update(broadcast_id=broadcast.pk)
    assert status == "finished", status
    return time.perf_counter() - started


def _kill_mid_chunk(fake: FakeProcess, broadcast, chunks: int) -> dict:
    """Send in a separate process; SIGKILL it while WeChat holds the answer to a chunk it took."""
    sender = subprocess.Popen(
        [sys.executable, __file__, "--send-only", str(broadcast.pk)],
        cwd=ROOT,
        env={**os.environ, "POWERDESK_WECHAT_API_TIMEOUT_SECONDS": "60"},
    )
    prefix = f"pd-bc{broadcast.pk}-"
    deadline = time.monotonic() + 600
    while len(fake.jobs(prefix)) < max(1, chunks // 2):
        if sender.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the sender finished or stalled before it could be killed")
        time.sleep(0.02)
    fake.call("POST", "/_fake/fail", {"count": 1, "delay": 20, "path": MASS_SEND})
    # Wait for the call that took the injected delay (not merely the next call: one may have been
    # answered before the failure was set, and killing then would leave the delay for the resume).
    while not any(call.get("injected") for call in fake.mass_send_calls()):
        if sender.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the sender finished before the slow call")
        time.sleep(0.01)
    os.kill(sender.pid, signal.SIGKILL)
    sender.wait()
    return {"jobs_at_kill": len(fake.jobs(prefix)), "sender_exit": sender.returncode}


def _child(count: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "powerdesk.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from powerdesk.broadcasts.choices import ChunkStatus
    from powerdesk.broadcasts.delivery import broadcast_send, broadcasts_resume
    from powerdesk.broadcasts.models import Broadcast, BroadcastChunk, BroadcastRecipient

    call_command("migrate", interactive=False, verbosity=0)
    fake = FakeProcess()
    try:
        os.environ["POWERDESK_WECHAT_API_BASE_URL"] = fake.url  # for the sender process
        from django.conf import settings

        settings.WECHAT_API_BASE_URL = fake.url
        setup = _setup(count)
        out: dict = {
            "engine": connection.vendor,
            "openids": count,
            "chunk_size": settings.BROADCAST_CHUNK_SIZE,
        }
        out["setup_seconds"] = setup["setup_seconds"]

        # --- one broadcast, sent here -------------------------------------------------------
        first = _draft(setup["admin"], setup["account"], "【示范供电】第一次群发：计划停电通知。")
        seconds = _materialise(first)
        run = {
            "materialise_seconds": round(seconds, 3),
            "materialise_rows_per_second": round(count / seconds),
        }
        expected = set(BroadcastRecipient.objects.filter(broadcast=first).values_list("openid", flat=True))
        started = time.perf_counter()
        outcome = broadcast_send(broadcast_id=first.pk)
        seconds = time.perf_counter() - started
        assert outcome.status == "submitted", outcome
        run |= {"send_seconds": round(seconds, 3), "openids_per_second": round(count / seconds)}
        run["reports_seconds"] = round(_reports(fake, first), 3)
        run |= _audit(fake, first, expected)
        out["run"] = run

        # --- a second broadcast: the sender is killed mid-chunk, then resumed ---------------
        second = _draft(setup["admin"], setup["account"], "【示范供电】第二次群发：恢复送电通知。")
        kill: dict = {"materialise_seconds": round(_materialise(second), 3)}
        chunks = BroadcastChunk.objects.filter(broadcast=second).count()
        kill |= _kill_mid_chunk(fake, second, chunks)
        kill["chunks_at_kill"] = dict(
            BroadcastChunk.objects.filter(broadcast=second)
            .values_list("status")
            .annotate(n=Count("id"))
            .order_by()
        )
        in_flight = BroadcastChunk.objects.filter(broadcast=second, status=ChunkStatus.SENDING).first()
        assert in_flight is not None and not in_flight.msg_id, "no chunk was caught in flight"
        wait = max(0.0, (in_flight.lease_until - timezone.now()).total_seconds()) + 0.2
        time.sleep(wait)  # the dead worker's lease runs out
        calls_before = len(fake.mass_send_calls())
        started = time.perf_counter()
        resumed = broadcasts_resume()
        kill["resume_seconds"] = round(time.perf_counter() - started, 3)
        kill["resumed_broadcasts"] = resumed.resumed
        # A chunk whose call failed transiently (e.g. no answer within the client's timeout on a
        # busy machine) goes back to pending with a back-off, as in production; the periodic
        # sweep would resume it then — here the bench does, and says how often it had to.
        kill["resume_rounds"] = 1
        while Broadcast.objects.get(pk=second.pk).status != "submitted" and kill["resume_rounds"] < 6:
            waiting = (
                BroadcastChunk.objects.filter(broadcast=second, status=ChunkStatus.PENDING)
                .order_by("next_attempt_at")
                .values_list("next_attempt_at", "error_code")
                .first()
            )
            if waiting is None:
                break
            kill.setdefault("transient_errors", []).append(waiting[1])
            if waiting[0] is not None:
                time.sleep(max(0.0, (waiting[0] - timezone.now()).total_seconds()) + 0.1)
            broadcasts_resume()
            kill["resume_rounds"] += 1
        calls = fake.mass_send_calls()[calls_before:]
        kill["resume_calls"] = len(calls)
        kill["resent_in_flight_answered_45065"] = sum(1 for c in calls if c["errcode"] == 45065)
        assert Broadcast.objects.get(pk=second.pk).status == "submitted", kill
        expected = set(BroadcastRecipient.objects.filter(broadcast=second).values_list("openid", flat=True))
        kill |= _audit(fake, second, expected)
        out["kill_resume"] = kill
        failures = [
            f"{phase}: {key}={value}"
            for phase in ("run", "kill_resume")
            for key, value in out[phase].items()
            if key in ("duplicates", "lost", "unexpected") and value
        ]
        if out["run"]["delivered"] != count or out["kill_resume"]["delivered"] != count:
            failures.append("delivered count differs from the openids")
        if failures:
            raise AssertionError("; ".join(failures))
        print(json.dumps(out))
    finally:
        fake.stop()


def _send_only(broadcast_id: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "powerdesk.settings")
    import django

    django.setup()
    from powerdesk.broadcasts.delivery import broadcast_send

    broadcast_send(broadcast_id=broadcast_id)


# --- the parent -----------------------------------------------------------------------------------


def _run_one(count: int, *, chunk_size: int, database_url: str | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="powerdesk-bench-") as var_dir:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(
            POWERDESK_VAR_DIR=var_dir,
            POWERDESK_SQLITE_PATH=str(Path(var_dir) / "bench.sqlite3"),
            POWERDESK_LOG_LEVEL="WARNING",
            POWERDESK_BROADCAST_CHUNK_SIZE=str(chunk_size),
            POWERDESK_BROADCAST_CHUNK_LEASE_SECONDS=str(LEASE_SECONDS),
            POWERDESK_BROADCAST_QUOTA_PER_DAY="10",
            DJANGO_SETTINGS_MODULE="powerdesk.settings",
            PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        )
        if database_url:
            env["DATABASE_URL"] = database_url
        result = subprocess.run(
            [sys.executable, __file__, "--child", "--openids", str(count)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"wechat mass send bench failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(
    count: int,
    *,
    chunk_size: int = 10_000,
    database_url: str | None = None,
    postgres: bool = False,
    sqlite: bool = True,
) -> list[dict]:
    results = [_run_one(count, chunk_size=chunk_size, database_url=None)] if sqlite else []
    if database_url or postgres:
        sys.path.insert(0, str(ROOT / "scripts"))
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from demo_generation import _fresh_postgres_database

        with ExitStack() as stack:
            if not database_url:
                from pg_server import postgres_server

                database_url = stack.enter_context(postgres_server())
            url = _fresh_postgres_database(stack, database_url, count)
            results.append(_run_one(count, chunk_size=chunk_size, database_url=url))
    return results


def bench(
    *, smoke: bool = False, sizes=None, database_url: str | None = None, postgres: bool = False, **_options
) -> dict:
    """For bench/run_all.py (the smoke size on SQLite; full size on SQLite and, if asked, PostgreSQL)."""
    count = SMOKE_OPENIDS if smoke else DEFAULT_OPENIDS
    chunk_size = SMOKE_CHUNK_SIZE if smoke else 10_000
    results = run(count, chunk_size=chunk_size, database_url=None if smoke else database_url,
                  postgres=postgres and not smoke)  # fmt: skip
    return {"openids": count, "chunk_size": chunk_size, "results": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--openids", type=int, default=DEFAULT_OPENIDS)
    parser.add_argument("--chunk-size", type=int, default=10_000, help="openids per mass/send (4–10,000)")
    parser.add_argument(
        "--smoke", action="store_true", help=f"{SMOKE_OPENIDS} openids in chunks of {SMOKE_CHUNK_SIZE}"
    )
    parser.add_argument("--postgres", action="store_true", help="also on a throw-away PostgreSQL 15")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--send-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.send_only:
        _send_only(args.send_only)
        return 0
    if args.child:
        _child(args.openids)
        return 0
    count, chunk_size = (SMOKE_OPENIDS, SMOKE_CHUNK_SIZE) if args.smoke else (args.openids, args.chunk_size)
    results = run(
        count,
        chunk_size=chunk_size,
        database_url=os.environ.get("DATABASE_URL") or None,
        postgres=args.postgres,
        sqlite=not args.no_sqlite,
    )
    print(json.dumps({"benchmark": "wechat_mass_send", "openids": count, "chunk_size": chunk_size,
                      "results": results}, indent=2, ensure_ascii=False))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
