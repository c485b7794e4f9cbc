"""``powerdesk worker``: the background task worker (django-tasks-db's ``db_worker``).

Every option of ``db_worker`` passes through unchanged (``--queue-name``, ``--interval``,
``--batch``, ``--max-tasks``, ``--worker-id``, ``--no-startup-delay``, ``--reload``…), so
the two stay interchangeable; this name is the one our docs and ``powerdesk demo`` use.
"""

from __future__ import annotations

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand


class Command(DbWorkerCommand):
    help = "Run the background task worker (database task backend); options as for db_worker."
