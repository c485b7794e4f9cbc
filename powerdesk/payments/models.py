"""Payment orders, every notification a gateway sent us, suspense items and outbound calls.

Money is integer fen. The credit itself is a ``billing.Payment`` (unique by gateway and gateway
transaction id) created by ``billing.services.payment_record``; this app decides *whether* a
verified notification may become one.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from powerdesk.core.ids import uuid7
from powerdesk.events.choices import Channel
from powerdesk.payments.choices import (
    CallOutcome,
    GatewayKind,
    GatewayOperation,
    NotificationOutcome,
    OrderStatus,
    SuspenseReason,
    Verification,
)


class PaymentOrder(models.Model):
    """What a customer asked to pay, before any money moved. ``out_trade_no`` is ours and is
    what both gateways echo back in their notifications (≤ 32 characters, WeChat's limit)."""

    out_trade_no = models.CharField(_("商户订单号"), max_length=32, unique=True)
    account = models.ForeignKey("customers.Account", on_delete=models.PROTECT, related_name="payment_orders")
    customer_user_id = models.BigIntegerField(null=True, blank=True)
    amount_fen = models.BigIntegerField(_("金额（分）"))
    gateway = models.CharField(_("支付渠道"), max_length=16, choices=GatewayKind.choices)
    channel = models.CharField(_("业务渠道"), max_length=16, choices=Channel.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.CREATED
    )
    paid_payment = models.ForeignKey(
        "billing.Payment", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("支付订单")
        verbose_name_plural = _("支付订单")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0),
                name="payment_order_amount_positive",
                violation_error_message=_("支付金额必须大于零。"),
            ),
            models.CheckConstraint(
                condition=Q(status="paid", paid_payment__isnull=False) | ~Q(status="paid"),
                name="payment_order_paid_has_payment",
                violation_error_message=_("已支付订单必须关联缴费记录。"),
            ),
        ]
        indexes = [models.Index(fields=["account", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.out_trade_no} {self.amount_fen} 分 {self.status}"


class SuspenseItem(models.Model):
    """A verified notification we refused to credit (待查款项): kept for staff, never lost.

    ``dedupe_key`` makes the same refusal reported many times (gateway retries) one item.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    gateway = models.CharField(_("支付渠道"), max_length=16, choices=GatewayKind.choices)
    reason = models.CharField(_("原因"), max_length=32, choices=SuspenseReason.choices)
    message = models.CharField(_("说明"), max_length=300)
    out_trade_no = models.CharField(_("商户订单号"), max_length=64, blank=True, db_index=True)
    gateway_txn_id = models.CharField(_("渠道流水号"), max_length=64, blank=True, db_index=True)
    amount_fen = models.BigIntegerField(_("通知金额（分）"), null=True, blank=True)
    order = models.ForeignKey(PaymentOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    payload = models.JSONField(_("通知内容"), default=dict)
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution_note = models.TextField(_("处理说明"), blank=True)

    class Meta:
        verbose_name = _("待查款项")
        verbose_name_plural = _("待查款项")
        indexes = [models.Index(fields=["resolved_at", "created_at"])]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.gateway_txn_id} {self.reason}"


class GatewayNotification(models.Model):
    """Every inbound notification exactly as received, with what we made of it (append-only)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    gateway = models.CharField(_("支付渠道"), max_length=16)
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True, db_index=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    headers = models.JSONField(_("请求头"), default=dict)
    body = models.TextField(_("原始报文"))
    verification = models.CharField(_("验签结果"), max_length=16, choices=Verification.choices)
    outcome = models.CharField(_("处理结果"), max_length=24, choices=NotificationOutcome.choices)
    detail = models.CharField(_("说明"), max_length=300, blank=True)
    out_trade_no = models.CharField(max_length=64, blank=True, db_index=True)
    gateway_txn_id = models.CharField(max_length=64, blank=True)
    amount_fen = models.BigIntegerField(null=True, blank=True)
    order = models.ForeignKey(PaymentOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    payment = models.ForeignKey(
        "billing.Payment", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    suspense = models.ForeignKey(
        SuspenseItem, on_delete=models.PROTECT, null=True, blank=True, related_name="notifications"
    )
    response_status = models.PositiveSmallIntegerField(_("应答状态码"))

    class Meta:
        verbose_name = _("渠道通知")
        verbose_name_plural = _("渠道通知")

    def __str__(self) -> str:
        return f"{self.gateway} {self.received_at:%Y-%m-%d %H:%M:%S} {self.outcome}"


class GatewayCall(models.Model):
    """Every outbound request to a gateway (create order, refund) and how it ended."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    gateway = models.CharField(_("支付渠道"), max_length=16)
    operation = models.CharField(_("操作"), max_length=16, choices=GatewayOperation.choices)
    order = models.ForeignKey(PaymentOrder, on_delete=models.PROTECT, related_name="gateway_calls")
    reference = models.CharField(_("业务编号"), max_length=64, blank=True)
    outcome = models.CharField(_("结果"), max_length=16, choices=CallOutcome.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    vendor_code = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("渠道调用")
        verbose_name_plural = _("渠道调用")

    def __str__(self) -> str:
        return f"{self.gateway} {self.operation} {self.outcome}"
