"""Recomputing imported bills with our tariff calculator (账单核算) and flagging disagreements.

The billing system stays the source of truth: a check never changes a bill. It records what the
calculator makes of the bill's own kWh (``BillCheck``), and staff see every disagreement in the
console's 账务 tab (核算差异). docs/bill-checks.md describes the rules; in short:

* **Which tariff**: the account's ``AccountTariff`` (imported from the billing system), else the
  default series of its tariff class (``DEMO_SERIES_BY_CLASS``). The versions of that series in
  force during the bill's month are used, so a price change inside the month is priced per part.
* **Which kWh**: the bill's kWh by band. Daily readings (日冻结) of the account's meters are passed
  to the calculator when they cover every day of the month and add up to the bill's kWh by band
  (they then decide how kWh are shared across a mid-month price change).
* **Yearly tiers**: ``prior_kwh_in_tier_year`` is the kWh of the account's earlier *current*
  bills in the same tier year; a missing month makes the bill ``not_computable``.
* **Tolerance 0 fen**: money is exact. ``difference_fen`` = imported − computed is always kept.
* **Idempotent**: one ``BillCheck`` per bill version; checking again updates that row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.billing.choices import BillSource
from powerdesk.billing.models import (
    AccountTariff,
    Bill,
    BillCheck,
    BillCheckStatus,
    DailyReading,
    LoadCurve,
    MaxDemandSource,
    UsageSource,
)
from powerdesk.billing.reads import months_back
from powerdesk.core.exceptions import ApplicationError
from powerdesk.customers.models import Account
from powerdesk.tariffs.calculator import BillComputation, BillLine, compute_bill
from powerdesk.tariffs.choices import ChargeBasis, TariffKind
from powerdesk.tariffs.demo import DEMO_SERIES_BY_CLASS, DEMO_TOU_SERIES_BY_CLASS
from powerdesk.tariffs.inputs import BAND_ORDER, PeriodUsage, TariffSnapshot
from powerdesk.tariffs.models import Tariff
from powerdesk.tariffs.selectors import snapshot, tariffs_in_force

BANDS = tuple(band.value for band in BAND_ORDER)
CHECK_CHUNK = 500  # bills per batch in the bulk check


# --- which tariff applies ------------------------------------------------------------------------


@dataclass(frozen=True)
class TariffPlan:
    """What an account is billed on. ``source`` is ``account_tariff`` or ``class_default``."""

    series: str
    tou_series: str
    source: str
    charge_basis: str = ""
    transformer_kva: Decimal | None = None
    max_demand_source: str = ""
    contract_demand_kw: Decimal | None = None
    valid_from: date | None = None


def tariff_plan(account: Account, row: AccountTariff | None) -> TariffPlan | None:
    """The account's tariff: its imported row, else its class's default (None: no default)."""
    if row is not None:
        return TariffPlan(
            series=row.series,
            tou_series=row.tou_series or DEMO_TOU_SERIES_BY_CLASS.get(account.tariff_class, ""),
            source="account_tariff",
            charge_basis=row.charge_basis,
            transformer_kva=row.transformer_kva,
            max_demand_source=row.max_demand_source,
            contract_demand_kw=row.contract_demand_kw,
            valid_from=row.valid_from,
        )
    series = DEMO_SERIES_BY_CLASS.get(account.tariff_class)
    if not series:
        return None
    return TariffPlan(
        series=series,
        tou_series=DEMO_TOU_SERIES_BY_CLASS.get(account.tariff_class, ""),
        source="class_default",
    )


def account_tariff_get(*, account: Account) -> TariffPlan | None:
    return tariff_plan(account, AccountTariff.objects.filter(account=account).first())


@transaction.atomic
def account_tariff_set(
    *,
    account: Account,
    series: str,
    valid_from: date,
    tou_series: str = "",
    charge_basis: str = "",
    transformer_kva: Decimal | None = None,
    max_demand_source: str = "",
    contract_demand_kw: Decimal | None = None,
) -> AccountTariff:
    """Record which tariff the billing system bills ``account`` on (one row per account)."""
    for name, value in (("series", series), ("tou_series", tou_series)):
        if value and not Tariff.objects.filter(Q(series=value) | Q(code=value)).exists():
            raise ApplicationError(
                "unknown_tariff", _("电价目录中没有“%(series)s”。") % {"series": value}, field=name
            )
    if charge_basis and charge_basis not in ChargeBasis.values:
        raise ApplicationError("invalid_charge_basis", _("基本电费计费方式无效。"), field="charge_basis")
    if max_demand_source and max_demand_source not in MaxDemandSource.values:
        raise ApplicationError(
            "invalid_max_demand_source", _("最大需量来源无效。"), field="max_demand_source"
        )
    row, _created = AccountTariff.objects.update_or_create(
        account=account,
        defaults={
            "series": series,
            "tou_series": tou_series,
            "charge_basis": charge_basis,
            "transformer_kva": transformer_kva,
            "max_demand_source": max_demand_source,
            "contract_demand_kw": contract_demand_kw,
            "valid_from": valid_from,
        },
    )
    return row


# --- small shared helpers -------------------------------------------------------------------------


def next_month(period: date) -> date:
    return months_back(period, -1)


def tier_year_start(period: date, start_month: int) -> date:
    """First day of the tier year containing ``period``."""
    year = period.year if period.month >= start_month else period.year - 1
    return date(year, start_month, 1)


def month_range(first: date, end: date) -> list[date]:
    """First days of the months in ``[first, end)``."""
    months, cursor = [], first
    while cursor < end:
        months.append(cursor)
        cursor = next_month(cursor)
    return months


def bill_kwh_by_band(bill: Bill) -> dict[str, Decimal]:
    """The bill's kWh per band register; a single-register bill is all ``flat``."""
    bands = {band: getattr(bill, f"kwh_{band}") for band in BANDS if getattr(bill, f"kwh_{band}")}
    if not bands and bill.kwh_total:
        return {"flat": bill.kwh_total}
    return bands


