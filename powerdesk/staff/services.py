"""Staff sign-in with lock-out, and staff account creation."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.core.exceptions import ApplicationError
from powerdesk.organisation.models import Department, SupplyUnit
from powerdesk.staff.models import StaffUser
from powerdesk.staff.roles import Role

security_log = logging.getLogger("powerdesk.security")


def staff_sign_in(*, username: str, password: str, request=None) -> StaffUser:
    """Check credentials; after STAFF_LOGIN_MAX_FAILURES failures the account locks for a while.

    The same message is given for an unknown user and a wrong password, so the form cannot be
    used to find out which usernames exist. Failures are counted with an UPDATE … SET n = n + 1
    so parallel guesses cannot slip past the limit.
    """
    now = timezone.now()
    user = StaffUser.objects.filter(username=username).first()
    if user is not None and user.locked_until and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        security_log.warning("staff login while locked", extra={"username": username})
        raise ApplicationError(
            "account_locked",
            _("登录失败次数过多，账号已锁定，请 %(minutes)s 分钟后再试。") % {"minutes": minutes},
            status=403,
        )
    authenticated = authenticate(request, username=username, password=password)
    if authenticated is None:
        if user is not None:
            with transaction.atomic():
                StaffUser.objects.filter(pk=user.pk).update(failed_login_count=F("failed_login_count") + 1)
                user.refresh_from_db(fields=["failed_login_count"])
                if user.failed_login_count >= settings.STAFF_LOGIN_MAX_FAILURES:
                    StaffUser.objects.filter(pk=user.pk).update(
                        locked_until=now + timedelta(minutes=settings.STAFF_LOGIN_LOCKOUT_MINUTES),
                        failed_login_count=0,
                    )
                    security_log.warning("staff account locked", extra={"username": username})
        security_log.info("staff login failed", extra={"username": username})
        raise ApplicationError("invalid_credentials", _("用户名或密码错误。"), status=401)
    if authenticated.failed_login_count or authenticated.locked_until:
        StaffUser.objects.filter(pk=authenticated.pk).update(failed_login_count=0, locked_until=None)
    return authenticated


@transaction.atomic
def staff_create(
    *,
    username: str,
    password: str,
    role: Role | str,
    supply_unit: SupplyUnit,
    department: Department | None = None,
    full_name: str = "",
) -> StaffUser:
    if StaffUser.objects.filter(username=username).exists():
        raise ApplicationError(
            "duplicate_username", _("用户名 %(username)s 已存在。") % {"username": username}, field="username"
        )
    if department is not None and department.supply_unit_id != supply_unit.pk:
        raise ApplicationError("department_outside_unit", _("部门不属于该供电单位。"), field="department")
    user = StaffUser(
        username=username,
        role=Role(role),
        supply_unit=supply_unit,
        department=department,
        first_name=full_name,
        is_staff=False,
    )
    user.set_password(password)
    user.save()
    return user
