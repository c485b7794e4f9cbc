"""POST/GET /api/v1/payments/orders: customer auth, bound accounts only, precise amount errors."""

from __future__ import annotations

import pytest

from powerdesk.access.testing import customer_caller
from powerdesk.billing.models import Payment
from powerdesk.payments.models import GatewayCall, PaymentOrder
from powerdesk.payments.tests.helpers import open_cashier

pytestmark = pytest.mark.django_db
ORDERS = "/api/v1/payments/orders"


@pytest.fixture
def caller(client, customer):
    return customer_caller(client, customer)


@pytest.mark.parametrize("gateway", ["alipay", "wechatpay"])
def test_customer_opens_an_order_and_reads_its_status(sandbox, caller, gateway):
    response = caller.post(ORDERS, {"account_number": "0000000001", "amount_fen": 12345, "gateway": gateway})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "created" and len(body["out_trade_no"]) <= 32
    assert body["pay_url"].startswith(sandbox.url)
    assert "确认支付" in open_cashier(body["pay_url"])
    status = caller.get(f"{ORDERS}/{body['out_trade_no']}")
    assert status.status_code == 200 and status.json()["status"] == "created"
    # Reading the status (the customer's return page) never credits.
    assert not Payment.objects.exists()
    order = PaymentOrder.objects.get()
    assert order.channel == "app"
    assert GatewayCall.objects.get(order=order).outcome == "ok"


def test_account_not_bound_is_refused(sandbox, caller, account_b):
    response = caller.post(ORDERS, {"account_number": "0000000002", "amount_fen": 100, "gateway": "alipay"})
    assert response.status_code == 404 and response.json()["code"] == "account_not_bound"
    assert not PaymentOrder.objects.exists()


def test_another_customers_order_is_not_found(sandbox, client, caller, stranger):
    out_trade_no = caller.post(
        ORDERS, {"account_number": "0000000001", "amount_fen": 100, "gateway": "alipay"}
    ).json()["out_trade_no"]
    other = customer_caller(client, stranger)
    response = other.get(f"{ORDERS}/{out_trade_no}")
    assert response.status_code == 404 and response.json()["code"] == "order_not_found"
    assert other.get(f"{ORDERS}/PDdoesnotexist").json()["code"] == "order_not_found"


@pytest.mark.parametrize(
    ("amount", "status", "code"),
    [
        (0, 400, "amount_not_positive"),
        (-100, 400, "amount_not_positive"),
        (12.5, 422, "invalid_request"),
        ("100", 422, "invalid_request"),
        (True, 422, "invalid_request"),
        (10_000_001, 400, "amount_too_large"),
    ],
)
def test_bad_amounts_are_refused_precisely(sandbox, caller, amount, status, code):
    response = caller.post(
        ORDERS, {"account_number": "0000000001", "amount_fen": amount, "gateway": "alipay"}
    )
    assert response.status_code == status and response.json()["code"] == code
    assert response.json()["field"] == "amount_fen"
    assert not PaymentOrder.objects.exists()


def test_unknown_gateway_is_refused(sandbox, caller):
    response = caller.post(ORDERS, {"account_number": "0000000001", "amount_fen": 100, "gateway": "paypal"})
    assert response.status_code == 400 and response.json()["code"] == "gateway_unavailable"


def test_unauthenticated_is_refused(client):
    response = client.post(
        ORDERS,
        {"account_number": "0000000001", "amount_fen": 1, "gateway": "alipay"},
        content_type="application/json",
    )
    assert response.status_code == 401


def test_gateway_down_marks_the_order_failed_and_records_the_attempt(caller, settings):
    settings.PAYMENTS_SANDBOX_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    response = caller.post(
        ORDERS, {"account_number": "0000000001", "amount_fen": 100, "gateway": "wechatpay"}
    )
    assert response.status_code == 502 and response.json() == {
        "code": "gateway_failed",
        "message": response.json()["message"],
        "retryable": True,
    }
    order = PaymentOrder.objects.get()
    assert order.status == "failed"
    assert GatewayCall.objects.get(order=order).outcome == "transient"
