"""A 浙江-like demo tariff catalogue (示范电价目录).

The structure follows a Zhejiang-style schedule — yearly residential tiers at 2760/4800 kWh with
a 0.538 base, residential 峰谷 0.568/0.288 from 08:00 and 22:00, business flat and TOU with a
summer 尖峰 band, a large-industry two-part tariff, flat agricultural — but **every figure is a
demo figure**, not a published price. ``demo_tariffs()`` is idempotent: it creates each version
whose code is missing and leaves existing ones alone.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from powerdesk.tariffs.models import Tariff
from powerdesk.tariffs.services import tariff_create

DEMO_NOTE = "示范数据：价格为演示用数字，非正式公布电价。"
ALL_MONTHS = list(range(1, 13))
SUMMER_MONTHS = [7, 8]
OTHER_MONTHS = [m for m in ALL_MONTHS if m not in SUMMER_MONTHS]

# Residential yearly tiers: 2760 / 4800 kWh per tier year (January–December); +0.05 / +0.30.
RESIDENTIAL_TIERS = [
    {"upper_kwh": 2760, "surcharge_per_kwh": "0"},
    {"upper_kwh": 4800, "surcharge_per_kwh": "0.05"},
    {"upper_kwh": None, "surcharge_per_kwh": "0.30"},
]
RESIDENTIAL_TOU_WINDOWS = [
    {"band": "peak", "start": "08:00", "end": "22:00"},
    {"band": "valley", "start": "22:00", "end": "08:00"},
]
# Business and large-industry TOU: 19:00–21:00 is 尖峰 in July and August, 峰 otherwise.
BUSINESS_TOU_WINDOWS = [
    {"band": "valley", "start": "22:00", "end": "08:00"},
    {"band": "peak", "start": "08:00", "end": "11:00"},
    {"band": "flat", "start": "11:00", "end": "13:00"},
    {"band": "peak", "start": "13:00", "end": "19:00"},
    {"band": "sharp", "start": "19:00", "end": "21:00", "months": SUMMER_MONTHS},
    {"band": "peak", "start": "19:00", "end": "21:00", "months": OTHER_MONTHS},
    {"band": "peak", "start": "21:00", "end": "22:00"},
]

DEMO_TARIFFS: list[dict] = [
    {
        "code": "ZJ-RES-TIER-2021",
        "series": "ZJ-RES-TIER",
        "name": "居民生活阶梯电价（示范）",
        "tariff_class": "residential",
        "kind": "tiered",
        "valid_from": date(2021, 1, 1),
        "band_prices": {"flat": "0.538"},
        "tiers": RESIDENTIAL_TIERS,
        "tier_period": "yearly",
        "tier_year_start_month": 1,
    },
    {
        "code": "ZJ-RES-TOU-2021",
        "series": "ZJ-RES-TOU",
        "name": "居民生活峰谷阶梯电价（示范）",
        "tariff_class": "residential",
        "kind": "tiered_tou",
        "valid_from": date(2021, 1, 1),
        "band_prices": {"peak": "0.568", "valley": "0.288"},
        "windows": RESIDENTIAL_TOU_WINDOWS,
        "tiers": RESIDENTIAL_TIERS,
        "tier_period": "yearly",
        "tier_year_start_month": 1,
    },
    # A price change inside the demo's 24 months of bills, so recomputed bills span two versions.
    {
        "code": "ZJ-GC-FLAT-2023",
        "series": "ZJ-GC-FLAT",
        "name": "一般工商业单一制电价（示范，2023版）",
        "tariff_class": "general_commercial",
        "kind": "flat",
        "valid_from": date(2023, 1, 1),
        "valid_to": date(2025, 6, 1),
        "band_prices": {"flat": "0.6644"},
    },
    {
        "code": "ZJ-GC-FLAT-2025",
        "series": "ZJ-GC-FLAT",
        "name": "一般工商业单一制电价（示范，2025版）",
        "tariff_class": "general_commercial",
        "kind": "flat",
        "valid_from": date(2025, 6, 1),
        "band_prices": {"flat": "0.65"},
    },
    {
        "code": "ZJ-GC-TOU-2023",
        "series": "ZJ-GC-TOU",
        "name": "一般工商业分时电价（示范）",
        "tariff_class": "general_commercial",
        "kind": "tou",
        "valid_from": date(2023, 1, 1),
        "band_prices": {"sharp": "1.0843", "peak": "0.9012", "flat": "0.6131", "valley": "0.325"},
        "windows": BUSINESS_TOU_WINDOWS,
    },
    {
        "code": "ZJ-LI-2P-2023",
        "series": "ZJ-LI-2P",
        "name": "大工业两部制电价（示范）",
        "tariff_class": "large_industry",
        "kind": "two_part",
        "valid_from": date(2023, 1, 1),
        "band_prices": {"sharp": "1.0166", "peak": "0.8342", "flat": "0.5726", "valley": "0.299"},
        "windows": BUSINESS_TOU_WINDOWS,
        "capacity_price_per_kva_month": "30",
        "demand_price_per_kw_month": "40",
    },
    {
        "code": "ZJ-AG-FLAT-2021",
        "series": "ZJ-AG-FLAT",
        "name": "农业生产电价（示范）",
        "tariff_class": "agricultural",
        "kind": "flat",
        "valid_from": date(2021, 1, 1),
        "band_prices": {"flat": "0.4672"},
    },
]

# Which series an account of each tariff class is billed on by default in the demo; residential
# accounts that chose 峰谷 use ZJ-RES-TOU, business accounts on TOU use ZJ-GC-TOU.
DEMO_SERIES_BY_CLASS = {
    "residential": "ZJ-RES-TIER",
    "general_commercial": "ZJ-GC-FLAT",
    "large_industry": "ZJ-LI-2P",
    "agricultural": "ZJ-AG-FLAT",
}
DEMO_TOU_SERIES_BY_CLASS = {
    "residential": "ZJ-RES-TOU",
    "general_commercial": "ZJ-GC-TOU",
    "large_industry": "ZJ-LI-2P",
}


@transaction.atomic
def demo_tariffs() -> dict[str, Tariff]:
    """Create the demo catalogue where missing; return every demo version by code."""
    existing = {
        tariff.code: tariff for tariff in Tariff.objects.filter(code__in=[t["code"] for t in DEMO_TARIFFS])
    }
    for definition in DEMO_TARIFFS:
        if definition["code"] not in existing:
            existing[definition["code"]] = tariff_create(**definition, note=DEMO_NOTE)
    return {definition["code"]: existing[definition["code"]] for definition in DEMO_TARIFFS}
