"""The permission matrix and scoping of staff queries to their own unit."""

import pytest

from powerdesk.customers.models import Account
from powerdesk.staff.roles import ROLE_PERMISSIONS, Perm, Role, role_has
from powerdesk.staff.scoping import scope_to_staff, staff_can_see_unit


def test_every_role_has_an_entry_and_admin_has_everything():
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Perm)


def test_analysts_never_see_individual_customers():
    assert not role_has(Role.ANALYST, Perm.CUSTOMER_VIEW)
    assert not role_has(Role.ANALYST, Perm.CUSTOMER_VIEW_PII)


def test_agents_see_masked_data_only():
    assert role_has(Role.AGENT, Perm.CUSTOMER_VIEW)
    assert not role_has(Role.AGENT, Perm.CUSTOMER_VIEW_PII)


def test_unknown_role_or_permission_grants_nothing():
    assert not role_has("janitor", Perm.CUSTOMER_VIEW)
    assert not role_has(Role.ADMIN, "launch.missiles")


@pytest.mark.django_db
def test_county_agent_sees_only_own_county(agent_a, agent_b, manager, account_a, account_b):
    assert list(scope_to_staff(Account.objects.all(), agent_a)) == [account_a]
    assert list(scope_to_staff(Account.objects.all(), agent_b)) == [account_b]
    assert set(scope_to_staff(Account.objects.all(), manager)) == {account_a, account_b}
    assert not staff_can_see_unit(agent_b, account_a.supply_unit)


@pytest.mark.django_db
def test_staff_without_unit_sees_nothing(company, account_a):
    from powerdesk.staff.models import StaffUser

    root = StaffUser.objects.create_superuser("root", password="x-very-long-pass")
    assert not scope_to_staff(Account.objects.all(), root).exists()
