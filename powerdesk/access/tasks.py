"""Background work of the access app (django-tasks; ``powerdesk worker`` runs it)."""

from django_tasks import task

from powerdesk.access.services import tokens_purge


@task()
def tokens_purge_task() -> dict:
    return tokens_purge()
