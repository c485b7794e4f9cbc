"""The Alibaba Cloud backend against the local fake gateway: real HTTP, real signatures.

Nothing of ours is mocked; failures are injected at the fake through its control endpoint.
"""

import json
import re
import socket
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from powerdesk.channels.base import ChannelError
from powerdesk.channels.sms import protocol
from powerdesk.channels.sms.models import OutboundSms, OutboundSmsAttempt
from powerdesk.channels.sms.outbound import sms_send
from powerdesk.channels.sms.tests.conftest import OTP_TEMPLATE_CODE, SIGN
from powerdesk.core.exceptions import ApplicationError
from powerdesk.customers.models import OtpChallenge
from powerdesk.customers.services import customer_sign_in_with_phone, sign_in_code_request
from powerdesk.events.choices import Channel

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


def test_message_is_signed_accepted_and_recorded(aliyun):
    message = send_otp()

    [received] = aliyun.messages()
    message.refresh_from_db()
    assert message.status == OutboundSms.Status.SENT
    assert message.backend == "aliyun"
    assert message.template == "otp"
    assert message.vendor_message_id == received["biz_id"]
    assert re.fullmatch(r"\d{18}\^0", received["biz_id"])
    # The handset shows exactly the body we stored; our id travels as OutId.
    assert (
        received["content"]
        == message.body
        == f"【{SIGN}】您正在登录，验证码 123456，5 分钟内有效。请勿告诉他人。"
    )
    assert received["template_code"] == OTP_TEMPLATE_CODE
    assert received["template_param"] == {"action": "登录", "code": "123456", "minutes": "5"}
    assert received["out_id"] == str(message.pk)
    [attempt] = message.attempts.all()
    assert (attempt.number, attempt.outcome) == (1, OutboundSmsAttempt.Outcome.ACCEPTED)
    assert attempt.vendor_message_id == received["biz_id"]
    assert attempt.vendor_request_id == received["request_id"]


def test_sign_in_code_reaches_the_customer_through_the_gateway(aliyun):
    assert sign_in_code_request(phone=PHONE) == "139****0001"

    [received] = aliyun.messages(phone=PHONE)
    code = received["template_param"]["code"]
    assert re.fullmatch(r"\d{6}", code)
    assert f"验证码 {code}，" in received["content"]
    stored = OutboundSms.objects.get()
    assert (stored.status, stored.purpose, stored.is_sensitive) == (
        OutboundSms.Status.SENT,
        "otp.sign_in",
        True,
    )
    assert re.search(r"验证码 (\d{6})", stored.body).group(1) == code
    # The code the gateway delivered is the one that signs the customer in.
    user = customer_sign_in_with_phone(phone=PHONE, code=code, channel=Channel.H5)
    assert user.pk


def test_a_refused_sign_in_code_reaches_the_caller_and_leaves_no_challenge(aliyun):
    aliyun.fail_next(code="isv.AMOUNT_NOT_ENOUGH")
    with pytest.raises(ApplicationError) as caught:
        sign_in_code_request(phone=PHONE)
    assert (caught.value.code, caught.value.status, caught.value.field) == ("sms_send_failed", 400, "phone")
    assert isinstance(caught.value.__cause__, ChannelError)
    assert caught.value.__cause__.vendor_code == "isv.AMOUNT_NOT_ENOUGH"
    # The failed send is kept; the undelivered code's challenge is withdrawn, so the customer
    # may ask again at once.
    assert OutboundSms.objects.get().status == OutboundSms.Status.FAILED
    assert not OtpChallenge.objects.exists()
    sign_in_code_request(phone=PHONE)
    assert OtpChallenge.objects.count() == 1


def test_a_transient_gateway_failure_is_a_503_for_the_caller(aliyun):
    aliyun.fail_next(count=2, http_status=500)
    with pytest.raises(ApplicationError) as caught:
        sign_in_code_request(phone=PHONE)
    assert (caught.value.code, caught.value.status) == ("sms_send_failed", 503)


# --- refusals the gateway makes itself --------------------------------------------------------


def test_wrong_secret_is_refused_permanently_and_not_retried(aliyun, settings):
    settings.SMS_ALIYUN_ACCESS_KEY_SECRET = "not-the-secret"
    error, message = failed_send()
    assert (error.permanent, error.vendor_code) == (True, "SignatureDoesNotMatch")
    assert message.status == OutboundSms.Status.FAILED
    assert message.error_code == "SignatureDoesNotMatch"
    assert message.error.startswith("SignatureDoesNotMatch: Specified signature is not matched")
    assert attempts(message) == [(1, "failed", "SignatureDoesNotMatch", True)]
    assert [r["code"] for r in aliyun.requests()] == ["SignatureDoesNotMatch"]
    assert aliyun.messages() == []


