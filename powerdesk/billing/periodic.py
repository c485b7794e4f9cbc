"""Periodic jobs of the billing app (``powerdesk clock`` enqueues them; see scheduling/)."""

from datetime import timedelta

from powerdesk.billing.tasks import readings_archive_task
from powerdesk.scheduling.registry import periodic_register

# Daily: months leave the database once wholly older than POWERDESK_READINGS_KEEP_DAYS.
periodic_register("billing.readings_archive", every=timedelta(days=1), task=readings_archive_task)
