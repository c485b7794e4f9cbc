"""Shared set-up for the console's payment pages (no tests here).

Payments are credited through ``billing.services.payment_record`` like a notification would;
the order and the stored notifications are written as ``payments.services`` stores them. The
refund tests use the real sandbox gateway (fixtures re-exported from the payments app).
"""

from __future__ import annotations

from datetime import UTC, datetime

from powerdesk.billing.services import payment_record
from powerdesk.payments.choices import NotificationOutcome, OrderStatus, SuspenseReason, Verification
from powerdesk.payments.models import GatewayNotification, PaymentOrder, SuspenseItem

# 2026-11-01 16:30 UTC is 2026-11-02 00:30 in Beijing: the local day is the next one.
PAID_AT = datetime(2026, 11, 1, 16, 30, tzinfo=UTC)


def make_payment(
    account,
    *,
    txn: str = "2026110222001400001",
    amount_fen: int = 12345,
    gateway: str = "alipay",
    channel: str = "h5",
    paid_at: datetime = PAID_AT,
    with_order: bool = True,
    notifications: int = 1,
):
    """A credited payment with (optionally) its paid order and the notifications that credited it."""
    payment, _created = payment_record(
        account=account,
        amount_fen=amount_fen,
        gateway=gateway,
        gateway_txn_id=txn,
        paid_at=paid_at,
        channel=channel,
    )
    if not with_order:
        return payment
    order = PaymentOrder.objects.create(
        out_trade_no=f"PD{txn[-30:]:0>30}",
        account=account,
        amount_fen=amount_fen,
        gateway=gateway,
        channel=channel,
        status=OrderStatus.PAID,
        paid_payment=payment,
    )
    for n in range(notifications):
        GatewayNotification.objects.create(
            gateway=gateway,
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Api-Token": "tok-secret-1"},
            body=(
                f"trade_status=TRADE_SUCCESS&out_trade_no={order.out_trade_no}&trade_no={txn}"
                f"&total_amount={amount_fen // 100}.{amount_fen % 100:02d}&app_auth_token=TOPSECRET{n}"
            ),
            verification=Verification.VALID,
            outcome=NotificationOutcome.CREDITED if n == 0 else NotificationOutcome.DUPLICATE,
            out_trade_no=order.out_trade_no,
            gateway_txn_id=txn,
            amount_fen=amount_fen,
            order=order,
            payment=payment,
            response_status=200,
        )
    return payment


def make_suspense_item(
    *,
    order=None,
    txn: str = "2026110222009999001",
    amount_fen: int = 5000,
    reason: str = SuspenseReason.AMOUNT_MISMATCH,
    gateway: str = "alipay",
) -> SuspenseItem:
    return SuspenseItem.objects.create(
        gateway=gateway,
        reason=reason,
        message="通知金额与订单金额不符，未入账。",
        out_trade_no=order.out_trade_no if order else "PDUNKNOWN0001",
        gateway_txn_id=txn,
        amount_fen=amount_fen,
        order=order,
        payload={"trade_no": txn},
        dedupe_key=f"{gateway}:{reason}:{txn}",
    )


def order_of(payment) -> PaymentOrder:
    return PaymentOrder.objects.get(paid_payment=payment)
