"""Notifications through the sandbox: exactly one credit, refusals, suspense — for both gateways."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from powerdesk.billing.models import LedgerEntry, Payment
from powerdesk.payments.choices import NotificationOutcome, OrderStatus, SuspenseReason, Verification
from powerdesk.payments.gateways.base import gateway_get
from powerdesk.payments.models import GatewayNotification, PaymentOrder, SuspenseItem
from powerdesk.payments.tests.helpers import open_cashier, order_opened

pytestmark = pytest.mark.django_db
GATEWAYS = ["alipay", "wechatpay"]


def _pay(sandbox, order) -> int:
    sandbox.control("hold", {"hold": True})
    return sandbox.control("pay", {"gateway": order.gateway, "out_trade_no": order.out_trade_no})[
        "notification_id"
    ]


def _deliver(sandbox, notify, ids, **options) -> int:
    sandbox.control("deliver", {"ids": ids, **options})
    return sandbox.state.dispatch(notify, ignore_delays=True)


def _outcomes() -> list[str]:
    return list(GatewayNotification.objects.order_by("received_at", "id").values_list("outcome", flat=True))


def _ledger_total(account) -> int:
    return LedgerEntry.objects.filter(account=account).aggregate(t=Sum("amount_fen"))["t"] or 0


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_replayed_notification_credits_once(sandbox, notify, customer, account_a, gateway):
    order, _ = order_opened(customer, gateway=gateway, amount_fen=12345)
    notification_id = _pay(sandbox, order)
    assert _deliver(sandbox, notify, [notification_id], repeat=4) == 4

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    payment = Payment.objects.get()
    assert (payment.amount_fen, payment.gateway, order.paid_payment_id) == (12345, gateway, payment.pk)
    assert _ledger_total(account_a) == -12345
    assert _outcomes() == ["credited", "duplicate", "duplicate", "duplicate"]
    # Every copy was acknowledged, so the gateway stops resending.
    assert all(
        status == 200 for status, _answer, _tamper in sandbox.state._notifications[notification_id].attempts
    )


@pytest.mark.parametrize("gateway", GATEWAYS)
@pytest.mark.parametrize("tamper", ["signature", "amount_unsigned"])
def test_tampered_notification_is_refused_and_stored(sandbox, notify, customer, gateway, tamper):
    order, _ = order_opened(customer, gateway=gateway)
    notification_id = _pay(sandbox, order)
    _deliver(sandbox, notify, [notification_id], tamper=tamper)

    stored = GatewayNotification.objects.get()
    assert (stored.verification, stored.outcome) == (
        Verification.INVALID,
        NotificationOutcome.SIGNATURE_INVALID,
    )
    assert stored.response_status == 401 and stored.body
    assert not Payment.objects.exists() and not SuspenseItem.objects.exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.CREATED
    # The genuine notification still gets through afterwards.
    _deliver(sandbox, notify, [notification_id])
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_amount_mismatch_goes_to_suspense_not_to_the_ledger(sandbox, notify, customer, account_a, gateway):
    order, _ = order_opened(customer, gateway=gateway, amount_fen=5000)
    notification_id = _pay(sandbox, order)
    _deliver(sandbox, notify, [notification_id], tamper="amount", repeat=2)

    item = SuspenseItem.objects.get()
    assert item.reason == SuspenseReason.AMOUNT_MISMATCH and item.amount_fen == 5001 and item.order == order
    assert "5001" in item.message and "5000" in item.message
    assert _outcomes() == ["suspense", "suspense"]
    assert GatewayNotification.objects.filter(suspense=item).count() == 2
    assert not Payment.objects.exists() and _ledger_total(account_a) == 0
    # Answered with success: the gateway must stop resending what we keep for staff.
    assert {a[0] for a in sandbox.state._notifications[notification_id].attempts} == {200}


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_unknown_order_goes_to_suspense(sandbox, notify, account_a, gateway):
    stranger_order = PaymentOrder(
        out_trade_no="PD0000000000000000000000000000ZZ",
        account=account_a,
        amount_fen=800,
        gateway=gateway,
        channel="h5",
    )
    open_cashier(gateway_get(gateway).create_order(stranger_order).pay_url)
    notification_id = _pay(sandbox, stranger_order)
    _deliver(sandbox, notify, [notification_id], repeat=3)

    item = SuspenseItem.objects.get()
    assert (item.reason, item.out_trade_no, item.amount_fen) == (
        SuspenseReason.UNKNOWN_ORDER,
        stranger_order.out_trade_no,
        800,
    )
    assert "不存在" in item.message
    assert _outcomes() == ["suspense"] * 3
    assert not Payment.objects.exists()


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_account_mismatch_goes_to_suspense(sandbox, notify, customer, gateway):
    order, _ = order_opened(customer, gateway=gateway)
    sandbox.state._orders[(gateway, order.out_trade_no)].account_number = "0000000002"
    _deliver(sandbox, notify, [_pay(sandbox, order)])

    assert SuspenseItem.objects.get().reason == SuspenseReason.ACCOUNT_MISMATCH
    assert not Payment.objects.exists()


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_second_payment_of_a_paid_order_is_kept_in_suspense(sandbox, notify, customer, account_a, gateway):
    order, _ = order_opened(customer, gateway=gateway, amount_fen=3000)
    _deliver(sandbox, notify, [_pay(sandbox, order)])
    # The customer pays the same order again (second device): a new gateway transaction.
    sandbox.state._orders[(gateway, order.out_trade_no)].status = "WAIT_BUYER_PAY"
    _deliver(sandbox, notify, [_pay(sandbox, order)])

    assert Payment.objects.count() == 1 and _ledger_total(account_a) == -3000
    item = SuspenseItem.objects.get()
    assert item.reason == SuspenseReason.ORDER_ALREADY_PAID and item.amount_fen == 3000


def test_duplicate_with_a_different_amount_goes_to_suspense(sandbox, notify, customer, account_a):
    order, _ = order_opened(customer, gateway="alipay", amount_fen=4000)
    notification_id = _pay(sandbox, order)
    _deliver(sandbox, notify, [notification_id])
    _deliver(sandbox, notify, [notification_id], tamper="amount")

    assert Payment.objects.get().amount_fen == 4000 and _ledger_total(account_a) == -4000
    assert SuspenseItem.objects.get().reason == SuspenseReason.TXN_AMOUNT_CONFLICT


def test_notification_for_a_disabled_gateway_is_404(client, settings):
    settings.PAYMENTS_GATEWAYS = ["alipay"]
    assert (
        client.post("/payments/notify/wechatpay/", data=b"{}", content_type="application/json").status_code
        == 404
    )
    assert client.post("/payments/notify/paypal/", data=b"", content_type="text/plain").status_code == 404
    assert client.get("/payments/notify/alipay/").status_code == 405


def test_notification_log_is_append_only(sandbox, notify, customer):
    from django.db import DatabaseError, transaction

    order, _ = order_opened(customer)
    _deliver(sandbox, notify, [_pay(sandbox, order)])
    stored = GatewayNotification.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        GatewayNotification.objects.filter(pk=stored.pk).update(outcome="ignored")
