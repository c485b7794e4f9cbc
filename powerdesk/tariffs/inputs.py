"""What the calculator takes: frozen tariff snapshots and one period's usage.

Plain dataclasses, no ORM: ``selectors.snapshot`` builds a ``TariffSnapshot`` from stored rows,
``validation.clean_tariff`` from raw input. Dates are local calendar dates; periods are
half-open, ``[start, end)``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.core.exceptions import ApplicationError
from powerdesk.tariffs.choices import Band, ChargeBasis, TariffKind, TierPeriod

MINUTES_PER_DAY = 24 * 60
POINTS_PER_DAY = 96  # one load-curve point per 15 minutes
BAND_ORDER = (Band.SHARP, Band.PEAK, Band.FLAT, Band.VALLEY)


# --- tariffs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierSnapshot:
    """A tier: kWh up to ``upper_kwh`` (``None``: no upper bound) pay ``surcharge_per_kwh`` extra."""

    order: int
    upper_kwh: Decimal | None
    surcharge_per_kwh: Decimal


@dataclass(frozen=True)
class WindowSnapshot:
    """Clock window ``[starts_at, ends_at)`` of one band in ``months``; may cross midnight."""

    band: str
    starts_at: time
    ends_at: time
    months: frozenset[int]

    def minute_ranges(self) -> list[tuple[int, int]]:
        """The window as minute ranges within one day, ``[start, end)`` with end ≤ 1440."""
        start = self.starts_at.hour * 60 + self.starts_at.minute
        end = self.ends_at.hour * 60 + self.ends_at.minute
        if start == end:
            return [(0, MINUTES_PER_DAY)]
        if start < end:
            return [(start, end)]
        return [(start, MINUTES_PER_DAY), (0, end)] if end else [(start, MINUTES_PER_DAY)]

    def contains(self, minute_of_day: int, month: int) -> bool:
        return month in self.months and any(a <= minute_of_day < b for a, b in self.minute_ranges())

    def label(self) -> str:
        return f"{Band(self.band).label} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


@dataclass(frozen=True)
class TariffSnapshot:
    """One tariff version, frozen: what the calculator needs and nothing from the database.

    ``band_prices`` is a tuple of ``(band, price)`` in the order 尖/峰/平/谷. A single-price
    tariff (flat, tiered, or two-part without TOU) has exactly one pair, band ``flat``, and no
    windows; it prices every kWh at that price whatever register it was read from.
    """

    code: str
    name: str
    tariff_class: str
    kind: str
    valid_from: date
    valid_to: date | None
    band_prices: tuple[tuple[str, Decimal], ...]
    series: str = ""
    tiers: tuple[TierSnapshot, ...] = ()
    tier_period: str = ""
    tier_year_start_month: int = 1
    windows: tuple[WindowSnapshot, ...] = ()
    capacity_price_per_kva_month: Decimal | None = None
    demand_price_per_kw_month: Decimal | None = None

    @property
    def is_single_price(self) -> bool:
        return len(self.band_prices) == 1 and not self.windows

    @property
    def is_tiered(self) -> bool:
        return self.kind in (TariffKind.TIERED, TariffKind.TIERED_TOU)

    @property
    def has_yearly_tiers(self) -> bool:
        return self.is_tiered and self.tier_period == TierPeriod.YEARLY

    def price_of(self, band: str) -> Decimal:
        for priced_band, price in self.band_prices:
            if priced_band == band:
                return price
        raise ApplicationError(
            "band_not_priced",
            _("电价 %(code)s 未对“%(band)s”时段定价。") % {"code": self.code, "band": band_label(band)},
            field="kwh_by_band",
        )

    def band_of(self, moment: datetime) -> str:
        """The band a local moment falls in. Aware datetimes are first converted to local time.

        Windows are ``[start, end)`` at minute resolution, so 07:59:59 is still in the window
        ending at 08:00 and 08:00:00 is in the one starting then. The month is the moment's own
        calendar month (a 22:00–08:00 window of July does not reach into 1 August).
        """
        if isinstance(moment, datetime) and timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        if self.is_single_price:
            return self.band_prices[0][0]
        minute = moment.hour * 60 + moment.minute
        for window in self.windows:
            if window.contains(minute, moment.month):
                return window.band
        raise ApplicationError(
            "no_window",
            _("电价 %(code)s 在 %(moment)s 没有适用的分时时段。")
            % {"code": self.code, "moment": f"{moment:%Y-%m-%d %H:%M}"},
            field="windows",
        )

    def split_load_curve_by_band(
        self, day: date, values: Sequence[Decimal | int | str]
    ) -> dict[str, Decimal]:
        """kWh per band of one day's 96-point curve.

        ``values[i]`` is the energy (kWh) consumed in the 15 minutes starting at ``i × 15 min``
        local time (00:00, 00:15, … 23:45). A curve of average power in kW converts to kWh by
        × 0.25 before calling. Window edges lie on quarter hours (services enforce it), so every
        point belongs wholly to one band. Every band the tariff prices is in the answer, zero
        or not, in the order 尖/峰/平/谷.
        """
        if len(values) != POINTS_PER_DAY:
            raise ApplicationError(
                "load_curve_length",
                _("日负荷曲线应有 96 个点（每 15 分钟一个），收到 %(count)s 个。") % {"count": len(values)},
                field="values",
            )
        totals = {band: Decimal(0) for band, _price in self.band_prices}
        for index, (band, raw) in enumerate(zip(_slot_bands(self, day.month), values, strict=True)):
            totals[band] += non_negative_decimal(raw, field=f"values[{index}]", label=_("负荷曲线电量"))
        return totals

    def overlaps(self, start: date, end: date) -> bool:
        return self.valid_from < end and (self.valid_to is None or self.valid_to > start)


# --- usage -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodUsage:
    """What was consumed in one billing period ``[period_start, period_end)`` (local dates).

    ``kwh_by_band`` — kWh per band register (``{"flat": …}`` for a single-register meter).
    ``daily_kwh`` — optional, kWh by band for *every* date of the period; when given it must add
    up to ``kwh_by_band`` and is used to share kWh between the segments of a split period.
    ``max_demand_kw`` / ``transformer_kva`` — for two-part tariffs; ``charge_basis`` says which
    one the basic charge uses (inferred when exactly one is given).
    ``prior_kwh_in_tier_year`` — yearly tiers only (then required): kWh already used in the tier
    year containing ``period_start``, before that date. 0 when the period starts the tier year.
    ``tier_months`` — monthly tiers only: how many tier months the period counts as (2 for a
    two-month reading cycle, 双月抄表); the monthly thresholds are multiplied by it.
    """

    period_start: date
    period_end: date
    kwh_by_band: Mapping[str, Decimal]
    daily_kwh: Mapping[date, Mapping[str, Decimal]] | None = None
    max_demand_kw: Decimal | None = None
    transformer_kva: Decimal | None = None
    charge_basis: str | None = None
    prior_kwh_in_tier_year: Decimal | None = None
    tier_months: int = 1

    def __post_init__(self) -> None:
        if (
            isinstance(self.tier_months, bool)
            or not isinstance(self.tier_months, int)
            or self.tier_months < 1
        ):
            raise ApplicationError("invalid_tier_months", _("阶梯月数须为正整数。"), field="tier_months")
        for name in ("period_start", "period_end"):
            value = getattr(self, name)
            if not isinstance(value, date) or isinstance(value, datetime):
                raise ApplicationError("invalid_date", _("请填写日期（不含时刻）。"), field=name)
        if self.period_end <= self.period_start:
            raise ApplicationError(
                "invalid_period", _("计费周期的截止日（不含）须晚于起始日。"), field="period_end"
            )
        object.__setattr__(self, "kwh_by_band", _clean_kwh_by_band(self.kwh_by_band, "kwh_by_band"))
        for name, label in (
            ("max_demand_kw", _("最大需量")),
            ("transformer_kva", _("变压器容量")),
            ("prior_kwh_in_tier_year", _("本阶梯年度已用电量")),
        ):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, non_negative_decimal(value, field=name, label=label))
        if self.charge_basis is not None and self.charge_basis not in ChargeBasis.values:
            raise ApplicationError("invalid_charge_basis", _("基本电费计费方式无效。"), field="charge_basis")
        if self.daily_kwh is not None:
            object.__setattr__(self, "daily_kwh", self._clean_daily())

    def _clean_daily(self) -> dict[date, dict[str, Decimal]]:
        daily = {
            day: _clean_kwh_by_band(bands, f"daily_kwh.{day.isoformat() if isinstance(day, date) else day}")
            for day, bands in self.daily_kwh.items()
        }
        expected = {self.period_start + timedelta(days=n) for n in range(self.days)}
        missing = sorted(expected - daily.keys())
        extra = sorted((day for day in daily if day not in expected), key=str)
        if missing or extra:
            raise ApplicationError(
                "daily_kwh_dates",
                _("日电量须逐日覆盖计费周期：缺少 %(missing)s，多出 %(extra)s。")
                % {
                    "missing": ", ".join(d.isoformat() for d in missing[:3]) or "—",
                    "extra": ", ".join(str(d) for d in extra[:3]) or "—",
                },
                field="daily_kwh",
            )
        for band in set(self.kwh_by_band) | {b for bands in daily.values() for b in bands}:
            summed = sum((bands.get(band, Decimal(0)) for bands in daily.values()), Decimal(0))
            if summed != self.kwh_by_band.get(band, Decimal(0)):
                raise ApplicationError(
                    "daily_kwh_mismatch",
                    _("%(band)s段日电量合计 %(summed)s 与周期电量 %(total)s 不符。")
                    % {
                        "band": band_label(band),
                        "summed": summed,
                        "total": self.kwh_by_band.get(band, Decimal(0)),
                    },
                    field="daily_kwh",
                )
        return daily

    @classmethod
    def from_daily(
        cls, *, period_start: date, period_end: date, daily_kwh: Mapping[date, Mapping[str, Decimal]], **extra
    ) -> PeriodUsage:
        """Usage whose period totals are the sums of its daily readings."""
        totals: dict[str, Decimal] = {}
        for bands in daily_kwh.values():
            for band, kwh in bands.items():
                totals[band] = totals.get(band, Decimal(0)) + non_negative_decimal(
                    kwh, field="daily_kwh", label=_("日电量")
                )
        return cls(
            period_start=period_start, period_end=period_end, kwh_by_band=totals, daily_kwh=daily_kwh, **extra
        )

    @property
    def days(self) -> int:
        return (self.period_end - self.period_start).days

    @property
    def kwh_total(self) -> Decimal:
        return sum(self.kwh_by_band.values(), Decimal(0))


@functools.lru_cache(maxsize=512)
def _slot_bands(tariff: TariffSnapshot, month: int) -> tuple[str, ...]:
    """The band of each 15-minute slot of a day in ``month`` (snapshots are frozen and hashable,
    so a year of load curves looks the windows up 12 times, not 35,040)."""
    return tuple(
        tariff.band_of(datetime(2000, month, 1, slot // 4, (slot % 4) * 15)) for slot in range(POINTS_PER_DAY)
    )


def band_label(band: str) -> str:
    return str(Band(band).label) if band in Band.values else band


def non_negative_decimal(value, *, field: str, label: str) -> Decimal:
    """A non-negative finite Decimal from a Decimal, int or numeric string; floats are refused
    (money and energy never pass through binary floating point)."""
    if isinstance(value, bool | float):
        raise ApplicationError(
            "not_decimal",
            _("%(label)s须为十进制数（Decimal），不能用浮点数。") % {"label": label},
            field=field,
        )
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        number = None
    if number is None or not number.is_finite():
        raise ApplicationError("invalid_number", _("%(label)s不是有效数字。") % {"label": label}, field=field)
    if number < 0:
        raise ApplicationError("negative_number", _("%(label)s不能为负数。") % {"label": label}, field=field)
    return number


def _clean_kwh_by_band(bands: Mapping[str, Decimal], field: str) -> dict[str, Decimal]:
    if not isinstance(bands, Mapping):
        raise ApplicationError("invalid_kwh", _("分时段电量应为“时段 → 电量”的映射。"), field=field)
    cleaned = {}
    for band, kwh in bands.items():
        if band not in Band.values:
            raise ApplicationError(
                "invalid_band", _("未知的时段“%(band)s”。") % {"band": band}, field=f"{field}.{band}"
            )
        cleaned[band] = non_negative_decimal(kwh, field=f"{field}.{band}", label=_("电量"))
    return cleaned
