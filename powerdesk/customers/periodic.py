"""Periodic jobs of the customers app (``powerdesk clock`` enqueues them; see scheduling/)."""

from datetime import timedelta

from powerdesk.customers.tasks import otp_challenges_purge_task
from powerdesk.scheduling.registry import periodic_register

periodic_register("customers.otp_purge", every=timedelta(hours=1), task=otp_challenges_purge_task)
