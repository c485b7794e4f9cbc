"""Background work of the payments app (django-tasks; ``powerdesk worker`` runs it)."""

from __future__ import annotations

from django_tasks import task

from powerdesk.payments.services import payment_orders_sweep


@task()
def payment_orders_sweep_task() -> dict:
    """Query open orders at their gateway, credit the paid ones, close the expired ones."""
    return payment_orders_sweep().as_dict()
