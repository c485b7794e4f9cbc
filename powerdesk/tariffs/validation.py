"""Strict checks of a tariff definition, without the database.

``clean_tariff(**fields)`` turns raw input into a validated ``TariffSnapshot`` or raises one
``ApplicationError`` whose ``field`` names the offending input (``tiers[1].upper_kwh``,
``windows[2].months``, ``band_prices.peak`` …). ``services.tariff_create`` adds the checks that
need the database (unique code, versions of a series not overlapping).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal

from django.utils.translation import gettext as _

from powerdesk.core.exceptions import ApplicationError
from powerdesk.customers.choices import TariffClass
from powerdesk.tariffs.choices import TIERED_KINDS, TOU_KINDS, Band, TariffKind, TierPeriod
from powerdesk.tariffs.inputs import (
    BAND_ORDER,
    MINUTES_PER_DAY,
    TariffSnapshot,
    TierSnapshot,
    WindowSnapshot,
    non_negative_decimal,
)
from powerdesk.tariffs.models import PRICE_DECIMAL_PLACES, PRICE_MAX_DIGITS

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
KWH_DECIMAL_PLACES = 2
KWH_MAX_DIGITS = 14
ALL_MONTHS = tuple(range(1, 13))


def clean_tariff(
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
) -> TariffSnapshot:
    """Validate a tariff definition and return it as a snapshot (prices normalised: 0.53800 → 0.538)."""
    code = _clean_code(code, "code")
    series = _clean_code(series or code, "series")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ApplicationError("invalid_name", _("请填写电价名称（不超过 100 字）。"), field="name")
    if tariff_class not in TariffClass.values:
        raise ApplicationError("invalid_tariff_class", _("用电类别无效。"), field="tariff_class")
    if kind not in TariffKind.values:
        raise ApplicationError("invalid_kind", _("计价方式无效。"), field="kind")
    kind = TariffKind(kind)
    valid_from = _clean_date(valid_from, "valid_from")
    if valid_to is not None:
        valid_to = _clean_date(valid_to, "valid_to")
        if valid_to <= valid_from:
            raise ApplicationError(
                "invalid_validity", _("执行截止日（不含）须晚于执行起始日。"), field="valid_to"
            )

    prices = _clean_band_prices(band_prices)
    cleaned_windows = _clean_windows(list(windows), prices)
    cleaned_tiers = _clean_tiers(list(tiers))
    tier_period, tier_year_start_month = _clean_tier_settings(tier_period, tier_year_start_month)
    capacity = _optional_price(capacity_price_per_kva_month, "capacity_price_per_kva_month", _("容量电价"))
    demand = _optional_price(demand_price_per_kw_month, "demand_price_per_kw_month", _("需量电价"))

    _check_kind_shape(
        kind,
        prices,
        cleaned_windows,
        cleaned_tiers,
        tier_period,
        capacity_price=capacity,
        demand_price=demand,
    )
    if cleaned_windows:
        _check_windows_tile_each_month(cleaned_windows)
        used = {window.band for window in cleaned_windows}
        for band, _price in prices:
            if band not in used:
                raise ApplicationError(
                    "band_without_window",
                    _("“%(band)s”时段已定价，但没有任何分时时段属于它。") % {"band": Band(band).label},
                    field=f"band_prices.{band}",
                )
    return TariffSnapshot(
        code=code,
        series=series,
        name=name,
        tariff_class=tariff_class,
        kind=kind.value,
        valid_from=valid_from,
        valid_to=valid_to,
        band_prices=prices,
        tiers=cleaned_tiers,
        tier_period=tier_period,
        tier_year_start_month=tier_year_start_month,
        windows=cleaned_windows,
        capacity_price_per_kva_month=capacity,
        demand_price_per_kw_month=demand,
    )


def plain_decimal(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (0.53800 → 0.538, 30.00 → 30)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


# --- fields ------------------------------------------------------------------------------------


def _clean_code(value: str | None, field: str) -> str:
    value = (value or "").strip()
    if not CODE_PATTERN.match(value):
        raise ApplicationError(
            "invalid_code",
            _("编码须为 1–40 位字母、数字、“-”“_”“.”，以字母或数字开头。"),
            field=field,
        )
    return value


def _clean_date(value, field: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ApplicationError("invalid_date", _("请填写日期（不含时刻）。"), field=field)
    return value


def clean_decimal(value, *, field: str, label: str, places: int, max_digits: int) -> Decimal:
    """A non-negative Decimal with at most ``places`` decimals; floats are refused outright."""
    number = plain_decimal(non_negative_decimal(value, field=field, label=label))
    decimals = max(0, -number.as_tuple().exponent)
    if decimals > places:
        raise ApplicationError(
            "too_many_decimals",
            _("%(label)s最多保留 %(places)s 位小数，收到 %(value)s。")
            % {"label": label, "places": places, "value": number},
            field=field,
        )
    if number >= Decimal(10) ** (max_digits - places):
        raise ApplicationError("number_too_large", _("%(label)s过大。") % {"label": label}, field=field)
    return number


def _price(value, field: str, label: str) -> Decimal:
    return clean_decimal(
        value, field=field, label=label, places=PRICE_DECIMAL_PLACES, max_digits=PRICE_MAX_DIGITS
    )


def _optional_price(value, field: str, label: str) -> Decimal | None:
    return None if value is None or value == "" else _price(value, field, label)


def _clean_band_prices(band_prices: Mapping) -> tuple[tuple[str, Decimal], ...]:
    if not isinstance(band_prices, Mapping) or not band_prices:
        raise ApplicationError("band_prices_required", _("请至少为一个时段定价。"), field="band_prices")
    for band in band_prices:
        if band not in Band.values:
            raise ApplicationError(
                "invalid_band", _("未知的时段“%(band)s”。") % {"band": band}, field=f"band_prices.{band}"
            )
    return tuple(
        (
            band.value,
            _price(
                band_prices[band.value],
                f"band_prices.{band.value}",
                _("%(band)s段电价") % {"band": band.label},
            ),
        )
        for band in BAND_ORDER
        if band.value in band_prices
    )


def _clean_tiers(tiers: list[Mapping]) -> tuple[TierSnapshot, ...]:
    cleaned: list[TierSnapshot] = []
    for index, tier in enumerate(tiers):
        prefix = f"tiers[{index}]"
        if not isinstance(tier, Mapping):
            raise ApplicationError("invalid_tier", _("阶梯档位格式无效。"), field=prefix)
        unknown = set(tier) - {"upper_kwh", "surcharge_per_kwh"}
        if unknown:
            raise ApplicationError(
                "invalid_tier",
                _("阶梯档位含未知字段：%(keys)s。") % {"keys": ", ".join(sorted(unknown))},
                field=prefix,
            )
        is_last = index == len(tiers) - 1
        raw_upper = tier.get("upper_kwh")
        if is_last and raw_upper is not None:
            raise ApplicationError(
                "last_tier_must_be_open",
                _("最后一档不设上限（upper_kwh 留空）。"),
                field=f"{prefix}.upper_kwh",
            )
        if not is_last and raw_upper is None:
            raise ApplicationError(
                "tier_upper_required", _("除最后一档外，每档须填写上限电量。"), field=f"{prefix}.upper_kwh"
            )
        upper = None
        if raw_upper is not None:
            upper = clean_decimal(
                raw_upper,
                field=f"{prefix}.upper_kwh",
                label=_("档位上限"),
                places=KWH_DECIMAL_PLACES,
                max_digits=KWH_MAX_DIGITS,
            )
            previous = cleaned[-1].upper_kwh if cleaned else Decimal(0)
            if upper <= previous:
                raise ApplicationError(
                    "tiers_not_ascending",
                    _("第 %(order)s 档上限 %(upper)s 千瓦时须大于上一档上限 %(previous)s 千瓦时。")
                    % {"order": index + 1, "upper": upper, "previous": previous},
                    field=f"{prefix}.upper_kwh",
                )
        surcharge = _price(tier.get("surcharge_per_kwh", 0), f"{prefix}.surcharge_per_kwh", _("阶梯加价"))
        if index == 0 and surcharge:
            raise ApplicationError(
                "first_tier_surcharge",
                _("第一档按基础电价计费，加价须为 0。"),
                field=f"{prefix}.surcharge_per_kwh",
            )
        cleaned.append(TierSnapshot(order=index + 1, upper_kwh=upper, surcharge_per_kwh=surcharge))
    return tuple(cleaned)


def _clean_tier_settings(tier_period: str, tier_year_start_month) -> tuple[str, int]:
    tier_period = tier_period or ""
    if tier_period and tier_period not in TierPeriod.values:
        raise ApplicationError("invalid_tier_period", _("阶梯周期须为按月或按年。"), field="tier_period")
    if (
        isinstance(tier_year_start_month, bool)
        or not isinstance(tier_year_start_month, int)
        or tier_year_start_month not in ALL_MONTHS
    ):
        raise ApplicationError(
            "invalid_month", _("阶梯年度起始月须为 1–12 的整数。"), field="tier_year_start_month"
        )
    return tier_period, int(tier_year_start_month)


def _clean_time(value, field: str, *, allow_24: bool) -> time:
    if isinstance(value, str):
        text = value.strip()
        if allow_24 and text == "24:00":
            return time(0)
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text)
        if not match:
            raise ApplicationError("invalid_time", _("时刻格式应为 HH:MM。"), field=field)
        value = time(int(match[1]), int(match[2]))
    if not isinstance(value, time):
        raise ApplicationError("invalid_time", _("时刻格式应为 HH:MM。"), field=field)
    if value.tzinfo is not None or value.second or value.microsecond or value.minute % 15:
        raise ApplicationError(
            "window_not_quarter_hour",
            _("分时时段的起止时刻须落在整刻钟（00、15、30、45 分）。"),
            field=field,
        )
    return value


def _clean_months(value, field: str) -> frozenset[int]:
    months = list(value) if isinstance(value, list | tuple | set | frozenset | range) else None
    if (
        not months
        or any(isinstance(m, bool) or not isinstance(m, int) or m not in ALL_MONTHS for m in months)
        or len(set(months)) != len(months)
    ):
        raise ApplicationError(
            "invalid_months", _("适用月份须为不重复的 1–12 月份列表，且不能为空。"), field=field
        )
    return frozenset(months)


def _clean_windows(
    windows: list[Mapping], prices: tuple[tuple[str, Decimal], ...]
) -> tuple[WindowSnapshot, ...]:
    priced = {band for band, _price in prices}
    cleaned = []
    for index, window in enumerate(windows):
        prefix = f"windows[{index}]"
        if not isinstance(window, Mapping):
            raise ApplicationError("invalid_window", _("分时时段格式无效。"), field=prefix)
        unknown = set(window) - {"band", "start", "end", "months"}
        if unknown:
            raise ApplicationError(
                "invalid_window",
                _("分时时段含未知字段：%(keys)s。") % {"keys": ", ".join(sorted(unknown))},
                field=prefix,
            )
        band = window.get("band")
        if band not in Band.values:
            raise ApplicationError(
                "invalid_band", _("未知的时段“%(band)s”。") % {"band": band}, field=f"{prefix}.band"
            )
        if band not in priced:
            raise ApplicationError(
                "window_band_not_priced",
                _("“%(band)s”时段没有定价，不能划分时段。") % {"band": Band(band).label},
                field=f"{prefix}.band",
            )
        cleaned.append(
            WindowSnapshot(
                band=band,
                starts_at=_clean_time(window.get("start"), f"{prefix}.start", allow_24=False),
                ends_at=_clean_time(window.get("end"), f"{prefix}.end", allow_24=True),
                months=_clean_months(window.get("months", ALL_MONTHS), f"{prefix}.months"),
            )
        )
    return tuple(cleaned)


def _check_windows_tile_each_month(windows: tuple[WindowSnapshot, ...]) -> None:
    """For every month, the windows applying to it cover 00:00–24:00 once, without overlap."""
    for month in ALL_MONTHS:
        pieces = sorted(
            (start, end, window)
            for window in windows
            if month in window.months
            for start, end in window.minute_ranges()
        )
        cursor, previous = 0, None
        for start, end, window in pieces:
            if start < cursor:
                raise ApplicationError(
                    "windows_overlap",
                    _("%(month)s月的分时时段“%(a)s”与“%(b)s”重叠。")
                    % {"month": month, "a": previous.label(), "b": window.label()},
                    field="windows",
                )
            if start > cursor:
                raise _gap(month, cursor, start)
            cursor, previous = end, window
        if cursor < MINUTES_PER_DAY:
            raise _gap(month, cursor, MINUTES_PER_DAY)


def _gap(month: int, start: int, end: int) -> ApplicationError:
    def clock(minute: int) -> str:
        return f"{minute // 60:02d}:{minute % 60:02d}"

    return ApplicationError(
        "windows_gap",
        _("%(month)s月 %(start)s–%(end)s 没有划入任何分时时段；各月时段须覆盖全天 24 小时。")
        % {"month": month, "start": clock(start), "end": clock(end)},
        field="windows",
    )


def _check_kind_shape(
    kind: TariffKind,
    prices: tuple[tuple[str, Decimal], ...],
    windows: tuple[WindowSnapshot, ...],
    tiers: tuple[TierSnapshot, ...],
    tier_period: str,
    *,
    capacity_price: Decimal | None,
    demand_price: Decimal | None,
) -> None:
    """What each kind must and must not carry (docs/tariffs.md, "Kinds")."""
    single = len(prices) == 1 and prices[0][0] == Band.FLAT
    if kind in TOU_KINDS or (kind == TariffKind.TWO_PART and not single):
        if len(prices) < 2:
            raise ApplicationError(
                "tou_bands_required", _("分时电价须至少为两个时段定价。"), field="band_prices"
            )
        if not windows:
            raise ApplicationError("windows_required", _("分时电价须划分分时时段。"), field="windows")
    else:
        if not single:
            raise ApplicationError(
                "single_price_required",
                _("%(kind)s只设一个电度电价（“平”时段）。") % {"kind": kind.label},
                field="band_prices",
            )
        if windows:
            raise ApplicationError(
                "windows_not_applicable",
                _("%(kind)s不划分分时时段。") % {"kind": kind.label},
                field="windows",
            )
    if kind in TIERED_KINDS:
        if len(tiers) < 2:
            raise ApplicationError("tiers_required", _("阶梯电价须至少设两档。"), field="tiers")
        if not tier_period:
            raise ApplicationError(
                "tier_period_required", _("阶梯电价须选择按月或按年计算。"), field="tier_period"
            )
    else:
        if tiers:
            raise ApplicationError(
                "tiers_not_applicable", _("%(kind)s不设阶梯。") % {"kind": kind.label}, field="tiers"
            )
        if tier_period:
            raise ApplicationError(
                "tier_period_not_applicable",
                _("%(kind)s不设阶梯周期。") % {"kind": kind.label},
                field="tier_period",
            )
    if kind == TariffKind.TWO_PART:
        if capacity_price is None and demand_price is None:
            raise ApplicationError(
                "basic_price_required",
                _("两部制电价须规定容量电价或需量电价（至少一项）。"),
                field="capacity_price_per_kva_month",
            )
    else:
        for value, field in (
            (capacity_price, "capacity_price_per_kva_month"),
            (demand_price, "demand_price_per_kw_month"),
        ):
            if value is not None:
                raise ApplicationError(
                    "basic_price_not_applicable", _("只有两部制电价设基本电价。"), field=field
                )
