"""P1 load benchmark: the WeChat callback answering "电费" in safe mode, end to end, open loop.

What runs
---------
* a throw-away PostgreSQL 15 (``scripts/pg_server.py``), migrated, with the demo Official
  Account (safe mode, its keyword rules) and a follower bound to 户号 0000000001, which has
  26 months of bills (``billing.testing.make_billing_history``) — or ``--database-url`` for an
  empty PostgreSQL database of your own;
* the real web stack, as ``powerdesk serve`` runs it: uvicorn (uvloop + httptools) in front of
  ``powerdesk.asgi`` — Django's WSGI handler and every middleware on ``core.wsgi_threads`` —
  ``--workers`` processes (default 2, one per core);
* a **separate** load-generator process on loopback that plays WeChat: every request is a
  safe-mode (AES) text message "电费" from the bound follower, encrypted and signed beforehand by
  wechatpy (WeChat's side), each with its own MsgId, so dedup and the inbox writes happen for
  real. Requests leave at a **constant arrival rate** (open loop: request *i* is due at
  ``t0 + i / rate`` whatever happened to the others — a slow answer never delays the next
  request, and a request that cannot leave on time still counts from when it was due), so
  latency is measured from the scheduled time and coordinated omission cannot hide a stall.
  A request that finds no idle keep-alive connection opens a new one (up to 512); one whose idle
  connection the server had just closed (no answer at all) is sent again on a new one, as HTTP
  clients do (``resent_after_keepalive_close``; its latency still counts from the schedule).

Each answer is then checked as WeChat would: HTTP 200, the envelope decrypted and its
signature checked by wechatpy, a text reply to the follower naming 户号 0000000001 and its
bill. Anything else is an error, by kind: ``http_<status>``, ``TimeoutError`` (no answer in
10 s), ``deferred_success`` (the view answered "success" because the reply took longer than its
4 s passive-reply budget — the follower would get it later through the API, WeChat not at once),
``not_encrypted``, ``undecryptable``, ``wrong_addressee``, ``wrong_answer``. Afterwards the inbox
must hold exactly one row per MsgId sent (``inbox_rows`` / ``inbox_rows_expected``).

ours vs wechatpy
----------------
``--impl wechatpy`` sends the same load to ``/bench/wechatpy/<slug>/``, a view that exists only
in the bench's server process (``bench_asgi_application`` sets it as ``request.urlconf``;
nothing is added to the app's URLs or settings, and the app never imports wechatpy). It is our
callback view with the protocol layer swapped for wechatpy's: ``check_signature``,
``WeChatCrypto.decrypt_message`` (msg_signature + AES), ``parse_message``, ``TextReply.render``
and ``encrypt_message`` — everything else (account lookup, the timestamp window, the engine, its
database work, the bill intent) is the same code. ``both`` runs ours, then wechatpy's, against
the same server and database; ``--rounds R`` alternates them R times (A B A B …) and keeps each
one's least disturbed round (all rounds are listed).

    python bench/wechat_callback_load.py                       # 300 msg/s for 20 s, ours and wechatpy
    python bench/wechat_callback_load.py --rate 300 --seconds 60 --impl ours
    python bench/wechat_callback_load.py --rounds 3 --followers 50 --interface wsgi
    python bench/wechat_callback_load.py --smoke               # 10 msg/s for 2 s each (bench/run_all.py)
    python scripts/with_postgres.py python bench/wechat_callback_load.py --profile 200   # where time goes

Prints one JSON document: per implementation ``{offered_rate, seconds, sent, ok, errors,
error_kinds, throughput_rps, latency_ms: {p50, p90, p99, max, mean} (from the scheduled time,
over every request, errors included), send_lag_ms (how late the generator itself sent),
connections, cpu_ms_per_request: {server, postgres, load_generator…} (CPU seconds the uvicorn
processes and the PostgreSQL server spent, per request — at 300 msg/s on 2 cores everything
must fit in 6.7 ms), inbox_rows, server_log: {error_lines, too_many_clients}, met_target,
rounds}``; ``target`` (p99 ≤ 50 ms with no errors); ``ours_vs_wechatpy`` (p50/p99 ratios and
server CPU ratio, < 1 means ours is cheaper); the machine (cores, load average before and after:
the figures are only as good as the machine is quiet).

Options: ``--rate`` (messages/s), ``--seconds`` (measured), ``--warmup`` (seconds at the same rate
first, not counted), ``--impl ours|wechatpy|both``, ``--rounds``, ``--workers`` (uvicorn
processes, default 2), ``--interface asgi|a2wsgi|django-asgi|wsgi`` (asgi: ``powerdesk.asgi``
exactly as ``powerdesk serve`` runs it — Django's WSGI handler on a bounded thread pool,
``core.wsgi_threads``; a2wsgi: the same on a2wsgi, which ``powerdesk.asgi`` used before;
django-asgi: Django's own ASGI handler, used before that; wsgi: uvicorn's own WSGI adapter), ``--followers N`` (N bound followers — family members of the same account — send in
turn; default 1, every message from the same follower), ``--log-level`` (the server's; default
WARNING, INFO adds the request log line per message), ``--database-url`` (an empty PostgreSQL
database instead of a throw-away server), ``--profile N`` (diagnostics, needs ``DATABASE_URL``:
N sequential requests in-process through Django's test client, wall and CPU time, the SQL of one
request with timings, and cProfile by cumulative and own time).

Findings (docs/performance.md has the figures)
----------------------------------------------
* Django's ASGI handler ran each request's sync view and middleware in a new thread, hopping
  between it and the event loop per middleware: ~4 ms more server CPU per message than the same
  stack on a thread pool, and no connection reuse. ``powerdesk.asgi`` now serves HTTP on a
  bounded thread pool (``--interface django-asgi`` keeps the old way measurable).
* One "电费" message took 19 SQL statements, each compiled by the ORM; it now takes 9, written
  once (core/rowsql.py, raw selectors pinned to their ORM twins by tests), with the two rows
  every concurrent message shares — the follower's thread and the keyword rule's hit count —
  updated last, just before commit.
* Then 6: the account is kept a second per process, and the events, the thread and the hit
  count go as one statement (``core.rowsql.WriteBatch``: WITH clauses on PostgreSQL); the two
  tables written per message lost the index entries nothing needed (partial indexes on foreign
  keys that are mostly unset, no duplicates of composite indexes).
* a2wsgi handed each request between the event loop and its thread five times (body, start,
  each chunk, end, completion); ``core.wsgi_threads`` does it once for ordinary requests:
  112–139 vs 465–505 µs of server CPU per request for a trivial WSGI app.
* ``p99_by_second_ms`` tells steady queueing (every second high: CPU is short) from stalls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
SLUG = "demo"
APP_ID = "wx5d3a1c0e9b7f2468"
TOKEN = "powerdesk"  # noqa: S105 (the demo account's published callback token)
ENCODING_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ORIGINAL_ID = "gh_3f2a9c1d7e5b"


def openid(number: int) -> str:
    """The bench's followers: 28 characters, like WeChat's openids."""
    return f"oBench{number:022d}"


ACCOUNT_NUMBER = "0000000001"
TARGET_P99_MS = 50.0
PATHS = {"ours": f"/channels/wechat/{SLUG}/", "wechatpy": f"/bench/wechatpy/{SLUG}/"}
REQUEST_TIMEOUT_SECONDS = 10.0
MAX_CONNECTIONS = 512


# --- the server side (imported by uvicorn in the server process) ---------------------------------


def _bench_urlconf():
    """The project's URLs plus the bench-only wechatpy route, as a module object."""
    import types

    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    import powerdesk.urls

    urlconf = types.ModuleType("wechat_callback_load_urls")
    urlconf.urlpatterns = [
        path("bench/wechatpy/<slug:slug>/", csrf_exempt(wechatpy_callback)),
        *powerdesk.urls.urlpatterns,
    ]
    return urlconf


