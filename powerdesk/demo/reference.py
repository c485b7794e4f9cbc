"""The reference data the demo generator draws on (``data/divisions.json``, ``data/people.json``).

Loaded once per process into small frozen records, with the short forms of place names that
station, 台区 and organisation names are built from (湖滨街道 → 湖滨, 上城区 → 上城).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

# Longest first, so "畲族自治县" wins over "县".
_PLACE_SUFFIXES = ("畲族自治县", "自治县", "街道", "新区", "区", "县", "市", "镇", "乡")


def short_place_name(name: str) -> str:
    """Drop the administrative suffix, as people say it: 湖滨街道 → 湖滨, 景宁畲族自治县 → 景宁."""
    for suffix in _PLACE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True)
class Town:
    code: str  # 9-digit 乡级 code; "" for a county without towns (龙港市)
    name: str

    @property
    def short(self) -> str:
        return short_place_name(self.name)

    @property
    def is_subdistrict(self) -> bool:
        """街道 are urban; 镇 and 乡 are mostly villages."""
        return self.name.endswith("街道")


@dataclass(frozen=True)
class County:
    code: str
    name: str
    city_code: str
    city_name: str
    lat: float
    lng: float
    radius_km: float
    urban: bool
    towns: tuple[Town, ...]

    @property
    def short(self) -> str:
        return short_place_name(self.name)


@dataclass(frozen=True)
class City:
    code: str
    name: str
    counties: tuple[County, ...]

    @property
    def short(self) -> str:
        return short_place_name(self.name)


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    cities: tuple[City, ...]

    @property
    def counties(self) -> tuple[County, ...]:
        return tuple(county for city in self.cities for county in city.counties)


@cache
def province() -> Province:
    raw = json.loads((DATA_DIR / "divisions.json").read_text(encoding="utf-8"))
    cities = []
    for city in raw["cities"]:
        counties = tuple(
            County(
                code=county["code"], name=county["name"], city_code=city["code"], city_name=city["name"],
                lat=float(county["lat"]), lng=float(county["lng"]), radius_km=float(county["radius_km"]),
                urban=bool(county["urban"]),
                # A county without towns (龙港市 runs its 社区 directly) gets one nameless town.
                towns=tuple(Town(t["code"], t["name"]) for t in county["towns"]) or (Town("", ""),),
            )
            for county in city["counties"]
        )
        cities.append(City(code=city["code"], name=city["name"], counties=counties))
    return Province(code=raw["province"]["code"], name=raw["province"]["name"], cities=tuple(cities))


@cache
def people() -> dict:
    """Names, occupations, address and organisation-name parts (see data/README.md)."""
    return json.loads((DATA_DIR / "people.json").read_text(encoding="utf-8"))
