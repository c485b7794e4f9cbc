"""The Tencent Cloud backend against the local fake: real HTTP, real TC3 signatures.

Nothing of ours is mocked; failures are injected at the fake through its control endpoint.
"""

import socket
from datetime import timedelta

import pytest

from powerdesk.channels.base import ChannelError
from powerdesk.channels.sms import segments
from powerdesk.channels.sms.models import OutboundSms
from powerdesk.channels.sms.outbound import sms_send

from .conftest import SIGN, TENCENT_TEMPLATE_IDS

PHONE = "13900000001"
pytestmark = pytest.mark.django_db


def send_otp(phone: str = PHONE, code: str = "123456") -> OutboundSms:
    return sms_send(
        phone=phone,
        template="otp",
        params={"action": "登录", "code": code, "minutes": 5},
        purpose="otp.sign_in",
        sensitive=True,
    )


def failed_send(**kwargs) -> tuple[ChannelError, OutboundSms]:
    with pytest.raises(ChannelError) as caught:
        send_otp(**kwargs)
    return caught.value, OutboundSms.objects.get()


def attempts(message: OutboundSms) -> list[tuple]:
    return list(message.attempts.values_list("number", "outcome", "error_code", "permanent"))


# --- the happy path -------------------------------------------------------------------------


def test_message_is_signed_accepted_and_recorded(tencent):
    message = send_otp()

    [received] = tencent.messages()
    message.refresh_from_db()
    assert (message.status, message.backend) == (OutboundSms.Status.SENT, "tencent")
    assert message.vendor_message_id == received["serial_no"]
    assert (
        received["content"]
        == message.body
        == f"【{SIGN}】您正在登录，验证码 123456，5 分钟内有效。请勿告诉他人。"
    )
    # Tencent numbers the variables in order of appearance: {1} action, {2} code, {3} minutes
    assert received["template_id"] == TENCENT_TEMPLATE_IDS["otp"]
    assert received["template_params"] == ["登录", "123456", "5"]
    assert received["session_context"] == str(message.pk)
    assert received["fee"] == message.segments == 1
    [attempt] = message.attempts.all()
    assert attempt.vendor_request_id == received["request_id"]


def test_a_long_message_is_billed_as_many_parts_as_we_count(tencent):
    text = "电费" * 60 + "😀"  # 122 characters, 123 UTF-16 units
    message = sms_send(phone=PHONE, template="hall_reply", params={"reply": text}, purpose="sms.hall_reply")
    [received] = tencent.messages()
    assert received["fee"] == message.segments == segments.part_count(message.body) == 2


# --- refusals ---------------------------------------------------------------------------------


def test_wrong_secret_key_is_refused_permanently_and_not_retried(tencent, settings):
    settings.SMS_TENCENT_SECRET_KEY = "not-the-key"
    error, message = failed_send()
    assert (error.permanent, error.vendor_code) == (True, "AuthFailure.SignatureFailure")
    assert attempts(message) == [(1, "failed", "AuthFailure.SignatureFailure", True)]
    assert tencent.messages() == []


def test_unknown_secret_id_is_refused_permanently(tencent, settings):
    settings.SMS_TENCENT_SECRET_ID = "AKIDsomeoneelse"
    error, _ = failed_send()
    assert (error.permanent, error.vendor_code) == (True, "AuthFailure.SecretIdNotFound")


def test_a_clock_six_minutes_off_is_refused_as_expired(tencent, monkeypatch):
    from django.utils import timezone

    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() - timedelta(minutes=6))
    error, _ = failed_send()
    assert (error.permanent, error.vendor_code) == (True, "AuthFailure.SignatureExpire")


def test_unknown_sdk_app_id_is_refused(tencent, settings):
    settings.SMS_TENCENT_SDK_APP_ID = "1400000000"
    error, _ = failed_send()
    assert (error.permanent, error.vendor_code) == (True, "InvalidParameterValue.SdkAppIdNotExist")


def test_unapproved_sign_and_template_are_refused_permanently(tencent, settings):
    settings.SMS_SIGN_NAME = "未报备签名"
    error, _ = failed_send()
    assert (error.permanent, error.vendor_code) == (True, "FailedOperation.SignatureIncorrectOrUnapproved")
    settings.SMS_SIGN_NAME = SIGN
    settings.SMS_TENCENT_TEMPLATES = {"otp": "9999999"}
    OutboundSms.objects.all().delete()
    error, _ = failed_send()
    assert (error.permanent, error.vendor_code) == (True, "FailedOperation.TemplateIncorrectOrUnapproved")


def test_missing_template_id_fails_permanently_without_calling_the_api(tencent, settings):
    settings.SMS_TENCENT_TEMPLATES = {}
    error, _ = failed_send()
    assert (error.permanent, error.vendor_code) == (True, "config.TEMPLATE_ID_MISSING")
    assert tencent.requests() == []