def bench_asgi_application():
    """``powerdesk.asgi`` as ``powerdesk serve`` runs it — Django's WSGI handler on the bounded
    thread pool — with the bench-only wechatpy route set per request as ``request.urlconf``
    (the project's own URLs are all still there)."""
    from powerdesk.asgi import build_application

    return build_application(bench_wsgi_application())


def bench_a2wsgi_application():
    """``--interface a2wsgi``: the same, on a2wsgi's WSGIMiddleware (what ``powerdesk.asgi``
    used before ``core.wsgi_threads``; kept to measure why it no longer does)."""
    from a2wsgi import WSGIMiddleware
    from django.conf import settings

    http = WSGIMiddleware(bench_wsgi_application(), workers=settings.HTTP_THREADS)

    async def application(scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(scope["type"])
        await http(scope, receive, send)

    return application


def bench_django_asgi_application():
    """``--interface django-asgi``: Django's own ASGI handler instead (what ``powerdesk.asgi``
    used before; kept to measure why it no longer does)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "powerdesk.settings")
    import django
    from django.core.handlers.asgi import ASGIHandler

    django.setup(set_prefix=False)
    urlconf = _bench_urlconf()

    class BenchASGIHandler(ASGIHandler):
        async def get_response_async(self, request):
            request.urlconf = urlconf
            return await super().get_response_async(request)

    return BenchASGIHandler()


def bench_wsgi_application():
    """The project's WSGI application (``core.callback_handler``: callbacks on the short
    middleware chain) with the bench route, which is a callback too, so wechatpy's view gets
    the same chain as ours (``--interface wsgi``: uvicorn's own WSGI adapter runs it on a pool
    of 10 threads per worker)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "powerdesk.settings")
    import django
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    django.setup(set_prefix=False)
    from powerdesk.core.callback_handler import CallbackHandler, wsgi_application

    urlconf = _bench_urlconf()

    class WithBenchRoute:
        def get_response(self, request):
            request.urlconf = urlconf
            return super().get_response(request)

    class BenchWSGIHandler(WithBenchRoute, WSGIHandler):
        pass

    class BenchCallbackHandler(WithBenchRoute, CallbackHandler):
        pass

    return wsgi_application(
        BenchWSGIHandler(), BenchCallbackHandler(), prefixes=(*settings.CALLBACK_PATH_PREFIXES, "/bench/")
    )


