"""Staff accounts: every staff member belongs to one supply unit and sees only what is below it."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from powerdesk.staff.roles import Perm, Role, role_has


class StaffUser(AbstractUser):
    """A console user. Scope = ``supply_unit`` and everything under it; rights = ``role``."""

    supply_unit = models.ForeignKey(
        "organisation.SupplyUnit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("所属单位"),
    )
    department = models.ForeignKey(
        "organisation.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("所属部门"),
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.AGENT)
    failed_login_count = models.PositiveSmallIntegerField(default=0, editable=False)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("员工")
        verbose_name_plural = _("员工")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_superuser=True) | models.Q(supply_unit__isnull=False),
                name="staff_has_supply_unit",
                violation_error_message=_("员工必须属于一个供电单位。"),
            )
        ]

    def can(self, perm: Perm | str) -> bool:
        return self.is_active and role_has(self.role, perm)
