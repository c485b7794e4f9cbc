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


TENCENT = {
    "POWERDESK_SMS_BACKEND": "tencent",
    "POWERDESK_SMS_TENCENT_SECRET_ID": "AKIDexample",
    "POWERDESK_SMS_TENCENT_SECRET_KEY": "secret",
    "POWERDESK_SMS_TENCENT_SDK_APP_ID": "1400006666",
    "POWERDESK_SMS_TENCENT_TEMPLATES": "otp:1234567,hall_reply:1234568",
}


def load_settings(tmp_path, code: str = "", **variables) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERDESK_SMS_")}
    env |= {"POWERDESK_VAR_DIR": str(tmp_path), "POWERDESK_SECRET_KEY": "x" * 50} | variables
    code = code or "import powerdesk.settings as s; print(s.SMS_BACKEND, s.SMS_ALIYUN_TEMPLATES)"
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


def test_tencent_settings_are_read(tmp_path):
    code = (
        "import powerdesk.settings as s; print(s.SMS_BACKEND, s.SMS_TENCENT_TEMPLATES, s.SMS_TENCENT_REGION)"
    )
    result = load_settings(tmp_path, code=code, **TENCENT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "tencent {'otp': '1234567', 'hall_reply': '1234568'} ap-guangzhou"


def test_the_inbound_secret_is_generated_once_into_var_when_not_given(tmp_path):
    code = "import powerdesk.settings as s; print(s.SMS_INBOUND_SECRET)"
    first, second = (load_settings(tmp_path, code=code) for _ in range(2))
    assert first.returncode == 0, first.stderr
    assert len(first.stdout.strip()) >= 32 and first.stdout == second.stdout
    assert (tmp_path / "sms_inbound_secret").read_text().strip() == first.stdout.strip()


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
        (
            TENCENT | {"POWERDESK_SMS_TENCENT_SECRET_KEY": ""},
            "POWERDESK_SMS_BACKEND=tencent needs POWERDESK_SMS_TENCENT_SECRET_KEY",
        ),
        (TENCENT | {"POWERDESK_SMS_TENCENT_TEMPLATES": "otp:SMS_1"}, "'otp:SMS_1' is not key:TemplateId"),
        (TENCENT | {"POWERDESK_SMS_TENCENT_SDK_APP_ID": "app"}, "POWERDESK_SMS_TENCENT_SDK_APP_ID='app'"),
        ({"POWERDESK_SMS_TENCENT_ENDPOINT": "http://sms.example.com/"}, "POWERDESK_SMS_TENCENT_ENDPOINT="),
        ({"POWERDESK_SMS_TENCENT_REGION": "guangzhou"}, "POWERDESK_SMS_TENCENT_REGION='guangzhou'"),
        ({"POWERDESK_SMS_INBOUND_SECRET": "short"}, "POWERDESK_SMS_INBOUND_SECRET: at least 32"),
        ({"POWERDESK_SMS_INBOUND_WINDOW_SECONDS": "5"}, "POWERDESK_SMS_INBOUND_WINDOW_SECONDS=5"),
        ({"POWERDESK_SMS_H5_BASE_URL": "h5.example.cn"}, "POWERDESK_SMS_H5_BASE_URL='h5.example.cn'"),
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
    settings.SMS_INBOUND_ENABLED = False
    settings.SMS_ALIYUN_TEMPLATES = {"promo": "SMS_1"}
    assert [error.id for error in sms_templates_have_codes()] == ["channel_sms.E001", "channel_sms.E002"]
    settings.SMS_ALIYUN_TEMPLATES = {"otp": "SMS_1"}
    assert sms_templates_have_codes() == []
    settings.SMS_BACKEND = "outbox"
    settings.SMS_ALIYUN_TEMPLATES = {}
    assert sms_templates_have_codes() == []


def test_the_business_hall_needs_its_reply_template_only_when_on(settings):
    settings.SMS_BACKEND = "aliyun"
    settings.SMS_ALIYUN_TEMPLATES = {"otp": "SMS_1"}
    settings.SMS_INBOUND_ENABLED = True
    [error] = sms_templates_have_codes()
    assert error.id == "channel_sms.E001" and "hall_reply" in error.msg
    settings.SMS_ALIYUN_TEMPLATES = {"otp": "SMS_1", "hall_reply": "SMS_2"}
    assert sms_templates_have_codes() == []
    settings.SMS_INBOUND_ENABLED = False
    assert sms_templates_have_codes() == []


def test_the_tencent_backend_is_checked_against_its_own_template_ids(settings):
    settings.SMS_BACKEND = "tencent"
    settings.SMS_INBOUND_ENABLED = True
    settings.SMS_ALIYUN_TEMPLATES = {"otp": "SMS_1", "hall_reply": "SMS_2"}  # not the ones that count
    settings.SMS_TENCENT_TEMPLATES = {"otp": "1234567"}
    [error] = sms_templates_have_codes()
    assert "POWERDESK_SMS_TENCENT_TEMPLATES" in error.msg and "hall_reply" in error.msg
    settings.SMS_TENCENT_TEMPLATES = {"otp": "1234567", "hall_reply": "1234568"}
    assert sms_templates_have_codes() == []
