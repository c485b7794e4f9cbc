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


# --- Tencent Cloud ----------------------------------------------------------------------------

TENCENT_TEMPLATE_IDS = {"otp": "1000001", "hall_reply": "1000002"}


@pytest.fixture
def fake_tencent():
    from powerdesk.channels.sms.tencent_fake_server import running_fake_tencent_sms

    with running_fake_tencent_sms(template_ids=TENCENT_TEMPLATE_IDS, sign_names={SIGN}) as fake:
        yield fake


@pytest.fixture
def tencent(settings, fake_tencent):
    """``POWERDESK_SMS_BACKEND=tencent`` against the fake; yields the fake."""
    settings.SMS_BACKEND = "tencent"
    settings.SMS_SIGN_NAME = SIGN
    settings.SMS_TENCENT_ENDPOINT = fake_tencent.url
    settings.SMS_TENCENT_REGION = "ap-guangzhou"
    settings.SMS_TENCENT_SECRET_ID = fake_tencent.secret_id
    settings.SMS_TENCENT_SECRET_KEY = fake_tencent.secret_key
    settings.SMS_TENCENT_SDK_APP_ID = fake_tencent.sdk_app_id
    settings.SMS_TENCENT_TEMPLATES = dict(TENCENT_TEMPLATE_IDS)
    settings.SMS_TENCENT_TIMEOUT_SECONDS = 2
    settings.SMS_RETRY_BACKOFF_MS = 10
    return fake_tencent


# --- the business hall ------------------------------------------------------------------------

INBOUND_SECRET = "test-inbound-secret-0123456789abcdef"


@pytest.fixture(autouse=True)
def _business_hall_registered():
    """conversations' own tests clear the engine's parser table; put the SMS hall back."""
    from powerdesk.channels.sms.apps import business_hall_register

    business_hall_register()


@pytest.fixture
def hall(settings):
    """The webhook on, with a known secret, the outbox backend and immediate tasks."""
    settings.SMS_INBOUND_ENABLED = True
    settings.SMS_INBOUND_SECRET = INBOUND_SECRET
    settings.SMS_INBOUND_SECRET_PREVIOUS = ""
    settings.SMS_INBOUND_WINDOW_SECONDS = 300
    settings.SMS_H5_BASE_URL = "https://h5.example.cn"
    settings.SMS_REPLY_LINKS = True
    settings.SMS_BACKEND = "outbox"
    settings.SMS_SIGN_NAME = SIGN
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return settings
