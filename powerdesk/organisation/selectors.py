"""Reads of the organisation tree."""

from __future__ import annotations

from django.db.models import QuerySet

from powerdesk.organisation.models import SupplyUnit


def units_within(unit: SupplyUnit) -> QuerySet[SupplyUnit]:
    """The unit and everything below it."""
    return SupplyUnit.objects.filter(path__startswith=unit.path)
