"""SMS one-time codes: expiry, single use, attempts, rate limits, purpose/context binding."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from powerdesk.channels.sms.models import OutboundSms
from powerdesk.core.exceptions import ApplicationError, RateLimited
from powerdesk.customers.models import OtpChallenge
from powerdesk.customers.verification import otp_request, otp_verify

PHONE = "13800000000"


def last_code(phone: str = PHONE) -> str:
    body = OutboundSms.objects.filter(phone=phone).order_by("-id").first().body
    return re.search(r"验证码 (\d{6})", body).group(1)


@pytest.fixture(autouse=True)
def _no_resend_wait(settings):
    settings.OTP_RESEND_INTERVAL_SECONDS = 0


@pytest.mark.django_db
def test_code_is_texted_and_only_its_hash_is_stored():
    challenge = otp_request(phone=PHONE, purpose="sign_in")
    code = last_code()
    assert code not in challenge.code_hash
    assert OutboundSms.objects.get().status == OutboundSms.Status.OUTBOX


@pytest.mark.django_db
def test_correct_code_verifies_once():
    otp_request(phone=PHONE, purpose="sign_in")
    code = last_code()
    otp_verify(phone=PHONE, purpose="sign_in", code=code)
    with pytest.raises(ApplicationError) as exc:
        otp_verify(phone=PHONE, purpose="sign_in", code=code)
    assert exc.value.code == "otp_used"


@pytest.mark.django_db
def test_expired_code_is_refused(settings):
    otp_request(phone=PHONE, purpose="sign_in")
    OtpChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ApplicationError) as exc:
        otp_verify(phone=PHONE, purpose="sign_in", code=last_code())
    assert exc.value.code == "otp_expired"


@pytest.mark.django_db
def test_wrong_codes_count_and_exhaust_the_challenge(settings):
    settings.OTP_MAX_ATTEMPTS = 3
    otp_request(phone=PHONE, purpose="sign_in")
    code = last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (2, 1, 0):
        with pytest.raises(ApplicationError) as exc:
            otp_verify(phone=PHONE, purpose="sign_in", code=wrong)
        assert exc.value.code == "otp_wrong"
        assert f"还可尝试 {left} 次" in exc.value.message
    with pytest.raises(ApplicationError) as exc:
        otp_verify(phone=PHONE, purpose="sign_in", code=code)  # even the right one is now refused
    assert exc.value.code == "otp_attempts_exhausted"


@pytest.mark.django_db
def test_code_for_one_purpose_or_context_does_not_work_for_another():
    otp_request(phone=PHONE, purpose="bind_account", context="0000000001")
    code = last_code()
    with pytest.raises(ApplicationError) as exc:
        otp_verify(phone=PHONE, purpose="sign_in", code=code)
    assert exc.value.code == "otp_not_requested"
    with pytest.raises(ApplicationError) as exc:
        otp_verify(phone=PHONE, purpose="bind_account", code=code, context="0000000002")
    assert exc.value.code == "otp_wrong"


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["", "12345", "1234567", "12345a", "１２３４５６"])
def test_malformed_code_is_refused_without_counting(bad):
    otp_request(phone=PHONE, purpose="sign_in")
    with pytest.raises(ApplicationError) as exc:
        otp_verify(phone=PHONE, purpose="sign_in", code=bad)
    assert exc.value.code == "otp_malformed"
    assert OtpChallenge.objects.get().attempts == 0


@pytest.mark.django_db
def test_resend_interval_is_enforced(settings):
    settings.OTP_RESEND_INTERVAL_SECONDS = 60
    otp_request(phone=PHONE, purpose="sign_in")
    with pytest.raises(RateLimited) as exc:
        otp_request(phone=PHONE, purpose="sign_in")
    assert exc.value.code == "otp_too_frequent"
    assert exc.value.status == 429
    assert OutboundSms.objects.count() == 1


@pytest.mark.django_db
def test_hourly_limits_per_phone_and_per_ip(settings):
    settings.OTP_MAX_PER_PHONE_PER_HOUR = 2
    settings.OTP_MAX_PER_IP_PER_HOUR = 3
    otp_request(phone=PHONE, purpose="sign_in", ip="10.0.0.1")
    otp_request(phone=PHONE, purpose="sign_in", ip="10.0.0.1")
    with pytest.raises(RateLimited) as exc:
        otp_request(phone=PHONE, purpose="sign_in", ip="10.0.0.1")
    assert exc.value.code == "otp_phone_hourly_limit"
    otp_request(phone="13800000001", purpose="sign_in", ip="10.0.0.1")
    with pytest.raises(RateLimited) as exc:
        otp_request(phone="13800000002", purpose="sign_in", ip="10.0.0.1")
    assert exc.value.code == "otp_ip_hourly_limit"


@pytest.mark.django_db
def test_a_new_code_replaces_the_previous_one():
    otp_request(phone=PHONE, purpose="sign_in")
    first = last_code()
    otp_request(phone=PHONE, purpose="sign_in")
    second = last_code()
    if first != second:
        with pytest.raises(ApplicationError):
            otp_verify(phone=PHONE, purpose="sign_in", code=first)
    otp_verify(phone=PHONE, purpose="sign_in", code=second)


@pytest.mark.django_db
def test_challenges_older_than_a_day_and_an_hour_are_purged():
    from powerdesk.customers.verification import otp_challenges_purge

    otp_request(phone="13800000000", purpose="sign_in")
    otp_request(phone="13900000000", purpose="sign_in")
    OtpChallenge.objects.filter(phone="13800000000").update(created_at=timezone.now() - timedelta(days=1, hours=2))

    assert otp_challenges_purge() == 1
    assert list(OtpChallenge.objects.values_list("phone", flat=True)) == ["13900000000"]
