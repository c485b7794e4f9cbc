"""The demo generator: deterministic, realistic enough, bulk-inserted, regenerable."""

from __future__ import annotations

import math
import os
import re
import stat
from collections import Counter
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from powerdesk.customers.choices import AgeGroup, BindingRole, HolderKind, IdentityProvider, TariffClass
from powerdesk.customers.models import Account, Binding, CustomerUser, Identity
from powerdesk.customers.pii import id_card_hash, id_card_reveal
from powerdesk.customers.validators import validate_id_card_number, validate_mobile_phone
from powerdesk.demo import generator
from powerdesk.demo.generator import (
    REFERENCE_DATE,
    SHOWCASE_NUMBER,
    SHOWCASE_OPENID,
    WECHAT_APP_ID,
    GenerationError,
    demo_data_flush,
    demo_data_present,
    generate_demo_utility,
)
from powerdesk.demo.logins import DEMO_LOGINS, PASSWORD_ENV, demo_staff_password
from powerdesk.demo.people import AGE_RANGES, uscc_check_char
from powerdesk.demo.reference import province
from powerdesk.organisation.models import Department, Outlet, SupplyUnit, TransformerArea
from powerdesk.privacy.services import pii_access_record
from powerdesk.staff.models import StaffUser

# 浙江省 with a margin: every generated point must fall in here.
ZHEJIANG_LNG = (118.0, 123.3)
ZHEJIANG_LAT = (27.0, 31.3)


@pytest.fixture(autouse=True)
def _fast_passwords(settings, monkeypatch):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setenv(PASSWORD_ENV, "Demo-Password-2026")


def snapshot() -> dict:
    """Everything the generator decides, keyed by natural keys (ids and clocks left out)."""
    accounts = []
    for account in Account.objects.select_related("supply_unit", "transformer_area").order_by("number"):
        row = {f.attname: getattr(account, f.attname) for f in Account._meta.concrete_fields}
        for volatile in ("id", "created_at", "updated_at", "holder_id_card_ciphertext", "holder_id_card_key_id",
                         "supply_unit_id", "transformer_area_id"):
            row.pop(volatile)
        row["supply_unit"] = account.supply_unit.code
        row["transformer_area"] = account.transformer_area.code if account.transformer_area else None
        row["id_card"] = id_card_reveal(account)
        accounts.append(row)
    return {
        "accounts": accounts,
        "units": list(SupplyUnit.objects.order_by("path").values_list("code", "name", "level", "path",
                                                                       "division_code")),
        "areas": list(TransformerArea.objects.order_by("code").values_list("code", "name", "supply_unit__code",
                                                                            "capacity_kva")),
        "outlets": list(Outlet.objects.order_by("code").values_list(
            "code", "name", "address", "phone", "manager_name", "opening_hours", "services", "lng_wgs84",
            "lat_wgs84", "lng_gcj02", "lat_gcj02")),
        "users": sorted(CustomerUser.objects.values_list("phone", "display_name")),
        "identities": sorted(Identity.objects.values_list("customer_user__phone", "provider", "app_id", "subject")),
        "bindings": sorted(Binding.objects.values_list(
            "customer_user__phone", "account__number", "role", "verified_by", "channel", "valid_from",
            "valid_until")),
    }


@pytest.mark.django_db
def test_same_seed_gives_the_same_rows_and_another_seed_does_not():
    generate_demo_utility(customers=300, seed=7)
    first = snapshot()
    demo_data_flush()
    assert not demo_data_present() and not Account.objects.exists() and not SupplyUnit.objects.exists()
    generate_demo_utility(customers=300, seed=7)
    assert snapshot() == first
    demo_data_flush()
    generate_demo_utility(customers=300, seed=8)
    other = snapshot()
    assert other["accounts"] != first["accounts"]
    assert other["bindings"] != first["bindings"]


