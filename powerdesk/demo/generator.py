"""Generate the demo utility (示范省电力公司): company tree, 台区, outlets, accounts, customer users,
identities, bindings and staff logins — deterministic under a seed, streamed in bulk inserts.

Same seed, same rows (except ``created_at``/``updated_at``, and ID-card ciphertexts, whose
nonces must be random). The company tree, 台区 and outlets go in with ``bulk_create``; accounts,
customer users, identities and bindings in chunks of ``BATCH_SIZE`` accounts, one transaction
and one ``executemany`` per table per chunk (``demo.bulk``). Nothing but the plan (counties,
towns, 台区) and the set of ID numbers handed out is held across chunks, so a million customers
fit in a few hundred megabytes.

This is a bulk loader, not a domain workflow: it writes rows directly instead of calling
``binding_create_…`` per customer (which would send codes and log events a million times).
"""

from __future__ import annotations

import bisect
import itertools
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from random import Random

from django.apps import apps
from django.db import DatabaseError, connections, transaction

from powerdesk.core.geo import wgs84_to_gcj02
from powerdesk.customers.choices import (
    AccountStatus,
    AgeGroup,
    BindingRole,
    ConsumptionLevel,
    CreditRating,
    HolderKind,
    IdentityProvider,
    TariffClass,
    VerificationMethod,
)
from powerdesk.customers.models import Account, Binding, CustomerUser, Identity
from powerdesk.customers.pii import id_card_hash, id_card_seal
from powerdesk.customers.validators import make_id_card_number
from powerdesk.demo.bulk import BulkInserter
from powerdesk.demo.logins import demo_staff_build, demo_staff_password
from powerdesk.demo.people import SHOWCASE_PHONE, PeopleFactory, Person
from powerdesk.demo.places import (
    CountyPlan,
    TownPlan,
    TransformerAreaPlan,
    plan_province,
    point_near,
    road_name,
)
from powerdesk.demo.reference import province as load_province
from powerdesk.events.choices import Channel
from powerdesk.organisation.choices import DepartmentKind, UnitLevel
from powerdesk.organisation.models import Department, Outlet, SupplyUnit, TransformerArea
from powerdesk.staff.models import StaffUser

BATCH_SIZE = 5000
# Business dates and binding times are reckoned from this fixed day, never from "now", so
# two runs with one seed agree. (The 24 months of bills come later and are anchored here too.)
REFERENCE_DATE = date(2026, 1, 1)
REFERENCE_TIME = datetime(2026, 1, 1, tzinfo=UTC)

PROVINCE_UNIT_CODE = "33"
PROVINCE_UNIT_NAME = "示范省电力公司"
SHOWCASE_NUMBER = "0000000001"
SHOWCASE_NAME = "张三"
SHOWCASE_ID_CARD = make_id_card_number("330102", date(1990, 3, 7), 123)
WECHAT_APP_ID = "wx5d3a1c0e9b7f2468"
SHOWCASE_OPENID = "o_demo_showcase"

TARIFF_MIX = (
    (TariffClass.RESIDENTIAL, 88), (TariffClass.GENERAL_COMMERCIAL, 9),
    (TariffClass.LARGE_INDUSTRY, 1), (TariffClass.AGRICULTURAL, 2),
)
REGISTERED_SHARE = 0.35  # residential holders who use our channels
FAMILY_SHARE = 0.15  # of those, accounts a second family member binds too
AGENT_SHARE = 0.2  # non-residential accounts with an authorised agent (电工、会计)
WECHAT_SHARE = 0.1  # customer users who also follow the official account
CLOSED_SHARE, SUSPENDED_SHARE = 0.01, 0.005
# Important customers (重要客户): hospitals, water works and most large industry.
IMPORTANT_INSTITUTIONS = ("卫生院", "卫生服务中心", "自来水厂", "污水处理厂", "排涝站", "灌溉站")

