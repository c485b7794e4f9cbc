"""The outbox backend (demo and tests) and what sms_send does for every backend."""

import json
import re

import pytest

from powerdesk.channels.base import ChannelError
from powerdesk.channels.sms.models import OutboundSms, OutboundSmsAttempt
from powerdesk.channels.sms.outbound import sms_send
from powerdesk.channels.sms.templates import TEMPLATES, template_get

PHONE = "13800000000"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outbox_in_tmp(settings, tmp_path):
    settings.SMS_BACKEND = "outbox"
    settings.SMS_SIGN_NAME = "示范供电"
    settings.VAR_DIR = tmp_path


def send(**overrides) -> OutboundSms:
    arguments = {
        "phone": PHONE,
        "template": "otp",
        "params": {"action": "绑定户号", "code": "000123", "minutes": 5},
        "purpose": "otp.bind_account",
        "sensitive": True,
    } | overrides
    return sms_send(**arguments)


def test_message_is_rendered_from_its_template_and_written_to_the_outbox(settings):
    message = send()

    assert message.body == "【示范供电】您正在绑定户号，验证码 000123，5 分钟内有效。请勿告诉他人。"
    assert re.search(r"验证码 (\d{6})", message.body).group(1) == "000123"
    assert (message.status, message.backend, message.template) == (OutboundSms.Status.OUTBOX, "outbox", "otp")
    assert message.vendor_message_id == f"outbox-{message.pk}"
    [line] = (settings.VAR_DIR / "sms_outbox.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line) | {"at": None} == {
        "id": message.pk,
        "phone": PHONE,
        "body": message.body,
        "at": None,
    }
    [attempt] = message.attempts.all()
    assert (attempt.number, attempt.outcome, attempt.backend) == (
        1,
        OutboundSmsAttempt.Outcome.ACCEPTED,
        "outbox",
    )


def test_unknown_template_is_a_bug_and_nothing_is_stored():
    with pytest.raises(ValueError, match="unknown SMS template 'promo'"):
        send(template="promo")
    assert not OutboundSms.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        {"action": "登录", "code": "000123"},
        {"action": "登录", "code": "000123", "minutes": 5, "extra": "x"},
        {"action": "", "code": "000123", "minutes": 5},
    ],
)
def test_wrong_template_variables_are_a_bug_and_nothing_is_stored(params):
    with pytest.raises(ValueError, match="SMS template 'otp'"):
        send(params=params)
    assert not OutboundSms.objects.exists()


def test_unavailable_backend_is_refused_permanently(settings):
    settings.SMS_BACKEND = "carrier-pigeon"
    with pytest.raises(ChannelError) as caught:
        send()
    assert caught.value.permanent


def test_a_failing_outbox_is_recorded_and_reported(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "not-a-directory"
    settings.VAR_DIR.write_text("a file where the outbox directory should be")
    with pytest.raises(OSError):
        send()
    message = OutboundSms.objects.get()
    assert message.status == OutboundSms.Status.FAILED
    assert message.error_code.startswith("internal.")
    assert message.attempts.get().outcome == OutboundSmsAttempt.Outcome.FAILED


def test_every_registered_template_renders_with_its_own_variables():
    for template in TEMPLATES.values():
        rendered = template.render({name: "x" for name in template.variables})
        assert "{" not in rendered
    assert template_get("otp").variables == {"action", "code", "minutes"}
