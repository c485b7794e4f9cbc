"""Vendor failures become ChannelError(permanent=…); every attempt is in the call log."""

import socket
from datetime import datetime

import pytest

from powerdesk.channels.base import ChannelError
from powerdesk.channels.wechat_store.client import WeChatApiClient
from powerdesk.channels.wechat_store.errors import BEIJING, error_for_errcode, rule_for
from powerdesk.channels.wechat_store.models import ApiCallLog

pytestmark = pytest.mark.django_db


def failure_of(call) -> ChannelError:
    with pytest.raises(ChannelError) as caught:
        call()
    return caught.value


@pytest.mark.parametrize(
    ("errcode", "permanent"),
    [(-1, False), (45011, False), (45009, False), (48001, True), (40003, True), (45015, True), (50002, True)],
)
def test_injected_errcodes_are_classified(wechat, fake_wechat, errcode, permanent):
    fake_wechat.fail_next(errcode=errcode, path="/cgi-bin/tags/get")
    error = failure_of(wechat.tags)
    assert (error.permanent, error.vendor_code) == (permanent, str(errcode))
    assert error.endpoint == "/cgi-bin/tags/get"
    # Not retried: only token errors are.
    assert len(fake_wechat.calls("/cgi-bin/tags/get")) == 1
    [row] = ApiCallLog.objects.filter(endpoint="/cgi-bin/tags/get")
    assert (row.outcome, row.errcode, row.http_status) == ("vendor_error", errcode, 200)


def test_daily_quota_says_when_to_come_back(wechat, fake_wechat):
    fake_wechat.fail_next(errcode=45009, path="/cgi-bin/tags/get")
    error = failure_of(wechat.tags)
    assert 0 < error.retry_after <= 86400


def test_minute_quota_says_a_minute():
    assert error_for_errcode(45011, "api minute-quota reach limit", endpoint="/x").retry_after == 60


def test_midnight_is_reckoned_in_beijing():
    error = error_for_errcode(45009, "quota", endpoint="/x", now=datetime(2026, 3, 1, 23, 0, tzinfo=BEIJING))
    assert error.retry_after == 3600


def test_unknown_codes_are_classed_by_family():
    assert rule_for(45999).permanent is False
    assert rule_for(40999).permanent is True
    assert rule_for(61234).permanent is False
    assert rule_for(-1).permanent is False


def test_invalid_appid_is_permanent(fake_wechat):
    client = WeChatApiClient("wx0000000000000000", "whatever", base_url=fake_wechat.url)
    error = failure_of(client.tags)
    assert (error.permanent, error.vendor_code) == (True, "40013")
    [row] = ApiCallLog.objects.all()
    assert (row.endpoint, row.errcode) == ("/cgi-bin/stable_token", 40013)


def test_http_500_is_transient_and_logged(wechat, fake_wechat):
    wechat.tags()
    fake_wechat.fail_next(http_status=500, path="/cgi-bin/tags/get")
    error = failure_of(wechat.tags)
    assert (error.permanent, error.vendor_code) == (False, "http.500")
    row = ApiCallLog.objects.filter(endpoint="/cgi-bin/tags/get").first()
    assert (row.outcome, row.http_status, row.errcode) == ("http_error", 500, None)


def test_a_404_means_a_wrong_base_url_and_is_permanent(fake_wechat):
    client = WeChatApiClient(
        fake_wechat.app_id, fake_wechat.secret, base_url=fake_wechat.url + "/_fake/nowhere"
    )
    error = failure_of(client.tags)
    assert (error.permanent, error.vendor_code) == (True, "http.404")


def test_a_slow_answer_is_a_transient_timeout(wechat, fake_wechat):
    wechat.tags()  # the token is cached with the ordinary timeout
    client = WeChatApiClient(fake_wechat.app_id, fake_wechat.secret, base_url=fake_wechat.url, timeout=0.5)
    fake_wechat.fail_next(delay=1.5, path="/cgi-bin/tags/get")
    error = failure_of(client.tags)
    assert (error.permanent, error.vendor_code) == (False, "network.timeout")
    row = ApiCallLog.objects.filter(endpoint="/cgi-bin/tags/get").first()
    assert (row.outcome, row.http_status) == ("network_error", None)
    assert row.latency_ms >= 450


def test_an_unreachable_server_is_transient(db):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = WeChatApiClient("wx5d3a1c0e9b7f2468", "s", base_url=f"http://127.0.0.1:{port}")
    error = failure_of(client.tags)
    assert (error.permanent, error.vendor_code) == (False, "network.unreachable")


def test_every_call_is_logged_with_latency(wechat, fake_wechat):
    wechat.tags()
    wechat.menu_get()
    rows = list(ApiCallLog.objects.order_by("id").values_list("endpoint", "outcome", "errcode", "app_id"))
    assert rows == [
        ("/cgi-bin/stable_token", "ok", 0, fake_wechat.app_id),
        ("/cgi-bin/tags/get", "ok", 0, fake_wechat.app_id),
        ("/cgi-bin/menu/get", "vendor_error", 46003, fake_wechat.app_id),
    ]
    assert all(row.latency_ms >= 0 for row in ApiCallLog.objects.all())
