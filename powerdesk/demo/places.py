"""Where the demo's customers live: how many per county and town, the 供电所 serving each town,
the 台区 (each a residential compound or a village), the outlets, addresses and coordinates.

The plan is drawn before any row is written, so 台区 and outlets exist before the accounts
that point at them. Pure: one ``random.Random`` in, plain records out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from random import Random

from powerdesk.demo.people import PeopleFactory
from powerdesk.demo.reference import County, Province, Town

ACCOUNTS_PER_TRANSFORMER_AREA = 150
TRANSFORMER_CAPACITIES_KVA = (200, 315, 400, 500, 630, 800)
_KM_PER_DEGREE_LAT = 111.32

# Area codes of the eleven cities of 浙江 for outlet phone numbers.
AREA_CODES = {
    "330100": "0571", "330200": "0574", "330300": "0577", "330400": "0573", "330500": "0572",
    "330600": "0575", "330700": "0579", "330800": "0570", "330900": "0580", "331000": "0576",
    "331100": "0578",
}
COUNTY_HALL_SERVICES = [
    "业扩报装", "增容减容", "过户更名", "电费缴纳", "电费发票打印", "故障报修受理", "峰谷电价办理",
    "光伏并网咨询", "电动汽车充电桩报装", "预约办电",
]
TOWN_HALL_SERVICES = ["业扩报装", "过户更名", "电费缴纳", "电费发票打印", "故障报修受理", "预约办电"]
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


@dataclass
class TransformerAreaPlan:
    """One 台区: a compound (小区) or a village, with the street address of its entrance."""

    code: str
    name: str
    community: str  # 桂花苑 or 石桥村
    is_village: bool
    road: str  # 人民东路 (compounds only)
    road_number: int
    capacity_kva: int
    lng: float  # WGS-84 centre
    lat: float
    accounts: int = 0
    pk: int | None = None


@dataclass
class TownPlan:
    town: Town
    station_code: str
    weight: float
    accounts: int = 0
    transformer_areas: list[TransformerAreaPlan] = field(default_factory=list)


@dataclass
class StationPlan:
    code: str
    name: str
    division_code: str


@dataclass
class OutletPlan:
    code: str
    name: str
    unit_code: str
    address: str
    division_code: str
    phone: str
    manager_name: str
    opening_hours: dict
    services: list[str]
    lng: float
    lat: float


@dataclass
class CountyPlan:
    county: County
    accounts: int
    stations: list[StationPlan]
    towns: list[TownPlan]
    outlets: list[OutletPlan] = field(default_factory=list)

    @property
    def jitter_km(self) -> float:
        """How far an account may sit from its 台区 centre."""
        return min(0.15, self.county.radius_km * 0.1)


def allocate(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder; no randomness)."""
    weight_sum = sum(weights)
    exact = [total * w / weight_sum for w in weights]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def county_weight(county: County) -> float:
    """Urban districts are denser; more towns, more people."""
    return (len(county.towns) + 2) * (1.6 if county.urban else 1.0)


def point_near(rng: Random, lng: float, lat: float, radius_km: float) -> tuple[float, float]:
    """A uniformly random point in the disc of ``radius_km`` around (lng, lat)."""
    distance = radius_km * math.sqrt(rng.random())
    angle = rng.random() * 2 * math.pi
    dlat = distance * math.sin(angle) / _KM_PER_DEGREE_LAT
    dlng = distance * math.cos(angle) / (_KM_PER_DEGREE_LAT * math.cos(math.radians(lat)))
    return lng + dlng, lat + dlat


def _weighted_choice(rng: Random, pairs: list) -> str:
    values = [value for value, _weight in pairs]
    weights = [weight for _value, weight in pairs]
    return rng.choices(values, weights=weights)[0]


def road_name(rng: Random, data: dict) -> str:
    direction = rng.choice(data["road_directions"]) if rng.random() < 0.2 else ""
    return rng.choice(data["road_stems"]) + direction + _weighted_choice(rng, data["road_suffixes"])


def plan_province(rng: Random, province: Province, customers: int, factory: PeopleFactory) -> list[CountyPlan]:
    """Decide counts, stations, 台区 and outlets for ``customers`` accounts (the first county
    always gets at least one: the showcase account lives there)."""
    counties = province.counties
    shares = allocate(customers, [county_weight(c) for c in counties])
    if shares[0] == 0:
        donor = max(range(len(shares)), key=lambda i: shares[i])
        shares[donor] -= 1
        shares[0] += 1
    data = factory.data
    plans = []
    for county, count in zip(counties, shares, strict=True):
        towns = list(county.towns)
        station_count = min(rng.randint(2, 4), len(towns))
        weights = [rng.uniform(0.4, 2.0) * (1.5 if t.is_subdistrict else 1.0) for t in towns]
        groups = allocate(len(towns), [1.0] * station_count)
        town_plans: list[TownPlan] = []
        stations: list[StationPlan] = []
        start = 0
        for index, size in enumerate(groups):
            members = range(start, start + size)
            start += size
            seat = towns[max(members, key=lambda i: weights[i])]
            code = f"{county.code}{index + 1:02d}"
            stations.append(StationPlan(code, f"{seat.short or county.short}供电所", seat.code or county.code))
            town_plans.extend(TownPlan(towns[i], code, weights[i]) for i in members)
        for i in rng.choices(range(len(towns)), weights=weights, k=count) if count else ():
            town_plans[i].accounts += 1
        plan = CountyPlan(county, count, stations, town_plans)
        for town_plan in town_plans:
            _plan_transformer_areas(rng, plan, town_plan, data)
        _plan_outlets(rng, plan, factory)
        plans.append(plan)
    return plans


