"""The clock loop: enqueue every periodic job whose current slot has not been enqueued yet."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from powerdesk.scheduling.models import PeriodicRun
from powerdesk.scheduling.registry import PeriodicJob, periodic_jobs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Enqueued:
    job: str
    slot: int
    task_result_id: str


def slot_of(job: PeriodicJob, now: datetime) -> int:
    return int(now.timestamp()) // job.seconds


def clock_tick(*, now: datetime | None = None, jobs: list[PeriodicJob] | None = None) -> list[Enqueued]:
    """One pass over the jobs at ``now``; returns what this call enqueued (possibly nothing).

    The PeriodicRun row and the enqueue share a transaction: with the database task backend the
    task row commits with the slot or not at all; with other backends the enqueue happens after
    the slot row commits, so a lost race never enqueues.
    """
    now = now or timezone.now()
    done: list[Enqueued] = []
    for job in periodic_jobs() if jobs is None else jobs:
        slot = slot_of(job, now)
        if PeriodicRun.objects.filter(job=job.name, slot=slot).exists():
            continue
        try:
            with transaction.atomic():
                run = PeriodicRun.objects.create(
                    job=job.name, slot=slot, due_at=datetime.fromtimestamp(slot * job.seconds, tz=UTC)
                )
                result = job.task.enqueue(*job.args)
                run.task_result_id = str(result.id)[:64]
                run.save(update_fields=["task_result_id"])
        except IntegrityError:  # another clock took this slot first
            continue
        log.info("periodic job enqueued", extra={"job": job.name, "slot": slot})
        done.append(Enqueued(job.name, slot, run.task_result_id))
    return done
