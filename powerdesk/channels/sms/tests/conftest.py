"""A fake Alibaba Cloud SMS gateway on 127.0.0.1 per test, and settings pointing at it."""

import pytest

from powerdesk.channels.sms.fake_server import running_fake_sms_gateway

SIGN = "示范供电"
OTP_TEMPLATE_CODE = "SMS_000000001"


@pytest.fixture
def fake_gateway():
    with running_fake_sms_gateway(template_codes={"otp": OTP_TEMPLATE_CODE}, sign_names={SIGN}) as gateway:
        yield gateway


@pytest.fixture
def aliyun(settings, fake_gateway):
    """``POWERDESK_SMS_BACKEND=aliyun`` against the fake; yields the fake."""
    settings.SMS_BACKEND = "aliyun"
    settings.SMS_SIGN_NAME = SIGN
    settings.SMS_ALIYUN_ENDPOINT = fake_gateway.url
    settings.SMS_ALIYUN_REGION_ID = "cn-hangzhou"
    settings.SMS_ALIYUN_ACCESS_KEY_ID = fake_gateway.access_key_id
    settings.SMS_ALIYUN_ACCESS_KEY_SECRET = fake_gateway.secret
    settings.SMS_ALIYUN_TEMPLATES = {"otp": OTP_TEMPLATE_CODE}
    settings.SMS_ALIYUN_TIMEOUT_SECONDS = 2
    settings.SMS_RETRY_BACKOFF_MS = 10
    return fake_gateway
