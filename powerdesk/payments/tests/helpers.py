"""Test helpers: open orders the way the customer's browser does."""

from __future__ import annotations

import urllib.request

from powerdesk.payments import services


def open_cashier(pay_url: str) -> str:
    """GET the pay URL as the customer's browser would; the sandbox's cashier page."""
    with urllib.request.urlopen(pay_url, timeout=10) as response:  # noqa: S310  (loopback sandbox)
        return response.read().decode()


def order_opened(
    customer_user, *, gateway: str = "alipay", amount_fen: int = 12345, account_number="0000000001"
):
    """An order created through the service, known to the sandbox (cashier page opened)."""
    order, instruction = services.payment_order_create(
        customer_user=customer_user,
        account_number=account_number,
        amount_fen=amount_fen,
        gateway=gateway,
        channel="h5",
    )
    page = open_cashier(instruction.pay_url)
    assert "确认支付" in page
    return order, instruction