UNIT_DEPARTMENTS = {
    UnitLevel.PROVINCE: [
        ("客户服务中心", DepartmentKind.CUSTOMER_SERVICE), ("市场营销部", DepartmentKind.MARKETING),
        ("运维检修部", DepartmentKind.OPERATIONS), ("物资部", DepartmentKind.PROCUREMENT),
        ("数据中心", DepartmentKind.DATA), ("信息通信分公司", DepartmentKind.IT),
    ],
    UnitLevel.CITY: [
        ("客户服务中心", DepartmentKind.CUSTOMER_SERVICE), ("市场营销部", DepartmentKind.MARKETING),
        ("运维检修部", DepartmentKind.OPERATIONS), ("物资部", DepartmentKind.PROCUREMENT),
        ("数据分析室", DepartmentKind.DATA),
    ],
    UnitLevel.COUNTY: [
        ("客户服务中心", DepartmentKind.CUSTOMER_SERVICE), ("市场营销部", DepartmentKind.MARKETING),
        ("运维检修部", DepartmentKind.OPERATIONS),
    ],
    UnitLevel.STATION: [("营业班", DepartmentKind.CUSTOMER_SERVICE), ("配电运检班", DepartmentKind.OPERATIONS)],
}



class Weighted:
    """A precomputed weighted choice: ``pick(rng)`` costs one random number and a bisect."""

    def __init__(self, pairs) -> None:
        pairs = list(pairs)
        self.values = [value for value, _weight in pairs]
        self.cumulative = list(itertools.accumulate(weight for _value, weight in pairs))

    def pick(self, rng: Random):
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]


_TARIFFS = Weighted(TARIFF_MIX)
_CONSUMPTION = {
    TariffClass.RESIDENTIAL: Weighted(zip(ConsumptionLevel, (35, 45, 20), strict=True)),
    TariffClass.GENERAL_COMMERCIAL: Weighted(zip(ConsumptionLevel, (20, 50, 30), strict=True)),
    TariffClass.LARGE_INDUSTRY: Weighted(zip(ConsumptionLevel, (0, 15, 85), strict=True)),
    TariffClass.AGRICULTURAL: Weighted(zip(ConsumptionLevel, (40, 45, 15), strict=True)),
}
_CREDIT = Weighted(((CreditRating.AAA, 12), (CreditRating.AA, 38), (CreditRating.A, 35), (CreditRating.B, 11),
                    (CreditRating.C, 4)))
_CHANNELS_YOUNG = Weighted(((Channel.WECHAT, 50), (Channel.ALIPAY, 25), (Channel.APP, 15), (Channel.H5, 5),
                            (Channel.SMS, 3), (Channel.OUTLET, 2)))
_CHANNELS_OLD = Weighted(((Channel.WECHAT, 35), (Channel.SMS, 25), (Channel.OUTLET, 30), (Channel.ALIPAY, 5),
                          (Channel.APP, 5)))
_CHANNELS_ORG = Weighted(((Channel.WECHAT, 40), (Channel.OUTLET, 25), (Channel.APP, 15), (Channel.ALIPAY, 10),
                          (Channel.SMS, 10)))
_BINDING_CHANNELS = Weighted(((Channel.H5, 30), (Channel.ALIPAY, 25), (Channel.APP, 20), (Channel.SMS, 10),
                              (Channel.OUTLET, 15)))
_ORG_KINDS = Weighted((("company", 35), ("shop", 40), ("institution", 25)))
_RESIDENT_TAGS = (("电子账单", 0.3), ("峰谷电价", 0.25), ("预付费", 0.1), ("电动汽车", 0.06),
                  ("智能家居", 0.05), ("光伏发电", 0.03), ("低保户", 0.02))
