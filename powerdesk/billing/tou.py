"""峰谷电价建议: what an account on a flat tariff would have paid on time-of-use prices.

``tou_recommendation(account=…)`` takes the 12 months ending with the account's newest current
bill (all 12 must be there), splits each month's billed kWh into bands from the account's own
data — the bill's band registers (分时电量), else its 96-point load curves, else its daily
readings' band kWh — and prices the same kWh on the current flat tariff and on the TOU tariff
of its class, both with the calculator. ``saving_fen`` = flat − TOU (positive: TOU is cheaper).

The portal shows a card only when ``shows_card`` (available and saving > 0); the console shows
the figure or the reason it is missing. docs/bill-checks.md has the details.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.cache import cache
from django.utils.translation import gettext as _

from powerdesk.billing.checks import (
    BANDS,
    NotComputable,
    TariffPlan,
    account_tariff_get,
    month_range,
    next_month,
    tier_year_start,
)
from powerdesk.billing.models import Bill, DailyReading, LoadCurve, UsageSource
from powerdesk.billing.reads import months_back
from powerdesk.core.exceptions import ApplicationError
from powerdesk.customers.models import Account
from powerdesk.tariffs.calculator import compute_bill
from powerdesk.tariffs.choices import TOU_KINDS, TariffKind
from powerdesk.tariffs.inputs import PeriodUsage, TariffSnapshot
from powerdesk.tariffs.selectors import snapshot, tariffs_in_force

KWH_QUANTUM = Decimal("0.01")
CACHE_SECONDS = 6 * 3600
FLAT_KINDS = frozenset({TariffKind.FLAT, TariffKind.TIERED})


class TouStatus:
    AVAILABLE = "available"  # computed; the card shows when the saving is positive
    UNAVAILABLE = "unavailable"  # the data needed is missing (reason says which)
    NOT_APPLICABLE = "not_applicable"  # already on TOU, or no TOU tariff for the class


@dataclass(frozen=True)
class TouMonth:
    period: date
    kwh_by_band: dict[str, Decimal]
    source: str
    flat_fen: int
    tou_fen: int

    @property
    def kwh_total(self) -> Decimal:
        return sum(self.kwh_by_band.values(), Decimal(0))

    @property
    def saving_fen(self) -> int:
        return self.flat_fen - self.tou_fen

    @property
    def source_label(self) -> str:
        return str(UsageSource(self.source).label)


@dataclass(frozen=True)
class TouRecommendation:
    account_id: int
    status: str
    reason_code: str = ""
    reason: str = ""
    current_series: str = ""
    tou_series: str = ""
    months: tuple[TouMonth, ...] = ()

    @property
    def flat_fen(self) -> int:
        return sum(month.flat_fen for month in self.months)

    @property
    def tou_fen(self) -> int:
        return sum(month.tou_fen for month in self.months)

    @property
    def saving_fen(self) -> int:
        return self.flat_fen - self.tou_fen

    @property
    def months_used(self) -> int:
        return len(self.months)

    @property
    def data_source(self) -> str:
        """``bill_registers``, ``load_curve``, ``daily_readings``, or ``mixed``."""
        sources = {month.source for month in self.months}
        return sources.pop() if len(sources) == 1 else ("mixed" if sources else "")

    @property
    def data_source_label(self) -> str:
        labels = dict.fromkeys(month.source_label for month in self.months)
        return "、".join(labels)

    @property
    def is_available(self) -> bool:
        return self.status == TouStatus.AVAILABLE

    @property
    def shows_card(self) -> bool:
        return self.is_available and self.saving_fen > 0

    @property
    def first_period(self) -> date | None:
        return self.months[0].period if self.months else None

    @property
    def last_period(self) -> date | None:
        return self.months[-1].period if self.months else None


def tou_recommendation(
    *, account: Account, months: int = 12, bills: Sequence[Bill] | None = None
) -> TouRecommendation:
    """The TOU comparison for ``account`` over its last ``months`` billed months.

    ``bills`` — the account's current bills, when the caller already has them (saves a query).
    Never raises for missing data: the answer's ``status`` and ``reason`` say what is missing.
    """
    plan = account_tariff_get(account=account)
    base = {"account_id": account.pk}
    try:
        return _recommend(account, plan, months, bills, base)
    except NotComputable as exc:
        return TouRecommendation(
            **base,
            status=TouStatus.UNAVAILABLE,
            reason_code=exc.code,
            reason=exc.reason,
            current_series=plan.series if plan else "",
            tou_series=plan.tou_series if plan else "",
        )


def tou_recommendation_cached(*, account: Account, bills: Sequence[Bill]) -> TouRecommendation:
    """``tou_recommendation`` for the portal, cached while the account's current bills are the
    same (a new bill or 退补 version changes the key) and for at most ``CACHE_SECONDS``."""
    versions = sorted((bill.pk, bill.updated_at.isoformat()) for bill in bills)
    fingerprint = hashlib.sha256(repr(versions).encode()).hexdigest()[:32]
    key = f"billing:tou:{account.pk}:{fingerprint}"
    found = cache.get(key)
    if found is None:
        found = tou_recommendation(account=account, bills=bills)
        cache.set(key, found, CACHE_SECONDS)
    return found


def _not_applicable(base: dict, plan: TariffPlan | None, code: str, reason: str) -> TouRecommendation:
    return TouRecommendation(
        **base,
        status=TouStatus.NOT_APPLICABLE,
        reason_code=code,
        reason=reason,
        current_series=plan.series if plan else "",
        tou_series=plan.tou_series if plan else "",
    )


def _recommend(account, plan, months, bills, base) -> TouRecommendation:
    if plan is None:
        return _not_applicable(base, plan, "no_tariff_plan", _("该用电类别没有对应的电价。"))
    if not plan.tou_series or plan.tou_series == plan.series:
        return _not_applicable(base, plan, "no_tou_tariff", _("该用电类别没有可选的峰谷电价。"))
    if bills is None:
        bills = Bill.objects.filter(account=account, is_current=True)
    by_period = {bill.period: bill for bill in bills if bill.is_current}
    if not by_period:
        raise NotComputable("no_bills", _("尚无电费账单，无法测算峰谷电价。"))
    last = max(by_period)
    window = [months_back(last, back) for back in range(months - 1, -1, -1)]
    missing = [period for period in window if period not in by_period]
    if missing:
        raise NotComputable(
            "bills_missing",
            _("近 %(months)s 个月缺少 %(missing)s 的账单，无法测算。")
            % {"months": months, "missing": "、".join(f"{m:%Y-%m}" for m in missing[:6])},
        )
    start, end = window[0], next_month(last)
    flat_versions, tou_versions = _versions(account, plan, start, end)
    if not flat_versions:
        raise NotComputable(
            "no_tariff_in_force", _("测算期间没有执行中的现行电价（%(series)s）。") % {"series": plan.series}
        )
    if any(v.kind not in FLAT_KINDS or not v.is_single_price for v in flat_versions):
        return _not_applicable(base, plan, "already_tou", _("现行电价已是分时或两部制电价。"))
    if not tou_versions:
        raise NotComputable(
            "no_tariff_in_force",
            _("测算期间没有执行中的峰谷电价（%(series)s）。") % {"series": plan.tou_series},
        )
    if any(v.kind not in TOU_KINDS for v in tou_versions):
        return _not_applicable(base, plan, "no_tou_tariff", _("该用电类别没有可选的峰谷电价。"))
    priced = set.intersection(*({band for band, _price in v.band_prices} for v in tou_versions))
    splits = _split_months(account, window, by_period, priced, tou_versions)
    rows = []
    for period in window:
        kwh, source = splits[period]
        prior = _prior(period, by_period, flat_versions, tou_versions)
        try:
            flat = _cost(flat_versions, period, kwh, prior)
            tou = _cost(tou_versions, period, kwh, prior)
        except ApplicationError as exc:
            raise NotComputable(exc.code, exc.message) from exc
        rows.append(TouMonth(period=period, kwh_by_band=kwh, source=source, flat_fen=flat, tou_fen=tou))
    return TouRecommendation(
        **base,
        status=TouStatus.AVAILABLE,
        current_series=plan.series,
        tou_series=plan.tou_series,
        months=tuple(rows),
    )


def _versions(account, plan, start, end) -> tuple[list[TariffSnapshot], list[TariffSnapshot]]:
    """Both series' versions in force in ``[start, end)``; one catalogue read when both belong
    to the account's tariff class (the usual case), one per series otherwise."""
    found = [snapshot(t) for t in tariffs_in_force(code_or_class=account.tariff_class, start=start, end=end)]

    def of(series: str) -> list[TariffSnapshot]:
        mine = [v for v in found if series in (v.series, v.code)]
        if not mine:
            mine = [snapshot(t) for t in tariffs_in_force(code_or_class=series, start=start, end=end)]
        return mine

    return of(plan.series), of(plan.tou_series)


