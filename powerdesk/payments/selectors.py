"""Reads: an order as its customer may see it."""

from __future__ import annotations

from django.utils.translation import gettext as _

from powerdesk.core.exceptions import NotFound
from powerdesk.customers.models import CustomerUser
from powerdesk.customers.services import active_bindings
from powerdesk.payments.models import PaymentOrder


def payment_order_for_customer(*, customer_user: CustomerUser, out_trade_no: str) -> PaymentOrder:
    """The order, if its account is bound to the caller now; otherwise the same 404 whether
    or not the order exists (no probing of other customers' orders)."""
    bound_accounts = active_bindings().filter(customer_user=customer_user).values("account_id")
    order = (
        PaymentOrder.objects.select_related("account", "paid_payment")
        .filter(out_trade_no=out_trade_no, account_id__in=bound_accounts)
        .first()
    )
    if order is None:
        raise NotFound("order_not_found", _("订单不存在。"), field="out_trade_no")
    return order
