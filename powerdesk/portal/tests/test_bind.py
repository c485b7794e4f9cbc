"""Binding a 户号: by a code texted to the phone on file, or by the holder's real name."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from powerdesk.channels.sms.models import OutboundSms
from powerdesk.core.testing import SHOWCASE_ID_CARD
from powerdesk.customers.choices import BindingRole, VerificationMethod
from powerdesk.customers.models import Binding, OtpChallenge
from powerdesk.portal.tests.conftest import sms_code, wrong_code

BIND = reverse("portal:bind")
BIND_BY_NAME = f"{BIND}?method=real_name"
ACCOUNT_A_PHONE = "13800000000"


def _request_code(client, number="0000000001", **extra):
    return client.post(BIND, {"method": "sms", "account_number": number, "role": "holder", "action": "send_code"},
                       **extra)


def _bind_with_code(client, code, number="0000000001", role="holder"):
    return client.post(BIND, {"method": "sms", "account_number": number, "role": role, "code": code})


def _bind_by_name(client, *, name="张三", id_card=SHOWCASE_ID_CARD, number="0000000001", role="holder"):
    return client.post(BIND_BY_NAME, {"method": "real_name", "account_number": number, "role": role,
                                      "holder_name": name, "id_card_number": id_card})


def test_bind_page_offers_both_methods_as_tabs(stranger_client, account_a):
    html = stranger_client.get(BIND).content.decode()
    assert "短信验证" in html and "实名核验" in html
    assert 'weui-navbar__item weui-bar__item_on" aria-selected="true">短信验证' in html
    for role in ("户主", "家庭成员", "授权代理人"):
        assert role in html
    assert 'name="code"' in html and 'name="id_card_number"' not in html
    by_name = stranger_client.get(BIND_BY_NAME).content.decode()
    assert 'name="holder_name"' in by_name and 'name="id_card_number"' in by_name and 'name="code"' not in by_name


def test_code_goes_to_the_phone_on_file_and_is_shown_masked(stranger_client, account_a):
    response = _request_code(stranger_client)
    assert "验证码已发送至 138****0000" in response.content.decode()
    sms = OutboundSms.objects.get()
    assert sms.phone == ACCOUNT_A_PHONE and sms.purpose == "otp.bind_account"


def test_code_request_by_htmx_answers_with_the_fragment(stranger_client, account_a):
    response = _request_code(stranger_client, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "验证码已发送至 138****0000" in html and "<html" not in html


def test_bind_with_code_creates_the_binding_and_lists_it(stranger_client, stranger, account_a):
    _request_code(stranger_client)
    response = _bind_with_code(stranger_client, sms_code(ACCOUNT_A_PHONE), role="family")
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    binding = Binding.objects.get(customer_user=stranger, account=account_a)
    assert binding.role == BindingRole.FAMILY
    assert binding.verified_by == VerificationMethod.SMS_OTP
    assert binding.channel == "h5"
    home = stranger_client.get(reverse("portal:home")).content.decode()
    assert "户号 0000000001 绑定成功。" in home
    assert "0000000001" in home and "家庭成员" in home


def test_malformed_account_number_is_refused_and_nothing_is_sent_or_stored(stranger_client, stranger, account_a):
    response = _request_code(stranger_client, number="00001")
    html = response.content.decode()
    assert "户号应为10位数字。" in html
    assert 'id="id_account_number-error"' in html
    assert not OutboundSms.objects.exists()
    response = _bind_with_code(stranger_client, "123456", number="00001")
    assert "户号应为10位数字。" in response.content.decode()
    assert not Binding.objects.filter(customer_user=stranger).exists()


def test_full_width_digits_are_not_a_account_number(stranger_client, account_a):
    response = _request_code(stranger_client, number="０００００００００１")
    assert "户号应为10位数字。" in response.content.decode()
    assert not OutboundSms.objects.exists()


def test_unknown_account_number_is_refused(stranger_client, account_a):
    response = _request_code(stranger_client, number="0000009999")
    assert "户号 0000009999 不存在，请核对电费单上的 10 位户号。" in response.content.decode()
    assert not OutboundSms.objects.exists()


def test_wrong_code_binds_nothing(stranger_client, stranger, account_a):
    _request_code(stranger_client)
    response = _bind_with_code(stranger_client, wrong_code(sms_code(ACCOUNT_A_PHONE)))
    html = response.content.decode()
    assert "验证码不正确，还可尝试 4 次。" in html
    assert 'id="id_code-error"' in html
    assert 'value="0000000001"' in html  # what was typed stays
    assert not Binding.objects.filter(customer_user=stranger).exists()


def test_expired_code_binds_nothing(stranger_client, stranger, account_a):
    _request_code(stranger_client)
    OtpChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _bind_with_code(stranger_client, sms_code(ACCOUNT_A_PHONE))
    assert "验证码已过期，请重新获取。" in response.content.decode()
    assert not Binding.objects.filter(customer_user=stranger).exists()


def test_code_for_one_account_cannot_bind_another_with_the_same_phone(stranger_client, stranger, account_a, company):
    from powerdesk.core.testing import make_account

    make_account(number="0000000005", unit=company.station_a, id_card=None)  # same phone on file
    _request_code(stranger_client)
    response = _bind_with_code(stranger_client, sms_code(ACCOUNT_A_PHONE), number="0000000005")
    assert "验证码不正确" in response.content.decode()
    assert not Binding.objects.filter(customer_user=stranger).exists()


def test_already_bound_account_is_refused_before_any_code_is_sent(customer_client, customer, account_a):
    response = _request_code(customer_client)
    assert "户号 0000000001 已绑定到您的账户，无需重复绑定。" in response.content.decode()
    assert not OutboundSms.objects.exists()
    assert Binding.objects.filter(customer_user=customer).count() == 1


def test_asking_for_a_second_code_too_soon_is_a_message(stranger_client, account_a):
    _request_code(stranger_client)
    html = _request_code(stranger_client).content.decode()
    assert 'portal-message_error">验证码发送过于频繁，请 60 秒后再试。' in html
    assert OutboundSms.objects.count() == 1


def test_a_second_code_can_be_asked_for_after_the_interval(stranger_client, stranger, account_a, settings):
    settings.OTP_RESEND_INTERVAL_SECONDS = 0
    _request_code(stranger_client)
    first = sms_code(ACCOUNT_A_PHONE)
    _request_code(stranger_client)
    assert OutboundSms.objects.count() == 2
    if first != sms_code(ACCOUNT_A_PHONE):  # the newest code is the one that counts
        assert "验证码不正确" in _bind_with_code(stranger_client, first).content.decode()
    _bind_with_code(stranger_client, sms_code(ACCOUNT_A_PHONE))
    assert Binding.objects.filter(customer_user=stranger, account=account_a).exists()


def test_invalid_role_is_refused(stranger_client, stranger, account_a):
    _request_code(stranger_client)
    response = _bind_with_code(stranger_client, sms_code(ACCOUNT_A_PHONE), role="owner")
    assert "请选择有效的绑定身份。" in response.content.decode()
    assert not Binding.objects.filter(customer_user=stranger).exists()


def test_bind_by_real_name(stranger_client, stranger, account_a):
    response = _bind_by_name(stranger_client, role="agent")
    assert response.status_code == 302
    binding = Binding.objects.get(customer_user=stranger, account=account_a)
    assert binding.verified_by == VerificationMethod.REAL_NAME
    assert binding.role == BindingRole.AGENT
    assert not OutboundSms.objects.exists()


def test_bind_by_real_name_accepts_a_lowercase_x(stranger_client, stranger, company):
    from powerdesk.core.testing import make_account

    make_account(number="0000000007", unit=company.station_a, id_card="11010519491231002X")
    response = _bind_by_name(stranger_client, number="0000000007", id_card="11010519491231002x")
    assert response.status_code == 302


def test_real_name_mismatch_binds_nothing(stranger_client, stranger, account_a):
    response = _bind_by_name(stranger_client, name="张四")
    html = response.content.decode()
    assert "户名或身份证号与该户号登记信息不一致。" in html
    assert 'id="id_id_card_number-error"' in html
    assert not Binding.objects.filter(customer_user=stranger).exists()


def test_invalid_id_card_number_is_refused(stranger_client, stranger, account_a):
    response = _bind_by_name(stranger_client, id_card=SHOWCASE_ID_CARD[:-1] + "5")
    assert "身份证号码校验位不正确，请核对。" in response.content.decode()
    assert not Binding.objects.filter(customer_user=stranger).exists()


def test_holder_name_is_required(stranger_client, stranger, account_a):
    response = _bind_by_name(stranger_client, name="  ")
    assert "请填写户主姓名。" in response.content.decode()
    assert not Binding.objects.filter(customer_user=stranger).exists()


def test_real_name_on_an_account_without_id_on_file_is_refused(stranger_client, stranger, account_b):
    response = _bind_by_name(stranger_client, name="李四", number="0000000002")
    assert "户名或身份证号与该户号登记信息不一致。" in response.content.decode()


def test_too_many_real_name_failures_is_a_message(stranger_client, stranger, account_a):
    for _ in range(5):
        _bind_by_name(stranger_client, name="王五")
    response = _bind_by_name(stranger_client)
    assert 'portal-message_error">实名核验失败次数过多，请明天再试或到营业厅办理。' in response.content.decode()
    assert not Binding.objects.filter(customer_user=stranger).exists()


def test_real_name_already_bound_is_refused(customer_client, customer, account_a):
    response = _bind_by_name(customer_client)
    assert "户号 0000000001 已绑定到您的账户，无需重复绑定。" in response.content.decode()
    assert Binding.objects.filter(customer_user=customer).count() == 1


def test_unknown_method_falls_back_to_sms(stranger_client, account_a):
    html = stranger_client.get(f"{BIND}?method=magic").content.decode()
    assert 'name="code"' in html