def _prior(period, by_period, flat_versions, tou_versions) -> Decimal | None:
    """kWh billed earlier in the tier year (bills we do not have count as 0: both tariffs then
    see the same counter, so the saving only shifts if their tiers differ)."""
    yearly = [v for v in (*flat_versions, *tou_versions) if v.has_yearly_tiers]
    if not yearly:
        return None
    first = tier_year_start(period, yearly[0].tier_year_start_month)
    return sum((by_period[m].kwh_total for m in month_range(first, period) if m in by_period), Decimal(0))


def _cost(versions, period, kwh, prior) -> int:
    usage = PeriodUsage(
        period_start=period, period_end=next_month(period), kwh_by_band=kwh, prior_kwh_in_tier_year=prior
    )
    return compute_bill(versions, usage).total_fen


def _split_months(account, window, by_period, priced, tou_versions) -> dict[date, tuple[dict, str]]:
    """Each month's kWh by band: registers first, then load curves, then daily readings."""
    splits: dict[date, tuple[dict, str]] = {}
    for period in window:
        bill = by_period[period]
        registers = {band: getattr(bill, f"kwh_{band}") for band in BANDS if getattr(bill, f"kwh_{band}")}
        has_tou_registers = any(band != "flat" for band in registers)
        if has_tou_registers and set(registers) <= priced:
            splits[period] = (registers, UsageSource.BILL_REGISTERS)
        elif not bill.kwh_total:
            splits[period] = ({}, UsageSource.BILL_REGISTERS)
    todo = [period for period in window if period not in splits]
    if todo:
        shapes = _curve_shapes(account, todo, tou_versions)
        for period, shape in shapes.items():
            splits[period] = (_allocate(by_period[period].kwh_total, shape), UsageSource.LOAD_CURVE)
    todo = [period for period in window if period not in splits]
    if todo:
        for period, shape in _reading_shapes(account, todo, priced).items():
            splits[period] = (_allocate(by_period[period].kwh_total, shape), UsageSource.DAILY_READINGS)
    todo = [period for period in window if period not in splits]
    if todo:
        for period, (shape, source) in _archived_shapes(account, todo, priced, tou_versions).items():
            splits[period] = (_allocate(by_period[period].kwh_total, shape), source)
    todo = [period for period in window if period not in splits]
    if todo:
        raise NotComputable(
            "no_band_data",
            _("%(months)s 没有可用的分时电量、负荷曲线或日冻结分时读数，无法测算。")
            % {"months": "、".join(f"{m:%Y-%m}" for m in todo[:6]) + ("…" if len(todo) > 6 else "")},
        )
    return splits


