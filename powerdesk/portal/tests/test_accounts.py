"""My accounts (home): only my active bindings, masked; unbinding my own and nobody else's."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from powerdesk.core.testing import make_account
from powerdesk.customers.choices import BindingEndReason, BindingRole, TariffClass, VerificationMethod
from powerdesk.customers.models import Binding
from powerdesk.events.choices import Channel
from powerdesk.events.models import DomainEvent
from powerdesk.portal.tests.conftest import sign_in

HOME = reverse("portal:home")


def _bind(customer_user, account, role=BindingRole.HOLDER, **extra) -> Binding:
    return Binding.objects.create(customer_user=customer_user, account=account, role=role,
                                  verified_by=VerificationMethod.SMS_OTP, channel=Channel.H5,
                                  valid_from=timezone.now(), **extra)


def test_home_lists_my_account_masked(customer_client, account_a):
    response = customer_client.get(HOME)
    html = response.content.decode()
    assert response.status_code == 200
    assert "0000000001" in html
    assert "张*" in html and "张三" not in html
    assert "示范路1号" in html
    assert "居民生活" in html
    assert "户主" in html
    assert "解除绑定" in html
    assert 'class="weui-tabbar__item weui-bar__item_on" aria-current="page"' in html


def test_home_hides_other_customers_accounts(customer_client, account_b, stranger):
    _bind(stranger, account_b)
    html = customer_client.get(HOME).content.decode()
    assert "0000000002" not in html
    assert "李*" not in html


def test_home_hides_ended_and_expired_bindings(client, stranger, account_a, account_b):
    _bind(stranger, account_a, ended_at=timezone.now(), end_reason=BindingEndReason.UNBOUND_BY_CUSTOMER)
    _bind(stranger, account_b, valid_until=timezone.now() - timedelta(days=1))
    sign_in(client, stranger)
    html = client.get(HOME).content.decode()
    assert "0000000001" not in html and "0000000002" not in html
    assert "还没有绑定户号" in html


def test_home_shows_role_and_tariff_class_of_each_binding(client, company, stranger, account_a):
    shop = make_account(number="0000000003", unit=company.station_a, holder_name="欧阳小明", id_card=None)
    shop.tariff_class = TariffClass.GENERAL_COMMERCIAL  # make_account always makes a residential one
    shop.save()
    _bind(stranger, account_a, role=BindingRole.FAMILY)
    _bind(stranger, shop, role=BindingRole.AGENT)
    sign_in(client, stranger)
    html = client.get(HOME).content.decode()
    assert "家庭成员" in html and "授权代理人" in html
    assert "一般工商业" in html
    assert "欧***" in html


def test_home_query_count_does_not_grow_with_accounts(client, company, stranger, django_assert_num_queries):
    for n in range(5):
        _bind(stranger, make_account(number=f"00000001{n:02d}", unit=company.station_a, id_card=None))
    sign_in(client, stranger)
    # session, customer user, bindings with their accounts
    with django_assert_num_queries(3):
        response = client.get(HOME)
    assert response.content.decode().count("portal-account__number") == 5


def test_unbind_ends_my_binding(customer_client, customer, account_a):
    response = customer_client.post(reverse("portal:unbind", args=["0000000001"]), follow=True)
    html = response.content.decode()
    binding = Binding.objects.get(customer_user=customer, account=account_a)
    assert binding.ended_at is not None
    assert binding.end_reason == BindingEndReason.UNBOUND_BY_CUSTOMER
    assert "已解除户号 0000000001 的绑定。" in html
    assert "还没有绑定户号" in html
    assert DomainEvent.objects.filter(kind="customer.unbound", customer_user_id=customer.pk, channel="h5").exists()


def test_unbind_asks_for_confirmation_in_the_page(customer_client):
    html = customer_client.get(HOME).content.decode()
    assert 'data-confirm="确定解除户号 0000000001 的绑定吗？' in html
    assert 'id="portal-confirm-dialog"' in html


def test_unbind_needs_post(customer_client, customer):
    assert customer_client.get(reverse("portal:unbind", args=["0000000001"])).status_code == 405
    assert Binding.objects.get(customer_user=customer).ended_at is None


def test_another_customers_account_cannot_be_unbound(customer_client, stranger, account_b):
    theirs = _bind(stranger, account_b)
    response = customer_client.post(reverse("portal:unbind", args=["0000000002"]))
    assert response.status_code == 404
    assert "您的账户未绑定户号 0000000002。" in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.ended_at is None


def test_unbind_of_a_malformed_number_is_refused(customer_client, customer):
    response = customer_client.post(reverse("portal:unbind", args=["12345"]))
    assert response.status_code == 400
    assert "户号应为10位数字。" in response.content.decode()
    assert Binding.objects.get(customer_user=customer).ended_at is None


def test_unbind_twice_says_it_is_not_bound(customer_client):
    customer_client.post(reverse("portal:unbind", args=["0000000001"]))
    response = customer_client.post(reverse("portal:unbind", args=["0000000001"]))
    assert response.status_code == 404
    assert "您的账户未绑定户号 0000000001。" in response.content.decode()


def test_anonymous_unbind_goes_to_sign_in_and_changes_nothing(client, customer):
    response = client.post(reverse("portal:unbind", args=["0000000001"]))
    assert response.status_code == 302
    assert response["Location"].startswith("/h5/login/")
    assert Binding.objects.get(customer_user=customer).ended_at is None
