"""Refunds through the gateway, and refund notifications booked once."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from powerdesk.billing.choices import LedgerKind, PaymentStatus
from powerdesk.billing.models import LedgerEntry, Payment
from powerdesk.core.exceptions import ApplicationError
from powerdesk.payments import services
from powerdesk.payments.models import GatewayCall, GatewayNotification
from powerdesk.payments.tests.helpers import order_opened

pytestmark = pytest.mark.django_db
GATEWAYS = ["alipay", "wechatpay"]


def _paid(sandbox, notify, customer, gateway, amount_fen=10000):
    order, _ = order_opened(customer, gateway=gateway, amount_fen=amount_fen)
    sandbox.control("pay", {"gateway": gateway, "out_trade_no": order.out_trade_no})
    sandbox.state.dispatch(notify, ignore_delays=True)
    order.refresh_from_db()
    assert order.status == "paid"
    return order


def _refunds(account) -> int:
    return (
        LedgerEntry.objects.filter(account=account, kind=LedgerKind.REFUND).aggregate(t=Sum("amount_fen"))[
            "t"
        ]
        or 0
    )


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_refund_through_the_gateway_is_booked_once(sandbox, notify, customer, account_a, gateway):
    order = _paid(sandbox, notify, customer, gateway)
    entry = services.payment_order_refund(order=order, amount_fen=3000, refund_id="RF0001", reason="多缴退费")
    assert entry.amount_fen == 3000
    # The gateway then notifies the refund, repeatedly: nothing more is booked.
    sandbox.control("hold", {"hold": True})
    refund_notification = max(n["id"] for n in sandbox.state.notifications())
    sandbox.control("deliver", {"ids": [refund_notification], "repeat": 3})
    sandbox.state.dispatch(notify, ignore_delays=True)
    assert _refunds(account_a) == 3000
    assert Payment.objects.get().status == PaymentStatus.PARTIALLY_REFUNDED
    assert set(GatewayNotification.objects.filter(outcome="duplicate").values_list("detail", flat=True)) <= {
        "refund already booked",
        "refund total already booked",
    }
    # Asking again with the same refund id is the same refund.
    assert services.payment_order_refund(order=order, amount_fen=3000, refund_id="RF0001").pk == entry.pk
    assert GatewayCall.objects.filter(operation="refund").count() == 1


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_refund_made_at_the_gateway_is_booked_from_its_notification(
    sandbox, notify, customer, account_a, gateway
):
    order = _paid(sandbox, notify, customer, gateway)
    sandbox.control("hold", {"hold": True})
    first = sandbox.control(
        "refund",
        {
            "gateway": gateway,
            "out_trade_no": order.out_trade_no,
            "amount_fen": 2500,
            "out_refund_no": "CONSOLE-1",
        },
    )["notification_id"]
    second = sandbox.control(
        "refund",
        {
            "gateway": gateway,
            "out_trade_no": order.out_trade_no,
            "amount_fen": 7500,
            "out_refund_no": "CONSOLE-2",
        },
    )["notification_id"]
    # Reordered and repeated: the second refund arrives first, each twice.
    sandbox.control("deliver", {"ids": [second, first], "repeat": 2})
    sandbox.state.dispatch(notify, ignore_delays=True)
    assert _refunds(account_a) == 10000
    assert Payment.objects.get().status == PaymentStatus.REFUNDED


def test_refund_beyond_the_payment_is_refused_before_the_gateway(sandbox, notify, customer):
    order = _paid(sandbox, notify, customer, "wechatpay", amount_fen=1000)
    with pytest.raises(ApplicationError) as refused:
        services.payment_order_refund(order=order, amount_fen=1001)
    assert refused.value.code == "refund_exceeds_payment"
    assert not GatewayCall.objects.filter(operation="refund").exists()


def test_unpaid_order_cannot_be_refunded(sandbox, customer):
    order, _ = order_opened(customer, gateway="alipay")
    with pytest.raises(ApplicationError) as refused:
        services.payment_order_refund(order=order, amount_fen=100)
    assert refused.value.code == "order_not_paid"
