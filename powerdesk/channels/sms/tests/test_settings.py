"""The SMS settings are parsed strictly at start-up; the system check names missing templates."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from powerdesk.channels.sms.checks import sms_templates_have_codes

PROJECT_DIR = Path(__file__).resolve().parents[4]
GOOD = {
    "POWERDESK_SMS_BACKEND": "aliyun",
    "POWERDESK_SMS_ALIYUN_ACCESS_KEY_ID": "key-id",
    "POWERDESK_SMS_ALIYUN_ACCESS_KEY_SECRET": "secret",
    "POWERDESK_SMS_ALIYUN_TEMPLATES": "otp:SMS_123456789",
}


def load_settings(tmp_path, **variables) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERDESK_SMS_")}
    env |= {"POWERDESK_VAR_DIR": str(tmp_path), "POWERDESK_SECRET_KEY": "x" * 50} | variables
    code = "import powerdesk.settings as s; print(s.SMS_BACKEND, s.SMS_ALIYUN_TEMPLATES)"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_aliyun_settings_are_read(tmp_path):
    result = load_settings(tmp_path, **GOOD)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "aliyun {'otp': 'SMS_123456789'}"


@pytest.mark.parametrize(
    ("variables", "complaint"),
    [
        (
            GOOD | {"POWERDESK_SMS_ALIYUN_ACCESS_KEY_SECRET": ""},
            "needs POWERDESK_SMS_ALIYUN_ACCESS_KEY_SECRET",
        ),
        (
            GOOD | {"POWERDESK_SMS_ALIYUN_TEMPLATES": "otp=SMS_1"},
            "POWERDESK_SMS_ALIYUN_TEMPLATES: 'otp=SMS_1'",
        ),
        (GOOD | {"POWERDESK_SMS_ALIYUN_TEMPLATES": "otp:SMS_1,otp:SMS_2"}, "'otp' is given twice"),
        ({"POWERDESK_SMS_ALIYUN_ENDPOINT": "http://sms.example.com/"}, "POWERDESK_SMS_ALIYUN_ENDPOINT="),
        ({"POWERDESK_SMS_BACKEND": "gateway"}, "POWERDESK_SMS_BACKEND='gateway'"),
        ({"POWERDESK_SMS_ALIYUN_TIMEOUT_SECONDS": "0"}, "POWERDESK_SMS_ALIYUN_TIMEOUT_SECONDS=0"),
    ],
)
def test_bad_sms_settings_stop_start_up_naming_the_variable(tmp_path, variables, complaint):
    result = load_settings(tmp_path, **variables)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert complaint in result.stderr


def test_check_names_templates_without_a_code(settings):
    settings.SMS_BACKEND = "aliyun"
    settings.SMS_ALIYUN_TEMPLATES = {"promo": "SMS_1"}
    assert [error.id for error in sms_templates_have_codes()] == ["channel_sms.E001", "channel_sms.E002"]
    settings.SMS_ALIYUN_TEMPLATES = {"otp": "SMS_1"}
    assert sms_templates_have_codes() == []
    settings.SMS_BACKEND = "outbox"
    settings.SMS_ALIYUN_TEMPLATES = {}
    assert sms_templates_have_codes() == []
