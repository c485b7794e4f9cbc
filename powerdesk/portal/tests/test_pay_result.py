"""The result page after the cashier: it only reads the order (the customer's return never
credits), shows 待支付 and polls until the gateway's signed notification has credited it, then
缴费成功 / 已到账; only the caller's own orders."""

from __future__ import annotations

import pytest
from django.urls import reverse

from powerdesk.billing.models import Payment
from powerdesk.billing.reads import account_balance, fen_to_yuan
from powerdesk.billing.testing import make_billing_history
from powerdesk.customers.models import Account
from powerdesk.payments import sandbox_keys
from powerdesk.payments.choices import OrderStatus
from powerdesk.payments.models import GatewayNotification, PaymentOrder
from powerdesk.payments.sandbox_server import running_sandbox
from powerdesk.payments.tests.conftest import client_transport
from powerdesk.payments.tests.helpers import open_cashier
from powerdesk.portal.tests.conftest import sign_in
from powerdesk.portal.views_pay import SESSION_ORDERS_KEY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("payments_settings")]

RESULT_URL = "/h5/pay/result/"


@pytest.fixture(scope="session")
def payments_keys(tmp_path_factory) -> tuple:
    path = tmp_path_factory.mktemp("portal-pay") / "sandbox_keys.json"
    return path, sandbox_keys.load_or_create(path)


@pytest.fixture
def payments_settings(settings, payments_keys):
    settings.PAYMENTS_MODE = "sandbox"
    settings.PAYMENTS_GATEWAYS = ["alipay", "wechatpay"]
    settings.PAYMENTS_SANDBOX_KEY_FILE = payments_keys[0]
    settings.PAYMENTS_NOTIFY_BASE_URL = "http://testserver"
    settings.PAYMENTS_RETURN_URL = "http://testserver/h5/pay/result/"
    return settings


@pytest.fixture
def sandbox(payments_keys, settings):
    with running_sandbox(payments_keys[1]) as running:
        settings.PAYMENTS_SANDBOX_URL = running.url
        yield running


@pytest.fixture
def history(account_a):
    return make_billing_history(account_a)


def open_order(client, *, gateway: str = "alipay", amount: str = "") -> PaymentOrder:
    """What the customer's browser does: POST the pay form, follow to the cashier."""
    amount = amount or fen_to_yuan(account_balance(account=Account.objects.get(number="0000000001")).owed_fen)
    response = client.post(reverse("portal:pay", args=["0000000001"]), {"amount": amount, "gateway": gateway})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "确认支付" in open_cashier(response["Location"])
    return PaymentOrder.objects.order_by("-created_at", "-pk").first()


def confirm_and_notify(sandbox, client, order: PaymentOrder) -> None:
    """The customer taps 确认支付; the sandbox's signed notification reaches our notify URL."""
    sandbox.state.pay(order.gateway, order.out_trade_no)
    assert sandbox.state.dispatch(client_transport(client), ignore_delays=True) == 1


def test_the_return_never_credits_however_often_it_is_opened(customer_client, account_a, history, sandbox):
    order = open_order(customer_client)
    balance_before = account_balance(account=account_a).balance_fen
    payments_before = Payment.objects.count()
    # Alipay's return carries the trade's parameters; none of them is taken as proof of payment.
    forged = {
        "out_trade_no": order.out_trade_no,
        "trade_no": "2026000000000000000001",
        "trade_status": "TRADE_SUCCESS",
        "total_amount": fen_to_yuan(order.amount_fen),
        "sign": "forged",
    }
    for attempt in range(6):
        headers = {"HTTP_HX_REQUEST": "true"} if attempt % 2 else {}
        response = customer_client.get(RESULT_URL, forged if attempt < 3 else {}, **headers)
        assert response.status_code == 200
        assert "待支付" in response.content.decode()
    assert Payment.objects.count() == payments_before
    assert account_balance(account=account_a).balance_fen == balance_before
    order.refresh_from_db()
    assert order.status == OrderStatus.CREATED and order.paid_payment is None
    assert not GatewayNotification.objects.exists()