def test_an_illegal_number_is_refused_permanently(tencent):
    error, _ = failed_send(phone="12900000001")
    assert (error.permanent, error.vendor_code) == (True, "InvalidParameterValue.IncorrectPhoneNumber")


def test_a_url_inside_a_variable_is_refused(tencent):
    with pytest.raises(ChannelError) as caught:
        sms_send(
            phone=PHONE,
            template="hall_reply",
            params={"reply": "明细：https://h5.example.cn/h5/billing/"},
            purpose="sms.hall_reply",
        )
    assert (caught.value.permanent, caught.value.vendor_code) == (
        True,
        "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
    )


def test_a_personal_accounts_twelve_character_variables_are_enforced(settings):
    from powerdesk.channels.sms.tencent_fake_server import running_fake_tencent_sms

    with running_fake_tencent_sms(template_ids=TENCENT_TEMPLATE_IDS, max_param_length=12) as fake:
        settings.SMS_BACKEND = "tencent"
        settings.SMS_TENCENT_ENDPOINT = fake.url
        settings.SMS_TENCENT_SECRET_ID = fake.secret_id
        settings.SMS_TENCENT_SECRET_KEY = fake.secret_key
        settings.SMS_TENCENT_SDK_APP_ID = fake.sdk_app_id
        settings.SMS_TENCENT_TEMPLATES = dict(TENCENT_TEMPLATE_IDS)
        send_otp()  # short variables pass
        with pytest.raises(ChannelError) as caught:
            sms_send(
                phone=PHONE, template="hall_reply", params={"reply": "电" * 13}, purpose="sms.hall_reply"
            )
    assert caught.value.vendor_code == "InvalidParameterValue.TemplateParameterLengthLimit"


# --- transient failures and the one immediate retry -----------------------------------------


def test_an_internal_error_is_retried_once(tencent):
    tencent.fail_next(code="InternalError")
    message = send_otp()
    assert attempts(message) == [(1, "failed", "InternalError", False), (2, "accepted", "", False)]
    assert len(tencent.messages()) == 1


def test_a_bad_gateway_twice_fails_transiently_with_both_attempts_stored(tencent):
    tencent.fail_next(count=2, http_status=502)
    error, message = failed_send()
    assert (error.permanent, error.vendor_code) == (False, "http.502")
    assert attempts(message) == [(1, "failed", "http.502", False), (2, "failed", "http.502", False)]


def test_the_per_number_limit_is_transient_and_not_retried_at_once(tencent):
    tencent.fail_next(code="LimitExceeded.PhoneNumberThirtySecondLimit")
    error, message = failed_send()
    assert (error.permanent, error.vendor_code) == (False, "LimitExceeded.PhoneNumberThirtySecondLimit")
    assert attempts(message) == [(1, "failed", "LimitExceeded.PhoneNumberThirtySecondLimit", False)]


def test_the_fakes_own_thirty_second_limit(settings):
    from powerdesk.channels.sms.tencent_fake_server import running_fake_tencent_sms

    with running_fake_tencent_sms(template_ids=TENCENT_TEMPLATE_IDS, per_number_per_30s=1) as fake:
        settings.SMS_BACKEND = "tencent"
        settings.SMS_TENCENT_ENDPOINT = fake.url
        settings.SMS_TENCENT_SECRET_ID = fake.secret_id
        settings.SMS_TENCENT_SECRET_KEY = fake.secret_key
        settings.SMS_TENCENT_SDK_APP_ID = fake.sdk_app_id
        settings.SMS_TENCENT_TEMPLATES = dict(TENCENT_TEMPLATE_IDS)
        send_otp()
        with pytest.raises(ChannelError) as caught:
            send_otp()
    assert (caught.value.permanent, caught.value.vendor_code) == (
        False,
        "LimitExceeded.PhoneNumberThirtySecondLimit",
    )


def test_a_blacklisted_number_is_permanent(tencent):
    tencent.fail_next(count=2, code="FailedOperation.PhoneNumberInBlacklist")
    error, _ = failed_send()
    assert (error.permanent, error.vendor_code) == (True, "FailedOperation.PhoneNumberInBlacklist")
    assert len(tencent.requests()) == 1


def test_a_slow_api_times_out_without_a_second_try(tencent, settings):
    settings.SMS_TENCENT_TIMEOUT_SECONDS = 0.3
    tencent.fail_next(delay=1.5)
    error, message = failed_send()
    assert (error.permanent, error.vendor_code) == (False, "network.timeout")
    assert attempts(message) == [(1, "failed", "network.timeout", False)]


def test_an_unreachable_api_is_transient_and_retried_once(tencent, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SMS_TENCENT_ENDPOINT = f"http://127.0.0.1:{port}/"
    error, message = failed_send()
    assert (error.permanent, error.vendor_code) == (False, "network.unreachable")
    assert len(attempts(message)) == 2