def test_unknown_access_key_is_refused_permanently(aliyun, settings):
    settings.SMS_ALIYUN_ACCESS_KEY_ID = "someone-else"
    error, message = failed_send()
    assert (error.permanent, error.vendor_code, error.http_status) == (
        True,
        "InvalidAccessKeyId.NotFound",
        404,
    )
    assert message.error_code == "InvalidAccessKeyId.NotFound"


def test_illegal_number_is_refused_permanently(aliyun):
    error, message = failed_send(phone="12900000001")
    assert (error.permanent, error.vendor_code) == (True, "isv.MOBILE_NUMBER_ILLEGAL")
    assert attempts(message) == [(1, "failed", "isv.MOBILE_NUMBER_ILLEGAL", True)]


def test_unapproved_sign_is_refused_permanently(aliyun, settings):
    settings.SMS_SIGN_NAME = "未报备签名"
    error, message = failed_send()
    assert (error.permanent, error.vendor_code) == (True, "isv.SMS_SIGNATURE_ILLEGAL")
    assert message.body.startswith("【未报备签名】")


def test_unapproved_template_code_is_refused_permanently(aliyun, settings):
    settings.SMS_ALIYUN_TEMPLATES = {"otp": "SMS_999999999"}
    error, _ = failed_send()
    assert (error.permanent, error.vendor_code) == (True, "isv.SMS_TEMPLATE_ILLEGAL")


def test_missing_template_code_fails_permanently_without_calling_the_gateway(aliyun, settings):
    settings.SMS_ALIYUN_TEMPLATES = {}
    error, message = failed_send()
    assert (error.permanent, error.vendor_code) == (True, "config.TEMPLATE_CODE_MISSING")
    assert attempts(message) == [(1, "failed", "config.TEMPLATE_CODE_MISSING", True)]
    assert aliyun.requests() == []


# --- transient failures and the one immediate retry ------------------------------------------


def test_http_500_is_retried_once_and_both_attempts_are_kept(aliyun):
    aliyun.fail_next(http_status=500)
    message = send_otp()

    message.refresh_from_db()
    assert message.status == OutboundSms.Status.SENT
    assert attempts(message) == [(1, "failed", "http.500", False), (2, "accepted", "", False)]
    assert [r["http_status"] for r in aliyun.requests()] == [500, 200]
    assert len(aliyun.messages()) == 1


def test_two_server_errors_fail_transiently_with_every_attempt_stored(aliyun):
    aliyun.fail_next(count=2, code="ServiceUnavailable", http_status=503)
    error, message = failed_send()
    assert (error.permanent, error.vendor_code) == (False, "ServiceUnavailable")
    assert message.status == OutboundSms.Status.FAILED
    assert message.error_code == "ServiceUnavailable"
    assert attempts(message) == [
        (1, "failed", "ServiceUnavailable", False),
        (2, "failed", "ServiceUnavailable", False),
    ]
    assert all(a.vendor_request_id for a in message.attempts.all())


def test_gateway_throttling_is_retried(aliyun):
    aliyun.fail_next(code="Throttling.User")
    message = send_otp()
    assert attempts(message) == [(1, "failed", "Throttling.User", False), (2, "accepted", "", False)]


def test_per_number_rate_limit_is_transient_and_not_retried_at_once(aliyun):
    aliyun.fail_next(code="isv.BUSINESS_LIMIT_CONTROL")
    error, message = failed_send()
    assert (error.permanent, error.vendor_code) == (False, "isv.BUSINESS_LIMIT_CONTROL")
    assert attempts(message) == [(1, "failed", "isv.BUSINESS_LIMIT_CONTROL", False)]


def test_the_fakes_own_minute_limit_answers_business_limit_control(settings):
    from powerdesk.channels.sms.fake_server import running_fake_sms_gateway

    with running_fake_sms_gateway(per_number_per_minute=1) as gateway:
        settings.SMS_BACKEND = "aliyun"
        settings.SMS_ALIYUN_ENDPOINT = gateway.url
        settings.SMS_ALIYUN_ACCESS_KEY_ID = gateway.access_key_id
        settings.SMS_ALIYUN_ACCESS_KEY_SECRET = gateway.secret
        settings.SMS_ALIYUN_TEMPLATES = {"otp": "SMS_000000001"}
        send_otp()
        with pytest.raises(ChannelError) as caught:
            send_otp()
    assert (caught.value.permanent, caught.value.vendor_code) == (False, "isv.BUSINESS_LIMIT_CONTROL")


