"""Consent per channel address: may this phone number / openid receive marketing, and since
when, on whose word. The current state is one row per (channel, purpose, address); every change
is an append-only ``ConsentChange`` — the record that answers "when did they opt out, and how"."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from powerdesk.consent.choices import ConsentPurpose, ConsentSource, ConsentStatus
from powerdesk.core.ids import uuid7
from powerdesk.events.choices import Channel


class ChannelConsent(models.Model):
    """The current consent of one address on one channel for one purpose.

    The address is sealed (AES-256-GCM, key id beside it, registered for ``pii_rotate``) and
    found by its keyed hash; lists show ``address_masked`` only.
    """

    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    purpose = models.CharField(_("用途"), max_length=16, choices=ConsentPurpose.choices)
    address_hash = models.CharField(max_length=64, editable=False)
    address_key_id = models.CharField(max_length=16, editable=False)
    address_ciphertext = models.TextField(editable=False)
    address_masked = models.CharField(_("地址"), max_length=32)
    status = models.CharField(_("状态"), max_length=16, choices=ConsentStatus.choices)
    # Of the latest change; the history holds every one.
    source = models.CharField(_("来源"), max_length=16, choices=ConsentSource.choices)
    customer_user = models.ForeignKey(
        "customers.CustomerUser",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("客户用户"),
    )
    changed_at = models.DateTimeField(_("变更时间"), db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("渠道订阅状态")
        verbose_name_plural = _("渠道订阅状态")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "purpose", "address_hash"],
                name="consent_one_per_channel_purpose_address",
                violation_error_message=_("该渠道地址已有此用途的订阅记录。"),
            ),
        ]
        indexes = [models.Index(fields=["channel", "purpose", "status"])]

    def __str__(self) -> str:
        return f"{self.channel}:{self.address_masked} {self.purpose}={self.status}"


class ConsentChange(models.Model):
    """One change of a consent, recorded once and never changed (UPDATE/DELETE refused by
    database triggers). Staff and customer are plain ids: the record outlives them."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    consent = models.ForeignKey(ChannelConsent, on_delete=models.PROTECT, related_name="changes")
    # Empty for the first record of an address.
    from_status = models.CharField(_("变更前"), max_length=16, choices=ConsentStatus.choices, blank=True)
    to_status = models.CharField(_("变更后"), max_length=16, choices=ConsentStatus.choices)
    source = models.CharField(_("来源"), max_length=16, choices=ConsentSource.choices)
    customer_user_id = models.BigIntegerField(_("客户用户"), null=True, blank=True)
    actor_staff_id = models.BigIntegerField(_("操作员工"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    occurred_at = models.DateTimeField(_("发生时间"), db_index=True)

    class Meta:
        verbose_name = _("订阅变更记录")
        verbose_name_plural = _("订阅变更记录")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_status=models.F("to_status")),
                name="consent_change_changes_something",
                violation_error_message=_("订阅变更记录必须改变状态。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status} ({self.source})"
