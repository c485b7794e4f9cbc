"""Writing to the event log."""

from __future__ import annotations

import json
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from powerdesk.core import metrics
from powerdesk.core.rowsql import WriteBatch, insert_rows, insert_statement
from powerdesk.events.choices import Channel
from powerdesk.events.models import DomainEvent
from powerdesk.events.registry import EventKind, get_event_kind


def event_record(
    kind: EventKind | str,
    *,
    channel: Channel | str,
    customer_user_id: int | None = None,
    account_id: int | None = None,
    actor_staff_id: int | None = None,
    payload: dict | None = None,
    occurred_at: datetime | None = None,
) -> DomainEvent:
    """Append one event. Runs inside the caller's transaction, so it commits with the change."""
    event = event_build(
        kind,
        channel=channel,
        customer_user_id=customer_user_id,
        account_id=account_id,
        actor_staff_id=actor_staff_id,
        payload=payload,
        occurred_at=occurred_at,
    )
    events_save([event])
    return event


def event_build(
    kind: EventKind | str,
    *,
    channel: Channel | str,
    customer_user_id: int | None = None,
    account_id: int | None = None,
    actor_staff_id: int | None = None,
    payload: dict | None = None,
    occurred_at: datetime | None = None,
) -> DomainEvent:
    """One checked, unsaved event: for a caller that writes several at once (``events_save``)."""
    name = kind.name if isinstance(kind, EventKind) else get_event_kind(kind).name
    channel_value = Channel(channel).value  # raises ValueError on an unknown channel
    # Round-trip through the JSON encoder so dates/decimals stored are what export will read.
    clean_payload = json.loads(json.dumps(payload or {}, cls=DjangoJSONEncoder))
    return DomainEvent(
        kind=name,
        channel=channel_value,
        occurred_at=occurred_at or timezone.now(),
        customer_user_id=customer_user_id,
        account_id=account_id,
        actor_staff_id=actor_staff_id,
        payload=clean_payload,
    )


def events_save(events: list[DomainEvent], *, batch: WriteBatch | None = None) -> None:
    """Append built events in one INSERT (inside the caller's transaction) — or, with
    ``batch``, add that INSERT to the caller's ``WriteBatch``."""
    if not events:
        return
    if batch is not None:
        batch.add(*insert_statement(events))
    else:
        insert_rows(events)
    for event in events:
        event._state.adding = False
    events_counted(events)


def events_counted(events: list[DomainEvent]) -> None:
    """Count written events in the metrics (for a caller that wrote them in its own statement)."""
    for event in events:
        metrics.DOMAIN_EVENTS.labels(event.kind, event.channel).inc()
