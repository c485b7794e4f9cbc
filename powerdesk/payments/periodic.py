"""Periodic jobs of the payments app (``powerdesk clock`` enqueues them; see scheduling/)."""

from datetime import timedelta

from powerdesk.payments.tasks import payment_orders_sweep_task
from powerdesk.scheduling.registry import periodic_register

# Every minute: an order whose notification is lost is credited within ~3 minutes of payment
# (query after PAYMENTS_ORDER_QUERY_AFTER_SECONDS, default 120 s).
periodic_register("payments.orders_sweep", every=timedelta(minutes=1), task=payment_orders_sweep_task)
