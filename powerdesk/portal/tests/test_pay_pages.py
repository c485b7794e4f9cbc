"""The portal's pay flow: who may open it, the amount checked to the fen, one order per valid
POST and a redirect to the gateway's cashier (the local sandbox here)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from powerdesk.billing.reads import account_balance
from powerdesk.billing.services import payment_record
from powerdesk.customers.choices import BindingEndReason
from powerdesk.customers.models import Binding
from powerdesk.customers.services import binding_end
from powerdesk.payments.choices import OrderStatus
from powerdesk.payments.gateways.base import PayInstruction
from powerdesk.payments.models import GatewayCall, PaymentOrder
from powerdesk.payments.tests.helpers import open_cashier
from powerdesk.portal import views_billing, views_pay
from powerdesk.portal.tests.conftest import sign_in
from powerdesk.portal.views_pay import SESSION_ORDERS_KEY, amount_yuan_to_fen

from . import test_pay_result as shared

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("payments_settings")]


# The payments settings, sandbox key set, running sandbox and billing history of the result tests.
payments_keys, payments_settings, sandbox, history = (
    shared.payments_keys,
    shared.payments_settings,
    shared.sandbox,
    shared.history,
)


def pay_url(number: str = "0000000001", period: str = "") -> str:
    url = reverse("portal:pay", args=[number])
    return f"{url}?period={period}" if period else url


# --- who may pay ---------------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_sign_in(client, account_a):
    response = client.get(pay_url())
    assert response.status_code == 302 and "/h5/login/" in response["Location"]


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_stranger_gets_404_and_opens_no_order(stranger_client, account_a, method):
    response = getattr(stranger_client, method)(pay_url(), {"amount": "10", "gateway": "alipay"})
    assert response.status_code == 404
    assert "您的账户未绑定户号 0000000001。" in response.content.decode()
    assert not PaymentOrder.objects.exists()


@pytest.mark.parametrize("number", ["0000000002", "0000000099", "12345"])
def test_an_account_not_bound_to_the_customer_is_404(customer_client, account_b, number):
    response = customer_client.post(pay_url(number), {"amount": "10", "gateway": "alipay"})
    assert response.status_code in (400, 404)  # not bound / not a 户号 at all
    assert "户号" in response.content.decode()
    assert not PaymentOrder.objects.exists()


def test_an_ended_binding_can_no_longer_pay(customer_client, customer, account_a):
    binding_end(
        binding=Binding.objects.get(customer_user=customer), reason=BindingEndReason.STAFF, channel="console"
    )
    assert customer_client.get(pay_url()).status_code == 404
    assert customer_client.post(pay_url(), {"amount": "10", "gateway": "alipay"}).status_code == 404
    assert not PaymentOrder.objects.exists()


# --- the form ------------------------------------------------------------------------------


def test_the_billing_page_links_its_pay_button_here(customer_client, history):
    assert views_billing.PAY_URL_NAME == "portal:pay"
    page = customer_client.get(reverse("portal:billing_account", args=["0000000001"])).content.decode()
    assert f'href="{pay_url(period=f"{history.latest_period:%Y-%m}")}"' in page
    assert "data-pay-button" in page


def test_the_page_prefills_what_is_owed_and_offers_both_gateways(customer_client, account_a, history):
    owed = account_balance(account=account_a).owed_fen
    assert owed > 0
    response = customer_client.get(pay_url(period=f"{history.latest_period:%Y-%m}"))
    assert response.status_code == 200
    page = response.content.decode()
    yuan = f"{owed // 100}.{owed % 100:02d}"
    assert f"¥{yuan}" in page
    assert f'value="{yuan}"' in page
    assert f"{history.latest_period:%Y-%m} 电费" in page
    assert "支付宝" in page and "微信支付" in page
    assert 'value="alipay" id="id_gateway_0" checked' in page
    assert response["Cache-Control"].startswith("max-age=0")
    assert not PaymentOrder.objects.exists()  # looking is free


def test_only_configured_gateways_are_offered(customer_client, history, settings):
    settings.PAYMENTS_GATEWAYS = ["wechatpay"]
    page = customer_client.get(pay_url()).content.decode()
    assert "微信支付" in page and "支付宝" not in page
    response = customer_client.post(pay_url(), {"amount": "1", "gateway": "alipay"})
    assert response.status_code == 400
    assert "请选择支付宝或微信支付。" in response.content.decode()


def test_with_prepaid_credit_nothing_is_owed_but_the_customer_may_prepay(customer_client, account_a):
    payment_record(
        account=account_a,
        amount_fen=5_000,
        gateway="alipay",
        gateway_txn_id="PRE1",
        paid_at=datetime(2026, 1, 1, 8, tzinfo=timezone.get_current_timezone()),
        channel="h5",
    )
    response = customer_client.get(pay_url(period="garbage"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "¥0.00" in page and "暂无欠费" in page
    assert response.context["form"]["amount"].value() == ""


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "请填写缴费金额。"),
        ("   ", "请填写缴费金额。"),
        ("abc", "请填写数字金额（单位：元），例如 128.50。"),
        ("1,000", "请填写数字金额（单位：元），例如 128.50。"),
        ("1e3", "请填写数字金额（单位：元），例如 128.50。"),
        ("NaN", "请填写数字金额（单位：元），例如 128.50。"),
        ("12.5元", "请填写数字金额（单位：元），例如 128.50。"),
        ("0", "缴费金额必须大于 0 元。"),
        ("0.00", "缴费金额必须大于 0 元。"),
        ("-5", "缴费金额必须大于 0 元。"),
        ("12.345", "缴费金额最多两位小数（精确到分）。"),
        ("0.001", "缴费金额最多两位小数（精确到分）。"),
        ("100.01", "单笔缴费不能超过 100.00 元。"),
        ("9" * 60, "单笔缴费不能超过 100.00 元。"),
    ],
)
def test_a_bad_amount_is_refused_precisely_and_opens_no_order(
    customer_client, history, settings, amount, message
):
    settings.PAYMENTS_MAX_ORDER_FEN = 10_000
    response = customer_client.post(pay_url(), {"amount": amount, "gateway": "alipay"})
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'class="portal-field-error" id="id_amount-error"' in page  # next to the field
    assert not PaymentOrder.objects.exists()
    assert not GatewayCall.objects.exists()


def test_a_missing_gateway_is_refused(customer_client, history):
    response = customer_client.post(pay_url(), {"amount": "10"})
    assert response.status_code == 400
    assert "请选择支付方式。" in response.content.decode()
    assert not PaymentOrder.objects.exists()


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("128.5", 12850),
        ("128.50", 12850),
        ("0.01", 1),
        (" 12 ", 1200),
        ("1.500", 150),
        ("12.", 1200),
        (".5", 50),
        ("¥36.07", 3607),
        ("１２３．４５", 12345),  # full-width, as a Chinese IME types it
        ("100000.00", 10_000_000),
        ("0.29", 29),  # float would give 28.999…
        ("1.13", 113),
    ],
)
def test_amounts_convert_to_exact_fen(typed, fen):
    assert amount_yuan_to_fen(typed) == fen


# --- opening the order ---------------------------------------------------------------------


def test_alipay_post_opens_one_order_and_redirects_to_the_sandbox_cashier(
    customer_client, customer, account_a, history, sandbox
):
    response = customer_client.post(
        pay_url(period=f"{history.latest_period:%Y-%m}"), {"amount": "128.50", "gateway": "alipay"}
    )
    assert response.status_code == 302
    order = PaymentOrder.objects.get()
    assert (order.amount_fen, order.gateway, order.channel) == (12850, "alipay", "h5")
    assert order.account == account_a and order.customer_user_id == customer.pk
    assert order.status == OrderStatus.CREATED
    location = response["Location"]
    assert location.startswith(f"{sandbox.url}/alipay/gateway.do?")
    params = dict(parse_qsl(urlsplit(location).query))
    assert params["return_url"] == "http://testserver/h5/pay/result/"
    assert params["notify_url"] == "http://testserver/payments/notify/alipay/"
    assert '"total_amount":"128.50"' in params["biz_content"]
    assert customer_client.session[SESSION_ORDERS_KEY] == [order.out_trade_no]
    page = open_cashier(location)  # the browser follows: the sandbox verifies our signature
    assert "确认支付" in page and "¥128.50" in page


def test_wechat_post_redirects_to_the_h5_url_with_the_result_page_as_redirect_url(
    customer_client, history, sandbox
):
    response = customer_client.post(pay_url(), {"amount": "0.01", "gateway": "wechatpay"})
    assert response.status_code == 302
    order = PaymentOrder.objects.get()
    assert order.amount_fen == 1 and order.gateway == "wechatpay"
    location = response["Location"]
    assert location.startswith(f"{sandbox.url}/wechatpay/cashier/")
    result = f"http://testserver/h5/pay/result/?out_trade_no={order.out_trade_no}"
    assert location.endswith(f"?redirect_url={quote(result, safe='')}")
    assert dict(parse_qsl(urlsplit(location).query)) == {"redirect_url": result}
    assert "确认支付" in open_cashier(location)


def test_the_session_remembers_the_last_ten_orders(customer_client, history, sandbox):
    session = customer_client.session
    session[SESSION_ORDERS_KEY] = [f"PDold{i:02d}" for i in range(10)]
    session.save()
    for _ in range(2):
        assert customer_client.post(pay_url(), {"amount": "1", "gateway": "alipay"}).status_code == 302
    remembered = customer_client.session[SESSION_ORDERS_KEY]
    newest = list(PaymentOrder.objects.order_by("created_at", "pk").values_list("out_trade_no", flat=True))
    assert len(remembered) == 10
    assert remembered[-2:] == newest
    assert remembered[0] == "PDold02"


def test_a_gateway_failure_is_shown_and_nothing_redirects(customer_client, history, settings):
    settings.PAYMENTS_SANDBOX_URL = "http://127.0.0.1:9"  # nothing listens: WeChat H5 order fails
    settings.PAYMENTS_HTTP_TIMEOUT_SECONDS = 2
    response = customer_client.post(pay_url(), {"amount": "10", "gateway": "wechatpay"})
    assert response.status_code == 502
    assert "支付渠道暂时无法下单，请稍后再试。" in response.content.decode()
    assert PaymentOrder.objects.get().status == OrderStatus.FAILED
    assert SESSION_ORDERS_KEY not in customer_client.session


@pytest.mark.parametrize("bad_url", ["javascript:alert(1)", "//evil.example/pay", "weixin://wap/pay?x=1", ""])
def test_only_http_pay_urls_are_followed(customer_client, history, monkeypatch, bad_url):
    real = views_pay.payment_order_create

    def create(**kwargs):
        order, _instruction = real(**kwargs)
        return order, PayInstruction(pay_url=bad_url)

    monkeypatch.setattr(views_pay, "payment_order_create", create)
    response = customer_client.post(pay_url(), {"amount": "10", "gateway": "alipay"})
    assert response.status_code == 502
    assert "支付渠道未返回有效的支付页面" in response.content.decode()


def test_another_customer_cannot_pay_into_my_session(client, customer, stranger, history, sandbox):
    sign_in(client, stranger)
    assert client.post(pay_url(), {"amount": "10", "gateway": "alipay"}).status_code == 404
    assert not PaymentOrder.objects.exists()


# --- inside WeChat's browser: JSAPI ---------------------------------------------------------

WECHAT_UA = "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.50 NetType/WIFI"


def _wechat_identity(customer, payments_keys):
    from powerdesk.customers.models import Identity

    return Identity.objects.create(
        customer_user=customer,
        provider="wechat_openid",
        app_id=payments_keys[1]["wechat_appid"],
        subject="o_demo_showcase",
    )


def test_in_wechat_a_follower_pays_with_jsapi_as_their_own_openid(
    customer_client, customer, account_a, sandbox, payments_keys
):
    _wechat_identity(customer, payments_keys)
    response = customer_client.post(
        pay_url(), {"amount": "12.30", "gateway": "wechatpay"}, headers={"User-Agent": WECHAT_UA}
    )
    assert response.status_code == 200
    html = response.content.decode()
    order = PaymentOrder.objects.get()
    assert (order.amount_fen, order.channel) == (1230, "wechat")
    prepay_id = next(o for o in sandbox.state._orders.values()).prepay_id
    assert f"prepay_id={prepay_id}" in html and '"paySign"' in html  # the signed bridge parameters
    assert f"{sandbox.url}/wechatpay/jsbridge.js" in html  # sandbox: the bridge stand-in
    assert next(iter(sandbox.state._orders.values())).payer_openid == "o_demo_showcase"


def test_in_wechat_without_a_wechat_identity_it_is_h5_pay(customer_client, account_a, sandbox):
    response = customer_client.post(
        pay_url(), {"amount": "1", "gateway": "wechatpay"}, headers={"User-Agent": WECHAT_UA}
    )
    assert response.status_code == 302 and "/wechatpay/cashier/" in response["Location"]
    assert PaymentOrder.objects.get().channel == "h5"


def test_outside_wechat_the_identity_does_not_matter(
    customer_client, customer, account_a, sandbox, payments_keys
):
    _wechat_identity(customer, payments_keys)
    response = customer_client.post(pay_url(), {"amount": "1", "gateway": "wechatpay"})
    assert response.status_code == 302 and "/wechatpay/cashier/" in response["Location"]