def _days(period: date) -> list[date]:
    return [period + timedelta(days=n) for n in range((next_month(period) - period).days)]


def _curve_shapes(account, periods, tou_versions) -> dict[date, dict[str, Decimal]]:
    """kWh by TOU band of the months whose every day has a load curve (all meters summed)."""
    wanted = set(periods)
    per_day: dict[date, list[list]] = defaultdict(list)
    for day, points in LoadCurve.objects.filter(
        meter__account=account, curve_date__gte=min(periods), curve_date__lt=next_month(max(periods))
    ).values_list("curve_date", "points"):
        if day.replace(day=1) in wanted:
            per_day[day].append(points)
    shapes = {}
    for period in periods:
        days = _days(period)
        if any(day not in per_day for day in days):
            continue
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for day in days:
            version = next((v for v in tou_versions if v.overlaps(day, day + timedelta(days=1))), None)
            if version is None:
                break
            for points in per_day[day]:
                for band, kwh in version.split_load_curve_by_band(day, points).items():
                    totals[band] += kwh
        else:
            if sum(totals.values(), Decimal(0)) > 0:
                shapes[period] = dict(totals)
    return shapes


def _reading_shapes(account, periods, priced) -> dict[date, dict[str, Decimal]]:
    """kWh by band register of the months whose every day has a reading with band kWh that the
    TOU tariff prices."""
    wanted = set(periods)
    per_day: dict[date, dict[str, Decimal]] = {}
    for day, *bands in DailyReading.objects.filter(
        meter__account=account, reading_date__gte=min(periods), reading_date__lt=next_month(max(periods))
    ).values_list("reading_date", *(f"kwh_{band}" for band in BANDS)):
        if day.replace(day=1) not in wanted:
            continue
        slot = per_day.setdefault(day, defaultdict(Decimal))
        for band, kwh in zip(BANDS, bands, strict=True):
            if kwh:
                slot[band] += kwh
    shapes = {}
    for period in periods:
        totals: dict[str, Decimal] = defaultdict(Decimal)
        days = _days(period)
        if any(day not in per_day for day in days):
            continue
        for day in days:
            for band, kwh in per_day[day].items():
                totals[band] += kwh
        usable = any(band != "flat" for band in totals) and set(totals) <= priced
        if usable and sum(totals.values(), Decimal(0)) > 0:
            shapes[period] = dict(totals)
    return shapes


