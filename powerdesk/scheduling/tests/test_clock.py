"""The clock enqueues each periodic job once per slot, however many clocks tick."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from powerdesk.scheduling.clock import clock_tick, slot_of
from powerdesk.scheduling.models import PeriodicRun
from powerdesk.scheduling.registry import PeriodicJob, periodic_jobs, periodic_register


@task()
def sample_periodic_task(label: str) -> str:
    return label


JOB = PeriodicJob(name="test.sample", every=timedelta(minutes=5), task=sample_periodic_task, args=("x",))
NOON = datetime(2026, 11, 23, 4, 0, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_one_enqueue_per_slot_however_often_the_clock_ticks():
    first = clock_tick(now=NOON, jobs=[JOB])
    again = clock_tick(now=NOON + timedelta(minutes=4, seconds=59), jobs=[JOB])
    next_slot = clock_tick(now=NOON + timedelta(minutes=5), jobs=[JOB])
    assert [e.slot for e in first] == [slot_of(JOB, NOON)]
    assert again == []
    assert [e.slot for e in next_slot] == [slot_of(JOB, NOON) + 1]
    assert PeriodicRun.objects.filter(job="test.sample").count() == 2
    assert DBTaskResult.objects.filter(task_path__endswith="sample_periodic_task").count() == 2


@pytest.mark.django_db
def test_slots_align_to_the_interval_not_to_when_the_clock_started():
    late = NOON + timedelta(minutes=2, seconds=30)
    clock_tick(now=late, jobs=[JOB])
    run = PeriodicRun.objects.get(job="test.sample")
    assert run.due_at == NOON  # 04:00 is a multiple of 5 minutes since the epoch


@pytest.mark.django_db
def test_a_slot_already_taken_is_not_enqueued_again():
    PeriodicRun.objects.create(job="test.sample", slot=slot_of(JOB, NOON), due_at=NOON)
    assert clock_tick(now=NOON, jobs=[JOB]) == []
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db
def test_the_enqueued_task_carries_the_job_arguments():
    (enqueued,) = clock_tick(now=NOON, jobs=[JOB])
    result = DBTaskResult.objects.get(id=enqueued.task_result_id)
    assert result.args_kwargs["args"] == ["x"]


def test_intervals_are_whole_seconds_of_at_least_ten():
    with pytest.raises(ValueError, match="at least 10 s"):
        periodic_register("bad", every=timedelta(seconds=5), task=sample_periodic_task)
    with pytest.raises(ValueError, match="whole seconds"):
        periodic_register("bad", every=timedelta(seconds=10.5), task=sample_periodic_task)


def test_apps_register_their_jobs_through_periodic_modules():
    names = {job.name for job in periodic_jobs()}
    assert "payments.orders_sweep" in names


@pytest.mark.django_db
def test_clock_command_once_enqueues_and_exits(capsys):
    call_command("clock", "--once")
    out = capsys.readouterr().out
    assert "enqueued payments.orders_sweep" in out
    assert PeriodicRun.objects.filter(job="payments.orders_sweep").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="needs concurrent writers (PostgreSQL run)")
def test_eight_clocks_ticking_at_once_enqueue_a_slot_once():
    barrier = threading.Barrier(8)
    won: list[int] = []

    def tick():
        try:
            barrier.wait()
            won.append(len(clock_tick(now=NOON, jobs=[JOB])))
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [0] * 7 + [1]
    assert DBTaskResult.objects.filter(task_path__endswith="sample_periodic_task").count() == 1
