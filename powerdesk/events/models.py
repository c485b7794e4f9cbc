"""The append-only event log every domain writes to and the analytics platform reads from."""

from django.db import models
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
    kind = models.CharField(_("事件类型"), max_length=64, db_index=True)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    occurred_at = models.DateTimeField(_("发生时间"), db_index=True)
    customer_user_id = models.BigIntegerField(_("客户用户"), null=True, blank=True, db_index=True)
    account_id = models.BigIntegerField(_("用电户"), null=True, blank=True, db_index=True)
    actor_staff_id = models.BigIntegerField(_("操作员工"), null=True, blank=True)
    payload = models.JSONField(_("内容"), default=dict, blank=True)

    class Meta:
        verbose_name = _("领域事件")
        verbose_name_plural = _("领域事件")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.occurred_at:%Y-%m-%d %H:%M:%S}"