def versions_for(cache: dict, series: str, start: date, end: date) -> list[TariffSnapshot]:
    """Snapshots of ``series`` in force on some day of ``[start, end)``, cached per series."""
    key = series
    if key not in cache:
        cache[key] = [
            snapshot(t) for t in tariffs_in_force(code_or_class=series, start=date.min, end=date.max)
        ]
    return [version for version in cache[key] if version.overlaps(start, end)]


def line_as_dict(line: BillLine) -> dict:
    return {
        "description": line.description,
        "kind": line.kind,
        "quantity": str(line.quantity),
        "unit": line.unit,
        "unit_price": str(line.unit_price),
        "amount_fen": line.amount_fen,
        "tariff_code": line.tariff_code,
        "band": line.band,
        "tier": line.tier,
    }


class NotComputable(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


# --- the check -----------------------------------------------------------------------------------


@dataclass
class _Context:
    """Everything a batch of bills needs, loaded with a fixed number of queries."""

    plans: dict[int, TariffPlan | None]
    tariffs: dict = field(default_factory=dict)
    earlier: dict[int, dict[date, Decimal]] = field(default_factory=dict)  # account → period → kWh
    daily: dict[int, dict[date, dict[str, Decimal]]] = field(default_factory=dict)
    peak_kw: dict[tuple[int, date], Decimal] = field(default_factory=dict)


def _load_context(bills: Sequence[Bill], tariff_cache: dict) -> _Context:
    accounts = {bill.account_id: bill.account for bill in bills}
    rows = {row.account_id: row for row in AccountTariff.objects.filter(account_id__in=accounts)}
    plans = {pk: tariff_plan(account, rows.get(pk)) for pk, account in accounts.items()}
    context = _Context(plans=plans, tariffs=tariff_cache)
    periods = [bill.period for bill in bills]
    first, last = min(periods), max(periods)
    # Earlier current bills of the same tier year (at most 11 months back, whatever the start month).
    for account_id, period, kwh in Bill.objects.filter(
        account_id__in=accounts, is_current=True, period__gte=months_back(first, 11), period__lt=last
    ).values_list("account_id", "period", "kwh_total"):
        context.earlier.setdefault(account_id, {})[period] = kwh
    readings = DailyReading.objects.filter(
        meter__account_id__in=accounts, reading_date__gte=first, reading_date__lt=next_month(last)
    ).values_list("meter__account_id", "reading_date", "kwh_total", *(f"kwh_{band}" for band in BANDS))
    for account_id, day, total, *bands in readings:
        per_day = context.daily.setdefault(account_id, {}).setdefault(day, defaultdict(Decimal))
        by_band = {band: kwh for band, kwh in zip(BANDS, bands, strict=True) if kwh}
        for band, kwh in (by_band or ({"flat": total} if total else {})).items():
            per_day[band] += kwh
    on_curves = [
        pk for pk, plan in plans.items() if plan and plan.max_demand_source == MaxDemandSource.LOAD_CURVE
    ]
    if on_curves:
        for account_id, day, points in LoadCurve.objects.filter(
            meter__account_id__in=on_curves, curve_date__gte=first, curve_date__lt=next_month(last)
        ).values_list("meter__account_id", "curve_date", "points"):
            key = (account_id, day.replace(day=1))
            # kWh per 15 minutes × 4 = average kW of the interval; the month's highest is its demand.
            peak = max((Decimal(str(point)) for point in points), default=Decimal(0)) * 4
            context.peak_kw[key] = max(context.peak_kw.get(key, Decimal(0)), peak)
    return context


@dataclass(frozen=True)
class _Outcome:
    status: str
    reason_code: str = ""
    reason: str = ""
    computed_fen: int | None = None
    tariff_codes: str = ""
    usage_source: str = ""
    prior_kwh: Decimal | None = None
    note: str = ""
    lines: list = field(default_factory=list)


def _compute(bill: Bill, context: _Context) -> _Outcome:
    account = bill.account
    plan = context.plans.get(account.pk)
    month = f"{bill.period:%Y-%m}"
    start, end = bill.period, next_month(bill.period)
    if plan is None:
        raise NotComputable(
            "no_tariff_plan",
            _("用电类别“%(klass)s”没有对应的电价，无法核算。")
            % {"klass": account.get_tariff_class_display()},
        )
    if plan.valid_from and plan.valid_from >= end:
        raise NotComputable(
            "before_account_tariff",
            _("用户电价档案自 %(day)s 起生效，早于此的 %(month)s 账单无法核算。")
            % {"day": plan.valid_from.isoformat(), "month": month},
        )
    versions = versions_for(context.tariffs, plan.series, start, end)
    if not versions:
        raise NotComputable(
            "no_tariff_in_force",
            _("%(month)s 没有执行中的电价（%(series)s），无法核算。")
            % {"month": month, "series": plan.series},
        )
    kwh = bill_kwh_by_band(bill)
    note = ""
    if all(v.is_single_price for v in versions):
        kwh = {"flat": bill.kwh_total} if bill.kwh_total else {}
    elif sum(kwh.values(), Decimal(0)) != bill.kwh_total:
        note = _("分时电量合计 %(bands)s 与总电量 %(total)s 不符，按分时电量核算。") % {
            "bands": sum(kwh.values(), Decimal(0)),
            "total": bill.kwh_total,
        }
    prior = _prior_kwh(bill, versions, context)
    daily = _daily_for(bill, kwh, all(v.is_single_price for v in versions), context)
    source = UsageSource.BILL_REGISTERS
    if daily is not None and isinstance(daily, dict):
        source = UsageSource.DAILY_READINGS
    elif isinstance(daily, str):
        note = " ".join(filter(None, [note, daily]))
        daily = None
    extra = {}
    if any(v.kind == TariffKind.TWO_PART for v in versions):
        extra = _two_part_extra(bill, plan, context)
    try:
        usage = PeriodUsage(
            period_start=start,
            period_end=end,
            kwh_by_band=kwh,
            daily_kwh=daily,
            prior_kwh_in_tier_year=prior,
            **extra,
        )
        result: BillComputation = compute_bill(versions, usage)
    except ApplicationError as exc:
        raise NotComputable(exc.code, exc.message) from exc
    difference = bill.amount_fen - result.total_fen
    return _Outcome(
        status=BillCheckStatus.OK if difference == 0 else BillCheckStatus.MISMATCH,
        computed_fen=result.total_fen,
        tariff_codes=",".join(dict.fromkeys(line.tariff_code for line in result.lines))
        or ",".join(v.code for v in versions),
        usage_source=source,
        prior_kwh=prior,
        note=note,
        lines=[line_as_dict(line) for line in result.lines],
    )


def _prior_kwh(bill: Bill, versions: list[TariffSnapshot], context: _Context) -> Decimal | None:
    if not versions[0].has_yearly_tiers:
        return None
    year_start = tier_year_start(bill.period, versions[0].tier_year_start_month)
    opened = bill.account.opened_on
    first = max(year_start, opened.replace(day=1)) if opened else year_start
    earlier = context.earlier.get(bill.account_id, {})
    expected = month_range(first, bill.period)
    missing = [month for month in expected if month not in earlier]
    if missing:
        raise NotComputable(
            "tier_year_history_missing",
            _("缺少本阶梯年度 %(months)s 的账单，无法确定年阶梯累计电量。")
            % {"months": "、".join(f"{m:%Y-%m}" for m in missing[:6]) + ("…" if len(missing) > 6 else "")},
        )
    return sum((earlier[month] for month in expected), Decimal(0))


def _daily_for(bill: Bill, kwh: dict[str, Decimal], single_price: bool, context: _Context):
    """Daily kWh by band when the readings cover the month and add up to the bill; a note
    (str) when they cover it but do not add up; None when there are not enough readings."""
    days = context.daily.get(bill.account_id, {})
    start, end = bill.period, next_month(bill.period)
    dates = [start + timedelta(days=n) for n in range((end - start).days)]
    if not dates or any(day not in days for day in dates):
        return None
    if single_price:
        daily = {day: {"flat": sum(days[day].values(), Decimal(0))} for day in dates}
    else:
        daily = {day: dict(days[day]) for day in dates}
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for bands in daily.values():
        for band, value in bands.items():
            totals[band] += value
    if {b: v for b, v in totals.items() if v} != {b: v for b, v in kwh.items() if v}:
        return _("日冻结读数合计与账单分时电量不符，按账单电量核算。")
    return daily


def _two_part_extra(bill: Bill, plan: TariffPlan, context: _Context) -> dict:
    extra: dict = {}
    if plan.charge_basis:
        extra["charge_basis"] = plan.charge_basis
    if plan.transformer_kva is not None and plan.charge_basis != ChargeBasis.DEMAND:
        extra["transformer_kva"] = plan.transformer_kva
    if plan.charge_basis != ChargeBasis.CAPACITY:
        if plan.max_demand_source == MaxDemandSource.CONTRACT and plan.contract_demand_kw is not None:
            extra["max_demand_kw"] = plan.contract_demand_kw
        elif plan.max_demand_source == MaxDemandSource.LOAD_CURVE:
            peak = context.peak_kw.get((bill.account_id, bill.period))
            if peak is None:
                raise NotComputable(
                    "no_load_curve",
                    _("%(month)s 没有负荷曲线，无法确定最大需量。") % {"month": f"{bill.period:%Y-%m}"},
                )
            extra["max_demand_kw"] = peak
    return extra


def _check_values(bill: Bill, context: _Context, now) -> dict:
    try:
        outcome = _compute(bill, context)
    except NotComputable as exc:
        outcome = _Outcome(status=BillCheckStatus.NOT_COMPUTABLE, reason_code=exc.code, reason=exc.reason)
    return {
        "account_id": bill.account_id,
        "period": bill.period,
        "status": outcome.status,
        "reason_code": outcome.reason_code[:48],
        "reason": outcome.reason[:300],
        "imported_fen": bill.amount_fen,
        "computed_fen": outcome.computed_fen,
        "difference_fen": None if outcome.computed_fen is None else bill.amount_fen - outcome.computed_fen,
        "tariff_codes": outcome.tariff_codes[:200],
        "usage_source": outcome.usage_source,
        "prior_kwh_in_tier_year": outcome.prior_kwh,
        "note": outcome.note[:300],
        "lines": outcome.lines,
        "checked_at": now,
    }


_UPDATED_FIELDS = [
    "account",
    "period",
    "status",
    "reason_code",
    "reason",
    "imported_fen",
    "computed_fen",
    "difference_fen",
    "tariff_codes",
    "usage_source",
    "prior_kwh_in_tier_year",
    "note",
    "lines",
    "checked_at",
    "updated_at",
]


def bill_check(*, bill: Bill) -> BillCheck:
    """Recompute ``bill`` with the calculator and record the result (one row per bill version)."""
    bill = Bill.objects.select_related("account").get(pk=bill.pk)
    values = _check_values(bill, _load_context([bill], {}), timezone.now())
    check, _created = BillCheck.objects.update_or_create(bill=bill, defaults=values)
    return check


@dataclass
class CheckSummary:
    period: date
    checked: int = 0
    by_status: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in BillCheckStatus})
    difference_fen: int = 0  # sum of imported − computed over mismatches

    def as_dict(self) -> dict:
        return {
            "period": f"{self.period:%Y-%m}",
            "checked": self.checked,
            **self.by_status,
            "difference_fen": self.difference_fen,
        }


