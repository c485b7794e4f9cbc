from django.db import models
from django.utils.translation import gettext_lazy as _


class GatewayKind(models.TextChoices):
    """Payment gateways we hold a merchant contract with (registry keys in gateways/base.py)."""

    ALIPAY = "alipay", _("支付宝")
    WECHATPAY = "wechatpay", _("微信支付")


class OrderStatus(models.TextChoices):
    CREATED = "created", _("待支付")
    PAID = "paid", _("已支付")
    CLOSED = "closed", _("已关闭")
    FAILED = "failed", _("下单失败")


class Verification(models.TextChoices):
    """How a received notification fared at the gateway adapter."""

    VALID = "valid", _("验签通过")
    INVALID = "invalid", _("验签失败")
    MALFORMED = "malformed", _("格式错误")


class NotificationOutcome(models.TextChoices):
    """What we did with a received notification."""

    CREDITED = "credited", _("已入账")
    DUPLICATE = "duplicate", _("重复通知（未重复入账）")
    SUSPENSE = "suspense", _("转入待查")
    SIGNATURE_INVALID = "signature_invalid", _("验签失败，已拒绝")
    MALFORMED = "malformed", _("格式错误，已拒绝")
    IGNORED = "ignored", _("非成功状态，无需处理")
    REFUNDED = "refunded", _("已登记退款")
    ERROR = "error", _("处理出错，等待渠道重发")
    QUERIED = "queried", _("主动查单确认")


class SuspenseReason(models.TextChoices):
    """Why a verified notification was refused as a credit and kept for staff."""

    UNKNOWN_ORDER = "unknown_order", _("订单不存在")
    AMOUNT_MISMATCH = "amount_mismatch", _("金额与订单不符")
    ACCOUNT_MISMATCH = "account_mismatch", _("户号与订单不符")
    TXN_AMOUNT_CONFLICT = "txn_amount_conflict", _("同一渠道流水重复通知但金额不同")
    ORDER_ALREADY_PAID = "order_already_paid", _("订单已由另一笔流水支付（重复支付）")
    ORDER_NOT_PAYABLE = "order_not_payable", _("订单已关闭或失败，仍收到支付")
    REFUND_UNKNOWN_PAYMENT = "refund_unknown_payment", _("退款通知找不到原缴费")
    REFUND_REFUSED = "refund_refused", _("退款通知无法登记")


class GatewayOperation(models.TextChoices):
    CREATE_ORDER = "create_order", _("下单")
    REFUND = "refund", _("退款")
    QUERY = "query", _("查单")
    CLOSE = "close", _("关单")


class CallOutcome(models.TextChoices):
    OK = "ok", _("成功")
    TRANSIENT = "transient", _("暂时失败")
    PERMANENT = "permanent", _("失败")
