"""Periodic jobs of the access app (``powerdesk clock`` enqueues them; see scheduling/)."""

from datetime import timedelta

from powerdesk.access.tasks import tokens_purge_task
from powerdesk.scheduling.registry import periodic_register

periodic_register("access.tokens_purge", every=timedelta(hours=1), task=tokens_purge_task)
