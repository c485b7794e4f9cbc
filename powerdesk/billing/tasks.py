"""Background checks of imported bills (django-tasks; ``powerdesk worker`` runs them).

``bill_checks_dispatch(bill_ids=…)`` enqueues one ``bill_check_task`` per bill **after the
current transaction commits** (``transaction.on_commit``), so a worker never looks for a bill
that a rolled-back import did not write. A whole month is better checked in bulk with
``powerdesk billing_check --period YYYY-MM``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django_tasks import task

from powerdesk.billing.checks import bill_check, bill_checks_for_period
from powerdesk.billing.models import Bill


@task()
def bill_check_task(bill_id: int) -> str:
    """Check one bill version by id; returns the check's status (``missing`` if it is gone)."""
    bill = Bill.objects.filter(pk=bill_id).first()
    if bill is None:
        return "missing"
    return bill_check(bill=bill).status


def bill_checks_dispatch(*, bill_ids: Iterable[int]) -> None:
    """Enqueue a check of each bill once the surrounding transaction has committed."""
    ids = list(dict.fromkeys(int(pk) for pk in bill_ids))

    def enqueue() -> None:
        for pk in ids:
            bill_check_task.enqueue(pk)

    if ids:
        transaction.on_commit(enqueue)


@task()
def bill_checks_period_task(period: str) -> dict:
    """Check every current imported bill of one month (``YYYY-MM-01``) in bulk."""
    from datetime import date

    return bill_checks_for_period(period=date.fromisoformat(period)).as_dict()


def bill_checks_dispatch_periods(*, periods: Iterable) -> None:
    """After an import: one bulk check per month that gained or changed bills, on commit."""
    months = sorted({p.isoformat() for p in periods})

    def enqueue() -> None:
        for month in months:
            bill_checks_period_task.enqueue(month)

    if months:
        transaction.on_commit(enqueue)


@task()
def readings_archive_task() -> dict:
    """Move old months of readings and load curves to the Parquet lake (retention.py)."""
    from powerdesk.billing.retention import readings_archive

    return readings_archive().as_dict()