@pytest.mark.parametrize(
    "code", ["isv.MOBILE_NUMBER_ILLEGAL", "isv.TEMPLATE_MISSING_PARAMETERS", "isv.AMOUNT_NOT_ENOUGH"]
)
def test_permanent_vendor_errors_are_never_retried(aliyun, code):
    aliyun.fail_next(count=2, code=code)
    error, message = failed_send()
    assert (error.permanent, error.vendor_code) == (True, code)
    assert len(aliyun.requests()) == 1
    assert attempts(message) == [(1, "failed", code, True)]


def test_slow_gateway_times_out_transiently_without_a_second_try(aliyun, settings):
    settings.SMS_ALIYUN_TIMEOUT_SECONDS = 0.3
    aliyun.fail_next(delay=1.5)
    error, message = failed_send()
    assert (error.permanent, error.vendor_code) == (False, "network.timeout")
    assert attempts(message) == [(1, "failed", "network.timeout", False)]


def test_unreachable_gateway_is_transient_and_retried_once(aliyun, settings):
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SMS_ALIYUN_ENDPOINT = f"http://127.0.0.1:{port}/"
    error, message = failed_send()
    assert (error.permanent, error.vendor_code) == (False, "network.unreachable")
    assert message.status == OutboundSms.Status.FAILED
    assert attempts(message) == [
        (1, "failed", "network.unreachable", False),
        (2, "failed", "network.unreachable", False),
    ]


# --- the fake's own checks, with hand-built requests ------------------------------------------


def _params(gateway, **overrides) -> dict[str, str]:
    params = protocol.send_sms_params(
        access_key_id=gateway.access_key_id,
        region_id="cn-hangzhou",
        sign_name=SIGN,
        phone=PHONE,
        template_code=OTP_TEMPLATE_CODE,
        template_params={"action": "登录", "code": "654321", "minutes": "5"},
        out_id="raw-1",
        now=datetime.now(UTC),
        nonce=str(uuid.uuid4()),
    )
    return params | overrides


def _get(gateway, query: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{gateway.url}?{query}", timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_a_request_altered_after_signing_is_refused(fake_gateway):
    params = _params(fake_gateway)
    query = protocol.signed_query(params, secret=fake_gateway.secret)
    tampered = query.replace("PhoneNumbers=13900000001", "PhoneNumbers=13900000002")
    assert tampered != query

    status, body = _get(fake_gateway, tampered)
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    assert set(body) >= {"RequestId", "Code", "Message", "HostId"}
    assert fake_gateway.messages() == []
    status, body = _get(fake_gateway, query)  # the untouched request still goes through
    assert (status, body["Code"]) == (200, "OK")
    assert set(body) == {"RequestId", "Code", "Message", "BizId"}


def test_a_replayed_request_is_refused_by_its_nonce(fake_gateway):
    query = protocol.signed_query(_params(fake_gateway), secret=fake_gateway.secret)
    assert _get(fake_gateway, query)[1]["Code"] == "OK"
    status, body = _get(fake_gateway, query)
    assert (status, body["Code"]) == (400, "SignatureNonceUsed")
    assert len(fake_gateway.messages()) == 1


def test_a_stale_timestamp_is_refused(fake_gateway):
    stale = (datetime.now(UTC) - timedelta(minutes=16)).strftime("%Y-%m-%dT%H:%M:%SZ")
    query = protocol.signed_query(_params(fake_gateway, Timestamp=stale), secret=fake_gateway.secret)
    status, body = _get(fake_gateway, query)
    assert (status, body["Code"]) == (400, "InvalidTimeStamp.Expired")
    # Our clock is off: no retry mends that, so the client calls it permanent.
    assert protocol.error_for_code(body["Code"], body["Message"]).permanent is True


def test_missing_template_variable_is_refused(fake_gateway):
    params = _params(fake_gateway, TemplateParam=json.dumps({"action": "登录", "code": "654321"}))
    status, body = _get(fake_gateway, protocol.signed_query(params, secret=fake_gateway.secret))
    assert (status, body["Code"]) == (200, "isv.TEMPLATE_MISSING_PARAMETERS")


def test_non_string_template_values_are_refused(fake_gateway):
    params = _params(fake_gateway, TemplateParam='{"action":"登录","code":654321,"minutes":"5"}')
    status, body = _get(fake_gateway, protocol.signed_query(params, secret=fake_gateway.secret))
    assert (status, body["Code"]) == (200, "isv.INVALID_JSON_PARAM")


def test_a_missing_common_parameter_is_named(fake_gateway):
    params = _params(fake_gateway)
    del params["SignatureNonce"]
    status, body = _get(fake_gateway, protocol.signed_query(params, secret=fake_gateway.secret))
    assert (status, body["Code"]) == (400, "MissingSignatureNonce")