def _plan_transformer_areas(rng: Random, plan: CountyPlan, town_plan: TownPlan, data: dict) -> None:
    county, town = plan.county, town_plan.town
    if not town_plan.accounts:
        return
    count = math.ceil(town_plan.accounts / ACCOUNTS_PER_TRANSFORMER_AREA)
    village_share = 0.0 if town.is_subdistrict else (0.4 if county.urban else 0.7)
    code_base = town.code or f"{county.code}000"
    place = town.short or county.short
    community = None
    for index in range(count):
        if community is None or community[4] >= 3 or rng.random() < 0.7:
            is_village = rng.random() < village_share
            if is_village:
                name = rng.choice(data["village_stems"]) + data["village_suffix"]
            else:
                name = rng.choice(data["compound_stems"]) + _weighted_choice(rng, data["compound_suffixes"])
            lng, lat = point_near(rng, county.lng, county.lat, county.radius_km * 0.85)
            community = [name, is_village, road_name(rng, data), rng.randint(1, 399), 0, lng, lat]
        community[4] += 1
        lng, lat = point_near(rng, community[5], community[6], min(0.1, county.radius_km * 0.05))
        town_plan.transformer_areas.append(TransformerAreaPlan(
            code=f"{code_base}{index + 1:04d}", name=f"{place}{community[0]}{community[4]}号台区",
            community=community[0], is_village=community[1], road=community[2], road_number=community[3],
            capacity_kva=rng.choice(TRANSFORMER_CAPACITIES_KVA), lng=lng, lat=lat,
        ))
    for area, share in zip(town_plan.transformer_areas,
                           allocate(town_plan.accounts, [1.0] * count), strict=True):
        area.accounts = share


def _opening_hours(weekday: tuple[str, str], saturday: tuple[str, str] | None) -> dict:
    hours = {day: list(weekday) for day in _WEEKDAYS}
    hours["sat"] = list(saturday) if saturday else []
    hours["sun"] = []
    return hours


def _plan_outlets(rng: Random, plan: CountyPlan, factory: PeopleFactory) -> None:
    """One hall in the county seat, one in each 供电所's town."""
    county = plan.county
    city_prefix = county.city_name
    area_code = AREA_CODES.get(county.city_code, "0571")
    entries: list[tuple[StationPlan | None, str]] = [(None, f"{county.short}供电营业厅")]
    by_code = {t.town.code or county.code: t for t in plan.towns}
    for station in plan.stations:
        entries.append((station, station.name + "营业厅"))
    for index, (station, name) in enumerate(entries):
        if station is None:
            town = next((t.town for t in plan.towns if t.town.is_subdistrict), plan.towns[0].town)
            lng, lat = point_near(rng, county.lng, county.lat, min(0.5, county.radius_km * 0.2))
            hours = _opening_hours(("08:30", "17:30"), ("09:00", "12:00"))
            services = list(COUNTY_HALL_SERVICES)
        else:
            town_plan = by_code.get(station.division_code, plan.towns[0])
            town = town_plan.town
            if town_plan.transformer_areas:  # beside the customers it serves
                centre = town_plan.transformer_areas[0]
                lng, lat = point_near(rng, centre.lng, centre.lat, min(0.3, county.radius_km * 0.05))
            else:
                lng, lat = point_near(rng, county.lng, county.lat, county.radius_km * 0.85)
            hours = _opening_hours(("08:30", "17:00"), None)
            services = list(TOWN_HALL_SERVICES)
        road = road_name(rng, factory.data)
        plan.outlets.append(OutletPlan(
            code=f"YY{county.code}{index:02d}",
            name=name,
            unit_code=station.code if station else county.code,
            address=f"{city_prefix}{county.name}{town.name}{road}{rng.randint(1, 299)}号",
            division_code=town.code or county.code,
            phone=f"{area_code}-{rng.randint(2, 8)}{rng.randrange(10**7):07d}",
            manager_name=factory.surname() + factory.given_name(rng.random() < 0.5, rng.randint(1970, 1995)),
            opening_hours=hours,
            services=services,
            lng=lng,
            lat=lat,
        ))
