"""Periodic jobs of mass messaging (``powerdesk clock`` enqueues them; see scheduling/)."""

from datetime import timedelta

from powerdesk.broadcasts.tasks import broadcasts_sweep_task
from powerdesk.scheduling.registry import periodic_register

# Every minute: scheduled broadcasts start within a minute of their time even on a task backend
# that cannot defer, and a chunk left by a dead worker is resent (same clientmsgid) once its
# lease has run out. The sweep is broadcasts_resume, the same as `powerdesk broadcast_resume`.
periodic_register("broadcasts.sweep", every=timedelta(minutes=1), task=broadcasts_sweep_task)
