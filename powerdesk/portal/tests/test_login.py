"""Sign-in by phone and SMS code, sign-out, and the customer_required gate."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from powerdesk.channels.sms.models import OutboundSms
from powerdesk.customers.models import CustomerUser, OtpChallenge
from powerdesk.portal.auth import SESSION_KEY
from powerdesk.portal.tests.conftest import sign_in, sms_code, wrong_code

LOGIN = reverse("portal:login")
NEW_PHONE = "13900000001"


def _request_code(client, phone=NEW_PHONE, **extra):
    return client.post(LOGIN, {"phone": phone, "action": "send_code"}, **extra)


def test_login_page_is_a_chinese_mobile_page(client, db):
    response = client.get(LOGIN)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-Hans">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1, maximum-scale=1">' in html
    assert "/static/vendor/weui.min.css" in html
    assert "csrfmiddlewaretoken" in html
    assert "获取验证码" in html
    assert "演示环境：验证码见坐席工作台「短信发件箱」" in html


def test_login_page_has_no_demo_hint_with_a_real_gateway(client, db, settings):
    settings.SMS_BACKEND = "gateway"
    assert "短信发件箱" not in client.get(LOGIN).content.decode()


def test_code_request_texts_the_phone_and_shows_it_masked(client, db):
    response = _request_code(client)
    assert response.status_code == 200
    assert "验证码已发送至 139****0001" in response.content.decode()
    assert OutboundSms.objects.filter(phone=NEW_PHONE, purpose="otp.sign_in").count() == 1
    assert 'value="13900000001"' in response.content.decode()  # the typed phone is kept


def test_code_request_by_htmx_answers_with_the_feedback_fragment(client, db):
    response = _request_code(client, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "验证码已发送至 139****0001" in html
    assert "<html" not in html
    assert 'data-resend-after="60"' in html


def test_invalid_phone_is_refused_beside_the_field_and_nothing_is_sent(client, db):
    response = _request_code(client, phone="1380000")
    html = response.content.decode()
    assert "请输入有效的11位手机号码。" in html
    assert 'class="portal-field-error" id="id_phone-error"' in html
    assert not OutboundSms.objects.exists()


def test_invalid_phone_by_htmx_shows_the_reason_in_the_fragment(client, db):
    response = _request_code(client, phone="abc", headers={"HX-Request": "true"})
    assert "请输入有效的11位手机号码。" in response.content.decode()
    assert not OutboundSms.objects.exists()


def test_asking_again_too_soon_is_a_message_and_sends_nothing_more(client, db):
    _request_code(client)
    response = _request_code(client)
    html = response.content.decode()
    assert "portal-message_error" in html
    assert "验证码发送过于频繁，请 60 秒后再试。" in html
    assert OutboundSms.objects.filter(phone=NEW_PHONE).count() == 1


def test_new_phone_signs_in_as_a_new_customer_with_a_fresh_session(client, db):
    _request_code(client)
    session_before = client.session.session_key
    response = client.post(LOGIN, {"phone": NEW_PHONE, "code": sms_code(NEW_PHONE)})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    user = CustomerUser.objects.get(phone=NEW_PHONE)
    assert client.session[SESSION_KEY] == user.pk
    assert client.session.session_key != session_before
    assert client.get(reverse("portal:home")).status_code == 200


def test_known_phone_signs_in_as_that_customer(client, customer):
    _request_code(client, phone="13800000000")
    client.post(LOGIN, {"phone": "13800000000", "code": sms_code("13800000000")})
    assert client.session[SESSION_KEY] == customer.pk
    assert CustomerUser.objects.filter(phone="13800000000").count() == 1


def test_sign_in_goes_to_the_page_asked_for(client, db):
    _request_code(client)
    response = client.post(LOGIN, {"phone": NEW_PHONE, "code": sms_code(NEW_PHONE), "next": "/h5/bind/"})
    assert response["Location"] == "/h5/bind/"


def test_sign_in_ignores_a_next_on_another_site(client, db):
    _request_code(client)
    response = client.post(LOGIN, {"phone": NEW_PHONE, "code": sms_code(NEW_PHONE),
                                   "next": "https://evil.example/steal"})
    assert response["Location"] == reverse("portal:home")


def test_wrong_code_is_refused_beside_the_code_field(client, db):
    _request_code(client)
    response = client.post(LOGIN, {"phone": NEW_PHONE, "code": wrong_code(sms_code(NEW_PHONE))})
    html = response.content.decode()
    assert response.status_code == 200
    assert "验证码不正确，还可尝试 4 次。" in html
    assert 'id="id_code-error"' in html
    assert SESSION_KEY not in client.session
    assert not CustomerUser.objects.filter(phone=NEW_PHONE).exists()


def test_expired_code_is_refused(client, db):
    _request_code(client)
    OtpChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post(LOGIN, {"phone": NEW_PHONE, "code": sms_code(NEW_PHONE)})
    assert "验证码已过期，请重新获取。" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_code_without_request_is_refused(client, db):
    response = client.post(LOGIN, {"phone": NEW_PHONE, "code": "123456"})
    assert "请先获取短信验证码。" in response.content.decode()


def test_malformed_code_is_refused(client, db):
    response = client.post(LOGIN, {"phone": NEW_PHONE, "code": "12ab"})
    assert "验证码应为 6 位数字。" in response.content.decode()


def test_code_cannot_be_spent_twice(client, db):
    _request_code(client)
    code = sms_code(NEW_PHONE)
    client.post(LOGIN, {"phone": NEW_PHONE, "code": code})
    client.post(reverse("portal:logout"))
    response = client.post(LOGIN, {"phone": NEW_PHONE, "code": code})
    assert "该验证码已使用，请重新获取。" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_signed_in_customer_skips_the_login_page(client, customer):
    sign_in(client, customer)
    response = client.get(LOGIN)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")


def test_pages_send_anonymous_visitors_to_sign_in_and_back(client, db):
    response = client.get("/h5/bind/?method=real_name")
    assert response.status_code == 302
    assert response["Location"] == "/h5/login/?next=%2Fh5%2Fbind%2F%3Fmethod%3Dreal_name"


def test_htmx_request_without_session_is_told_to_navigate(client, db):
    response = client.post("/h5/bind/", {"action": "send_code"}, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/h5/login/?next=")


def test_deactivated_customer_is_signed_out(client, customer):
    sign_in(client, customer)
    CustomerUser.objects.filter(pk=customer.pk).update(is_active=False)
    assert client.get(reverse("portal:home")).status_code == 302


def test_sign_out_ends_the_portal_session(client, customer):
    sign_in(client, customer)
    response = client.post(reverse("portal:logout"))
    assert response["Location"] == LOGIN
    assert SESSION_KEY not in client.session
    assert client.get(reverse("portal:home")).status_code == 302


def test_sign_out_needs_post(client, customer):
    sign_in(client, customer)
    assert client.get(reverse("portal:logout")).status_code == 405
    assert client.session[SESSION_KEY] == customer.pk