def _archived_shapes(account, periods, priced, tou_versions) -> dict[date, tuple[dict[str, Decimal], str]]:
    """Months whose readings and curves moved to the lake (retention.py), from their monthly
    sums: the load curve's 96 slot totals when curves covered every day and one TOU version
    covers the month (windows are set per month), else the readings' band sums."""
    from powerdesk.billing.retention import archived_usage

    shapes = {}
    for period, rows in archived_usage(account, periods).items():
        days = len(_days(period))
        versions = [v for v in tou_versions if v.overlaps(period, next_month(period))]
        curves = [row for row in rows if row.curve_days]
        if curves and max(row.curve_days for row in curves) == days and len(versions) == 1:
            totals: dict[str, Decimal] = defaultdict(Decimal)
            for row in curves:
                for band, kwh in versions[0].split_load_curve_by_band(period, row.curve_slots).items():
                    totals[band] += kwh
            if sum(totals.values(), Decimal(0)) > 0:
                shapes[period] = (dict(totals), UsageSource.LOAD_CURVE)
                continue
        readings = [row for row in rows if row.reading_days]
        if readings and max(row.reading_days for row in readings) == days:
            totals = defaultdict(Decimal)
            for row in readings:
                for band in BANDS:
                    if getattr(row, f"kwh_{band}"):
                        totals[band] += getattr(row, f"kwh_{band}")
            usable = any(band != "flat" for band in totals) and set(totals) <= priced
            if usable and sum(totals.values(), Decimal(0)) > 0:
                shapes[period] = (dict(totals), UsageSource.DAILY_READINGS)
    return shapes


def _allocate(total: Decimal, shape: dict[str, Decimal]) -> dict[str, Decimal]:
    """``total`` kWh shared in proportion to ``shape``, to 0.01 kWh, ROUND_HALF_UP on the
    running sum so the parts add up to ``total`` exactly."""
    weight = sum(shape.values(), Decimal(0))
    result, running, given = {}, Decimal(0), Decimal(0)
    bands = [band for band in BANDS if band in shape]
    for index, band in enumerate(bands):
        running += shape[band]
        if index == len(bands) - 1:
            cumulative = total
        else:
            cumulative = (total * running / weight).quantize(KWH_QUANTUM, rounding=ROUND_HALF_UP)
        part = cumulative - given
        given = cumulative
        if part:
            result[band] = part
    return result
