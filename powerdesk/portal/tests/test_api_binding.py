"""POST /api/v1/me/accounts/bind-code, /bind and DELETE /accounts/{number} from the app."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from powerdesk.access.testing import customer_caller, sms_code, wrong_code
from powerdesk.core.testing import SHOWCASE_ID_CARD
from powerdesk.customers.models import Binding, OtpChallenge
from powerdesk.events.models import DomainEvent

pytestmark = pytest.mark.django_db

ACCOUNTS = "/api/v1/me/accounts"
BIND_CODE = "/api/v1/me/accounts/bind-code"
BIND = "/api/v1/me/accounts/bind"
ACCOUNT_A_PHONE = "13800000000"


@pytest.fixture(autouse=True)
def _no_resend_wait(settings):
    settings.OTP_RESEND_INTERVAL_SECONDS = 0


@pytest.fixture
def me(client, customer):
    return customer_caller(client, customer)


@pytest.fixture
def stranger_me(client, stranger):
    return customer_caller(client, stranger)


def test_bind_with_the_code_texted_to_the_phone_on_file(stranger_me, stranger, account_a):
    asked = stranger_me.post(BIND_CODE, {"account_number": "0000000001"})
    assert asked.status_code == 200
    assert asked.json() == {"phone_masked": "138****0000", "resend_after": 0}
    response = stranger_me.post(BIND, {"account_number": "0000000001", "code": sms_code(ACCOUNT_A_PHONE),
                                       "role": "family"})
    assert response.status_code == 201
    assert response.json()["account_number"] == "0000000001" and response.json()["role"] == "family"
    binding = Binding.objects.get(customer_user=stranger)
    assert binding.channel == "app" and binding.verified_by == "sms_otp"
    assert DomainEvent.objects.get(kind="customer.bound").channel == "app"
    assert stranger_me.get(f"{ACCOUNTS}/0000000001").status_code == 200


def test_bind_by_real_name(stranger_me, stranger, account_a):
    response = stranger_me.post(BIND, {"account_number": "0000000001", "holder_name": "张三",
                                       "id_card_number": SHOWCASE_ID_CARD, "role": "holder"})
    assert response.status_code == 201
    assert Binding.objects.get(customer_user=stranger).verified_by == "real_name"


def test_real_name_mismatch_is_refused(stranger_me, account_a):
    response = stranger_me.post(BIND, {"account_number": "0000000001", "holder_name": "李四",
                                       "id_card_number": SHOWCASE_ID_CARD})
    assert response.status_code == 400
    assert response.json()["code"] == "real_name_mismatch"


def test_invalid_id_card_number_is_named(stranger_me, account_a):
    response = stranger_me.post(BIND, {"account_number": "0000000001", "holder_name": "张三",
                                       "id_card_number": "330102199003071231"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_id_card" and response.json()["field"] == "id_card_number"


def test_binding_an_already_bound_account_is_a_conflict(me, account_a):
    asked = me.post(BIND_CODE, {"account_number": "0000000001"})
    assert asked.status_code == 409 and asked.json()["code"] == "already_bound"
    response = me.post(BIND, {"account_number": "0000000001", "holder_name": "张三",
                              "id_card_number": SHOWCASE_ID_CARD})
    assert response.status_code == 409
    assert response.json()["code"] == "already_bound"


def test_wrong_code_is_refused(stranger_me, account_a):
    stranger_me.post(BIND_CODE, {"account_number": "0000000001"})
    response = stranger_me.post(BIND, {"account_number": "0000000001",
                                       "code": wrong_code(sms_code(ACCOUNT_A_PHONE))})
    assert response.status_code == 400 and response.json()["code"] == "otp_wrong"
    assert not Binding.objects.filter(account__number="0000000001", customer_user__phone="13700000000").exists()


def test_expired_code_is_refused(stranger_me, account_a):
    stranger_me.post(BIND_CODE, {"account_number": "0000000001"})
    OtpChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = stranger_me.post(BIND, {"account_number": "0000000001", "code": sms_code(ACCOUNT_A_PHONE)})
    assert response.status_code == 400 and response.json()["code"] == "otp_expired"


def test_reused_code_is_refused(stranger_me, stranger, account_a):
    stranger_me.post(BIND_CODE, {"account_number": "0000000001"})
    code = sms_code(ACCOUNT_A_PHONE)
    assert stranger_me.post(BIND, {"account_number": "0000000001", "code": code}).status_code == 201
    Binding.objects.filter(customer_user=stranger).delete()
    response = stranger_me.post(BIND, {"account_number": "0000000001", "code": code})
    assert response.status_code == 400 and response.json()["code"] == "otp_used"


def test_code_for_one_account_cannot_bind_another(stranger_me, account_a, company):
    from powerdesk.core.testing import make_account

    make_account(number="0000000003", unit=company.station_a)  # same phone on file as account A
    stranger_me.post(BIND_CODE, {"account_number": "0000000001"})
    response = stranger_me.post(BIND, {"account_number": "0000000003", "code": sms_code(ACCOUNT_A_PHONE)})
    assert response.status_code == 400 and response.json()["code"] == "otp_wrong"


def test_asking_for_codes_too_often_is_rate_limited(stranger_me, account_a, settings):
    settings.OTP_RESEND_INTERVAL_SECONDS = 60
    stranger_me.post(BIND_CODE, {"account_number": "0000000001"})
    response = stranger_me.post(BIND_CODE, {"account_number": "0000000001"})
    assert response.status_code == 429
    assert response.json()["code"] == "otp_too_frequent"


def test_unknown_account_is_named(stranger_me, account_a):
    response = stranger_me.post(BIND_CODE, {"account_number": "0000000999"})
    assert response.status_code == 404 and response.json()["code"] == "account_not_found"


def test_bind_needs_exactly_one_verification_method(stranger_me, account_a):
    neither = stranger_me.post(BIND, {"account_number": "0000000001"})
    assert neither.status_code == 400 and neither.json()["code"] == "bind_method_required"
    both = stranger_me.post(BIND, {"account_number": "0000000001", "code": "123456", "holder_name": "张三",
                                   "id_card_number": SHOWCASE_ID_CARD})
    assert both.status_code == 400 and both.json()["code"] == "bind_method_required"


def test_unknown_role_is_an_invalid_request(stranger_me, account_a):
    response = stranger_me.post(BIND, {"account_number": "0000000001", "code": "123456", "role": "landlord"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request" and response.json()["field"] == "role"


def test_unbind(me, customer):
    response = me.delete(f"{ACCOUNTS}/0000000001")
    assert response.status_code == 204
    assert me.get(f"{ACCOUNTS}/0000000001").json()["code"] == "account_not_bound"
    assert Binding.objects.get(customer_user=customer).end_reason == "unbound"
    assert DomainEvent.objects.get(kind="customer.unbound").channel == "app"


def test_unbinding_an_account_not_bound_is_not_found(stranger_me, account_a):
    response = stranger_me.delete(f"{ACCOUNTS}/0000000001")
    assert response.status_code == 404 and response.json()["code"] == "binding_not_found"


def test_portal_session_binds_on_the_h5_channel(client, stranger, account_a):
    from powerdesk.access.auth import PORTAL_SESSION_KEY

    session = client.session
    session[PORTAL_SESSION_KEY] = stranger.pk
    session.save()
    response = client.post(BIND, {"account_number": "0000000001", "holder_name": "张三",
                                  "id_card_number": SHOWCASE_ID_CARD}, content_type="application/json")
    assert response.status_code == 201
    assert Binding.objects.get(customer_user=stranger).channel == "h5"


def test_non_utf8_body_is_refused(me):
    response = me.post(BIND_CODE, '{"account_number": "张三"}'.encode("gbk"))
    assert response.status_code == 400
    assert response.json()["code"] == "body_not_utf8"


def test_oversized_body_is_refused(me, settings):
    settings.MAX_REQUEST_BODY_BYTES = 1024
    response = me.post(BIND, {"account_number": "0000000001", "holder_name": "张" * 2000})
    assert response.status_code == 413 and response.json()["code"] == "body_too_large"


def test_malformed_json_is_refused(me):
    response = me.post(BIND_CODE, '{"account_number": ')
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
