"""The demo's staff logins: one per role, all with the password ``powerdesk demo`` prints.

The password comes from ``POWERDESK_DEMO_ADMIN_PASSWORD`` or, failing that, is generated once
into ``VAR_DIR/demo_admin_password`` (mode 0600), so it survives restarts and is never in the
repository.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from powerdesk.organisation.choices import DepartmentKind, UnitLevel
from powerdesk.organisation.models import Department, SupplyUnit
from powerdesk.staff.models import StaffUser
from powerdesk.staff.roles import Role

PASSWORD_ENV = "POWERDESK_DEMO_ADMIN_PASSWORD"  # noqa: S105  (a variable name, not a password)
PASSWORD_FILE_NAME = "demo_admin_password"  # noqa: S105  (a file name)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    unit_level: UnitLevel  # the first unit of this level (first city, first county)
    department_kind: DepartmentKind | None
    full_name: str


DEMO_LOGINS = (
    DemoLogin("admin", Role.ADMIN, UnitLevel.PROVINCE, DepartmentKind.IT, "系统管理员"),
    DemoLogin("agent", Role.AGENT, UnitLevel.COUNTY, DepartmentKind.CUSTOMER_SERVICE, "林晓燕"),
    DemoLogin("back_office", Role.BACK_OFFICE, UnitLevel.COUNTY, DepartmentKind.MARKETING, "陈国栋"),
    DemoLogin("dept_manager", Role.DEPT_MANAGER, UnitLevel.CITY, DepartmentKind.CUSTOMER_SERVICE, "王建华"),
    DemoLogin("analyst", Role.ANALYST, UnitLevel.CITY, DepartmentKind.DATA, "赵思远"),
)


def password_file() -> Path:
    return Path(settings.VAR_DIR) / PASSWORD_FILE_NAME


def demo_staff_password() -> str:
    """The environment's password, else the one stored in var/, else a new one stored there."""
    from_env = os.environ.get(PASSWORD_ENV, "").strip()
    if from_env:
        return from_env
    path = password_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process wrote it first; use theirs
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(f"pd-{secrets.token_urlsafe(12)}\n")
    return path.read_text(encoding="utf-8").strip()


def demo_staff_build(*, password: str, using: str = "default") -> list[StaffUser]:
    """Unsaved staff users for the demo logins, placed in the first unit of their level.

    The generator inserts them with the rest of its rows; argon2 hashing makes this the
    slowest few lines of a small demo, so it runs once per generation.
    """
    users = []
    taken = set(StaffUser.objects.using(using).values_list("username", flat=True))
    for login in DEMO_LOGINS:
        if login.username in taken:  # e.g. a superuser made before the demo; sync_password covers it
            continue
        unit = SupplyUnit.objects.using(using).filter(level=login.unit_level).order_by("path").first()
        department = None
        if login.department_kind:
            department = Department.objects.using(using).filter(
                supply_unit=unit, kind=login.department_kind
            ).order_by("pk").first()
        user = StaffUser(username=login.username, role=login.role, supply_unit=unit, department=department,
                         first_name=login.full_name, is_staff=False)
        user.set_password(password)
        users.append(user)
    return users


def demo_staff_sync_password(*, password: str, using: str = "default") -> list[str]:
    """Make the printed password work: reset (and unlock) demo logins whose password differs.

    Returns the usernames changed. The printed login is the demo's promise, so it wins over
    a password someone changed in the console.
    """
    changed = []
    for user in StaffUser.objects.using(using).filter(username__in=[login.username for login in DEMO_LOGINS]):
        if user.check_password(password) and not user.locked_until:
            continue
        user.set_password(password)
        user.failed_login_count = 0
        user.locked_until = None
        user.save(using=using, update_fields=["password", "failed_login_count", "locked_until", "updated_at"])
        changed.append(user.username)
    return changed
