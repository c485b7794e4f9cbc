"""Open orders are asked about at the gateway: a paid one whose notification never came is
credited (once, also when the notification comes later), an expired unpaid one is closed at the
gateway and here, and a closed order cannot be paid any more — for both gateways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from powerdesk.billing.models import LedgerEntry, Payment
from powerdesk.payments import services
from powerdesk.payments.choices import GatewayOperation, NotificationOutcome, OrderStatus
from powerdesk.payments.gateways.base import TRADE_NOT_FOUND, TRADE_WAITING, gateway_get
from powerdesk.payments.models import GatewayCall, GatewayNotification, PaymentOrder, SuspenseItem
from powerdesk.payments.tests.helpers import open_cashier, order_opened

pytestmark = pytest.mark.django_db
GATEWAYS = ["alipay", "wechatpay"]


def _paid_but_not_notified(sandbox, order) -> int:
    sandbox.control("hold", {"hold": True})  # the notification is "lost": kept, never sent
    return sandbox.control("pay", {"gateway": order.gateway, "out_trade_no": order.out_trade_no})[
        "notification_id"
    ]


def _later(minutes: float):
    return timezone.now() + timedelta(minutes=minutes)


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_a_paid_order_whose_notification_was_lost_is_credited_by_the_sweep(
    sandbox, notify, customer, account_a, gateway
):
    order, _ = order_opened(customer, gateway=gateway, amount_fen=8800)
    notification_id = _paid_but_not_notified(sandbox, order)

    result = services.payment_orders_sweep(now=_later(3))

    assert (result.checked, result.credited, result.closed, result.failed) == (1, 1, 0, 0)
    order.refresh_from_db()
    payment = Payment.objects.get()
    assert order.status == OrderStatus.PAID and order.paid_payment_id == payment.pk
    assert payment.amount_fen == 8800
    assert payment.gateway_txn_id == sandbox.state._order(gateway, order.out_trade_no).trade_no
    record = GatewayNotification.objects.get()
    assert record.outcome == NotificationOutcome.QUERIED
    assert record.headers == {"x-powerdesk-source": "order-query"}

    # The notification turns up after all: a duplicate, nothing credited twice.
    sandbox.control("deliver", {"ids": [notification_id]})
    sandbox.state.dispatch(notify, ignore_delays=True)
    assert Payment.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="payment").count() == 1
    assert GatewayNotification.objects.latest("received_at").outcome == NotificationOutcome.DUPLICATE


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_a_notification_first_then_the_sweep_changes_nothing(sandbox, notify, customer, account_a, gateway):
    order, _ = order_opened(customer, gateway=gateway)
    notification_id = _paid_but_not_notified(sandbox, order)
    sandbox.control("deliver", {"ids": [notification_id]})
    sandbox.state.dispatch(notify, ignore_delays=True)

    result = services.payment_orders_sweep(now=_later(60))

    assert result.checked == 0  # paid orders are not open any more
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_an_unpaid_order_within_its_time_is_left_open(sandbox, customer, account_a, gateway):
    order, _ = order_opened(customer, gateway=gateway)

    result = services.payment_orders_sweep(now=_later(10))

    assert (result.checked, result.waiting, result.closed) == (1, 1, 0)
    order.refresh_from_db()
    assert order.status == OrderStatus.CREATED
    assert not GatewayCall.objects.filter(operation=GatewayOperation.CLOSE).exists()


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_an_expired_unpaid_order_is_closed_at_the_gateway_and_cannot_be_paid_after(
    sandbox, customer, account_a, gateway, settings
):
    order, _ = order_opened(customer, gateway=gateway)
    expired = _later(settings.PAYMENTS_ORDER_TTL_MINUTES + settings.PAYMENTS_ORDER_CLOSE_GRACE_MINUTES + 1)

    result = services.payment_orders_sweep(now=expired)

    assert (result.checked, result.closed) == (1, 1)
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    assert sandbox.state._order(gateway, order.out_trade_no).status == "TRADE_CLOSED"
    with pytest.raises(RuntimeError, match="TRADE_HAS_CLOSE"):
        sandbox.control("pay", {"gateway": gateway, "out_trade_no": order.out_trade_no})
    assert not Payment.objects.exists()


def test_an_order_whose_cashier_was_never_opened_is_closed_once_expired(
    sandbox, customer, account_a, settings
):
    order, _instruction = services.payment_order_create(
        customer_user=customer, account_number="0000000001", amount_fen=500, gateway="alipay", channel="h5"
    )
    adapter = gateway_get("alipay")
    assert adapter.query_order(order).state == TRADE_NOT_FOUND  # Alipay has not heard of it yet
    assert services.payment_orders_sweep(now=_later(10)).waiting == 1

    services.payment_orders_sweep(now=_later(settings.PAYMENTS_ORDER_TTL_MINUTES + 60))

    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_paid_while_being_closed_is_credited_not_closed(sandbox, customer, account_a, gateway, settings):
    """The close is refused because the customer paid a moment before: ask again, credit."""
    order, _ = order_opened(customer, gateway=gateway, amount_fen=4321)
    adapter = gateway_get(gateway)
    real_query = type(adapter).query_order
    calls = []

    def query_then_pay(self, order_):
        state = real_query(self, order_)
        if not calls:  # the first answer says "waiting"; the customer pays right after it
            assert state.state == TRADE_WAITING
            _paid_but_not_notified(sandbox, order_)
        calls.append(state.state)
        return state

    expired = _later(settings.PAYMENTS_ORDER_TTL_MINUTES + settings.PAYMENTS_ORDER_CLOSE_GRACE_MINUTES + 1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(adapter), "query_order", query_then_pay)
        outcome = services.payment_order_check(order=order, now=expired)

    assert outcome == "credited"
    assert calls == ["waiting", "paid"]
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Payment.objects.get().amount_fen == 4321


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_a_paid_amount_that_differs_from_the_order_goes_to_suspense(sandbox, customer, account_a, gateway):
    order, _ = order_opened(customer, gateway=gateway, amount_fen=1000)
    _paid_but_not_notified(sandbox, order)
    PaymentOrder.objects.filter(pk=order.pk).update(amount_fen=999)  # our record disagrees

    outcome = services.payment_order_check(order=PaymentOrder.objects.get(pk=order.pk), now=_later(3))

    assert outcome == "suspense"
    assert SuspenseItem.objects.get().reason == "amount_mismatch"
    assert not Payment.objects.exists()


def test_an_unreachable_gateway_leaves_the_order_open_for_the_next_sweep(customer, account_a, settings):
    settings.PAYMENTS_SANDBOX_URL = "http://127.0.0.1:9"  # nothing listens there
    order = PaymentOrder.objects.create(
        out_trade_no=services.new_out_trade_no(),
        account=account_a,
        customer_user_id=customer.pk,
        amount_fen=100,
        gateway="alipay",
        channel="h5",
    )

    result = services.payment_orders_sweep(now=_later(600))

    assert (result.checked, result.failed) == (1, 1)
    order.refresh_from_db()
    assert order.status == OrderStatus.CREATED
    call = GatewayCall.objects.get()
    assert (call.operation, call.outcome) == (GatewayOperation.QUERY, "transient")


def test_sweep_command_prints_its_counts(sandbox, customer, account_a, capsys):
    order, _ = order_opened(customer, gateway="wechatpay")
    PaymentOrder.objects.filter(pk=order.pk).update(created_at=_later(-3))
    call_command("payments_sweep")
    assert '"checked": 1' in capsys.readouterr().out


def test_pay_page_refuses_an_order_past_its_deadline(sandbox, customer, account_a, settings):
    """time_expire is sent to the gateway, which refuses payment after it."""
    settings.PAYMENTS_ORDER_TTL_MINUTES = 1
    order, instruction = services.payment_order_create(
        customer_user=customer, account_number="0000000001", amount_fen=500, gateway="alipay", channel="h5"
    )
    open_cashier(instruction.pay_url)
    sandbox.state._order("alipay", order.out_trade_no).expires_at = timezone.now() - timedelta(seconds=1)
    with pytest.raises(RuntimeError, match="TRADE_HAS_CLOSE"):
        sandbox.control("pay", {"gateway": "alipay", "out_trade_no": order.out_trade_no})
