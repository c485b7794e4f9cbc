"""The bill calculator: plain dataclasses in, plain dataclasses out, no ORM.

``compute_bill(versions, usage)`` prices one billing period from its kWh by band. The billing
app builds ``TariffSnapshot``s (defined in ``inputs.py``, re-exported here) with ``selectors.snapshot`` (or tests with
``validation.clean_tariff``) and ``PeriodUsage`` from a bill or from readings.

Conventions (docs/tariffs.md explains them with a worked example):

* Dates are local calendar dates; every period is half-open: ``[start, end)``. A July bill is
  ``PeriodUsage(date(2024, 7, 1), date(2024, 8, 1), …)``; a version with ``valid_to=None`` is
  open-ended.
* Money is rounded once per bill line: ``amount_fen = ROUND_HALF_UP(quantity × unit price ×
  month share, to the fen)``; the bill total is the sum of the rounded lines.
* A period spanning a tariff change (or, for yearly tiers, the start of a tier year) is cut into
  segments. kWh are shared between segments by daily readings when given, otherwise in
  proportion to days, to 0.01 kWh, ROUND_HALF_UP on the running total so the parts add up to the
  whole exactly.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from django.utils.translation import gettext as _

from powerdesk.core.exceptions import ApplicationError
from powerdesk.tariffs.choices import ChargeBasis, TariffKind, TierPeriod
from powerdesk.tariffs.inputs import (
    BAND_ORDER,
    PeriodUsage,
    TariffSnapshot,
    TierSnapshot,
    WindowSnapshot,
    band_label,
)

__all__ = [  # the calculator's public surface; the input types are re-exported from inputs.py
    "BillComputation",
    "BillLine",
    "LineKind",
    "PeriodUsage",
    "TariffSnapshot",
    "TierSnapshot",
    "UsageSegment",
    "WindowSnapshot",
    "compute_bill",
    "to_fen",
]

KWH_QUANTUM = Decimal("0.01")  # kWh shared between segments are rounded to this
_TIER_NAMES = "一二三四五六七八九十"
_PRECISION = 50  # Decimal digits for intermediate products; far beyond any bill


class LineKind:
    """What a bill line charges for (``BillLine.kind``)."""

    ENERGY = "energy"  # kWh × price of a band, or of the single price
    TIER = "tier"  # tiered (non-TOU) tariffs: kWh in a tier × (base price + tier surcharge)
    TIER_SURCHARGE = "tier_surcharge"  # tiered TOU: kWh in a tier × the tier surcharge alone
    CAPACITY = "capacity"  # two-part: kVA × price per kVA·month × month share
    DEMAND = "demand"  # two-part: kW × price per kW·month × month share


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BillLine:
    """One priced line. ``amount_fen = ROUND_HALF_UP(quantity × unit_price × month_share)`` in fen.

    ``unit`` is ``kWh``, ``kVA`` or ``kW``; ``unit_price`` is yuan per kWh, or yuan per kVA·month /
    kW·month for basic charges, whose ``month_share`` is the segment's days ÷ the period's days
    (1 unless the period was split). ``period_end`` is exclusive.
    """

    description: str
    kind: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount_fen: int
    tariff_code: str
    period_start: date
    period_end: date
    band: str | None = None
    tier: int | None = None
    month_share: Fraction = Fraction(1)


@dataclass(frozen=True)
class UsageSegment:
    """A part of the period priced by one tariff version (and, for yearly tiers, in one tier year)."""

    tariff_code: str
    start: date
    end: date
    kwh_by_band: dict[str, Decimal]
    tier_year_kwh_before: Decimal | None = None  # yearly tiers: counter at the segment's start

    @property
    def kwh_total(self) -> Decimal:
        return sum(self.kwh_by_band.values(), Decimal(0))


@dataclass(frozen=True)
class BillComputation:
    """The calculator's answer: ``total_fen`` is the sum of the lines' ``amount_fen``.

    ``tier_year_kwh_at_end`` (yearly tiers) is the tier-year counter after this period — the
    ``prior_kwh_in_tier_year`` of the next period when it starts on this one's ``period_end``.
    """

    lines: tuple[BillLine, ...]
    total_fen: int
    kwh_total: Decimal
    segments: tuple[UsageSegment, ...] = field(default=())
    tier_year_kwh_at_end: Decimal | None = None


# --- the calculation ---------------------------------------------------------------------------


def compute_bill(tariff_versions: list[TariffSnapshot], usage: PeriodUsage) -> BillComputation:
    """Price ``usage`` under the tariff versions in force during its period.

    ``tariff_versions`` are versions of one schedule (others not overlapping the period are
    ignored); together they must cover the period without gap or overlap. Raises
    ``ApplicationError`` when they do not, or when the usage lacks what the tariff needs
    (a band it does not price, the prior kWh of a yearly tier, the kVA or kW of a two-part
    tariff).
    """
    with localcontext() as context:
        context.prec = _PRECISION
        versions = _versions_covering(tariff_versions, usage)
        prior = _tier_year_prior(versions, usage)
        segments = _segments(versions, usage, prior)
        split = len(segments) > 1
        lines: list[BillLine] = []
        for version, segment in segments:
            lines.extend(_energy_lines(version, segment, usage, split))
            if version.kind == TariffKind.TWO_PART:
                lines.append(_basic_charge_line(version, segment, usage, split))
        counter_at_end = None
        if versions[0].has_yearly_tiers:
            _version, last = segments[-1]
            counter_at_end = last.tier_year_kwh_before + last.kwh_total
        return BillComputation(
            lines=tuple(lines),
            total_fen=sum(line.amount_fen for line in lines),
            kwh_total=usage.kwh_total,
            segments=tuple(segment for _version, segment in segments),
            tier_year_kwh_at_end=counter_at_end,
        )


def to_fen(yuan: Decimal) -> int:
    """Yuan to integer fen, ROUND_HALF_UP (13.445 元 → 1345 分; half-even would give 1344)."""
    return int((yuan * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _versions_covering(tariff_versions: list[TariffSnapshot], usage: PeriodUsage) -> list[TariffSnapshot]:
    start, end = usage.period_start, usage.period_end
    versions = sorted(
        (v for v in tariff_versions if v.overlaps(start, end)), key=lambda v: (v.valid_from, v.code)
    )
    cursor = start
    for index, version in enumerate(versions):
        if version.valid_from > cursor:
            raise _not_in_force(cursor)
        if index and version.valid_from < cursor:
            raise ApplicationError(
                "tariff_versions_overlap",
                _("电价 %(a)s 与 %(b)s 的执行期重叠，无法确定计费电价。")
                % {"a": versions[index - 1].code, "b": version.code},
                field="tariff_versions",
            )
        # An open-ended version followed by another overlaps it: refused on the next turn.
        cursor = date.max if version.valid_to is None else version.valid_to
    if cursor < end:
        raise _not_in_force(cursor)
    if (
        any(v.has_yearly_tiers for v in versions)
        and len({(v.has_yearly_tiers, v.tier_year_start_month) for v in versions}) > 1
    ):
        raise ApplicationError(
            "tier_year_mismatch",
            _("计费周期内的电价版本须同为年阶梯且阶梯年度起始月相同。"),
            field="tariff_versions",
        )
    return versions


def _not_in_force(day: date) -> ApplicationError:
    return ApplicationError(
        "tariff_not_in_force",
        _("%(day)s 没有执行中的电价版本。") % {"day": day.isoformat()},
        field="tariff_versions",
    )


def _tier_year_prior(versions: list[TariffSnapshot], usage: PeriodUsage) -> Decimal | None:
    if not versions[0].has_yearly_tiers:
        return None
    prior = usage.prior_kwh_in_tier_year
    if prior is None:
        raise ApplicationError(
            "prior_kwh_required",
            _("年阶梯电价须提供本阶梯年度此前已用电量。"),
            field="prior_kwh_in_tier_year",
        )
    starts_tier_year = (
        usage.period_start.day == 1 and usage.period_start.month == versions[0].tier_year_start_month
    )
    if starts_tier_year and prior:
        raise ApplicationError(
            "prior_kwh_not_zero",
            _("计费周期自阶梯年度首日开始，此前已用电量应为 0。"),
            field="prior_kwh_in_tier_year",
        )
    return prior


def _tier_year_starts(start: date, end: date, month: int) -> list[date]:
    """First days of tier years strictly inside ``(start, end)``."""
    return [
        date(year, month, 1) for year in range(start.year, end.year + 1) if start < date(year, month, 1) < end
    ]


def _segments(
    versions: list[TariffSnapshot], usage: PeriodUsage, prior: Decimal | None
) -> list[tuple[TariffSnapshot, UsageSegment]]:
    start, end = usage.period_start, usage.period_end
    cuts = {start, end}
    for version in versions:
        cuts.update(d for d in (version.valid_from, version.valid_to) if d and start < d < end)
        if version.has_yearly_tiers:
            cuts.update(_tier_year_starts(start, end, version.tier_year_start_month))
    bounds = sorted(cuts)
    result = []
    counter = prior
    for seg_start, seg_end in itertools.pairwise(bounds):
        version = next(v for v in versions if v.overlaps(seg_start, seg_end))
        kwh = _segment_kwh(usage, seg_start, seg_end)
        if counter is not None and seg_start != start and seg_start.day == 1:
            if seg_start.month == version.tier_year_start_month:
                counter = Decimal(0)  # a new tier year begins
        segment = UsageSegment(version.code, seg_start, seg_end, kwh, tier_year_kwh_before=counter)
        result.append((version, segment))
        if counter is not None:
            counter += segment.kwh_total
    return result


def _segment_kwh(usage: PeriodUsage, seg_start: date, seg_end: date) -> dict[str, Decimal]:
    if seg_start == usage.period_start and seg_end == usage.period_end:
        return dict(usage.kwh_by_band)
    if usage.daily_kwh is not None:
        totals = {band: Decimal(0) for band in usage.kwh_by_band}
        for day, bands in usage.daily_kwh.items():
            if seg_start <= day < seg_end:
                for band, kwh in bands.items():
                    totals[band] = totals.get(band, Decimal(0)) + kwh
        return totals
    days_before = (seg_start - usage.period_start).days
    days_through = (seg_end - usage.period_start).days
    return {
        band: _share(kwh, days_through, usage.days) - _share(kwh, days_before, usage.days)
        for band, kwh in usage.kwh_by_band.items()
    }


def _share(total: Decimal, days: int, period_days: int) -> Decimal:
    """``total × days ÷ period_days`` to 0.01, ROUND_HALF_UP; exact at the period's ends.

    Segments take differences of this running share, so they add up to the total exactly.
    """
    if days == period_days:
        return total
    if days == 0:
        return Decimal(0)
    return (total * days / period_days).quantize(KWH_QUANTUM, rounding=ROUND_HALF_UP)


def _tier_quantities(
    version: TariffSnapshot, segment: UsageSegment, usage: PeriodUsage
) -> list[tuple[TierSnapshot, Decimal]]:
    """kWh of ``segment`` falling in each tier.

    Monthly tiers: the thresholds × ``usage.tier_months`` apply to the whole billing period; a
    segment gets the days-proportional share of each (rounded like kWh shares), counting from 0.
    Yearly tiers: the thresholds are absolute within the tier year; the segment's kWh continue
    from the tier-year counter.
    """
    kwh = segment.kwh_total
    if version.tier_period == TierPeriod.YEARLY:
        offset = segment.tier_year_kwh_before

        def threshold(upper: Decimal) -> Decimal:
            return upper

    else:
        offset = Decimal(0)
        days_before = (segment.start - usage.period_start).days
        days_through = (segment.end - usage.period_start).days

        def threshold(upper: Decimal) -> Decimal:
            upper = upper * usage.tier_months
            return _share(upper, days_through, usage.days) - _share(upper, days_before, usage.days)

    quantities = []
    lower = Decimal(0)
    for tier in version.tiers:
        upper = None if tier.upper_kwh is None else threshold(tier.upper_kwh)
        top = offset + kwh if upper is None else min(offset + kwh, upper)
        quantities.append((tier, max(Decimal(0), top - max(offset, lower))))
        if upper is not None:
            lower = upper
    return quantities


def _energy_lines(
    version: TariffSnapshot, segment: UsageSegment, usage: PeriodUsage, split: bool
) -> list[BillLine]:
    suffix = _segment_suffix(segment) if split else ""
    lines = []

    def add(description, kind, quantity, unit_price, *, band=None, tier=None):
        if quantity:
            lines.append(
                BillLine(
                    description=description + suffix,
                    kind=kind,
                    quantity=quantity,
                    unit="kWh",
                    unit_price=unit_price,
                    amount_fen=to_fen(quantity * unit_price),
                    tariff_code=version.code,
                    period_start=segment.start,
                    period_end=segment.end,
                    band=band,
                    tier=tier,
                )
            )

    if version.is_single_price:
        band, price = version.band_prices[0]
        if version.kind == TariffKind.TIERED:
            for tier, quantity in _tier_quantities(version, segment, usage):
                unit_price = price + tier.surcharge_per_kwh
                add(
                    f"{_tier_name(tier.order)}电量",
                    LineKind.TIER,
                    quantity,
                    unit_price,
                    band=band,
                    tier=tier.order,
                )
        else:
            add("电度电费", LineKind.ENERGY, segment.kwh_total, price, band=band)
        return lines
    for band in BAND_ORDER:
        quantity = segment.kwh_by_band.get(band, Decimal(0))
        if quantity:
            add(f"{band_label(band)}段电量", LineKind.ENERGY, quantity, version.price_of(band), band=band)
    if version.kind == TariffKind.TIERED_TOU:
        for tier, quantity in _tier_quantities(version, segment, usage):
            if tier.surcharge_per_kwh:
                description = f"{_tier_name(tier.order)}加价电量"
                add(description, LineKind.TIER_SURCHARGE, quantity, tier.surcharge_per_kwh, tier=tier.order)
    return lines


def _basic_charge_line(
    version: TariffSnapshot, segment: UsageSegment, usage: PeriodUsage, split: bool
) -> BillLine:
    basis = _charge_basis(usage)
    if basis == ChargeBasis.CAPACITY:
        price, quantity, unit = version.capacity_price_per_kva_month, usage.transformer_kva, "kVA"
        description, kind = "基本电费（按容量）", LineKind.CAPACITY
    else:
        price, quantity, unit = version.demand_price_per_kw_month, usage.max_demand_kw, "kW"
        description, kind = "基本电费（按需量）", LineKind.DEMAND
    if price is None:
        raise ApplicationError(
            "basis_not_priced",
            _("电价 %(code)s 未规定%(basis)s的基本电价。")
            % {"code": version.code, "basis": ChargeBasis(basis).label},
            field="charge_basis",
        )
    share = Fraction((segment.end - segment.start).days, usage.days)
    if share != 1:
        description += f"（{share.numerator}/{share.denominator} 月）"
    if split:
        description += _segment_suffix(segment)
    amount = quantity * price * share.numerator / share.denominator
    return BillLine(
        description=description,
        kind=kind,
        quantity=quantity,
        unit=unit,
        unit_price=price,
        amount_fen=to_fen(amount),
        tariff_code=version.code,
        period_start=segment.start,
        period_end=segment.end,
        month_share=share,
    )


def _charge_basis(usage: PeriodUsage) -> str:
    if usage.charge_basis:
        basis = usage.charge_basis
    elif usage.transformer_kva is not None and usage.max_demand_kw is not None:
        raise ApplicationError(
            "charge_basis_ambiguous",
            _("同时提供了变压器容量和最大需量，请指明基本电费按容量还是按需量计收。"),
            field="charge_basis",
        )
    elif usage.max_demand_kw is not None:
        basis = ChargeBasis.DEMAND
    else:
        basis = ChargeBasis.CAPACITY
    if basis == ChargeBasis.CAPACITY and usage.transformer_kva is None:
        raise ApplicationError(
            "transformer_kva_required",
            _("两部制电价按容量计收基本电费，须提供变压器容量。"),
            field="transformer_kva",
        )
    if basis == ChargeBasis.DEMAND and usage.max_demand_kw is None:
        raise ApplicationError(
            "max_demand_required", _("两部制电价按需量计收基本电费，须提供最大需量。"), field="max_demand_kw"
        )
    return basis


# --- small helpers -----------------------------------------------------------------------------


def _segment_suffix(segment: UsageSegment) -> str:
    last_day = segment.end - timedelta(days=1)
    return f"（{segment.start.isoformat()}至{last_day.isoformat()}）"


def _tier_name(order: int) -> str:
    return f"第{_TIER_NAMES[order - 1]}档" if 1 <= order <= len(_TIER_NAMES) else f"第{order}档"
