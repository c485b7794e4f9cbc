"""员工管理 and 组织机构: read-only, scoped to the admin's unit."""

from powerdesk.console.tests.helpers import client_for
from powerdesk.core.testing import make_staff
from powerdesk.staff.roles import Role


def test_staff_list_shows_everyone_below_the_admins_unit(admin_user, agent_a, agent_b, manager):
    html = client_for(admin_user).get("/console/staff/").content.decode()
    for username in ("admin", "agent_a", "agent_b", "manager"):
        assert f">{username}<" in html
    assert "客服坐席" in html and "上城区供电公司" in html
    assert "<form" not in html.split('class="content"')[1]  # read-only: no forms in the page body


def test_a_county_admin_sees_only_the_county(company, agent_a, agent_b):
    county_admin = make_staff("admin_a", Role.ADMIN, company.county_a)
    html = client_for(county_admin).get("/console/staff/").content.decode()
    assert ">agent_a<" in html and ">agent_b<" not in html


def test_locked_staff_is_marked(admin_user, agent_a):
    from datetime import timedelta

    from django.utils import timezone

    from powerdesk.staff.models import StaffUser

    StaffUser.objects.filter(pk=agent_a.pk).update(locked_until=timezone.now() + timedelta(minutes=5))
    assert "已锁定" in client_for(admin_user).get("/console/staff/").content.decode()


def test_organisation_tree_lists_units_in_order_with_counts(admin_user, account_a, account_b, agent_a):
    html = client_for(admin_user).get("/console/organisation/").content.decode()
    names = ["示范省电力公司", "示范市供电公司", "上城区供电公司", "湖滨供电所", "西湖区供电公司", "灵隐供电所"]
    positions = [html.index(name) for name in names]
    assert positions == sorted(positions)
    assert "供电所" in html and "330102" in html


def test_organisation_tree_of_a_county_admin_is_its_subtree(company):
    county_admin = make_staff("admin_a", Role.ADMIN, company.county_a)
    html = client_for(county_admin).get("/console/organisation/").content.decode()
    assert "湖滨供电所" in html and "灵隐供电所" not in html and "示范省电力公司" not in html


def test_organisation_query_count_is_fixed(admin_user, django_assert_max_num_queries):
    # session, user, user's unit, units with counts, departments
    client = client_for(admin_user)
    with django_assert_max_num_queries(5):
        client.get("/console/organisation/")


def test_staff_list_query_count_is_fixed(admin_user, company, django_assert_max_num_queries):
    for n in range(20):
        make_staff(f"agent_{n}", Role.AGENT, company.station_a if n % 2 else company.county_b)
    client = client_for(admin_user)
    # session, user, user's unit, count, page (with units and departments joined)
    with django_assert_max_num_queries(5):
        client.get("/console/staff/")
