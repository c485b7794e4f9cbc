"""Background work of mass messaging (django-tasks; ``powerdesk worker`` runs it).

Tasks take a broadcast id, load it and call delivery.py; they are enqueued after the transaction
that asked for them commits. A scheduled start uses the backend's ``run_after`` when it has one
(the database backend does); without it, and for anything a lost task or a crashed worker left
behind, ``powerdesk broadcast_resume`` (and the periodic sweep, when a clock runs) picks it up.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django_tasks import task

log = logging.getLogger(__name__)


@task()
def broadcast_start_task(broadcast_id: int) -> str:
    """Materialise the recipients and send (when due); returns the broadcast's status."""
    from powerdesk.broadcasts.delivery import broadcast_send, broadcast_start

    status = broadcast_start(broadcast_id=broadcast_id)
    if status == "sending":
        status = broadcast_send(broadcast_id=broadcast_id).status
    return status


@task()
def broadcast_send_task(broadcast_id: int) -> str:
    """Send the broadcast's claimable chunks; returns the broadcast's status."""
    from powerdesk.broadcasts.delivery import broadcast_send

    return broadcast_send(broadcast_id=broadcast_id).status


@task()
def broadcasts_sweep_task() -> dict:
    """Start due scheduled broadcasts and resume unfinished ones (what broadcast_resume does)."""
    from powerdesk.broadcasts.delivery import broadcasts_resume

    return broadcasts_resume().as_dict()


def _enqueue(broadcast_task, broadcast_id: int, run_after: datetime | None) -> None:
    if run_after is not None and run_after > timezone.now():
        if not broadcast_task.get_backend().supports_defer:
            log.info(
                "task backend cannot defer; broadcast_resume will start it when due",
                extra={"broadcast_id": broadcast_id, "run_after": run_after.isoformat()},
            )
            return
        broadcast_task = broadcast_task.using(run_after=run_after)
    broadcast_task.enqueue(broadcast_id)


def broadcast_start_dispatch(*, broadcast_id: int, run_after: datetime | None = None) -> None:
    transaction.on_commit(lambda: _enqueue(broadcast_start_task, broadcast_id, run_after))


def broadcast_send_dispatch(*, broadcast_id: int, run_after: datetime | None = None) -> None:
    transaction.on_commit(lambda: _enqueue(broadcast_send_task, broadcast_id, run_after))
