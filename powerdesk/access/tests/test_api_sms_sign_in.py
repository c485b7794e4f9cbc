"""The app's SMS sign-in: POST /api/v1/auth/sms-code then /api/v1/auth/sms-sign-in → token pair."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from powerdesk.access.testing import ME_URL, app_client_make, bearer, sms_code, wrong_code
from powerdesk.customers.models import CustomerUser, OtpChallenge
from powerdesk.events.models import DomainEvent

pytestmark = pytest.mark.django_db

CODE_URL = "/api/v1/auth/sms-code"
SIGN_IN_URL = "/api/v1/auth/sms-sign-in"


@pytest.fixture(autouse=True)
def _no_resend_wait(settings):
    settings.OTP_RESEND_INTERVAL_SECONDS = 0


@pytest.fixture
def app(db):
    return app_client_make()


def _ask(client, phone="13800000000"):
    return client.post(CODE_URL, {"phone": phone}, content_type="application/json")


def _sign_in(client, code, app, phone="13800000000"):
    return client.post(SIGN_IN_URL, {"phone": phone, "code": code, "client_id": app.client_id},
                       content_type="application/json")


def test_sms_code_signs_an_existing_customer_in_to_the_app(client, customer, app):
    asked = _ask(client)
    assert asked.status_code == 200
    assert asked.json() == {"phone_masked": "138****0000", "expires_in": 300}
    response = _sign_in(client, sms_code("13800000000"), app)
    assert response.status_code == 200
    tokens = response.json()
    assert tokens["access_token"].startswith("pdat_") and tokens["refresh_token"].startswith("pdrt_")
    assert response["Cache-Control"] == "no-store"
    me = client.get(ME_URL, **bearer(tokens["access_token"])).json()
    assert me["accounts_bound"] == 1
    assert DomainEvent.objects.get(kind="customer.signed_in").channel == "app"
    assert DomainEvent.objects.get(kind="access.token_issued").payload["grant_type"] == "sms_code"


def test_sms_sign_in_of_a_new_phone_creates_the_customer(client, app):
    _ask(client, "13912345678")
    response = _sign_in(client, sms_code("13912345678"), app, phone="13912345678")
    assert response.status_code == 200
    assert CustomerUser.objects.filter(phone="13912345678").exists()


def test_wrong_code_is_refused_and_counted(client, customer, app):
    _ask(client)
    response = _sign_in(client, wrong_code(sms_code("13800000000")), app)
    assert response.status_code == 400
    assert response.json()["code"] == "otp_wrong" and response.json()["field"] == "code"
    assert OtpChallenge.objects.get().attempts == 1


def test_code_cannot_be_used_twice(client, customer, app):
    _ask(client)
    code = sms_code("13800000000")
    assert _sign_in(client, code, app).status_code == 200
    again = _sign_in(client, code, app)
    assert again.status_code == 400 and again.json()["code"] == "otp_used"


def test_expired_code_is_refused(client, customer, app):
    _ask(client)
    OtpChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _sign_in(client, sms_code("13800000000"), app)
    assert response.status_code == 400 and response.json()["code"] == "otp_expired"


def test_malformed_code_is_refused(client, customer, app):
    _ask(client)
    assert _sign_in(client, "12ab56", app).json()["code"] == "otp_malformed"


def test_asking_again_too_soon_is_rate_limited(client, customer, settings):
    settings.OTP_RESEND_INTERVAL_SECONDS = 60
    assert _ask(client).status_code == 200
    response = _ask(client)
    assert response.status_code == 429
    assert response.json()["code"] == "otp_too_frequent"
    assert 0 < response.json()["retry_after"] <= 60


def test_hourly_limit_per_phone(client, customer, settings):
    settings.OTP_MAX_PER_PHONE_PER_HOUR = 2
    _ask(client)
    _ask(client)
    response = _ask(client)
    assert response.status_code == 429 and response.json()["code"] == "otp_phone_hourly_limit"


def test_unknown_client_is_refused_without_spending_the_code(client, customer, app):
    _ask(client)
    code = sms_code("13800000000")
    response = client.post(SIGN_IN_URL, {"phone": "13800000000", "code": code, "client_id": "app_unknown"},
                           content_type="application/json")
    assert response.status_code == 401 and response.json()["code"] == "invalid_client"
    assert _sign_in(client, code, app).status_code == 200


def test_invalid_phone_is_named(client):
    response = _ask(client, "12345")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_phone" and response.json()["field"] == "phone"


def test_missing_field_is_an_invalid_request(client, app):
    response = client.post(SIGN_IN_URL, {"phone": "13800000000", "client_id": app.client_id},
                           content_type="application/json")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request" and response.json()["field"] == "code"
