"""Background work of the conversation engine (django-tasks; ``powerdesk worker`` runs it)."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from powerdesk.conversations.choices import Direction
from powerdesk.conversations.models import ConversationMessage
from powerdesk.conversations.services import reply_deliver


@task()
def reply_deliver_task(message_id: int) -> str:
    """Send one deferred reply (an outbound message by id) through its channel's API."""
    outbound = ConversationMessage.objects.filter(pk=message_id, direction=Direction.OUTBOUND).first()
    if outbound is None:
        return "missing"
    return reply_deliver(outbound=outbound)


def reply_deliver_dispatch(*, message_id: int) -> None:
    """Enqueue the delivery once the transaction that stored the reply has committed."""
    transaction.on_commit(lambda: reply_deliver_task.enqueue(message_id))
