"""Scope every staff query to the caller's supply unit and below."""

from __future__ import annotations

from django.db.models import QuerySet

from powerdesk.organisation.models import SupplyUnit


def scope_to_staff(queryset: QuerySet, staff, *, unit_field: str = "supply_unit") -> QuerySet:
    """Filter ``queryset`` to rows whose ``unit_field`` lies within the staff member's unit.

    A staff member without a unit (only possible for a superuser created by hand) sees
    nothing through the console, never everything: failing closed.
    """
    unit: SupplyUnit | None = getattr(staff, "supply_unit", None)
    if unit is None:
        return queryset.none()
    return queryset.filter(**{f"{unit_field}__path__startswith": unit.path})


def staff_can_see_unit(staff, unit: SupplyUnit) -> bool:
    own = getattr(staff, "supply_unit", None)
    return own is not None and unit.path.startswith(own.path)
