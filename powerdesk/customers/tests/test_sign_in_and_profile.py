"""Signing in by phone, one person across identities, and verified profile changes."""

import re

import pytest

from powerdesk.channels.sms.models import OutboundSms
from powerdesk.core.exceptions import ApplicationError
from powerdesk.customers import services
from powerdesk.customers.models import CustomerUser, Identity

pytestmark = pytest.mark.django_db


def last_code(phone: str) -> str:
    body = OutboundSms.objects.filter(phone=phone).order_by("-id").first().body
    return re.search(r"验证码 (\d{6})", body).group(1)


@pytest.fixture(autouse=True)
def _no_resend_wait(settings):
    settings.OTP_RESEND_INTERVAL_SECONDS = 0


def sign_in(phone: str) -> CustomerUser:
    services.sign_in_code_request(phone=phone)
    return services.customer_sign_in_with_phone(
        phone=phone, code=last_code(phone.replace(" ", "")[-11:]), channel="h5"
    )


def test_first_sign_in_creates_one_user_and_later_ones_find_it():
    first = sign_in("13912345678")
    again = sign_in("+86 139 1234 5678")
    assert first.pk == again.pk
    assert Identity.objects.filter(provider="phone", subject="13912345678").count() == 1


def test_phone_and_wechat_identities_lead_to_the_same_accounts(customer, account_a):
    services.identity_attach(
        customer_user=customer,
        provider="wechat_openid",
        app_id="wx5d3a1c0e9b7f2468",
        subject="o_demo_showcase",
    )
    by_phone = sign_in("13800000000")
    by_wechat = Identity.objects.get(provider="wechat_openid", subject="o_demo_showcase").customer_user
    assert by_phone.pk == by_wechat.pk == customer.pk
    assert [b.account.number for b in services.active_bindings().filter(customer_user=by_phone)] == [
        "0000000001"
    ]


def test_an_identity_cannot_be_taken_by_another_user(customer, stranger):
    services.identity_attach(customer_user=customer, provider="alipay", subject="2088000000000001")
    with pytest.raises(ApplicationError) as exc:
        services.identity_attach(customer_user=stranger, provider="alipay", subject="2088000000000001")
    assert exc.value.code == "identity_taken"


@pytest.mark.parametrize("phone", ["12345", "23800000000", "1380000000x", "138000000001"])
def test_invalid_phone_is_refused_and_nothing_sent(phone):
    with pytest.raises(ApplicationError) as exc:
        services.sign_in_code_request(phone=phone)
    assert exc.value.code == "invalid_phone" and exc.value.field == "phone"
    assert OutboundSms.objects.count() == 0


def test_change_phone_needs_a_code_sent_to_the_new_phone(customer):
    services.phone_change_code_request(customer_user=customer, new_phone="13611112222")
    with pytest.raises(ApplicationError):
        services.customer_change_phone(
            customer_user=customer, new_phone="13611112222", code="000000", channel="h5"
        )
    customer.refresh_from_db()
    assert customer.phone == "13800000000"
    services.customer_change_phone(
        customer_user=customer, new_phone="13611112222", code=last_code("13611112222"), channel="h5"
    )
    customer.refresh_from_db()
    assert customer.phone == "13611112222"
    assert list(customer.identities.filter(provider="phone").values_list("subject", flat=True)) == [
        "13611112222"
    ]
    assert sign_in("13611112222").pk == customer.pk


def test_change_to_a_phone_another_user_has_is_refused(customer, stranger):
    with pytest.raises(ApplicationError) as exc:
        services.phone_change_code_request(customer_user=customer, new_phone=stranger.phone)
    assert exc.value.code == "phone_taken"


def test_change_email_is_confirmed_by_a_code_to_the_current_phone(customer):
    services.email_change_code_request(customer_user=customer)
    with pytest.raises(ApplicationError) as exc:
        services.customer_change_email(
            customer_user=customer, new_email="not-an-email", code="123456", channel="h5"
        )
    assert exc.value.code == "invalid_email"
    services.customer_change_email(
        customer_user=customer, new_email="Zhang.San@Example.com", code=last_code("13800000000"), channel="h5"
    )
    customer.refresh_from_db()
    assert customer.email == "zhang.san@example.com"