def _wechatpy_message_to_ours(message):
    """wechatpy's parsed message as our ``WeChatMessage`` (same lower-casing), so the engine
    and the dedup key see exactly what the real view gives them."""
    from powerdesk.channels.wechat.protocol import WeChatMessage

    data = message._data

    def number(name):
        value = data.get(name)
        return int(value) if value not in (None, "") else None

    return WeChatMessage(
        to_user=data.get("ToUserName", ""),
        from_user=data.get("FromUserName", ""),
        create_time=int(data.get("CreateTime") or 0),
        msg_type=str(data.get("MsgType", "")).lower(),
        msg_id=number("MsgId"),
        content=data.get("Content"),
        event=str(data["Event"]).lower() if data.get("Event") is not None else None,
        event_key=data.get("EventKey"),
    )


_THEIR_CRYPTO: dict = {}


def wechatpy_callback(request, slug: str):
    """The callback view (powerdesk/channels/wechat/inbound.py) with wechatpy as the protocol
    layer. Bench only: the app itself never imports wechatpy."""
    from django.conf import settings
    from django.http import HttpResponse
    from wechatpy import parse_message
    from wechatpy.crypto import WeChatCrypto as TheirCrypto
    from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
    from wechatpy.replies import TextReply
    from wechatpy.utils import check_signature

    from powerdesk.channels.wechat.inbound import PASSIVE_REPLY_SECONDS, inbound_message, render_reply
    from powerdesk.channels.wechat.outbound import reply_text
    from powerdesk.channels.wechat.protocol import SUCCESS_BODY
    from powerdesk.channels.wechat_store.selectors import account_for_callback
    from powerdesk.conversations.choices import ReplyKind
    from powerdesk.conversations.engine import handle_inbound
    from powerdesk.conversations.messages import ChannelContext

    started = time.monotonic()
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    account = account_for_callback(slug)  # the same lookup as ours
    if account is None:
        return HttpResponse(status=404)
    query = request.GET
    try:
        timestamp, nonce = query["timestamp"], query["nonce"]
        check_signature(account.token, query["signature"], timestamp, nonce)
        if abs(time.time() - int(timestamp)) > account.timestamp_window_seconds:
            return HttpResponse(status=403)
        # Kept per sealed key, as ours is (wechat_store.selectors.account_crypto).
        crypto_key = (account.token, account.encoding_aes_key_ciphertext, account.app_id)
        crypto = _THEIR_CRYPTO.get(crypto_key)
        if crypto is None:
            crypto = _THEIR_CRYPTO[crypto_key] = TheirCrypto(account.token, account.encoding_aes_key, account.app_id)
        plaintext = crypto.decrypt_message(request.body, query["msg_signature"], timestamp, nonce)
        message = parse_message(plaintext)
    except (InvalidSignatureException, InvalidAppIdException):
        return HttpResponse(status=403)
    except (KeyError, ValueError, TypeError):
        return HttpResponse(status=400)
    ours = _wechatpy_message_to_ours(message)
    create_time = int(time.time())

    def render(reply) -> str:
        if reply.kind in (ReplyKind.TEXT, ReplyKind.LINK):
            return TextReply(message=message, content=reply_text(reply), time=create_time).render()
        return render_reply(reply, message=ours, create_time=create_time).decode()

    context = ChannelContext(
        site_url=account.h5_base_url or f"{request.scheme}://{request.get_host()}",
        greeting=account.greeting,
        passive_reply_seconds=PASSIVE_REPLY_SECONDS,
        defer_reply=settings.WECHAT_CALLBACK_DEFER_REPLIES,
        started_at=started,
    )
    reply = handle_inbound(inbound_message(ours, account=account), context=context, render=render)
    if not reply.rendered:
        return HttpResponse(SUCCESS_BODY, content_type="text/plain; charset=utf-8")
    body = crypto.encrypt_message(reply.rendered, secrets.token_hex(8), int(time.time()))
    return HttpResponse(body.encode(), content_type="application/xml; charset=utf-8")


# --- child roles ---------------------------------------------------------------------------------