@pytest.mark.django_db
def test_showcase_account_has_its_customer_user_with_phone_and_wechat_identities():
    generate_demo_utility(customers=50, seed=1)
    account = Account.objects.select_related("supply_unit").get(number=SHOWCASE_NUMBER)
    assert (account.holder_name, account.phone, account.tariff_class) == ("张三", "13800000000",
                                                                          TariffClass.RESIDENTIAL)
    assert account.county_code == "330102" and account.supply_unit.path.startswith("/33/3301/330102/")
    assert id_card_reveal(account) == generator.SHOWCASE_ID_CARD
    validate_id_card_number(generator.SHOWCASE_ID_CARD)
    user = CustomerUser.objects.get(phone="13800000000")
    identities = set(user.identities.values_list("provider", "app_id", "subject"))
    assert identities == {(IdentityProvider.PHONE, "", "13800000000"),
                          (IdentityProvider.WECHAT_OPENID, WECHAT_APP_ID, SHOWCASE_OPENID)}
    binding = Binding.objects.get(customer_user=user, account=account)
    assert binding.role == BindingRole.HOLDER and binding.ended_at is None and binding.valid_until is None


@pytest.mark.django_db
def test_counts_match_the_report_and_the_company_tree_is_complete():
    report = generate_demo_utility(customers=1200, seed=3)
    assert report.accounts == Account.objects.count() == 1200
    assert report.customer_users == CustomerUser.objects.count()
    assert report.identities == Identity.objects.count()
    assert report.bindings == Binding.objects.count()
    assert report.outlets == Outlet.objects.count() and report.transformer_areas == TransformerArea.objects.count()
    levels = Counter(SupplyUnit.objects.values_list("level", flat=True))
    assert (levels["province"], levels["city"], levels["county"]) == (1, 11, 90)
    assert 90 * 1 <= levels["station"] <= 90 * 4
    assert SupplyUnit.objects.get(code="33").name == "示范省电力公司"
    for unit in SupplyUnit.objects.exclude(level="province").select_related("parent"):
        assert unit.path == f"{unit.parent.path}{unit.code}/"
    assert Department.objects.filter(supply_unit__level="county").count() == 90 * 3
    # One outlet per county and per station, each with hours, services and both datums.
    assert Outlet.objects.count() == levels["county"] + levels["station"]
    outlet = Outlet.objects.first()
    assert outlet.opening_hours["mon"] and outlet.services and outlet.lng_gcj02 != outlet.lng_wgs84
    # About one 台区 per 150 accounts, at least one in every town that has accounts.
    assert TransformerArea.objects.count() >= math.ceil(1200 / 150)
    assert TransformerArea.objects.filter(name__endswith="号台区").count() == TransformerArea.objects.count()
    staff = {u.username: u for u in StaffUser.objects.select_related("supply_unit")}
    assert set(staff) == {login.username for login in DEMO_LOGINS}
    assert staff["admin"].role == "admin" and staff["admin"].supply_unit.code == "33"
    assert staff["agent"].supply_unit.level == "county" and staff["dept_manager"].supply_unit.level == "city"
    assert all(user.check_password("Demo-Password-2026") for user in staff.values())


@pytest.mark.django_db
def test_tariff_mix_important_customers_and_bindings_are_roughly_as_designed():
    generate_demo_utility(customers=3000, seed=11)
    mix = Counter(Account.objects.values_list("tariff_class", flat=True))
    assert 0.84 <= mix[TariffClass.RESIDENTIAL] / 3000 <= 0.92
    assert 0.06 <= mix[TariffClass.GENERAL_COMMERCIAL] / 3000 <= 0.12
    assert 0.002 <= mix[TariffClass.LARGE_INDUSTRY] / 3000 <= 0.025
    assert 0.008 <= mix[TariffClass.AGRICULTURAL] / 3000 <= 0.035
    assert 0.01 <= Account.objects.filter(is_important=True).count() / 3000 <= 0.035
    # Residents are people; everyone else an organisation with a valid 统一社会信用代码.
    assert not Account.objects.filter(tariff_class=TariffClass.RESIDENTIAL, holder_kind=HolderKind.ORGANISATION)
    for code in Account.objects.filter(holder_kind=HolderKind.ORGANISATION).values_list("holder_org_code", flat=True):
        assert len(code) == 18 and uscc_check_char(code[:17]) == code[17]
    residential = mix[TariffClass.RESIDENTIAL]
    bound = Binding.objects.filter(account__tariff_class=TariffClass.RESIDENTIAL).values("account").distinct()
    assert 0.28 <= bound.count() / residential <= 0.42
    # Some users hold several accounts; some accounts are bound by a holder and a family member.
    per_user = Counter(Binding.objects.values_list("customer_user_id", flat=True))
    assert any(count >= 2 for count in per_user.values())
    per_account = Counter(Binding.objects.values_list("account_id", flat=True))
    assert any(count == 2 for count in per_account.values())
    assert Binding.objects.filter(role=BindingRole.FAMILY).exists()
    assert Identity.objects.filter(provider=IdentityProvider.WECHAT_OPENID, app_id=WECHAT_APP_ID).count() > 10


