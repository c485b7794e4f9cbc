"""WeChat Pay JSAPI: paying inside WeChat's browser as the customer's own openid.

The page's ``paySign`` is checked against wechatpayv3's own signing (the independent peer) and by
the sandbox acting as WeChat's client; the order is credited through the usual notification."""

from __future__ import annotations

import json
import urllib.request

import pytest
from cryptography.hazmat.primitives import serialization
from wechatpayv3 import utils as peer

from powerdesk.billing.models import Payment
from powerdesk.core.exceptions import ApplicationError
from powerdesk.customers.models import Identity
from powerdesk.payments import services
from powerdesk.payments.choices import OrderStatus
from powerdesk.payments.gateways.base import gateway_get

pytestmark = pytest.mark.django_db
OPENID = "o_demo_showcase"


@pytest.fixture
def wechat_identity(customer, keys):
    return Identity.objects.create(
        customer_user=customer, provider="wechat_openid", app_id=keys["wechat_appid"], subject=OPENID
    )


def test_pay_sign_matches_wechatpayv3_signing(keys, settings):
    adapter = gateway_get("wechatpay")
    params = adapter.jsapi_params(
        "wx201410272009395522657a690389285100", timestamp=1414561699, nonce="5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
    )
    private_key = serialization.load_pem_private_key(
        keys["wechat_merchant_private_key"].encode(), password=None
    )
    expected = peer.rsa_sign(
        private_key,
        f"{keys['wechat_appid']}\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n",
    )
    assert params == {
        "appId": keys["wechat_appid"],
        "timeStamp": "1414561699",
        "nonceStr": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        "package": "prepay_id=wx201410272009395522657a690389285100",
        "signType": "RSA",
        "paySign": expected,
    }


def _bridge_pay(sandbox, params: dict) -> dict:
    request = urllib.request.Request(  # noqa: S310  (loopback sandbox)
        f"{sandbox.url}/wechatpay/jsbridge/pay",
        data=json.dumps(params).encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def test_jsapi_order_paid_through_the_bridge_is_credited_once(
    sandbox, notify, customer, account_a, wechat_identity
):
    order, instruction = services.payment_order_create(
        customer_user=customer,
        account_number=account_a.number,
        amount_fen=5678,
        gateway="wechatpay",
        channel="wechat",
        payer_openid=OPENID,
    )
    assert instruction.pay_url == "" and instruction.prepay_id
    assert instruction.params["package"] == f"prepay_id={instruction.prepay_id}"
    sandbox.control("hold", {"hold": True})

    assert _bridge_pay(sandbox, instruction.params) == {"err_msg": "get_brand_wcpay_request:ok"}

    (notification,) = sandbox.state.notifications()
    sandbox.control("deliver", {"ids": [notification["id"]], "repeat": 2})
    sandbox.state.dispatch(notify, ignore_delays=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    payment = Payment.objects.get()
    assert payment.amount_fen == 5678
    resource = sandbox.state._payload(sandbox.state._order("wechatpay", order.out_trade_no), "payment", {})
    assert resource["resource"]["trade_type"] == "JSAPI"
    assert resource["resource"]["payer"] == {"openid": OPENID}


def test_a_tampered_pay_sign_is_refused_by_the_client(sandbox, customer, account_a, wechat_identity):
    _order, instruction = services.payment_order_create(
        customer_user=customer,
        account_number=account_a.number,
        amount_fen=100,
        gateway="wechatpay",
        channel="wechat",
        payer_openid=OPENID,
    )
    forged = {**instruction.params, "package": "prepay_id=wx_someone_else"}
    assert _bridge_pay(sandbox, forged)["err_msg"] == "get_brand_wcpay_request:fail"
    assert sandbox.state.notifications() == []


def test_an_openid_that_is_not_the_customers_own_is_refused(sandbox, customer, account_a, keys):
    with pytest.raises(ApplicationError) as excinfo:
        services.payment_order_create(
            customer_user=customer,
            account_number=account_a.number,
            amount_fen=100,
            gateway="wechatpay",
            channel="wechat",
            payer_openid="o_somebody_else",
        )
    assert (excinfo.value.code, excinfo.value.field) == ("payer_not_recognised", "payer_openid")