def _role_setup(followers: int = 1) -> None:
    """Migrate, then the demo account and a bound follower with bills; print what the load needs."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "powerdesk.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from powerdesk.billing.testing import make_billing_history
    from powerdesk.conversations.demo import demo_conversations_setup
    from powerdesk.core.testing import make_account, make_company
    from powerdesk.customers.models import Binding, CustomerUser, Identity

    began = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrated = time.perf_counter() - began
    company = make_company()
    account = make_account(number=ACCOUNT_NUMBER, unit=company.station_a)
    for number in range(followers):  # the holder and, with --followers, family members
        customer = CustomerUser.objects.create(phone=f"138{number:08d}", display_name=f"张{number}")
        Identity.objects.create(
            customer_user=customer, provider="wechat_openid", app_id=APP_ID, subject=openid(number)
        )
        Binding.objects.create(
            customer_user=customer,
            account=account,
            role="holder" if number == 0 else "family",
            verified_by="sms_otp",
            channel="wechat",
            valid_from=timezone.now(),
        )
    make_billing_history(account)
    demo_conversations_setup()
    print(
        json.dumps(
            {"migrate_seconds": round(migrated, 1), "setup_seconds": round(time.perf_counter() - began, 1)}
        )
    )


def _role_serve(port: int, workers: int, log_level: str, interface: str = "asgi") -> None:
    """uvicorn as ``powerdesk serve`` runs it (same options), on the bench's application."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "powerdesk.settings")
    import uvicorn
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # as powerdesk serve does
    uvicorn.run(
        f"wechat_callback_load:bench_{interface.replace('-', '_')}_application",
        factory=True,
        interface="wsgi" if interface == "wsgi" else "asgi3",
        app_dir=str(BENCH_DIR),
        host="127.0.0.1",
        port=port,
        workers=workers,
        lifespan="off",
        log_config=None,
        log_level=log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=5,
    )


