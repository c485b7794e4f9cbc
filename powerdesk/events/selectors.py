"""Reading the event log."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from powerdesk.events.models import DomainEvent


def events_after(last_id: uuid.UUID | None, *, limit: int = 10_000) -> list[DomainEvent]:
    """The next batch for an incremental export: events with an id above ``last_id``."""
    queryset = DomainEvent.objects.order_by("id")
    if last_id is not None:
        queryset = queryset.filter(id__gt=last_id)
    return list(queryset[:limit])


def events_for_customer(*, customer_user_ids: list[int], account_ids: list[int], limit: int = 50) -> QuerySet:
    from django.db.models import Q

    return DomainEvent.objects.filter(
        Q(customer_user_id__in=customer_user_ids) | Q(account_id__in=account_ids)
    ).order_by("-id")[:limit]
