"""Standing test personas, shared by every app's tests.

A small company tree — province 33 → city 3301 → counties 330102 and 330106 → one station in
each county — with an agent and a back-office clerk in county A, an agent in county B, a city
manager, an analyst and an admin; and a customer bound to one account in county A.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import pytest

from powerdesk.customers.choices import BindingRole, HolderKind, TariffClass, VerificationMethod
from powerdesk.customers.models import Account, Binding, CustomerUser, Identity
from powerdesk.events.choices import Channel
from powerdesk.organisation.models import SupplyUnit
from powerdesk.organisation.services import supply_unit_create
from powerdesk.staff.models import StaffUser
from powerdesk.staff.roles import Role
from powerdesk.staff.services import staff_create

STAFF_PASSWORD = "Gongdian#2026!"  # noqa: S105  (test personas only)
SHOWCASE_ID_CARD = "330102199003071230"  # checksum-valid; see customers/tests/test_validators.py


@dataclass
class Company:
    province: SupplyUnit
    city: SupplyUnit
    county_a: SupplyUnit
    county_b: SupplyUnit
    station_a: SupplyUnit
    station_b: SupplyUnit


def make_company() -> Company:
    province = supply_unit_create(code="33", name="示范省电力公司", level="province", division_code="330000")
    city = supply_unit_create(
        code="3301", name="示范市供电公司", level="city", parent=province, division_code="330100"
    )
    county_a = supply_unit_create(
        code="330102", name="上城区供电公司", level="county", parent=city, division_code="330102"
    )
    county_b = supply_unit_create(
        code="330106", name="西湖区供电公司", level="county", parent=city, division_code="330106"
    )
    station_a = supply_unit_create(code="33010201", name="湖滨供电所", level="station", parent=county_a)
    station_b = supply_unit_create(code="33010601", name="灵隐供电所", level="station", parent=county_b)
    return Company(province, city, county_a, county_b, station_a, station_b)


def make_account(
    *,
    number: str,
    unit: SupplyUnit,
    holder_name: str = "张三",
    phone: str = "13800000000",
    id_card: str | None = SHOWCASE_ID_CARD,
    **extra,
) -> Account:
    from powerdesk.customers.services import account_set_holder_id_card

    county = unit if unit.level == "county" else unit.parent
    account = Account(
        number=number,
        holder_kind=HolderKind.PERSON,
        holder_name=holder_name,
        phone=phone,
        tariff_class=TariffClass.RESIDENTIAL,
        supply_unit=unit,
        province_code="330000",
        city_code="330100",
        county_code=county.division_code or county.code,
        address="示范路1号",
        opened_on=date(2015, 3, 1),
        **extra,
    )
    if id_card:
        account_set_holder_id_card(account, id_card, save=False)
    account.save()
    return account


def make_staff(username: str, role: Role, unit: SupplyUnit) -> StaffUser:
    return staff_create(
        username=username, password=STAFF_PASSWORD, role=role, supply_unit=unit, full_name=username
    )


@pytest.fixture
def company(db) -> Company:
    return make_company()


@pytest.fixture
def account_a(company) -> Account:
    """户号 0000000001 of 张三 in county A (station A)."""
    return make_account(number="0000000001", unit=company.station_a)


@pytest.fixture
def account_b(company) -> Account:
    """户号 0000000002 of 李四 in county B."""
    return make_account(
        number="0000000002", unit=company.station_b, holder_name="李四", phone="13900000000", id_card=None
    )


@pytest.fixture
def customer(account_a) -> CustomerUser:
    """A customer user (phone 13800000000) bound to account A as its holder."""
    from django.utils import timezone

    user = CustomerUser.objects.create(phone="13800000000", display_name="张三")
    Identity.objects.create(customer_user=user, provider="phone", app_id="", subject="13800000000")
    Binding.objects.create(
        customer_user=user,
        account=account_a,
        role=BindingRole.HOLDER,
        verified_by=VerificationMethod.SMS_OTP,
        channel=Channel.H5,
        valid_from=timezone.now(),
    )
    return user


@pytest.fixture
def stranger(db) -> CustomerUser:
    """A customer user bound to nothing."""
    return CustomerUser.objects.create(phone="13700000000", display_name="路人")


@pytest.fixture
def agent_a(company) -> StaffUser:
    return make_staff("agent_a", Role.AGENT, company.county_a)


@pytest.fixture
def agent_b(company) -> StaffUser:
    return make_staff("agent_b", Role.AGENT, company.county_b)


@pytest.fixture
def back_office_a(company) -> StaffUser:
    return make_staff("clerk_a", Role.BACK_OFFICE, company.county_a)


@pytest.fixture
def manager(company) -> StaffUser:
    return make_staff("manager", Role.DEPT_MANAGER, company.city)


@pytest.fixture
def analyst(company) -> StaffUser:
    return make_staff("analyst", Role.ANALYST, company.province)


@pytest.fixture
def admin_user(company) -> StaffUser:
    return make_staff("admin", Role.ADMIN, company.province)


@pytest.fixture(autouse=True)
def _isolated_var_dir(tmp_path, settings):
    """Keys, outbox files and uploads go to a per-test directory."""
    from powerdesk.privacy.crypto import reset_keyring_cache

    settings.VAR_DIR = tmp_path / "var"
    settings.PII_KEY_FILE = settings.VAR_DIR / "pii_keys.json"
    reset_keyring_cache()
    yield
    reset_keyring_cache()


@contextmanager
def _sqlite_append_only_triggers_suspended(connection):
    """Let the flush that ends a transactional test on SQLite empty the append-only tables.

    Their triggers (powerdesk.core.db.append_only) refuse DELETE, which is how Django flushes
    SQLite. PostgreSQL flushes with TRUNCATE, which the triggers leave to privileges.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name GLOB '*_no_delete'")
        triggers = cursor.fetchall()
        for name, _sql in triggers:
            cursor.execute(f'DROP TRIGGER "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _name, sql in triggers:
                cursor.execute(sql)


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Caches a process keeps on hot paths (core.process_caches) start empty in every test."""
    from powerdesk.core.process_caches import process_caches_clear

    process_caches_clear()
    yield
    process_caches_clear()


@pytest.fixture(scope="session", autouse=True)
def _flushable_append_only_tables():
    from django.db import connections
    from django.test import TransactionTestCase

    original = TransactionTestCase._fixture_teardown

    def _fixture_teardown(self):
        with _sqlite_append_only_triggers_suspended(connections["default"]):
            original(self)

    TransactionTestCase._fixture_teardown = _fixture_teardown
    yield
    TransactionTestCase._fixture_teardown = original
