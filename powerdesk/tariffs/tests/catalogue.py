"""Tariffs used by the calculator tests, built through ``clean_tariff`` so they are validated but
need no database. Prices are the ones the hand-worked examples use; they are not the demo's."""

from __future__ import annotations

from datetime import date

from powerdesk.tariffs.calculator import TariffSnapshot
from powerdesk.tariffs.validation import clean_tariff

SINCE = date(2020, 1, 1)
MONTHLY_TIERS = [
    {"upper_kwh": 230, "surcharge_per_kwh": "0"},
    {"upper_kwh": 400, "surcharge_per_kwh": "0.05"},
    {"upper_kwh": None, "surcharge_per_kwh": "0.30"},
]
YEARLY_TIERS = [
    {"upper_kwh": 2760, "surcharge_per_kwh": "0"},
    {"upper_kwh": 4800, "surcharge_per_kwh": "0.05"},
    {"upper_kwh": None, "surcharge_per_kwh": "0.30"},
]
RESIDENTIAL_TOU_WINDOWS = [
    {"band": "peak", "start": "08:00", "end": "22:00"},
    {"band": "valley", "start": "22:00", "end": "08:00"},
]
SUMMER, OTHER = [7, 8], [1, 2, 3, 4, 5, 6, 9, 10, 11, 12]
BUSINESS_TOU_WINDOWS = [
    {"band": "valley", "start": "22:00", "end": "08:00"},
    {"band": "peak", "start": "08:00", "end": "11:00"},
    {"band": "flat", "start": "11:00", "end": "13:00"},
    {"band": "peak", "start": "13:00", "end": "19:00"},
    {"band": "sharp", "start": "19:00", "end": "21:00", "months": SUMMER},
    {"band": "peak", "start": "19:00", "end": "21:00", "months": OTHER},
    {"band": "peak", "start": "21:00", "end": "22:00"},
]


def definition(which: str, /, **overrides) -> dict:
    """Keyword arguments for ``clean_tariff`` / ``tariff_create`` of a named test tariff."""
    base = dict(DEFINITIONS[which])
    base.update(overrides)
    return base


def tariff(which: str, /, **overrides) -> TariffSnapshot:
    return clean_tariff(**definition(which, **overrides))


DEFINITIONS: dict[str, dict] = {
    "business_flat": {
        "code": "T-GC-FLAT",
        "name": "一般工商业单一制",
        "tariff_class": "general_commercial",
        "kind": "flat",
        "valid_from": SINCE,
        "band_prices": {"flat": "0.6644"},
    },
    "agricultural": {
        "code": "T-AG",
        "name": "农业生产",
        "tariff_class": "agricultural",
        "kind": "flat",
        "valid_from": SINCE,
        "band_prices": {"flat": "0.4672"},
    },
    "residential_monthly": {
        "code": "T-RES-M",
        "name": "居民阶梯（月）",
        "tariff_class": "residential",
        "kind": "tiered",
        "valid_from": SINCE,
        "band_prices": {"flat": "0.538"},
        "tiers": MONTHLY_TIERS,
        "tier_period": "monthly",
    },
    "residential_yearly": {
        "code": "T-RES-Y",
        "name": "居民阶梯（年）",
        "tariff_class": "residential",
        "kind": "tiered",
        "valid_from": SINCE,
        "band_prices": {"flat": "0.538"},
        "tiers": YEARLY_TIERS,
        "tier_period": "yearly",
        "tier_year_start_month": 1,
    },
    "residential_tou_yearly": {
        "code": "T-RES-TOU-Y",
        "name": "居民峰谷阶梯（年）",
        "tariff_class": "residential",
        "kind": "tiered_tou",
        "valid_from": SINCE,
        "band_prices": {"peak": "0.568", "valley": "0.288"},
        "windows": RESIDENTIAL_TOU_WINDOWS,
        "tiers": YEARLY_TIERS,
        "tier_period": "yearly",
    },
    "residential_tou_monthly": {
        "code": "T-RES-TOU-M",
        "name": "居民峰谷阶梯（月）",
        "tariff_class": "residential",
        "kind": "tiered_tou",
        "valid_from": SINCE,
        "band_prices": {"peak": "0.568", "valley": "0.288"},
        "windows": RESIDENTIAL_TOU_WINDOWS,
        "tiers": MONTHLY_TIERS,
        "tier_period": "monthly",
    },
    "business_tou": {
        "code": "T-GC-TOU",
        "name": "一般工商业分时",
        "tariff_class": "general_commercial",
        "kind": "tou",
        "valid_from": SINCE,
        "band_prices": {"sharp": "1.0843", "peak": "0.9012", "flat": "0.6131", "valley": "0.3250"},
        "windows": BUSINESS_TOU_WINDOWS,
    },
    "two_part": {
        "code": "T-LI-2P",
        "name": "大工业两部制",
        "tariff_class": "large_industry",
        "kind": "two_part",
        "valid_from": SINCE,
        "band_prices": {"sharp": "1.0166", "peak": "0.8342", "flat": "0.5726", "valley": "0.2990"},
        "windows": BUSINESS_TOU_WINDOWS,
        "capacity_price_per_kva_month": "30",
        "demand_price_per_kw_month": "40",
    },
}
