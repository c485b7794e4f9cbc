"""Every outbound SMS attempt is recorded, whichever backend carried it."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboundSms(models.Model):
    """One message we meant to send: what, to whom, why, and how it ended."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("待发送")
        SENT = "sent", _("已发送")
        OUTBOX = "outbox", _("已写入本地发件箱")
        FAILED = "failed", _("发送失败")

    class Delivery(models.TextChoices):
        """What the carrier said happened on the handset (the gateway's status report, 状态报告)."""

        UNKNOWN = "", _("未回执")
        DELIVERED = "delivered", _("已送达")
        UNDELIVERED = "undelivered", _("未送达")

    phone = models.CharField(_("手机号"), max_length=11, db_index=True)
    # The rendered text, 【sign】 included: what the customer reads on the handset.
    body = models.TextField(_("内容"))
    # How many SMS the body is billed as (segments.py: 70, or 67 per part; the sign counts).
    segments = models.PositiveSmallIntegerField(_("计费条数"), default=1)
    # Our template key (templates.py); the gateway is sent the provider's code for it.
    template = models.CharField(_("模板"), max_length=32, blank=True)
    # One-time codes are masked in the body shown to staff other than in the demo outbox.
    is_sensitive = models.BooleanField(default=False)
    purpose = models.CharField(_("用途"), max_length=32)
    backend = models.CharField(_("通道"), max_length=16)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    vendor_message_id = models.CharField(max_length=64, blank=True)
    # The last attempt's failure, when the message ended failed.
    error_code = models.CharField(_("错误码"), max_length=64, blank=True)
    error = models.CharField(max_length=300, blank=True)
    # The newest status report for a sent message (reports.py): the carrier's code (DELIVRD,
    # MK:0001, …), its explanation, and when it was reported; a later report replaces an older one.
    delivery = models.CharField(_("送达情况"), max_length=16, choices=Delivery.choices, blank=True, default="")
    delivery_code = models.CharField(_("回执码"), max_length=64, blank=True)
    delivery_note = models.CharField(_("回执说明"), max_length=200, blank=True)
    reported_at = models.DateTimeField(_("回执时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("短信发送记录")
        verbose_name_plural = _("短信发送记录")
        ordering = ["-id"]
        indexes = [
            # A status report names the message by the gateway's id (BizId, SerialNo).
            models.Index(
                fields=["backend", "vendor_message_id"],
                name="channel_sms_vendor_message",
                condition=~models.Q(vendor_message_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} → {self.phone[:3]}****{self.phone[-4:]} ({self.status})"


class OutboundSmsAttempt(models.Model):
    """One hand-over of a message to its backend; a retried message has several."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("已受理")
        FAILED = "failed", _("失败")

    message = models.ForeignKey(OutboundSms, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField(_("第几次"))
    backend = models.CharField(_("通道"), max_length=16)
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices)
    vendor_message_id = models.CharField(max_length=64, blank=True)
    # The vendor's id for the HTTP exchange (Aliyun RequestId): what their support asks for.
    vendor_request_id = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(_("错误码"), max_length=64, blank=True)
    error = models.CharField(max_length=300, blank=True)
    permanent = models.BooleanField(_("永久失败"), default=False)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("短信发送尝试")
        verbose_name_plural = _("短信发送尝试")
        ordering = ["message_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "number"],
                name="channel_sms_attempt_unique_number",
                violation_error_message=_("同一条短信的尝试序号不能重复。"),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.message_id}/{self.number} {self.outcome} {self.error_code}".rstrip()
