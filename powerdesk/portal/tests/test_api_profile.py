"""POST /api/v1/me/phone(/code) and /api/v1/me/email(/code): verified profile changes."""

from __future__ import annotations

import pytest

from powerdesk.access.testing import customer_caller, sms_code, wrong_code
from powerdesk.customers.models import CustomerUser
from powerdesk.events.models import DomainEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_resend_wait(settings):
    settings.OTP_RESEND_INTERVAL_SECONDS = 0


@pytest.fixture
def me(client, customer):
    return customer_caller(client, customer)


def test_change_phone_with_a_code_texted_to_the_new_phone(me, customer):
    asked = me.post("/api/v1/me/phone/code", {"new_phone": "139 1234 5678"})
    assert asked.status_code == 200 and asked.json()["phone_masked"] == "139****5678"
    response = me.post("/api/v1/me/phone", {"new_phone": "13912345678", "code": sms_code("13912345678")})
    assert response.status_code == 200
    assert response.json()["phone_masked"] == "139****5678"
    customer.refresh_from_db()
    assert customer.phone == "13912345678"
    assert DomainEvent.objects.get(kind="customer.phone_changed").channel == "app"


def test_change_phone_with_a_wrong_code_changes_nothing(me, customer):
    me.post("/api/v1/me/phone/code", {"new_phone": "13912345678"})
    response = me.post("/api/v1/me/phone", {"new_phone": "13912345678",
                                            "code": wrong_code(sms_code("13912345678"))})
    assert response.status_code == 400 and response.json()["code"] == "otp_wrong"
    customer.refresh_from_db()
    assert customer.phone == "13800000000"


def test_phone_of_another_customer_is_taken(me, stranger):
    response = me.post("/api/v1/me/phone/code", {"new_phone": "13700000000"})
    assert response.status_code == 409 and response.json()["code"] == "phone_taken"


def test_change_email_with_a_code_texted_to_the_customers_phone(me, customer):
    asked = me.post("/api/v1/me/email/code")
    assert asked.status_code == 200 and asked.json()["phone_masked"] == "138****0000"
    response = me.post("/api/v1/me/email", {"new_email": "Zhang.San@Example.cn", "code": sms_code("13800000000")})
    assert response.status_code == 200
    assert response.json()["email"] == "zhang.san@example.cn"
    assert CustomerUser.objects.get(pk=customer.pk).email == "zhang.san@example.cn"


def test_invalid_email_is_named(me):
    me.post("/api/v1/me/email/code")
    response = me.post("/api/v1/me/email", {"new_email": "not-an-email", "code": sms_code("13800000000")})
    assert response.status_code == 400
    assert response.json() == {"code": "invalid_email", "message": "电子邮箱格式不正确。", "field": "email"}