def bill_checks_for_period(*, period: date, chunk_size: int = CHECK_CHUNK) -> CheckSummary:
    """Check every current imported bill of ``period`` in batches (bulk upsert, no per-row save)."""
    if period.day != 1:
        raise ApplicationError("invalid_period", _("电费年月须为当月 1 日。"), field="period")
    summary = CheckSummary(period=period)
    tariff_cache: dict = {}
    bills = Bill.objects.filter(period=period, is_current=True, source=BillSource.IMPORT).select_related(
        "account"
    )
    last_pk = 0
    while True:
        chunk = list(bills.filter(pk__gt=last_pk).order_by("pk")[:chunk_size])
        if not chunk:
            break
        last_pk = chunk[-1].pk
        context = _load_context(chunk, tariff_cache)
        now = timezone.now()
        rows = []
        for bill in chunk:
            values = _check_values(bill, context, now)
            rows.append(BillCheck(bill=bill, updated_at=now, **values))
            summary.checked += 1
            summary.by_status[values["status"]] += 1
            if values["status"] == BillCheckStatus.MISMATCH:
                summary.difference_fen += values["difference_fen"]
        with transaction.atomic():
            BillCheck.objects.bulk_create(
                rows, update_conflicts=True, unique_fields=["bill"], update_fields=_UPDATED_FIELDS
            )
    return summary


# --- reads ---------------------------------------------------------------------------------------


def account_bill_checks(*, account: Account, problems_only: bool = True) -> Iterable[BillCheck]:
    """Checks of the account's current bill versions, newest month first."""
    checks = BillCheck.objects.filter(account=account, bill__is_current=True).select_related("bill")
    if problems_only:
        checks = checks.exclude(status=BillCheckStatus.OK)
    return checks.order_by("-period")


def account_bill_check_counts(*, account: Account) -> dict[str, int]:
    counts = {status.value: 0 for status in BillCheckStatus}
    for row in (
        BillCheck.objects.filter(account=account, bill__is_current=True)
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[row["status"]] = row["n"]
    return counts


def bill_checks_with_problems(*, period: date | None = None):
    """Mismatched and not-computable checks of current bills (for a console-wide list)."""
    checks = BillCheck.objects.filter(bill__is_current=True).exclude(status=BillCheckStatus.OK)
    if period is not None:
        checks = checks.filter(period=period)
    return checks.select_related("account", "bill").order_by(
        "-period", F("difference_fen").desc(nulls_last=True)
    )
