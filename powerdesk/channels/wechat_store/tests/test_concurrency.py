"""Many workers, one token: on a real PostgreSQL server, concurrent callers fetch it once."""

import os
import threading

import pytest
from django.db import connection

from powerdesk.channels.wechat_store.client import WeChatApiClient
from powerdesk.channels.wechat_store.models import AccessTokenCache

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL"), reason="needs concurrent writers (PostgreSQL run)"
    ),
]

WORKERS = 8


def run_concurrently(func, n: int = WORKERS) -> list:
    barrier = threading.Barrier(n)
    outcomes: list = []

    def worker():
        try:
            barrier.wait()
            outcomes.append(func())
        except Exception as exc:  # collected and asserted on below
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def new_worker(fake) -> WeChatApiClient:
    """A separate process's client: nothing in memory, only the shared table."""
    return WeChatApiClient(fake.app_id, fake.secret, base_url=fake.url, timeout=5)


def test_eight_workers_with_an_empty_cache_fetch_the_token_once(fake_wechat):
    tokens = run_concurrently(lambda: new_worker(fake_wechat).access_token())

    assert [c["body"]["force_refresh"] for c in fake_wechat.calls("/cgi-bin/stable_token")] == [False]
    assert len(set(tokens)) == 1 and isinstance(tokens[0], str)
    assert AccessTokenCache.objects.get().token == tokens[0]


def test_eight_workers_refused_at_once_replace_the_token_once(fake_wechat):
    first = new_worker(fake_wechat)
    first.menu_delete()
    fake_wechat.expire_tokens(mode="invalidate")
    workers = [new_worker(fake_wechat) for _ in range(WORKERS)]
    for worker in workers:
        worker.access_token()  # each holds the revoked token in memory

    outcomes = run_concurrently(lambda: workers.pop().menu_delete())

    assert outcomes == [None] * WORKERS
    assert [c["body"]["force_refresh"] for c in fake_wechat.calls("/cgi-bin/stable_token")] == [False, False]
    # Every worker's retry succeeded with the one new token: nobody revoked anybody.
    assert sorted(c["errcode"] for c in fake_wechat.calls("/cgi-bin/menu/delete")) == [0] * 9 + [40001] * 8