_ORG_TAGS = {
    TariffClass.GENERAL_COMMERCIAL: (("电子账单", 0.4), ("峰谷电价", 0.5), ("光伏发电", 0.05)),
    TariffClass.LARGE_INDUSTRY: (("专变用户", 1.0), ("高耗能", 0.3), ("光伏发电", 0.1), ("电子账单", 0.6)),
    TariffClass.AGRICULTURAL: (("农业排灌", 0.5), ("电子账单", 0.2)),
}
_BUILDING_FLOORS = {True: (1, 33), False: (1, 7)}  # urban towers, county walk-ups


class GenerationError(Exception):
    """The demo cannot be generated here (data already present, unsupported database…)."""


@dataclass
class GenerationReport:
    customers: int
    seed: int
    engine: str
    supply_units: int = 0
    departments: int = 0
    transformer_areas: int = 0
    outlets: int = 0
    accounts: int = 0
    customer_users: int = 0
    identities: int = 0
    bindings: int = 0
    staff: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _User:
    """A customer user in the current chunk: bindings point at chunk account indexes."""

    phone: str
    display_name: str
    openid: str = ""
    bindings: list[tuple[int, BindingRole, datetime | None]] = field(default_factory=list)
    channel: Channel | None = None  # fixed binding channel and method (the showcase); else drawn
    verified_by: VerificationMethod | None = None


def demo_data_present(using: str = "default") -> bool:
    """True once the showcase account exists (the generator writes it in its first chunk)."""
    return Account.objects.using(using).filter(number=SHOWCASE_NUMBER).exists()


def _demo_models() -> list:
    """The generator's models plus every model that references them, children first.

    Regeneration must empty all of them: a later app's rows (bills, tickets…) point at
    accounts and would otherwise block the delete or dangle.
    """
    roots = [Binding, Identity, CustomerUser, Account, Outlet, TransformerArea, StaffUser, Department, SupplyUnit]
    found = list(roots)
    changed = True
    while changed:
        changed = False
        for model in apps.get_models(include_auto_created=True):
            if model in found or model._meta.proxy or not model._meta.managed:
                continue
            if any(f.many_to_one or f.one_to_one
                   for f in model._meta.concrete_fields if f.related_model in found):
                found.insert(0, model)
                changed = True
    return found


def demo_data_flush(*, using: str = "default") -> None:
    """Delete every demo row (and everything referencing them) in one transaction.

    Plain ``DELETE FROM`` per table: a cascade through the ORM would load a million rows.
    Foreign keys are checked at commit, so the order inside the transaction is free.
    """
    connection = connections[using]
    try:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            from powerdesk.billing.demo import demo_billing_flush  # append-only ledger of demo bills

            demo_billing_flush(using=using)
            for model in _demo_models():
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
    except DatabaseError as exc:
        where = (f"删除 {connection.settings_dict['NAME']} 后" if connection.vendor == "sqlite"
                 else "换用一个空数据库")
        raise GenerationError(
            f"示范数据无法清除（{exc}）：只追加的审计记录引用了示范员工，不能删除。请{where}重新运行。"
        ) from exc


def generate_demo_utility(
    *, customers: int, seed: int, using: str = "default",
    progress: Callable[[int, int], None] | None = None, billing: bool = True,
) -> GenerationReport:
    """Create the demo utility with ``customers`` accounts (the showcase 0000000001 included).

    Refuses a database that already has supply units or accounts; ``demo_data_flush`` first.
    ``progress(done, total)`` is called after each committed chunk of accounts.
    """
    if customers < 1:
        raise GenerationError("customers 必须至少为 1。")
    connection = connections[using]
    if not connection.features.can_return_rows_from_bulk_insert:
        raise GenerationError(f"{connection.vendor} 不能在批量插入时返回主键；请使用 SQLite ≥ 3.35 或 PostgreSQL。")
    if SupplyUnit.objects.using(using).exists() or Account.objects.using(using).exists():
        raise GenerationError("数据库中已有供电单位或用电户；如需重新生成示范数据，请先清除（--regenerate）。")
    report = _Generator(customers=customers, seed=seed, using=using, progress=progress).run()
    if billing:  # meters, 24 months of bills, payments, readings (powerdesk.billing.demo)
        from powerdesk.billing.demo import generate_demo_billing
        from powerdesk.tariffs.demo import demo_tariffs

        demo_tariffs()  # the catalogue the demo bills are priced on (and bill checks recompute with)
        report.timings["billing"] = generate_demo_billing(seed=seed, reference_date=REFERENCE_DATE, using=using).seconds
    return report