def _signature(*parts: str) -> str:
    import hashlib

    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 (WeChat's protocol)


def _build_requests(
    *, path: str, port: int, count: int, rate: float, msgid_base: int, started: float, followers: int = 1
):
    """``count`` raw HTTP/1.1 POSTs, each a new "电费" text with its own MsgId, timestamped for
    when it is due (so a long run never leaves the 300 s window). WeChat's side is wechatpy's."""
    try:
        from wechatpy.crypto import WeChatCrypto as TheirCrypto

        crypto = TheirCrypto(TOKEN, ENCODING_AES_KEY, APP_ID)

        def encrypt(xml: str, nonce: str, timestamp: int) -> str:
            return re.search(
                r"<Encrypt><!\[CDATA\[(.*?)\]\]></Encrypt>", crypto.encrypt_message(xml, nonce, timestamp)
            ).group(1)
    except ImportError:  # a test-only peer; fall back to ours to play WeChat
        sys.path.insert(0, str(ROOT))
        from powerdesk.channels.wechat.crypto import WeChatCrypto

        ours = WeChatCrypto(TOKEN, ENCODING_AES_KEY, APP_ID)

        def encrypt(xml: str, nonce: str, timestamp: int) -> str:
            return ours.encrypt(xml.encode(), nonce, timestamp)[0]

    requests = []
    for index in range(count):
        timestamp = int(started + index / rate)
        nonce = str(100000000 + index)
        msg_id = msgid_base + index
        sender = openid(index % followers)
        xml = (
            f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName>"
            f"<FromUserName><![CDATA[{sender}]]></FromUserName><CreateTime>{timestamp}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[电费]]></Content><MsgId>{msg_id}</MsgId></xml>"
        )
        encrypt_value = encrypt(xml, nonce, timestamp)
        body = (
            f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypt_value}]]></Encrypt></xml>"
        ).encode()
        query = (
            f"signature={_signature(TOKEN, str(timestamp), nonce)}&timestamp={timestamp}&nonce={nonce}"
            f"&openid={sender}&encrypt_type=aes&msg_signature={_signature(TOKEN, str(timestamp), nonce, encrypt_value)}"
        )
        head = (
            f"POST {path}?{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: Mozilla/4.0\r\n"
            f"Content-Type: text/xml\r\nContent-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


async def _read_response(reader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, body
            body += chunk[:-2]
    return status, b""


async def _open_loop(requests: list[bytes], *, port: int, rate: float) -> dict:
    """Send ``requests`` at ``rate`` per second from a fixed schedule; latency from the schedule."""
    # perf_counter, not loop.time(): uvloop's clock moves in whole milliseconds
    clock = time.perf_counter
    idle: list[tuple] = []
    opened = 0
    resent = 0  # requests sent again because the server had closed their idle connection
    slots = asyncio.Semaphore(MAX_CONNECTIONS)
    results: list = [None] * len(requests)
    lags: list[float] = []
    start = clock() + 0.05

    async def one(index: int, due: float) -> None:
        nonlocal opened, resent
        async with slots:
            connection = idle.pop() if idle else None
            try:
                if connection is not None:
                    try:
                        reader, writer = connection
                        writer.write(requests[index])
                        status, body = await asyncio.wait_for(_read_response(reader), REQUEST_TIMEOUT_SECONDS)
                    except (asyncio.IncompleteReadError, ConnectionResetError) as exc:
                        if getattr(exc, "partial", b""):
                            raise
                        # The server closed this idle keep-alive connection (uvicorn: after 5 s)
                        # before our request reached it — no answer at all. Send again on a new
                        # connection, as HTTP clients do (safe: the callback dedups by MsgId).
                        connection[1].close()
                        connection = None
                        resent += 1
                if connection is None:
                    connection = await asyncio.open_connection("127.0.0.1", port)
                    opened += 1
                    reader, writer = connection
                    writer.write(requests[index])
                    status, body = await asyncio.wait_for(_read_response(reader), REQUEST_TIMEOUT_SECONDS)
                results[index] = (status, clock() - due, body)
                idle.append(connection)
            except (
                OSError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                TimeoutError,
                ValueError,
            ) as exc:
                results[index] = (type(exc).__name__, clock() - due, b"")
                if connection is not None:
                    connection[1].close()

    tasks = []
    for index in range(len(requests)):
        due = start + index / rate
        delay = due - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        lags.append(max(0.0, clock() - due))
        tasks.append(asyncio.create_task(one(index, due)))
    await asyncio.gather(*tasks)
    finished = clock()
    for _reader, writer in idle:
        writer.close()
    return {"results": results, "lags": lags, "elapsed": finished - start, "connections": opened, "resent": resent}


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]


def _check_reply(body: bytes, expected_text: str, sender: str) -> str | None:
    """None if ``body`` is what WeChat should get: a signed, encrypted text reply for the follower."""
    from wechatpy import parse_message
    from wechatpy.crypto import WeChatCrypto as TheirCrypto

    if body == b"success":  # answered later through the customer-service API: too slow for WeChat
        return "deferred_success"
    text = body.decode("utf-8", "replace")
    found = {
        name: re.search(rf"<{name}>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</{name}>", text)
        for name in ("MsgSignature", "TimeStamp", "Nonce")
    }
    if not all(found.values()):
        return "not_encrypted"
    try:
        crypto = TheirCrypto(TOKEN, ENCODING_AES_KEY, APP_ID)
        plain = crypto.decrypt_message(
            text, found["MsgSignature"].group(1), found["TimeStamp"].group(1), found["Nonce"].group(1)
        )
        reply = parse_message(plain)
    except Exception:  # any refusal of the reply by WeChat's side is one kind of error
        return "undecryptable"
    if reply._data.get("ToUserName") != sender or reply._data.get("MsgType") != "text":
        return "wrong_addressee"
    if expected_text not in reply._data.get("Content", ""):
        return "wrong_answer"
    return None


def _role_load(config: dict) -> None:
    """The load generator (its own process): build, send open-loop, check, print JSON."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    rate, seconds, warmup = config["rate"], config["seconds"], config["warmup"]
    measured, warm = max(1, round(rate * seconds)), round(rate * warmup)
    began = time.time() + 1.0
    requests = _build_requests(
        path=config["path"],
        port=config["port"],
        count=warm + measured,
        rate=rate,
        msgid_base=config["msgid_base"],
        started=began,
        followers=config["followers"],
    )
    if warm:
        asyncio.run(_open_loop(requests[:warm], port=config["port"], rate=rate))
    run = asyncio.run(_open_loop(requests[warm:], port=config["port"], rate=rate))
    error_kinds: dict[str, int] = {}
    latencies = []
    for index, (status, latency, body) in enumerate(run["results"]):
        problem = f"http_{status}" if isinstance(status, int) and status != 200 else None
        if not isinstance(status, int):
            problem = status
        elif problem is None:
            sender = openid((warm + index) % config["followers"])
            problem = _check_reply(body, config["expected_text"], sender)
        if problem:
            error_kinds[problem] = error_kinds.get(problem, 0) + 1
        else:
            latencies.append(latency * 1000)
    all_latencies = sorted(latency * 1000 for _status, latency, _body in run["results"])
    lags = sorted(lag * 1000 for lag in run["lags"])
    ok = len(latencies)
    # p99 per second of the schedule: steady queueing and a few stalls look alike in one p99
    per_second = max(1, round(rate))
    by_second = []
    for start in range(0, len(run["results"]), per_second):
        window = sorted(latency * 1000 for _status, latency, _body in run["results"][start : start + per_second])
        by_second.append(round(_percentile(window, 0.99), 1))
    print(
        json.dumps(
            {
                "offered_rate": rate,
                "seconds": seconds,
                "warmup_requests": warm,
                "sent": measured,
                "ok": ok,
                "errors": measured - ok,
                "error_kinds": error_kinds,
                "throughput_rps": round(ok / run["elapsed"], 1) if run["elapsed"] else None,
                # over every request sent, errors included (a timeout is a 10 s latency, not a gap)
                "latency_ms": {
                    "p50": round(_percentile(all_latencies, 0.50), 2),
                    "p90": round(_percentile(all_latencies, 0.90), 2),
                    "p99": round(_percentile(all_latencies, 0.99), 2),
                    "max": round(all_latencies[-1], 2),
                    "mean": round(sum(all_latencies) / len(all_latencies), 2),
                },
                "p99_by_second_ms": by_second,
                "send_lag_ms": {"p99": round(_percentile(lags, 0.99), 2), "max": round(lags[-1], 2)},
                "connections": run["connections"],
                "resent_after_keepalive_close": run["resent"],
            }
        )
    )


def _role_profile(count: int, impl: str) -> None:
    """Diagnostics: ``count`` sequential requests in this process through Django's test client
    (the same middleware and view, no server, one kept database connection): wall and CPU time
    per request, the queries of one request with their times, then cProfile over ``count`` more."""
    import cProfile
    import io
    import pstats

    _role_setup()
    from django.db import connection
    from django.test import Client

    bench_asgi_application()  # django.setup
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    import powerdesk.urls

    powerdesk.urls.urlpatterns.insert(0, path("bench/wechatpy/<slug:slug>/", csrf_exempt(wechatpy_callback)))
    client = Client()
    requests = _build_requests(
        path=PATHS[impl],
        port=80,
        count=2 * count + 20,
        rate=1000.0,
        msgid_base=9 * 10**12,
        started=time.time(),
    )

    def send(raw: bytes):
        head, body = raw.split(b"\r\n\r\n", 1)
        target = head.split(b" ", 2)[1].decode()
        response = client.generic("POST", target, body, content_type="text/xml")
        assert response.status_code == 200, response.status_code
        return response

    for raw in requests[:20]:  # warm caches (keyword automaton, keyring, …)
        send(raw)
    walls, cpus = [], []
    queries: list[tuple[float, str]] = []

    def record(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append((time.perf_counter() - began, sql))

    with connection.execute_wrapper(record):
        for raw in requests[20 : 20 + count]:
            wall, cpu = time.perf_counter(), time.process_time()
            send(raw)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
    profiler = cProfile.Profile()
    for raw in requests[20 + count :]:
        profiler.enable()
        send(raw)
        profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
    print(out.getvalue())
    areas = [  # own time (cProfile's tottime, wall clock) by where the code lives, first match wins
        ("psycopg: sending and waiting for PostgreSQL", "/psycopg/"),
        ("Django ORM (query building, model instances)", "/django/db/"),
        ("Django request handling, middleware, other", "/django/"),
        ("protocol: ours (signature, AES, XML)", "/powerdesk/channels/wechat/"),
        ("protocol: wechatpy", "/wechatpy/"),
        ("XML/crypto libraries", ("/defusedxml/", "/xml/", "/cryptography/", "xmltodict")),
        ("powerdesk: engine, intents, billing, privacy", "/powerdesk/"),
    ]
    own: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in pstats.Stats(profiler).stats.items():
        area = next(
            (
                label
                for label, marks in areas
                if any(m in filename for m in ((marks,) if isinstance(marks, str) else marks))
            ),
            "other (stdlib, builtins)",
        )
        own[area] = own.get(area, 0.0) + tottime
    total = sum(own.values())
    print(
        json.dumps(
            {
                area: f"{seconds / count * 1000:.2f} ms ({seconds / total:.0%})"
                for area, seconds in sorted(own.items(), key=lambda item: -item[1])
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    per_request = len(queries) // count
    for seconds, sql in queries[-per_request:]:  # the last request's queries
        print(f"{seconds * 1000:>7.2f} ms  {sql[:150]}")
    walls.sort()
    print(
        json.dumps(
            {
                "impl": impl,
                "requests": count,
                "wall_ms": {
                    "p50": round(walls[len(walls) // 2], 2),
                    "p90": round(walls[int(len(walls) * 0.9)], 2),
                },
                "cpu_ms_mean": round(sum(cpus) / len(cpus), 2),
                "queries_per_request": len(queries) / count,
                "loadavg": os.getloadavg(),
            }
        )
    )


# --- the orchestrator ----------------------------------------------------------------------------


def _calibration_ms() -> float:
    """CPU milliseconds of a fixed pure-Python loop, best of three: this shared virtual machine's
    speed drifts by up to half between runs, so figures from different runs compare only
    alongside this number (lower is faster)."""
    best = float("inf")
    for _ in range(3):
        began = time.process_time()
        total = 0
        for i in range(1_000_000):
            total += i * i
        best = min(best, (time.process_time() - began) * 1000)
    return round(best, 1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _child(args: list[str], env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args], env=env, check=False, **kwargs
    )


@contextmanager
def _server(env: dict, *, port: int, workers: int, log_level: str, log_path: Path, interface: str = "asgi"):
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--role",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--log-level",
                log_level,
                "--interface",
                interface,
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start; see {log_path}")
                time.sleep(0.2)
            yield process
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _inbox_rows(monitor, msgid_base: int, count: int) -> int:
    """Inbound rows stored for this run's MsgIds (through a connection opened before the load, so
    a server that has used up PostgreSQL's connections cannot keep the bench from counting)."""
    row = monitor.execute(
        "SELECT count(*) FROM conversations_conversationmessage WHERE direction = 'inbound' "
        "AND dedup_key >= %s AND dedup_key <= %s AND length(dedup_key) = %s",
        (f"msgid:{msgid_base}", f"msgid:{msgid_base + count - 1}", len(f"msgid:{msgid_base}")),
    ).fetchone()
    return row[0]


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: [state, ppid, pgrp, session, …]."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _cpu_seconds(pids: list[int], *, reaped_children_of: int | None = None) -> float:
    """utime + stime of ``pids`` (+ the CPU of the dead children of one of them, e.g. PostgreSQL
    backends that served one connection and exited), in seconds."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields:
            total += int(fields[11]) + int(fields[12])
            if pid == reaped_children_of:
                total += int(fields[13]) + int(fields[14])
    return total / _CLOCK_TICKS


def _server_cpu(session_id: int) -> float:
    """The uvicorn master and workers (one session, started by the bench)."""
    pids = [pid for pid in _all_pids() if (fields := _stat_fields(pid)) and int(fields[3]) == session_id]
    return _cpu_seconds(pids)


def _postgres_cpu(port: int | None) -> float | None:
    """The throw-away PostgreSQL: its postmaster (found by port) and every backend, live or gone."""
    if port is None or not Path("/proc").is_dir():
        return None
    postmaster = None
    for pid in _all_pids():
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"postgres") and str(port).encode() in argv and b"-p" in argv:
            postmaster = pid
            break
    if postmaster is None:
        return None
    children = [pid for pid in _all_pids() if (fields := _stat_fields(pid)) and int(fields[1]) == postmaster]
    return _cpu_seconds([postmaster, *children], reaped_children_of=postmaster)


def run(
    *,
    rate: float,
    seconds: float,
    warmup: float,
    impls: list[str],
    workers: int,
    log_level: str,
    database_url: str | None,
    followers: int = 1,
    interface: str = "asgi",
    rounds: int = 1,
) -> dict:
    sys.path.insert(0, str(ROOT / "scripts"))
    document: dict = {
        "benchmark": "wechat_callback_load",
        "scenario": "safe-mode text 电费 from a bound follower → bill reply; PostgreSQL; uvicorn, powerdesk.asgi",
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_before": [round(x, 2) for x in os.getloadavg()],
            "calibration_ms_before": _calibration_ms(),
        },
        "server": {
            "workers": workers,
            "http_threads": os.environ.get("POWERDESK_HTTP_THREADS", "default (settings.HTTP_THREADS)"),
            "log_level": log_level,
            "interface": interface,
        },
        "followers": followers,
        "target": {"p99_ms": TARGET_P99_MS, "rate": rate},
    }
    with ExitStack() as stack:
        var_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="powerdesk-bench-cb-")))
        if database_url is None:
            from pg_server import postgres_server

            # Durable (fsync, synchronous commit): every message's commit is a real one.
            database_url = stack.enter_context(postgres_server(durable=True))
            document["postgres"] = {"durable": True, "server": "throw-away PostgreSQL 15, fsync and synchronous_commit on"}
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "POWERDESK_VAR_DIR": str(var_dir),
            "POWERDESK_LOG_LEVEL": log_level,
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(ROOT), str(BENCH_DIR), os.environ.get("PYTHONPATH", "")) if p
            ),
            "DJANGO_SETTINGS_MODULE": "powerdesk.settings",
        }
        setup = _child(
            ["--role", "setup", "--followers", str(followers)], env, capture_output=True, text=True
        )
        if setup.returncode != 0:
            raise RuntimeError(f"setup failed:\n{setup.stderr[-3000:]}")
        document["setup"] = json.loads(setup.stdout.strip().splitlines()[-1])
        import psycopg

        monitor = stack.enter_context(
            psycopg.connect(database_url.replace("postgres://", "postgresql://", 1), autocommit=True)
        )
        port = _free_port()
        log_path = var_dir / "server.log"
        server = stack.enter_context(
            _server(
                env, port=port, workers=workers, log_level=log_level, log_path=log_path, interface=interface
            )
        )
        pg_port = urlsplit(database_url).port
        session = int(time.time()) % 100_000
        # A B, B A, A B …: neighbours hurt both, and anything periodic in the background (PostgreSQL's
        # autovacuum wakes every minute) does not keep falling on the same side.
        runs = [impl for number in range(rounds) for impl in (impls if number % 2 == 0 else impls[::-1])]
        rounds_of: dict[str, list[dict]] = {impl: [] for impl in impls}
        for number, impl in enumerate(runs, start=1):
            msgid_base = (session * 100 + number) * 10**9
            config = {
                "path": PATHS[impl],
                "port": port,
                "rate": rate,
                "seconds": seconds,
                "warmup": warmup,
                "msgid_base": msgid_base,
                "followers": followers,
                "expected_text": f"户号 {ACCOUNT_NUMBER}",
            }
            server_cpu, pg_cpu = _server_cpu(server.pid), _postgres_cpu(pg_port)
            children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            load = _child(
                ["--role", "load", "--config", json.dumps(config)], env, capture_output=True, text=True
            )
            if load.returncode != 0:
                raise RuntimeError(f"load generator failed:\n{load.stderr[-3000:]}")
            result = json.loads(load.stdout.strip().splitlines()[-1])
            total = result["warmup_requests"] + result["sent"]
            # CPU per request, warm-up included: what 300 msg/s on 2 cores must fit (6.7 ms in all)
            pg_after = _postgres_cpu(pg_port)
            children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            generator_cpu = (children_after.ru_utime + children_after.ru_stime) - (
                children_before.ru_utime + children_before.ru_stime
            )
            result["cpu_ms_per_request"] = {
                "load_generator_incl_building_and_checking": round(generator_cpu * 1000 / total, 2),
                "server": round((_server_cpu(server.pid) - server_cpu) * 1000 / total, 2),
                "postgres": round((pg_after - pg_cpu) * 1000 / total, 2)
                if pg_cpu is not None and pg_after
                else None,
            }
            time.sleep(1)  # requests the generator gave up on may still be finishing
            result["inbox_rows"] = _inbox_rows(monitor, msgid_base, total)
            result["inbox_rows_expected"] = total
            result["met_target"] = result["errors"] == 0 and result["latency_ms"]["p99"] <= TARGET_P99_MS
            log_text = log_path.read_text(errors="replace")
            result["server_log"] = {  # cumulative over the server's life
                "error_lines": sum(1 for line in log_text.splitlines() if '"level": "ERROR"' in line),
                "too_many_clients": log_text.count("too many clients"),
            }
            rounds_of[impl].append(result)
        for impl, results in rounds_of.items():
            # the least disturbed round counts; every round is listed
            best = min(results, key=lambda r: (r["errors"], r["latency_ms"]["p99"]))
            document[impl] = {
                **best,
                "rounds": [
                    {
                        "p50": r["latency_ms"]["p50"],
                        "p99": r["latency_ms"]["p99"],
                        "errors": r["errors"],
                        "throughput_rps": r["throughput_rps"],
                    }
                    for r in results
                ],
            }
        document["machine"]["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        document["machine"]["calibration_ms_after"] = _calibration_ms()
    if "ours" in document and "wechatpy" in document:
        ours, theirs = document["ours"]["latency_ms"], document["wechatpy"]["latency_ms"]
        document["ours_vs_wechatpy"] = {
            "p50_ratio": round(ours["p50"] / theirs["p50"], 3) if theirs["p50"] else None,
            "p99_ratio": round(ours["p99"] / theirs["p99"], 3) if theirs["p99"] else None,
            "ours_not_slower_p50": ours["p50"] <= theirs["p50"] * 1.05,
            # CPU the server spent per request: steadier than latency on a shared machine
            "server_cpu_ratio": (
                round(document["ours"]["cpu_ms_per_request"]["server"] / theirs_cpu, 3)
                if (theirs_cpu := document["wechatpy"]["cpu_ms_per_request"]["server"])
                else None
            ),
        }
    return document


def bench(*, smoke: bool = False, database_url: str | None = None, **options) -> dict:
    """For bench/run_all.py: ``--smoke`` is 10 msg/s for 2 s per implementation, a functional check."""
    if smoke:
        result = run(
            rate=10,
            seconds=2,
            warmup=0.5,
            impls=["ours", "wechatpy"],
            workers=1,
            log_level="WARNING",
            database_url=None,
        )
        failed = [
            impl
            for impl in ("ours", "wechatpy")
            if result[impl]["errors"] or result[impl]["inbox_rows"] != result[impl]["inbox_rows_expected"]
        ]
        if failed:
            raise RuntimeError(
                f"callback load smoke failed for {failed}: {json.dumps(result, ensure_ascii=False)}"
            )
        return result
    return run(
        rate=300,
        seconds=20,
        warmup=3,
        impls=["ours", "wechatpy"],
        workers=2,
        log_level="WARNING",
        database_url=None,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="10 msg/s for 2 s each, one worker")
    parser.add_argument("--rate", type=float, default=300.0, help="messages per second (default 300)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds (default 20)")
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds at the same rate first, not measured"
    )
    parser.add_argument("--impl", choices=["ours", "wechatpy", "both"], default="both")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2)")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--database-url", help="an empty PostgreSQL database instead of a throw-away server")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="alternate the implementations this many times; best round counts",
    )
    parser.add_argument(
        "--interface",
        choices=["asgi", "a2wsgi", "django-asgi", "wsgi"],
        default="asgi",
        help="asgi: powerdesk.asgi as powerdesk serve runs it (default); a2wsgi: the same on "
        "a2wsgi; django-asgi: Django's own ASGI handler; wsgi: uvicorn's own WSGI adapter",
    )
    parser.add_argument(
        "--followers",
        type=int,
        default=1,
        help="bound followers sending in turn (default 1: every message from the same one)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        help="diagnostics: N sequential requests in-process with cProfile (needs DATABASE_URL)",
    )
    parser.add_argument("--role", choices=["setup", "serve", "load"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "setup":
        _role_setup(args.followers)
        return 0
    if args.role == "serve":
        _role_serve(args.port, args.workers, args.log_level, args.interface)
        return 0
    if args.role == "load":
        _role_load(json.loads(args.config))
        return 0
    if args.profile:
        _role_profile(args.profile, "wechatpy" if args.impl == "wechatpy" else "ours")
        return 0
    if args.smoke:
        document = bench(smoke=True)
    else:
        impls = ["ours", "wechatpy"] if args.impl == "both" else [args.impl]
        document = run(
            rate=args.rate,
            seconds=args.seconds,
            warmup=args.warmup,
            impls=impls,
            workers=args.workers,
            log_level=args.log_level,
            database_url=args.database_url,
            followers=args.followers,
            interface=args.interface,
            rounds=args.rounds,
        )
    print(json.dumps(document, indent=2, ensure_ascii=False))
    failed = [impl for impl in ("ours", "wechatpy") if impl in document and document[impl]["errors"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
