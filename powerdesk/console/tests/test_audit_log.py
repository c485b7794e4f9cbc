"""个人信息访问审计: scoped to the viewer's unit, paginated, read-only, append-only in the database."""

import pytest
from django.db import DatabaseError, transaction
from django.urls import get_resolver

from powerdesk.console.tests.helpers import client_for
from powerdesk.core.testing import make_account, make_staff
from powerdesk.privacy.models import PersonalDataAccess
from powerdesk.privacy.services import pii_access_record
from powerdesk.staff.roles import Role

URL = "/console/audit/"


def record(staff, account, purpose: str) -> PersonalDataAccess:
    return pii_access_record(staff=staff, subject_type="account", subject_id=account.pk, fields=["phone"],
                             purpose=purpose)


@pytest.fixture
def audit_rows(admin_user, account_a, account_b):
    record(admin_user, account_a, "甲县来电核实")
    record(admin_user, account_b, "乙县来电核实")


def test_province_level_sees_every_row(admin_user, audit_rows):
    html = client_for(admin_user).get(URL).content.decode()
    assert "甲县来电核实" in html and "乙县来电核实" in html
    assert 'href="/console/customers/0000000001/"' in html


def test_county_manager_sees_only_rows_about_accounts_in_the_county(company, audit_rows):
    county_b_manager = make_staff("manager_b", Role.DEPT_MANAGER, company.county_b)
    html = client_for(county_b_manager).get(URL).content.decode()
    assert "乙县来电核实" in html and "甲县来电核实" not in html


def test_city_manager_sees_both_counties(manager, audit_rows):
    html = client_for(manager).get(URL).content.decode()
    assert "甲县来电核实" in html and "乙县来电核实" in html


def test_rows_are_paginated_newest_first(admin_user, account_a):
    for n in range(55):
        record(admin_user, account_a, f"事由{n:02d}")
    client = client_for(admin_user)
    first = client.get(URL).content.decode()
    assert "事由54" in first and "事由04" not in first and "共 55 条" in first
    second = client.get(URL, {"page": 2}).content.decode()
    assert "事由04" in second and "事由54" not in second


def test_audit_page_query_count_is_fixed(admin_user, account_a, account_b, django_assert_max_num_queries):
    for n in range(20):
        record(admin_user, account_a if n % 2 else account_b, f"事由{n}")
    # session, user, user's unit, count, page, 户号 of the page's accounts
    client = client_for(admin_user)
    with django_assert_max_num_queries(6):
        client.get(URL)


def test_the_console_offers_no_way_to_change_the_trail():
    console = next(p for p in get_resolver().url_patterns if getattr(p, "namespace", None) == "console")
    audit_routes = [p for p in console.url_patterns if "audit" in str(p.pattern)]
    assert [p.name for p in audit_routes] == ["audit_log"]


def test_audit_page_is_get_only(admin_user):
    assert client_for(admin_user).post(URL).status_code == 405


def test_database_refuses_update_of_an_audit_row(admin_user, account_a):
    row = record(admin_user, account_a, "原始事由")
    with pytest.raises(DatabaseError), transaction.atomic():
        PersonalDataAccess.objects.filter(pk=row.pk).update(purpose="篡改")
    assert PersonalDataAccess.objects.get(pk=row.pk).purpose == "原始事由"


def test_database_refuses_delete_of_an_audit_row(admin_user, account_a):
    row = record(admin_user, account_a, "原始事由")
    with pytest.raises(DatabaseError), transaction.atomic():
        PersonalDataAccess.objects.filter(pk=row.pk).delete()
    assert PersonalDataAccess.objects.filter(pk=row.pk).exists()


def test_rows_about_accounts_outside_a_county_do_not_leak_by_count(company, admin_user, account_b):
    make_account(number="0000000005", unit=company.county_a, id_card=None)
    record(admin_user, account_b, "乙县")
    county_a_manager = make_staff("manager_a", Role.DEPT_MANAGER, company.county_a)
    html = client_for(county_a_manager).get(URL).content.decode()
    assert "暂无访问记录" in html
