"""The append-only event log every domain writes to and the analytics platform reads from."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from powerdesk.core.ids import uuid7
from powerdesk.events.choices import Channel


class DomainEvent(models.Model):
    """Something that happened, recorded once and never changed.

    Ids are UUIDv7, so ordering by id is ordering by time and an export can resume from the
    last id it saw. Customer and account are plain ids rather than foreign keys: the log must
    outlive the rows it mentions. UPDATE and DELETE are refused by database triggers.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    kind = models.CharField(_("事件类型"), max_length=64)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    occurred_at = models.DateTimeField(_("发生时间"), db_index=True)
    customer_user_id = models.BigIntegerField(_("客户用户"), null=True, blank=True)
    account_id = models.BigIntegerField(_("用电户"), null=True, blank=True)
    actor_staff_id = models.BigIntegerField(_("操作员工"), null=True, blank=True)
    payload = models.JSONField(_("内容"), default=dict, blank=True)

    class Meta:
        verbose_name = _("领域事件")
        verbose_name_plural = _("领域事件")
        ordering = ["id"]
        # Every domain writes here, the WeChat callback twice per message: each index is paid on
        # every row. ``kind`` is matched whole (a Meta index, so PostgreSQL gets no second
        # LIKE-pattern index as ``db_index`` would add); customer and account are indexed where
        # set (most channel events name no account).
        indexes = [
            models.Index(fields=["kind"], name="event_kind"),
            models.Index(
                fields=["customer_user_id"], condition=Q(customer_user_id__isnull=False), name="event_customer"
            ),
            models.Index(fields=["account_id"], condition=Q(account_id__isnull=False), name="event_account"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.occurred_at:%Y-%m-%d %H:%M:%S}"
