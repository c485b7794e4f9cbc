"""Audit trail of staff access to personal data (个人信息保护法 art. 51: access logging)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from powerdesk.core.ids import uuid7


class PersonalDataAccess(models.Model):
    """One staff read of a person's data: who, what, when, why. Append-only (database triggers)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    accessed_at = models.DateTimeField(_("访问时间"), db_index=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("员工")
    )
    staff_username = models.CharField(_("员工账号"), max_length=150)
    subject_type = models.CharField(_("对象类型"), max_length=32)  # e.g. "account", "customer_user"
    subject_id = models.BigIntegerField(_("对象"), db_index=True)
    fields = models.JSONField(_("查看字段"), default=list)
    purpose = models.CharField(_("访问事由"), max_length=200)
    path = models.CharField(_("页面"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)

    class Meta:
        verbose_name = _("个人信息访问记录")
        verbose_name_plural = _("个人信息访问记录")
        ordering = ["-id"]
        indexes = [models.Index(fields=["subject_type", "subject_id", "-accessed_at"])]

    def __str__(self) -> str:
        return f"{self.staff_username} → {self.subject_type}#{self.subject_id} ({self.purpose})"
