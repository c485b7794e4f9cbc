"""Staff sign-in: argon2 hashes, generic failure message, lock-out after repeated failures."""

from datetime import timedelta

import pytest
from django.utils import timezone

from powerdesk.core.exceptions import ApplicationError
from powerdesk.core.testing import STAFF_PASSWORD
from powerdesk.staff.models import StaffUser
from powerdesk.staff.services import staff_create, staff_sign_in

pytestmark = pytest.mark.django_db


def test_passwords_are_hashed_with_argon2(agent_a):
    assert agent_a.password.startswith("argon2$")


def test_sign_in_succeeds_with_the_right_password(agent_a):
    assert staff_sign_in(username="agent_a", password=STAFF_PASSWORD).pk == agent_a.pk


def test_unknown_user_and_wrong_password_look_the_same(agent_a):
    messages = set()
    for username in ("agent_a", "nobody"):
        with pytest.raises(ApplicationError) as exc:
            staff_sign_in(username=username, password="wrong-password")
        messages.add((exc.value.code, exc.value.message))
    assert messages == {("invalid_credentials", "用户名或密码错误。")}


def test_account_locks_after_repeated_failures_then_unlocks(settings, agent_a):
    settings.STAFF_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        with pytest.raises(ApplicationError):
            staff_sign_in(username="agent_a", password="wrong")
    with pytest.raises(ApplicationError) as exc:
        staff_sign_in(username="agent_a", password=STAFF_PASSWORD)  # right password, still locked
    assert exc.value.code == "account_locked" and "分钟后再试" in exc.value.message
    StaffUser.objects.filter(pk=agent_a.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert staff_sign_in(username="agent_a", password=STAFF_PASSWORD).pk == agent_a.pk
    agent_a.refresh_from_db()
    assert agent_a.failed_login_count == 0 and agent_a.locked_until is None


def test_staff_needs_a_unit_and_a_department_of_that_unit(company):
    from powerdesk.organisation.models import Department

    other = Department.objects.create(
        supply_unit=company.county_b, name="客户服务中心", kind="customer_service"
    )
    with pytest.raises(ApplicationError) as exc:
        staff_create(
            username="x",
            password=STAFF_PASSWORD,
            role="agent",
            supply_unit=company.county_a,
            department=other,
        )
    assert exc.value.code == "department_outside_unit"
