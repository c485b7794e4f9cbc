"""Background work of the customers app (django-tasks; ``powerdesk worker`` runs it)."""

from django_tasks import task

from powerdesk.customers.verification import otp_challenges_purge


@task()
def otp_challenges_purge_task() -> int:
    return otp_challenges_purge()
