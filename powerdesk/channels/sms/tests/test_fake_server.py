"""The fake gateway's control endpoints and its standalone command."""

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from powerdesk.channels.sms import protocol
from powerdesk.channels.sms.fake_server import approved_templates, parse_template_codes

PROJECT_DIR = Path(__file__).resolve().parents[4]


def _post(url: str, payload) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310
        url, data=json.dumps(payload).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


@pytest.mark.parametrize(
    "payload",
    [{}, {"count": 0, "code": "X"}, {"http_status": 200}, {"delay": -1}, {"code": ""}, ["code"]],
)
def test_fail_endpoint_refuses_nonsense(fake_gateway, payload):
    status, body = _post(f"{fake_gateway.url}_fake/fail", payload)
    assert status == 400
    assert body["error"]


@pytest.mark.parametrize("payload", [{}, {"phone": "12345"}, {"phone": "13900000002", "code": 5}, ["phone"]])
def test_undeliverable_endpoint_refuses_nonsense(fake_gateway, payload):
    status, body = _post(f"{fake_gateway.url}_fake/undeliverable", payload)
    assert status == 400 and body["error"]


@pytest.mark.django_db
def test_reset_forgets_undeliverable_numbers(aliyun):
    from powerdesk.channels.sms.outbound import sms_send

    aliyun.undeliverable("13900000002")
    aliyun.reset()
    sms_send(
        phone="13900000002",
        template="otp",
        params={"action": "登录", "code": "123456", "minutes": 5},
        purpose="otp.sign_in",
        sensitive=True,
    )
    [report] = aliyun.reports("13900000002")
    assert (report["success"], report["err_code"], report["sms_size"]) == (True, "DELIVERED", "1")


def test_fail_endpoint_queues_failures_and_reset_forgets_them(fake_gateway):
    assert _post(f"{fake_gateway.url}_fake/fail", {"count": 3, "code": "Throttling.User"}) == (
        200,
        {"queued": 3},
    )
    assert _post(f"{fake_gateway.url}_fake/reset", {}) == (200, {"ok": True})
    assert fake_gateway.requests() == []


def test_templates_come_from_our_registry_in_the_gateways_syntax():
    assert approved_templates({"otp": "SMS_1"}) == {
        "SMS_1": "您正在${action}，验证码 ${code}，${minutes} 分钟内有效。请勿告诉他人。"
    }
    assert parse_template_codes(" otp:SMS_1 ,") == {"otp": "SMS_1"}
    with pytest.raises(ValueError):
        parse_template_codes("promo:SMS_2")


def test_standalone_command_serves_until_terminated(tmp_path):
    env = os.environ | {"POWERDESK_SMS_ALIYUN_ACCESS_KEY_SECRET": "cli-secret", "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        "-m",
        "powerdesk.channels.sms.fake_server",
        "--port",
        "0",
        "--access-key-id",
        "cli-key",
        "--templates",
        "otp:SMS_000000009",
        "--sign-name",
        "示范供电",
    ]
    process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()
        assert first.startswith("fake SMS gateway listening on http://127.0.0.1:")
        url = first.rsplit(" ", 1)[1].strip()
        params = protocol.send_sms_params(
            access_key_id="cli-key",
            region_id="cn-hangzhou",
            sign_name="示范供电",
            phone="13900000001",
            template_code="SMS_000000009",
            template_params={"action": "登录", "code": "246810", "minutes": "5"},
            out_id="7",
            now=datetime.now(UTC),
            nonce=str(uuid.uuid4()),
        )
        query = protocol.signed_query(params, secret="cli-secret")
        with urllib.request.urlopen(f"{url}?{query}", timeout=5) as response:  # noqa: S310
            assert json.loads(response.read())["Code"] == "OK"
        assert "验证码 246810" in process.stdout.readline()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        process.stdout.close()


def test_standalone_command_needs_credentials_and_templates():
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERDESK_SMS_")}
    result = subprocess.run(
        [sys.executable, "-m", "powerdesk.channels.sms.fake_server", "--access-key-id", "k"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "--secret" in result.stderr
