"""Periodic jobs: ``periodic_register(name, every=…, task=…)`` in an app's ``periodic.py``.

django-tasks runs tasks but has no clock. ``powerdesk clock`` (clock.py) is that clock: it
enqueues each registered task once per interval slot. Slots are fixed multiples of the interval
since the epoch (a 5-minute job runs at :00, :05, …), recorded in ``PeriodicRun`` under a unique
(job, slot) constraint — so two clocks running at once, or a clock restarted mid-slot, never
enqueue a slot twice. A slot that passed while no clock ran is not caught up: periodic jobs here
look at the current state of things (orders to query, snapshots to fetch), so the next slot
does the work the missed one would have done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django_tasks.base import Task


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    task: Task
    args: tuple = ()

    @property
    def seconds(self) -> int:
        return int(self.every.total_seconds())


_jobs: dict[str, PeriodicJob] = {}


def periodic_register(name: str, *, every: timedelta, task: Task, args: tuple = ()) -> PeriodicJob:
    """Declare a job; registering the same name again replaces it (module reloads in tests)."""
    if every < timedelta(seconds=10) or every.total_seconds() != int(every.total_seconds()):
        raise ValueError(f"periodic job {name!r}: interval must be whole seconds, at least 10 s")
    if len(name) > 64:
        raise ValueError(f"periodic job name too long: {name!r}")
    job = PeriodicJob(name=name, every=every, task=task, args=tuple(args))
    _jobs[name] = job
    return job


def periodic_jobs() -> list[PeriodicJob]:
    return sorted(_jobs.values(), key=lambda job: job.name)
