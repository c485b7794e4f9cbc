"""``powerdesk demo`` runs the fake WeChat API and the follower simulator beside the web server,
points every child's WeChat settings at the fake, and stops them with the rest."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from urllib.parse import urlencode

import pytest

from powerdesk.conversations.demo import DEMO_APP_ID, DEMO_APP_SECRET, demo_wechat_account_setup
from powerdesk.demo.supervisor import demo_children
from powerdesk.demo.tests.test_supervisor import PROJECT_DIR, SLEEPER, read_until, started_pids, wait_dead

SECRET_NAMES = (
    "POWERDESK_WECHAT_FAKE_APP_SECRET",
    "POWERDESK_WECHAT_FAKE_CALLBACK_TOKEN",
    "POWERDESK_WECHAT_FAKE_ENCODING_AES_KEY",
)
POINTED = (
    "POWERDESK_WECHAT_API_BASE_URL",
    "POWERDESK_WECHAT_API_OAUTH_BASE_URL",
    "POWERDESK_WECHAT_OAUTH_ACCOUNT",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def wechat_settings(settings, db, monkeypatch):
    settings.PAYMENTS_MODE = "live"
    settings.DEMO_WECHAT_FAKE_ENABLED = True
    settings.DEMO_WECHAT_FAKE_URL = "http://127.0.0.1:8791"
    settings.DEMO_FOLLOWER_RATE_PER_MINUTE = 3
    settings.DEMO_FOLLOWERS = 50
    for name in POINTED:
        monkeypatch.delenv(name, raising=False)
    demo_wechat_account_setup()
    return settings


def by_name(**kwargs):
    return {child.name: child for child in demo_children(**kwargs)}


def test_the_demo_runs_the_fake_wechat_and_the_follower_simulator(wechat_settings):
    children = by_name(host="0.0.0.0", port=8123)  # noqa: S104
    assert list(children) == ["web", "worker", "clock", "fake-wechat", "follower-simulator"]
    fake = children["fake-wechat"]
    callback = "http://127.0.0.1:8123/channels/wechat/demo/"
    assert fake.argv == [
        sys.executable,
        "-m",
        "powerdesk.demo.fake_wechat",
        "--port",
        "8791",
        "--app-id",
        DEMO_APP_ID,
        "--callback-url",
        callback,
    ]
    assert fake.url == "http://127.0.0.1:8791"
    # The account's secrets reach the fake through its environment only: never argv, never the others.
    assert fake.env["POWERDESK_WECHAT_FAKE_APP_SECRET"] == DEMO_APP_SECRET
    assert fake.env["POWERDESK_WECHAT_FAKE_CALLBACK_TOKEN"] == "powerdesk"
    assert fake.env["POWERDESK_WECHAT_FAKE_ENCODING_AES_KEY"] == "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    assert DEMO_APP_SECRET not in " ".join(fake.argv)
    for name in ("web", "worker", "follower-simulator"):
        assert not set(SECRET_NAMES) & set(children[name].env)
    for child in children.values():  # the client and the H5 WeChat sign-in use the fake
        assert child.env["POWERDESK_WECHAT_API_BASE_URL"] == "http://127.0.0.1:8791"
        assert child.env["POWERDESK_WECHAT_API_OAUTH_BASE_URL"] == "http://127.0.0.1:8791"
        assert child.env["POWERDESK_WECHAT_OAUTH_ACCOUNT"] == "demo"
    simulator = children["follower-simulator"].argv
    assert simulator[:3] == [sys.executable, "-m", "powerdesk.cli"]
    assert simulator[3:] == [
        "simulate_followers",
        "--account",
        "demo",
        "--forever",
        "--rate",
        "3",
        "--followers",
        "50",
        "--callback-url",
        callback,
        "--fake-url",
        "http://127.0.0.1:8791",
        "--wait-ready",
        "86400",
    ]


def test_rate_zero_turns_the_simulator_off(wechat_settings):
    wechat_settings.DEMO_FOLLOWER_RATE_PER_MINUTE = 0
    assert list(by_name(host="127.0.0.1", port=8000)) == ["web", "worker", "clock", "fake-wechat"]


def test_switched_off_or_without_the_account_there_is_no_fake(wechat_settings):
    wechat_settings.DEMO_WECHAT_FAKE_ENABLED = False
    children = by_name(host="127.0.0.1", port=8000)
    assert list(children) == ["web", "worker", "clock"]
    assert not set(POINTED) & set(children["web"].env)
    wechat_settings.DEMO_WECHAT_FAKE_ENABLED = True
    from powerdesk.channels.wechat_store.models import WeChatAccount

    WeChatAccount.objects.filter(slug="demo").update(is_active=False)
    assert list(by_name(host="127.0.0.1", port=8000)) == ["web", "worker", "clock"]


def test_wechat_settings_the_operator_gave_win(wechat_settings, monkeypatch):
    monkeypatch.setenv("POWERDESK_WECHAT_API_BASE_URL", "https://api.weixin.qq.com")
    monkeypatch.setenv("POWERDESK_WECHAT_OAUTH_ACCOUNT", "other")
    web = by_name(host="127.0.0.1", port=8000)["web"]
    assert "POWERDESK_WECHAT_API_BASE_URL" not in web.env  # inherited from os.environ instead
    assert "POWERDESK_WECHAT_OAUTH_ACCOUNT" not in web.env
    assert web.env["POWERDESK_WECHAT_API_OAUTH_BASE_URL"] == "http://127.0.0.1:8791"


def test_the_fake_wechat_child_serves_and_stops_with_the_supervisor(wechat_settings):
    port = free_port()
    wechat_settings.DEMO_WECHAT_FAKE_URL = f"http://127.0.0.1:{port}"
    spec = by_name(host="127.0.0.1", port=8123)["fake-wechat"]
    secrets_env = {name: spec.env[name] for name in SECRET_NAMES}
    script = (
        "import sys\n"
        "from powerdesk.demo.supervisor import ChildSpec, Supervisor\n"
        f"web = ChildSpec('web', [{SLEEPER}])\n"
        f"fake = ChildSpec('fake-wechat', {list(spec.argv)!r}, {secrets_env!r}, url={spec.url!r})\n"
        "sys.exit(Supervisor([web, fake]).run())\n"
    )
    supervisor = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
    )
    try:
        lines = read_until(supervisor, r"fake WeChat API on http://127\.0\.0\.1:", timeout=30)
        assert f"[supervisor] fake-wechat serving http://127.0.0.1:{port}\n" in lines
        pids = started_pids(lines)
        base = f"http://127.0.0.1:{port}"
        # It holds the account's AppSecret (from the environment) and shows the chooser page.
        token_request = urllib.request.Request(  # noqa: S310  (the loopback fake)
            f"{base}/cgi-bin/stable_token",
            data=json.dumps(
                {"grant_type": "client_credential", "appid": DEMO_APP_ID, "secret": DEMO_APP_SECRET}
            ).encode(),
            method="POST",
        )
        with urllib.request.urlopen(token_request, timeout=5) as response:  # noqa: S310
            assert "access_token" in json.loads(response.read())
        query = urlencode(
            {
                "appid": DEMO_APP_ID,
                "redirect_uri": "http://127.0.0.1:8123/h5/wechat/callback/",
                "response_type": "code",
                "scope": "snsapi_base",
                "state": "x",
            }
        )
        authorize = f"{base}/connect/oauth2/authorize?{query}"
        with urllib.request.urlopen(authorize, timeout=5) as response:  # noqa: S310
            assert "o_demo_showcase" in response.read().decode()
        supervisor.send_signal(signal.SIGINT)
        assert supervisor.wait(timeout=15) == 0
        assert wait_dead(pids.values()) == []
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
