"""Reads of the tariff catalogue: which versions are in force, and their frozen snapshots."""

from __future__ import annotations

from datetime import date

from django.db.models import Q

from powerdesk.customers.choices import TariffClass
from powerdesk.tariffs.inputs import BAND_ORDER, TariffSnapshot, TierSnapshot, WindowSnapshot
from powerdesk.tariffs.models import Tariff
from powerdesk.tariffs.validation import plain_decimal


def tariffs_in_force(*, code_or_class: str, start: date, end: date) -> list[Tariff]:
    """Tariff versions in force on some day of ``[start, end)`` (``end`` exclusive), oldest first.

    ``code_or_class`` is a tariff class (``"residential"`` — every series of that class), a
    series (``"ZJ-RES-TIER"`` — its versions) or a version code (``"ZJ-RES-TIER-2021"`` — the
    versions of its series, so a period spanning a price change still gets both). Children are
    prefetched: ``snapshot()`` of each costs no further query.
    """
    if code_or_class in TariffClass.values:
        matching = Q(tariff_class=code_or_class)
    else:
        series = Tariff.objects.filter(code=code_or_class).values("series")
        matching = Q(series=code_or_class) | Q(series__in=series)
    overlapping = Q(valid_from__lt=end) & (Q(valid_to__isnull=True) | Q(valid_to__gt=start))
    return list(
        Tariff.objects.filter(matching, overlapping)
        .prefetch_related("tiers", "band_prices", "windows")
        .order_by("series", "valid_from", "code")
    )


def snapshot(tariff: Tariff) -> TariffSnapshot:
    """The calculator's frozen view of one version (uses prefetched children when present)."""
    prices = {row.band: plain_decimal(row.price_per_kwh) for row in tariff.band_prices.all()}
    return TariffSnapshot(
        code=tariff.code,
        series=tariff.series,
        name=tariff.name,
        tariff_class=tariff.tariff_class,
        kind=tariff.kind,
        valid_from=tariff.valid_from,
        valid_to=tariff.valid_to,
        band_prices=tuple((band.value, prices[band.value]) for band in BAND_ORDER if band.value in prices),
        tiers=tuple(
            TierSnapshot(
                order=row.order,
                upper_kwh=None if row.upper_kwh is None else plain_decimal(row.upper_kwh),
                surcharge_per_kwh=plain_decimal(row.surcharge_per_kwh),
            )
            for row in sorted(tariff.tiers.all(), key=lambda row: row.order)
        ),
        tier_period=tariff.tier_period,
        tier_year_start_month=tariff.tier_year_start_month,
        windows=tuple(
            WindowSnapshot(
                band=row.band, starts_at=row.starts_at, ends_at=row.ends_at, months=frozenset(row.months)
            )
            for row in sorted(tariff.windows.all(), key=lambda row: row.order)
        ),
        capacity_price_per_kva_month=_optional(tariff.capacity_price_per_kva_month),
        demand_price_per_kw_month=_optional(tariff.demand_price_per_kw_month),
    )


def _optional(value):
    return None if value is None else plain_decimal(value)
