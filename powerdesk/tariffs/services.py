"""Every write to the tariff catalogue.

A tariff version is created whole (prices, tiers, windows) and never edited in place: a price
change is a new version of the same series, and ``tariff_end`` closes the old one. Bills
computed under a version therefore stay reproducible.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from powerdesk.core.exceptions import ApplicationError
from powerdesk.events.choices import Channel
from powerdesk.events.services import event_record
from powerdesk.tariffs import events as kinds
from powerdesk.tariffs.inputs import TariffSnapshot
from powerdesk.tariffs.models import Tariff, TariffBandPrice, TariffTier, TouWindow
from powerdesk.tariffs.validation import clean_tariff


@transaction.atomic
def tariff_create(
    *,
    code: str,
    name: str,
    tariff_class: str,
    kind: str,
    valid_from: date,
    band_prices: Mapping[str, Decimal | int | str],
    series: str | None = None,
    valid_to: date | None = None,
    tiers: Iterable[Mapping] = (),
    tier_period: str = "",
    tier_year_start_month: int = 1,
    windows: Iterable[Mapping] = (),
    capacity_price_per_kva_month: Decimal | int | str | None = None,
    demand_price_per_kw_month: Decimal | int | str | None = None,
    note: str = "",
    actor_staff_id: int | None = None,
) -> Tariff:
    """Create one tariff version with its band prices, tiers and TOU windows.

    ``band_prices``: ``{"peak": "0.568", "valley": "0.288"}`` (a single price: ``{"flat": …}``).
    ``tiers``: in order, ``{"upper_kwh": 2760, "surcharge_per_kwh": "0"}``, …, the last with
    ``upper_kwh`` ``None``. ``windows``: ``{"band": "peak", "start": "08:00", "end": "22:00",
    "months": [1, …, 12]}`` (``months`` defaults to all). Prices are Decimal or strings with at
    most 5 decimals. Raises ``ApplicationError`` naming the field on any invalid input, a
    duplicate code, or a validity overlapping another version of the same series.
    """
    spec = clean_tariff(
        code=code,
        series=series,
        name=name,
        tariff_class=tariff_class,
        kind=kind,
        valid_from=valid_from,
        valid_to=valid_to,
        band_prices=band_prices,
        tiers=tiers,
        tier_period=tier_period,
        tier_year_start_month=tier_year_start_month,
        windows=windows,
        capacity_price_per_kva_month=capacity_price_per_kva_month,
        demand_price_per_kw_month=demand_price_per_kw_month,
    )
    if Tariff.objects.filter(code=spec.code).exists():
        raise _duplicate_code(spec.code)
    series_versions = Tariff.objects.select_for_update().filter(series=spec.series)
    other_class = series_versions.exclude(tariff_class=spec.tariff_class).first()
    if other_class is not None:
        raise ApplicationError(
            "series_class_mismatch",
            _("电价系列 %(series)s 属于“%(tariff_class)s”，新版本的用电类别须一致。")
            % {"series": spec.series, "tariff_class": other_class.get_tariff_class_display()},
            field="tariff_class",
        )
    _refuse_overlap(series_versions, spec.valid_from, spec.valid_to)
    try:
        with transaction.atomic():
            tariff = _write(spec, note=note)
    except IntegrityError:
        raise _duplicate_code(spec.code) from None
    event_record(
        kinds.TARIFF_CREATED,
        channel=Channel.CONSOLE if actor_staff_id else Channel.SYSTEM,
        actor_staff_id=actor_staff_id,
        payload={
            "code": tariff.code,
            "series": tariff.series,
            "kind": tariff.kind,
            "valid_from": tariff.valid_from,
            "valid_to": tariff.valid_to,
        },
    )
    return tariff


@transaction.atomic
def tariff_end(*, tariff: Tariff, valid_to: date, actor_staff_id: int | None = None) -> Tariff:
    """Set the (exclusive) last date of a version, e.g. the day its successor takes effect."""
    tariff = Tariff.objects.select_for_update().get(pk=tariff.pk)
    if not isinstance(valid_to, date) or valid_to <= tariff.valid_from:
        raise ApplicationError(
            "invalid_validity", _("执行截止日（不含）须晚于执行起始日。"), field="valid_to"
        )
    others = Tariff.objects.select_for_update().filter(series=tariff.series).exclude(pk=tariff.pk)
    _refuse_overlap(others, tariff.valid_from, valid_to)
    previous = tariff.valid_to
    tariff.valid_to = valid_to
    tariff.save(update_fields=["valid_to", "updated_at"])
    event_record(
        kinds.TARIFF_ENDED,
        channel=Channel.CONSOLE if actor_staff_id else Channel.SYSTEM,
        actor_staff_id=actor_staff_id,
        payload={"code": tariff.code, "valid_to": valid_to, "previous_valid_to": previous},
    )
    return tariff


def _duplicate_code(code: str) -> ApplicationError:
    return ApplicationError(
        "duplicate_code", _("电价编码 %(code)s 已存在。") % {"code": code}, field="code", status=409
    )


def _refuse_overlap(versions, valid_from: date, valid_to: date | None) -> None:
    overlapping = versions.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=valid_from))
    if valid_to is not None:
        overlapping = overlapping.filter(valid_from__lt=valid_to)
    clash = overlapping.order_by("valid_from").first()
    if clash is not None:
        until = clash.valid_to.isoformat() if clash.valid_to else _("长期")
        raise ApplicationError(
            "validity_overlaps",
            _("执行期与同系列的 %(code)s（%(start)s 至 %(end)s）重叠。")
            % {"code": clash.code, "start": clash.valid_from.isoformat(), "end": until},
            field="valid_from",
            status=409,
        )


def _write(spec: TariffSnapshot, *, note: str) -> Tariff:
    tariff = Tariff.objects.create(
        code=spec.code,
        series=spec.series,
        name=spec.name,
        tariff_class=spec.tariff_class,
        kind=spec.kind,
        valid_from=spec.valid_from,
        valid_to=spec.valid_to,
        tier_period=spec.tier_period,
        tier_year_start_month=spec.tier_year_start_month,
        capacity_price_per_kva_month=spec.capacity_price_per_kva_month,
        demand_price_per_kw_month=spec.demand_price_per_kw_month,
        note=note[:200],
    )
    TariffBandPrice.objects.bulk_create(
        TariffBandPrice(tariff=tariff, band=band, price_per_kwh=price) for band, price in spec.band_prices
    )
    TariffTier.objects.bulk_create(
        TariffTier(
            tariff=tariff,
            order=tier.order,
            upper_kwh=tier.upper_kwh,
            surcharge_per_kwh=tier.surcharge_per_kwh,
        )
        for tier in spec.tiers
    )
    TouWindow.objects.bulk_create(
        TouWindow(
            tariff=tariff,
            order=index,
            band=window.band,
            starts_at=window.starts_at,
            ends_at=window.ends_at,
            months=sorted(window.months),
        )
        for index, window in enumerate(spec.windows, start=1)
    )
    return tariff
