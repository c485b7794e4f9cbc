"""Every outbound SMS attempt is recorded, whichever backend carried it."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboundSms(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("待发送")
        SENT = "sent", _("已发送")
        OUTBOX = "outbox", _("已写入本地发件箱")
        FAILED = "failed", _("发送失败")

    phone = models.CharField(_("手机号"), max_length=11, db_index=True)
    body = models.TextField(_("内容"))
    # One-time codes are masked in the body shown to staff other than in the demo outbox.
    is_sensitive = models.BooleanField(default=False)
    purpose = models.CharField(_("用途"), max_length=32)
    backend = models.CharField(_("通道"), max_length=16)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    vendor_message_id = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("短信发送记录")
        verbose_name_plural = _("短信发送记录")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.purpose} → {self.phone[:3]}****{self.phone[-4:]} ({self.status})"