def test_an_open_order_polls_itself_every_two_seconds(customer_client, history, sandbox):
    order = open_order(customer_client)
    page = customer_client.get(RESULT_URL).content.decode()
    assert "等待支付结果" in page and "待支付" in page
    assert 'hx-trigger="every 2s"' in page
    assert f'hx-get="{RESULT_URL}?out_trade_no={order.out_trade_no}"' in page
    partial = customer_client.get(RESULT_URL, {"out_trade_no": order.out_trade_no}, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert body.lstrip().startswith("<div") and "<html" not in body  # just the fragment to swap
    assert 'id="pay-result"' in body and 'hx-trigger="every 2s"' in body
    assert "HX-Request" in partial["Vary"]
    assert "no-store" in partial["Cache-Control"]


@pytest.mark.parametrize("gateway", ["alipay", "wechatpay"])
def test_after_the_notification_the_result_shows_paid_and_stops_polling(
    customer_client, account_a, history, sandbox, gateway
):
    owed = account_balance(account=account_a).owed_fen
    order = open_order(customer_client, gateway=gateway)
    assert order.amount_fen == owed
    assert "待支付" in customer_client.get(RESULT_URL).content.decode()

    confirm_and_notify(sandbox, customer_client, order)

    partial = customer_client.get(RESULT_URL, {"out_trade_no": order.out_trade_no}, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert "缴费成功" in body and "已到账" in body
    assert "hx-trigger" not in body  # a settled order ends the polling
    assert f'href="{reverse("portal:billing_account", args=["0000000001"])}"' in body
    page = customer_client.get(RESULT_URL).content.decode()  # newest order of the session
    assert "缴费成功" in page and f"¥{owed // 100}.{owed % 100:02d}" in page
    assert Payment.objects.filter(gateway=gateway, account=account_a, amount_fen=owed).count() == 1
    assert account_balance(account=account_a).balance_fen == 0
    billing = customer_client.get(reverse("portal:billing_account", args=["0000000001"])).content.decode()
    assert "¥0.00" in billing and "data-pay-button" not in billing


def test_without_a_parameter_the_newest_order_of_the_session_is_shown(customer_client, history, sandbox):
    first = open_order(customer_client, amount="1.00")
    second = open_order(customer_client, amount="2.00")
    assert customer_client.session[SESSION_ORDERS_KEY] == [first.out_trade_no, second.out_trade_no]
    response = customer_client.get(RESULT_URL)
    assert response.context["order"] == second
    assert customer_client.get(RESULT_URL, {"out_trade_no": first.out_trade_no}).context["order"] == first


def test_a_closed_order_says_so_and_stops_polling(customer_client, history, sandbox):
    order = open_order(customer_client)
    PaymentOrder.objects.filter(pk=order.pk).update(status=OrderStatus.CLOSED)
    page = customer_client.get(RESULT_URL).content.decode()
    assert "已关闭" in page and "订单已关闭" in page and "hx-trigger" not in page


def test_no_order_in_the_session_is_404(customer_client):
    response = customer_client.get(RESULT_URL)
    assert response.status_code == 404
    assert "没有找到您的缴费订单。" in response.content.decode()


def test_someone_elses_order_is_404(client, customer, stranger, account_b, history, sandbox):
    sign_in(client, customer)
    order = open_order(client)
    sign_in(client, stranger)  # same browser, another customer: the session list is not proof
    for params in ({"out_trade_no": order.out_trade_no}, {}, {"out_trade_no": "PD" + "0" * 30}):
        response = client.get(RESULT_URL, params)
        assert response.status_code == 404
        assert "订单不存在。" in response.content.decode() or "没有找到" in response.content.decode()
        assert order.out_trade_no not in response.content.decode()


def test_signed_out_polling_is_sent_to_sign_in(client):
    response = client.get(RESULT_URL, HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and "/h5/login/" in response["HX-Redirect"]
    assert client.post(RESULT_URL).status_code == 302


def test_the_pay_pages_speak_english_when_asked(customer_client, account_a, history, sandbox, settings):
    customer_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    form = customer_client.get(reverse("portal:pay", args=["0000000001"])).content.decode()
    assert "Pay electricity bill" in form and "Amount (yuan)" in form and "Pay now" in form
    refused = customer_client.post(
        reverse("portal:pay", args=["0000000001"]), {"amount": "1.001", "gateway": "alipay"}
    )
    assert "The amount can have at most two decimal places (to the fen)." in refused.content.decode()
    order = open_order(customer_client)
    assert "Awaiting payment" in customer_client.get(RESULT_URL).content.decode()
    confirm_and_notify(sandbox, customer_client, order)
    page = customer_client.get(RESULT_URL).content.decode()
    assert "Payment successful" in page and "Received" in page