class _Generator:
    def __init__(self, *, customers: int, seed: int, using: str, progress) -> None:
        self.customers = customers
        self.using = using
        self.progress = progress
        self.rng = Random(seed)
        self.factory = PeopleFactory(self.rng, reference_date=REFERENCE_DATE)
        self.factory.reserve_id_card_number(SHOWCASE_ID_CARD)
        self.province = load_province()
        self.report = GenerationReport(customers=customers, seed=seed, engine=connections[using].vendor)
        self.timings = {"plan": 0.0, "organisation": 0.0, "accounts": 0.0, "id_cards": 0.0, "insert": 0.0}
        self.next_number = 2
        self.showcase_done = False
        self.unit_pks: dict[str, int] = {}
        now = datetime.now(tz=UTC)  # created_at/updated_at only; nothing else depends on the clock
        self.inserters = {model: BulkInserter(model, using=using, now=now)
                          for model in (Account, CustomerUser, Identity, Binding)}
        # The chunk being built: account rows (dicts of attnames) and the users binding them.
        self.accounts: list[dict] = []
        self.users: list[_User] = []
        self.done = 0

    # --- driver ------------------------------------------------------------------------------

    def run(self) -> GenerationReport:
        started = time.perf_counter()
        plans = plan_province(self.rng, self.province, self.customers, self.factory)
        self._lap("plan", started)
        with _fast_sqlite_writes(self.using):
            lap = time.perf_counter()
            with transaction.atomic(using=self.using):
                self._write_organisation(plans)
            self._lap("organisation", lap)
            for plan in plans:
                for town_plan in plan.towns:
                    for area in town_plan.transformer_areas:
                        self._fill_area(plan, town_plan, area)
            self._flush()
        self.report.seconds = round(time.perf_counter() - started, 3)
        self.report.timings = {name: round(seconds, 3) for name, seconds in self.timings.items()}
        return self.report

    def _lap(self, name: str, since: float) -> None:
        self.timings[name] += time.perf_counter() - since

    # --- organisation ------------------------------------------------------------------------

    def _write_organisation(self, plans: list[CountyPlan]) -> None:
        db = self.using
        province_unit = SupplyUnit(code=PROVINCE_UNIT_CODE, name=PROVINCE_UNIT_NAME, level=UnitLevel.PROVINCE,
                                   path=f"/{PROVINCE_UNIT_CODE}/", division_code=self.province.code)
        levels: list[list[SupplyUnit]] = [[province_unit], [], [], []]
        paths = {PROVINCE_UNIT_CODE: province_unit.path}
        for city in self.province.cities:
            code = city.code[:4]
            paths[code] = f"{paths[PROVINCE_UNIT_CODE]}{code}/"
            levels[1].append(SupplyUnit(code=code, name=f"{city.short}供电公司", level=UnitLevel.CITY,
                                        path=paths[code], division_code=city.code))
        for plan in plans:
            county = plan.county
            paths[county.code] = f"{paths[county.city_code[:4]]}{county.code}/"
            levels[2].append(SupplyUnit(code=county.code, name=f"{county.name}供电公司", level=UnitLevel.COUNTY,
                                        path=paths[county.code], division_code=county.code))
            for station in plan.stations:
                levels[3].append(SupplyUnit(code=station.code, name=station.name, level=UnitLevel.STATION,
                                            path=f"{paths[county.code]}{station.code}/",
                                            division_code=station.division_code))
        by_path: dict[str, SupplyUnit] = {}
        for units in levels:
            for unit in units:
                parent_path = unit.path.rsplit("/", 2)[0] + "/"
                unit.parent = by_path.get(parent_path)
            SupplyUnit.objects.using(db).bulk_create(units, batch_size=BATCH_SIZE)
            for unit in units:
                by_path[unit.path] = unit
                self.unit_pks[unit.code] = unit.pk
        all_units = [unit for units in levels for unit in units]
        departments = [
            Department(supply_unit_id=unit.pk, name=name, kind=kind)
            for unit in all_units for name, kind in UNIT_DEPARTMENTS[UnitLevel(unit.level)]
        ]
        Department.objects.using(db).bulk_create(departments, batch_size=BATCH_SIZE)

        areas: list[tuple[TransformerAreaPlan, TransformerArea]] = []
        outlets: list[Outlet] = []
        for plan in plans:
            for town_plan in plan.towns:
                for area in town_plan.transformer_areas:
                    areas.append((area, TransformerArea(
                        code=area.code, name=area.name, capacity_kva=area.capacity_kva,
                        supply_unit_id=self.unit_pks[town_plan.station_code],
                    )))
            for outlet in plan.outlets:
                gcj_lng, gcj_lat = wgs84_to_gcj02(outlet.lng, outlet.lat)
                outlets.append(Outlet(
                    code=outlet.code, name=outlet.name, supply_unit_id=self.unit_pks[outlet.unit_code],
                    address=outlet.address, division_code=outlet.division_code, phone=outlet.phone,
                    manager_name=outlet.manager_name, opening_hours=outlet.opening_hours,
                    services=outlet.services, lng_wgs84=_deg(outlet.lng), lat_wgs84=_deg(outlet.lat),
                    lng_gcj02=_deg(gcj_lng), lat_gcj02=_deg(gcj_lat),
                ))
        TransformerArea.objects.using(db).bulk_create([row for _plan, row in areas], batch_size=BATCH_SIZE)
        for area_plan, row in areas:
            area_plan.pk = row.pk
        Outlet.objects.using(db).bulk_create(outlets, batch_size=BATCH_SIZE)
        staff = demo_staff_build(password=demo_staff_password(), using=db)
        StaffUser.objects.using(db).bulk_create(staff)
        self.report.supply_units = len(all_units)
        self.report.departments = len(departments)
        self.report.transformer_areas = len(areas)
        self.report.outlets = len(outlets)
        self.report.staff = len(staff)

    # --- accounts ----------------------------------------------------------------------------

    def _fill_area(self, plan: CountyPlan, town_plan: TownPlan, area: TransformerAreaPlan) -> None:
        rng = self.rng
        remaining = area.accounts
        while remaining > 0:
            lap = time.perf_counter()
            if not self.showcase_done:
                self._showcase(plan, town_plan, area)
                remaining -= 1
            else:
                tariff = _TARIFFS.pick(rng)
                if tariff == TariffClass.RESIDENTIAL:
                    owned = min(remaining, 1 if rng.random() < 0.95 else rng.choice((2, 2, 2, 3)))
                    self._resident(plan, town_plan, area, owned)
                    remaining -= owned
                else:
                    self._organisation(plan, town_plan, area, tariff)
                    remaining -= 1
            self._lap("accounts", lap)
            if len(self.accounts) >= BATCH_SIZE:
                self._flush()

    def _base_account(self, plan: CountyPlan, town_plan: TownPlan, area: TransformerAreaPlan | None,
                      lng: float, lat: float, *, number: str = "") -> dict:
        county = plan.county
        gcj_lng, gcj_lat = wgs84_to_gcj02(lng, lat)
        if not number:
            number = f"{self.next_number:010d}"
            self.next_number += 1
        roll = self.rng.random()
        status = (AccountStatus.CLOSED if roll < CLOSED_SHARE
                  else AccountStatus.SUSPENDED if roll < CLOSED_SHARE + SUSPENDED_SHARE else AccountStatus.ACTIVE)
        return {
            "number": number, "status": status, "supply_unit_id": self.unit_pks[town_plan.station_code],
            "transformer_area_id": area.pk if area else None, "province_code": self.province.code,
            "city_code": county.city_code, "county_code": county.code, "town_code": town_plan.town.code,
            "lng_wgs84": _deg(lng), "lat_wgs84": _deg(lat), "lng_gcj02": _deg(gcj_lng), "lat_gcj02": _deg(gcj_lat),
            "credit_rating": _CREDIT.pick(self.rng),
        }

    def _residential_address(self, plan: CountyPlan, town_plan: TownPlan, area: TransformerAreaPlan) -> str:
        rng = self.rng
        county = plan.county
        prefix = f"{county.city_name}{county.name}{town_plan.town.name}"
        if area.is_village:
            return f"{prefix}{area.community}{rng.randint(1, 260)}号"
        low, high = _BUILDING_FLOORS[county.urban and town_plan.town.is_subdistrict]
        building = rng.randint(1, 36)
        word = rng.choice(self.factory.data["building_words"]["building"])
        unit = f"{rng.randint(1, 4)}单元" if rng.random() < 0.5 else ""
        room = f"{rng.randint(low, high)}{rng.randint(1, 4):02d}"
        return f"{prefix}{area.road}{area.road_number}号{area.community}{building}{word}{unit}{room}室"

    def _sealed(self, id_card_number: str) -> dict:
        lap = time.perf_counter()
        key_id, ciphertext = id_card_seal(id_card_number)
        digest = id_card_hash(id_card_number)
        self._lap("id_cards", lap)
        return {"holder_id_card_key_id": key_id, "holder_id_card_ciphertext": ciphertext,
                "holder_id_card_hash": digest}

    def _person_account(self, person: Person, plan, town_plan, area, *, sealed: dict, number: str = "") -> dict:
        rng = self.rng
        lng, lat = point_near(rng, area.lng, area.lat, plan.jitter_km)
        account = self._base_account(plan, town_plan, area, lng, lat, number=number)
        old = person.age_group == AgeGroup.OVER_60
        tags = [tag for tag, share in _RESIDENT_TAGS if rng.random() < share]
        if old and rng.random() < 0.08:
            tags.append("独居老人")
        adult_from = person.birth_date.replace(year=person.birth_date.year + 18, day=1)
        account.update(sealed)
        account.update(
            holder_kind=HolderKind.PERSON, holder_name=person.name, phone=person.phone,
            tariff_class=TariffClass.RESIDENTIAL, address=self._residential_address(plan, town_plan, area),
            is_important=rng.random() < 0.005,  # home life-support equipment and the like
            age_group=person.age_group, occupation=person.occupation,
            consumption_level=_CONSUMPTION[TariffClass.RESIDENTIAL].pick(rng),
            preferred_channel=(_CHANNELS_OLD if old else _CHANNELS_YOUNG).pick(rng), tags=tags,
            opened_on=self._date_between(max(adult_from, date(1995, 1, 1)), REFERENCE_DATE),
        )
        return account

    def _showcase(self, plan, town_plan, area) -> None:
        person = Person(name=SHOWCASE_NAME, surname="张", male=True, birth_date=date(1990, 3, 7),
                        age_group=AgeGroup.FROM_30_TO_44, occupation="工程师", phone=SHOWCASE_PHONE,
                        id_card_number=SHOWCASE_ID_CARD)
        account = self._person_account(person, plan, town_plan, area, sealed=self._sealed(SHOWCASE_ID_CARD),
                                       number=SHOWCASE_NUMBER)
        account.update(status=AccountStatus.ACTIVE, is_important=False, preferred_channel=Channel.WECHAT,
                       opened_on=date(2015, 3, 1))
        self.accounts.append(account)
        user = _User(phone=SHOWCASE_PHONE, display_name=SHOWCASE_NAME, openid=SHOWCASE_OPENID,
                     channel=Channel.WECHAT, verified_by=VerificationMethod.SMS_OTP)
        user.bindings.append((len(self.accounts) - 1, BindingRole.HOLDER, None))
        self.users.append(user)
        self.showcase_done = True

    def _resident(self, plan, town_plan, area, owned: int) -> None:
        rng = self.rng
        person = self.factory.person(plan.county.code)
        sealed = self._sealed(person.id_card_number)
        first = len(self.accounts)
        for _ in range(owned):  # a second flat: same holder, phone and ID card
            self.accounts.append(self._person_account(person, plan, town_plan, area, sealed=sealed))
        if rng.random() >= REGISTERED_SHARE:
            return
        indexes = [i for i in range(first, len(self.accounts))
                   if self.accounts[i]["status"] != AccountStatus.CLOSED]
        if not indexes:
            return
        holder = _User(phone=person.phone, display_name=person.name, openid=self._maybe_openid())
        holder.bindings.extend((i, BindingRole.HOLDER, None) for i in indexes)
        self.users.append(holder)
        if rng.random() < FAMILY_SHARE:
            name, _age_group = self.factory.relative_name(person)
            family = _User(phone=self.factory.phone(), display_name=name, openid=self._maybe_openid())
            family.bindings.append((indexes[0], BindingRole.FAMILY, None))
            self.users.append(family)

    def _organisation(self, plan, town_plan, area, tariff: TariffClass) -> None:
        rng = self.rng
        county = plan.county
        if tariff == TariffClass.LARGE_INDUSTRY:
            kind = "company"
        elif tariff == TariffClass.AGRICULTURAL:
            kind = "rural" if rng.random() < 0.85 else "irrigation"
        else:
            kind = _ORG_KINDS.pick(rng)
        name, code_prefix = self.factory.organisation_name(kind, county_short=county.short,
                                                           town_short=town_plan.town.short)
        dedicated = tariff == TariffClass.LARGE_INDUSTRY  # 专变: its own transformer, no 台区
        if dedicated:
            lng, lat = point_near(rng, county.lng, county.lat, county.radius_km * 0.85)
        else:
            lng, lat = point_near(rng, area.lng, area.lat, plan.jitter_km)
        account = self._base_account(plan, town_plan, None if dedicated else area, lng, lat)
        opened_on = self._date_between(date(1998, 1, 1), REFERENCE_DATE)
        road = road_name(rng, self.factory.data)
        account.update(
            opened_on=opened_on, holder_kind=HolderKind.ORGANISATION, holder_name=name,
            holder_org_code=self.factory.org_code(county.code, code_prefix, opened_on),
            phone=self.factory.phone(), tariff_class=tariff,
            address=f"{county.city_name}{county.name}{town_plan.town.name}{road}{rng.randint(1, 599)}号",
            is_important=(
                (tariff == TariffClass.LARGE_INDUSTRY and rng.random() < 0.6)
                or name.endswith(IMPORTANT_INSTITUTIONS)
                or (kind == "company" and rng.random() < 0.08)
            ),
            consumption_level=_CONSUMPTION[tariff].pick(rng), preferred_channel=_CHANNELS_ORG.pick(rng),
            tags=[tag for tag, share in _ORG_TAGS[tariff] if rng.random() < share],
        )
        self.accounts.append(account)
        if account["status"] != AccountStatus.CLOSED and rng.random() < AGENT_SHARE:
            agent_name = self.factory.surname() + self.factory.given_name(rng.random() < 0.6,
                                                                          rng.randint(1965, 2000))
            agent = _User(phone=self.factory.phone(), display_name=agent_name, openid=self._maybe_openid())
            valid_until = REFERENCE_TIME + timedelta(days=rng.randint(-60, 3 * 365))
            agent.bindings.append((len(self.accounts) - 1, BindingRole.AGENT, valid_until))
            self.users.append(agent)

    # --- writing a chunk ---------------------------------------------------------------------

    def _flush(self) -> None:
        """Write the chunk in one transaction: accounts, users, identities, bindings."""
        if not self.accounts:
            return
        lap = time.perf_counter()
        rng = self.rng
        accounts, users = self.inserters[Account], self.inserters[CustomerUser]
        identities_out, bindings_out = self.inserters[Identity], self.inserters[Binding]
        with transaction.atomic(using=self.using):
            for row, pk in zip(self.accounts, accounts.reserve_ids(len(self.accounts)), strict=True):
                row["id"] = pk
            user_ids = users.reserve_ids(len(self.users))
            identities, bindings = [], []
            for spec, user_id in zip(self.users, user_ids, strict=True):
                identities.append({"customer_user_id": user_id, "provider": IdentityProvider.PHONE,
                                   "app_id": "", "subject": spec.phone})
                if spec.openid:
                    identities.append({"customer_user_id": user_id, "provider": IdentityProvider.WECHAT_OPENID,
                                       "app_id": WECHAT_APP_ID, "subject": spec.openid})
                for index, role, valid_until in spec.bindings:
                    channel = spec.channel or (Channel.WECHAT if spec.openid else _BINDING_CHANNELS.pick(rng))
                    verified_by = spec.verified_by
                    if not verified_by:
                        if channel == Channel.OUTLET:
                            verified_by = VerificationMethod.OUTLET
                        elif role == BindingRole.HOLDER and rng.random() < 0.2:
                            verified_by = VerificationMethod.REAL_NAME
                        else:
                            verified_by = VerificationMethod.SMS_OTP
                    valid_from = REFERENCE_TIME - timedelta(seconds=rng.randrange(3 * 365 * 86400))
                    if valid_until is not None and valid_until <= valid_from:
                        valid_until = valid_from + timedelta(days=365)
                    bindings.append({"customer_user_id": user_id, "account_id": self.accounts[index]["id"],
                                     "role": role, "verified_by": verified_by, "channel": channel,
                                     "valid_from": valid_from, "valid_until": valid_until})
            for row, pk in zip(identities, identities_out.reserve_ids(len(identities)), strict=True):
                row["id"] = pk
            for row, pk in zip(bindings, bindings_out.reserve_ids(len(bindings)), strict=True):
                row["id"] = pk
            accounts.insert(self.accounts)
            users.insert([{"id": user_id, "phone": spec.phone, "display_name": spec.display_name}
                          for spec, user_id in zip(self.users, user_ids, strict=True)])
            identities_out.insert(identities)
            bindings_out.insert(bindings)
        self.report.accounts += len(self.accounts)
        self.report.customer_users += len(self.users)
        self.report.identities += len(identities)
        self.report.bindings += len(bindings)
        self.done += len(self.accounts)
        self.accounts, self.users = [], []
        self._lap("insert", lap)
        if self.progress:
            self.progress(self.done, self.customers)

    # --- small draws -------------------------------------------------------------------------

    def _maybe_openid(self) -> str:
        return self.factory.wechat_openid() if self.rng.random() < WECHAT_SHARE else ""

    def _date_between(self, start: date, end: date) -> date:
        if end <= start:
            return end
        return start + timedelta(days=self.rng.randrange((end - start).days))


def _deg(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


@contextmanager
def _fast_sqlite_writes(using: str):
    """Skip fsync while generating into SQLite: a crash mid-way means regenerating anyway."""
    connection = connections[using]
    if connection.vendor != "sqlite" or connection.in_atomic_block:  # SQLite refuses it mid-transaction
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=NORMAL")
