"""Profile: masked phone and e-mail; changing either is confirmed by an SMS code."""

from __future__ import annotations

from django.urls import reverse

from powerdesk.channels.sms.models import OutboundSms
from powerdesk.customers.models import CustomerUser, Identity
from powerdesk.portal.auth import SESSION_KEY
from powerdesk.portal.tests.conftest import sms_code, wrong_code

PROFILE = reverse("portal:profile")
PHONE = reverse("portal:profile_phone")
EMAIL = reverse("portal:profile_email")
NEW_PHONE = "13600000000"


def test_profile_shows_phone_and_email_masked(customer_client, customer):
    CustomerUser.objects.filter(pk=customer.pk).update(email="zhangsan@example.com")
    html = customer_client.get(PROFILE).content.decode()
    assert "138****0000" in html and "13800000000" not in html
    assert "z***@example.com" in html and "zhangsan@example.com" not in html
    assert "退出登录" in html


def test_profile_without_email_says_not_set(customer_client):
    assert "未设置" in customer_client.get(PROFILE).content.decode()


def test_change_phone_texts_the_new_phone(customer_client):
    response = customer_client.post(PHONE, {"phone": NEW_PHONE, "action": "send_code"})
    assert "验证码已发送至 136****0000" in response.content.decode()
    assert OutboundSms.objects.get().phone == NEW_PHONE


def test_change_phone_with_the_code(customer_client, customer):
    customer_client.post(PHONE, {"phone": NEW_PHONE, "action": "send_code"})
    response = customer_client.post(PHONE, {"phone": NEW_PHONE, "code": sms_code(NEW_PHONE)}, follow=True)
    customer.refresh_from_db()
    assert customer.phone == NEW_PHONE
    assert Identity.objects.get(customer_user=customer, provider="phone").subject == NEW_PHONE
    html = response.content.decode()
    assert "手机号已更换为 136****0000。" in html
    assert customer_client.session[SESSION_KEY] == customer.pk


def test_change_phone_with_a_wrong_code_changes_nothing(customer_client, customer):
    customer_client.post(PHONE, {"phone": NEW_PHONE, "action": "send_code"})
    response = customer_client.post(PHONE, {"phone": NEW_PHONE, "code": wrong_code(sms_code(NEW_PHONE))})
    assert "验证码不正确，还可尝试 4 次。" in response.content.decode()
    customer.refresh_from_db()
    assert customer.phone == "13800000000"


def test_change_to_a_phone_another_customer_uses_is_refused(customer_client, customer, stranger):
    response = customer_client.post(PHONE, {"phone": stranger.phone, "action": "send_code"})
    html = response.content.decode()
    assert "该手机号已被其他账户使用。" in html
    assert 'id="id_phone-error"' in html
    assert not OutboundSms.objects.exists()


def test_change_to_the_same_phone_is_refused(customer_client):
    response = customer_client.post(PHONE, {"phone": "13800000000", "action": "send_code"})
    assert "新手机号与当前手机号相同。" in response.content.decode()


def test_change_to_an_invalid_phone_is_refused(customer_client, customer):
    response = customer_client.post(PHONE, {"phone": "23800000000", "code": "123456"})
    assert "请输入有效的11位手机号码。" in response.content.decode()
    customer.refresh_from_db()
    assert customer.phone == "13800000000"


def test_change_email_code_goes_to_the_current_phone(customer_client):
    response = customer_client.post(EMAIL, {"email": "", "action": "send_code"})
    assert "验证码已发送至 138****0000" in response.content.decode()
    assert OutboundSms.objects.get().phone == "13800000000"


def test_change_email_with_the_code(customer_client, customer):
    customer_client.post(EMAIL, {"action": "send_code"})
    response = customer_client.post(EMAIL, {"email": "Zhang.San@Example.com", "code": sms_code("13800000000")},
                                    follow=True)
    customer.refresh_from_db()
    assert customer.email == "zhang.san@example.com"
    html = response.content.decode()
    assert "邮箱已更新。" in html and "z***@example.com" in html


def test_change_email_to_an_invalid_address_changes_nothing_and_keeps_the_code(customer_client, customer):
    customer_client.post(EMAIL, {"action": "send_code"})
    code = sms_code("13800000000")
    response = customer_client.post(EMAIL, {"email": "not-an-email", "code": code})
    html = response.content.decode()
    assert "电子邮箱格式不正确。" in html and 'id="id_email-error"' in html
    customer.refresh_from_db()
    assert customer.email == ""
    customer_client.post(EMAIL, {"email": "a@example.com", "code": code})
    customer.refresh_from_db()
    assert customer.email == "a@example.com"


def test_change_email_with_a_wrong_code_changes_nothing(customer_client, customer):
    customer_client.post(EMAIL, {"action": "send_code"})
    response = customer_client.post(EMAIL, {"email": "a@example.com", "code": wrong_code(sms_code("13800000000"))})
    assert "验证码不正确" in response.content.decode()
    customer.refresh_from_db()
    assert customer.email == ""


def test_profile_pages_need_sign_in(client, db):
    for url in (PROFILE, PHONE, EMAIL):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/h5/login/?next=")
