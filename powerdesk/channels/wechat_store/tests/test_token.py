"""The shared access_token: cached in the database, refreshed early, replaced once when refused."""

from datetime import timedelta

import pytest
from django.utils import timezone

from powerdesk.channels.wechat_store import token_store
from powerdesk.channels.wechat_store.client import WeChatApiClient
from powerdesk.channels.wechat_store.models import AccessTokenCache, ApiCallLog

pytestmark = pytest.mark.django_db


def stable_calls(fake) -> list[dict]:
    return fake.calls("/cgi-bin/stable_token")


def test_first_call_fetches_a_stable_token_and_caches_it(wechat, fake_wechat):
    wechat.menu_delete()

    [call] = stable_calls(fake_wechat)
    assert call["body"] == {
        "grant_type": "client_credential",
        "appid": fake_wechat.app_id,
        "secret": "***",
        "force_refresh": False,
    }
    row = AccessTokenCache.objects.get(app_id=fake_wechat.app_id)
    assert len(row.token) > 100
    assert timedelta(seconds=7100) < row.expires_at - timezone.now() <= timedelta(seconds=7200)


def test_other_clients_and_later_calls_reuse_the_cached_token(wechat, fake_wechat):
    wechat.menu_delete()
    other_worker = WeChatApiClient(fake_wechat.app_id, fake_wechat.secret, base_url=fake_wechat.url)
    other_worker.menu_delete()
    wechat.tags()

    assert len(stable_calls(fake_wechat)) == 1
    assert other_worker.access_token() == wechat.access_token()


def test_a_token_with_less_than_five_minutes_left_is_refreshed_first(wechat, fake_wechat):
    wechat.menu_delete()
    # Fetched 1 h 56 min ago: 4 minutes left.
    now = timezone.now()
    AccessTokenCache.objects.update(
        expires_at=now + timedelta(minutes=4), refreshed_at=now - timedelta(minutes=116)
    )
    # A new worker (no in-process copy) sees the nearly expired row.
    fresh_worker = WeChatApiClient(fake_wechat.app_id, fake_wechat.secret, base_url=fake_wechat.url)
    fresh_worker.menu_delete()

    calls = stable_calls(fake_wechat)
    assert [c["body"]["force_refresh"] for c in calls] == [False, False]
    assert AccessTokenCache.objects.get().expires_at - timezone.now() > timedelta(minutes=100)


def test_a_revoked_token_is_replaced_once_and_the_call_retried(wechat, fake_wechat):
    wechat.menu_delete()
    old = wechat.access_token()
    fake_wechat.expire_tokens(mode="invalidate")

    wechat.menu_delete()

    new = wechat.access_token()
    assert new != old
    assert AccessTokenCache.objects.get().token == new
    # Normal mode suffices once the old token is revoked: no forced refresh.
    assert [c["body"]["force_refresh"] for c in stable_calls(fake_wechat)] == [False, False]
    deletes = fake_wechat.calls("/cgi-bin/menu/delete")
    assert [c["errcode"] for c in deletes] == [0, 40001, 0]
    log = list(
        ApiCallLog.objects.filter(endpoint="/cgi-bin/menu/delete")
        .order_by("id")
        .values_list("errcode", "attempt")
    )
    assert log == [(0, 1), (40001, 1), (0, 2)]


def test_an_expired_token_42001_is_replaced_the_same_way(wechat, fake_wechat):
    wechat.menu_delete()
    fake_wechat.expire_tokens(mode="expire")

    wechat.menu_delete()

    assert [c["errcode"] for c in fake_wechat.calls("/cgi-bin/menu/delete")] == [0, 42001, 0]
    assert len(stable_calls(fake_wechat)) == 2


def test_refused_token_that_wechat_still_hands_out_is_force_refreshed(wechat, fake_wechat):
    wechat.menu_delete()
    # WeChat says 40001 although its current token is ours: normal mode returns the same token.
    fake_wechat.fail_next(errcode=40001, path="/cgi-bin/menu/delete")

    wechat.menu_delete()

    assert [c["body"]["force_refresh"] for c in stable_calls(fake_wechat)] == [False, False, True]
    assert [c["errcode"] for c in fake_wechat.calls("/cgi-bin/menu/delete")] == [0, 40001, 0]


def test_token_refused_twice_is_not_retried_a_third_time(wechat, fake_wechat):
    from powerdesk.channels.base import ChannelError

    wechat.menu_delete()
    fake_wechat.fail_next(count=2, errcode=40001, path="/cgi-bin/menu/delete")

    with pytest.raises(ChannelError) as caught:
        wechat.menu_delete()

    assert caught.value.vendor_code == "40001"
    assert caught.value.permanent is False
    assert len(fake_wechat.calls("/cgi-bin/menu/delete")) == 3  # the first success, then two


def test_a_worker_holding_a_token_another_worker_replaced_fetches_nothing(wechat, fake_wechat):
    """The loser of the race re-reads: its stale token is already replaced in the row."""
    wechat.menu_delete()
    stale = wechat.access_token()
    AccessTokenCache.objects.update(token="replaced-by-another-worker", refreshed_at=timezone.now())

    def fetch(force):  # pragma: no cover - must not be called
        raise AssertionError("no fetch expected")

    cached = token_store.token_obtain(app_id=fake_wechat.app_id, fetch=fetch, stale_token=stale)

    assert cached.token == "replaced-by-another-worker"
    assert len(stable_calls(fake_wechat)) == 1


def test_wrong_secret_is_a_permanent_failure(fake_wechat, db):
    from powerdesk.channels.base import ChannelError

    client = WeChatApiClient(fake_wechat.app_id, "not-the-secret", base_url=fake_wechat.url)
    with pytest.raises(ChannelError) as caught:
        client.menu_get()
    assert (caught.value.permanent, caught.value.vendor_code) == (True, "40125")
    assert not AccessTokenCache.objects.exclude(token="").exists()


def test_token_forget_makes_the_next_call_fetch(wechat, fake_wechat):
    wechat.menu_delete()
    token_store.token_forget(fake_wechat.app_id)
    WeChatApiClient(fake_wechat.app_id, fake_wechat.secret, base_url=fake_wechat.url).menu_delete()
    assert len(stable_calls(fake_wechat)) == 2


def test_the_secret_never_appears_in_repr(wechat, fake_wechat):
    assert fake_wechat.secret not in repr(wechat)