@pytest.mark.django_db
def test_account_numbers_phones_id_cards_and_coordinates_are_valid():
    generate_demo_utility(customers=800, seed=5)
    city_names = {city.code: city.name for city in province().cities}
    numbers = list(Account.objects.order_by("number").values_list("number", flat=True))
    assert numbers == [f"{n:010d}" for n in range(1, 801)]
    for phone in CustomerUser.objects.values_list("phone", flat=True):
        validate_mobile_phone(phone)
    for account in Account.objects.all():
        validate_mobile_phone(account.phone)
        assert ZHEJIANG_LNG[0] < account.lng_wgs84 < ZHEJIANG_LNG[1]
        assert ZHEJIANG_LAT[0] < account.lat_wgs84 < ZHEJIANG_LAT[1]
        assert 0.001 < abs(account.lng_gcj02 - account.lng_wgs84) < 0.02
        assert account.address.startswith(city_names[account.city_code])
        if account.holder_kind != HolderKind.PERSON:
            assert not account.holder_id_card_ciphertext
            continue
        number = id_card_reveal(account)
        validate_id_card_number(number)  # shape, region, date and checksum
        assert number[:6] == account.county_code
        assert account.holder_id_card_hash == id_card_hash(number)
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        age = (REFERENCE_DATE - born).days // 365.25
        low, high = AGE_RANGES[AgeGroup(account.age_group)]
        assert low - 1 <= age <= high + 1


@pytest.mark.django_db
def test_rows_go_in_by_the_chunk_not_one_by_one(monkeypatch):
    monkeypatch.setattr(generator, "BATCH_SIZE", 500)
    with CaptureQueriesContext(connection) as queries:
        report = generate_demo_utility(customers=2000, seed=2)
    # executemany is logged once, as "<n> times: INSERT …"; PostgreSQL's COPY as "<n> rows: COPY …".
    statements = [re.sub(r"^\d+ (times|rows): ", "", q["sql"]).lstrip() for q in queries.captured_queries]
    inserts = [sql for sql in statements if sql.upper().startswith(("INSERT", "COPY"))]
    into_accounts = [sql for sql in inserts if '"customers_account"' in sql]
    into_bindings = [sql for sql in inserts if '"customers_binding"' in sql]
    assert 2000 / 503 <= len(into_accounts) <= math.ceil(2000 / 500) + 1
    assert len(into_bindings) == len(into_accounts)
    # The organisation tree, 台区 and outlets add a fixed handful, not one per row.
    assert len(inserts) < 80, len(inserts)
    assert report.accounts == 2000


@pytest.mark.django_db
def test_generating_twice_is_refused_until_flushed():
    generate_demo_utility(customers=20, seed=1)
    with pytest.raises(GenerationError):
        generate_demo_utility(customers=20, seed=1)
    demo_data_flush()
    generate_demo_utility(customers=20, seed=1)
    assert demo_data_present()


def test_password_is_generated_once_into_var_with_mode_0600(settings, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV)
    first = demo_staff_password()
    path = settings.VAR_DIR / "demo_admin_password"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(first) >= 12 and demo_staff_password() == first
    monkeypatch.setenv(PASSWORD_ENV, "From-The-Environment")
    assert demo_staff_password() == "From-The-Environment"


@pytest.mark.django_db
def test_flush_refuses_and_keeps_everything_when_the_append_only_audit_points_at_demo_staff():
    generate_demo_utility(customers=20, seed=1)
    pii_access_record(staff=StaffUser.objects.get(username="admin"), subject_type="account",
                      subject_id=Account.objects.get(number=SHOWCASE_NUMBER).pk, fields=["id_card"],
                      purpose="核对户主身份")
    with pytest.raises(GenerationError, match="审计"):
        demo_data_flush()
    assert Account.objects.count() == 20 and StaffUser.objects.count() == len(DEMO_LOGINS)
