"""The fake itself: stable_token semantics, control API, call recording, command line."""

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from powerdesk.channels.wechat_store.fake_server import DEMO_APP_ID, DEMO_APP_SECRET


def post(url: str, payload) -> dict:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return json.loads(response.read())


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
        return json.loads(response.read())


def stable(fake, force=False) -> dict:
    body = {
        "grant_type": "client_credential",
        "appid": fake.app_id,
        "secret": fake.secret,
        "force_refresh": force,
    }
    return post(f"{fake.url}/cgi-bin/stable_token", body)


def test_normal_mode_returns_the_same_token_within_validity(fake_wechat):
    first, second = stable(fake_wechat), stable(fake_wechat)
    assert first["access_token"] == second["access_token"]
    assert 7190 < second["expires_in"] <= 7200


def test_force_refresh_revokes_the_previous_token(fake_wechat):
    old = stable(fake_wechat)["access_token"]
    new = stable(fake_wechat, force=True)["access_token"]
    assert new != old
    assert get(f"{fake_wechat.url}/cgi-bin/tags/get?access_token={old}")["errcode"] == 40001
    assert "tags" in get(f"{fake_wechat.url}/cgi-bin/tags/get?access_token={new}")


def test_last_five_minutes_renew_early_and_the_old_token_still_works(fake_wechat):
    old = stable(fake_wechat)["access_token"]
    fake_wechat.advance_clock(7200 - 200)
    renewed = stable(fake_wechat)
    assert renewed["access_token"] != old and renewed["expires_in"] == 7200
    assert "tags" in get(f"{fake_wechat.url}/cgi-bin/tags/get?access_token={old}")
    fake_wechat.advance_clock(300)
    assert get(f"{fake_wechat.url}/cgi-bin/tags/get?access_token={old}")["errcode"] == 42001


def test_credentials_and_method_are_checked(fake_wechat):
    url = f"{fake_wechat.url}/cgi-bin/stable_token"
    assert (
        post(url, {"grant_type": "client_credential", "appid": "wxnope", "secret": "x"})["errcode"] == 40013
    )
    assert (
        post(url, {"grant_type": "client_credential", "appid": fake_wechat.app_id, "secret": "x"})["errcode"]
        == 40125
    )
    assert post(url, {"grant_type": "password"})["errcode"] == 40002
    assert get(url)["errcode"] == 43002
    assert get(f"{fake_wechat.url}/cgi-bin/tags/get")["errcode"] == 41001


def test_calls_are_recorded_with_secrets_masked(fake_wechat):
    token = stable(fake_wechat)["access_token"]
    get(f"{fake_wechat.url}/cgi-bin/menu/get?access_token={token}")
    calls = fake_wechat.calls()
    assert [(c["path"], c["errcode"]) for c in calls] == [
        ("/cgi-bin/stable_token", 0),
        ("/cgi-bin/menu/get", 46003),
    ]
    assert calls[0]["body"]["secret"] == "***" and calls[1]["query"]["access_token"] == "***"
    assert token not in json.dumps(calls) and fake_wechat.secret not in json.dumps(calls)


def test_reset_forgets_calls_tokens_and_quota(fake_wechat):
    token = stable(fake_wechat)["access_token"]
    fake_wechat.set_quota(0)
    fake_wechat.fail_next(errcode=-1)
    fake_wechat.reset()
    assert fake_wechat.calls() == []
    assert get(f"{fake_wechat.url}/cgi-bin/tags/get?access_token={token}")["errcode"] == 40001
    assert stable(fake_wechat)["access_token"]  # the queued failure is gone too


@pytest.mark.parametrize(
    "payload", [{}, {"count": 0, "errcode": -1}, {"errcode": "busy"}, {"http_status": 200}, {"delay": 99}]
)
def test_bad_failure_injections_are_refused(fake_wechat, payload):
    with pytest.raises(urllib.error.HTTPError) as caught:
        post(f"{fake_wechat.url}/_fake/fail", payload)
    assert caught.value.code == 400


def test_unknown_paths_and_controls(fake_wechat):
    token = stable(fake_wechat)["access_token"]
    assert get(f"{fake_wechat.url}/cgi-bin/nothing?access_token={token}")["errcode"] == 48001
    with pytest.raises(urllib.error.HTTPError) as caught:
        get(f"{fake_wechat.url}/_fake/nothing")
    assert caught.value.code == 404


def test_command_line_serves_the_demo_account(tmp_path):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "powerdesk.channels.wechat_store.fake_server",
            "--port",
            "0",
            "--seed-followers",
            "20",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in line
        url = line.split("listening on ")[1].split()[0]
        body = {"grant_type": "client_credential", "appid": DEMO_APP_ID, "secret": DEMO_APP_SECRET}
        token = post(f"{url}/cgi-bin/stable_token", body)["access_token"]
        followers = get(f"{url}/cgi-bin/user/get?access_token={token}")
        assert "o_demo_showcase" in followers["data"]["openid"]
        assert followers["total"] >= 15
    finally:
        process.terminate()
        process.wait(timeout=10)
