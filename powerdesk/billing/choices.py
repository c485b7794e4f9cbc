from django.db import models
from django.utils.translation import gettext_lazy as _


class Band(models.TextChoices):
    """Time-of-use bands (分时段)."""

    SHARP = "sharp", _("尖")
    PEAK = "peak", _("峰")
    FLAT = "flat", _("平")
    VALLEY = "valley", _("谷")


class BillSource(models.TextChoices):
    IMPORT = "import", _("营销系统导入")
    CALCULATED = "calculated", _("本系统计算")


class LedgerKind(models.TextChoices):
    BILL_ISSUED = "bill_issued", _("电费出账")
    BILL_CORRECTION = "bill_correction", _("退补调整")
    PAYMENT = "payment", _("缴费")
    REFUND = "refund", _("退款")
    REVERSAL = "reversal", _("冲正")
    LATE_FEE = "late_fee", _("违约金")
    ADJUSTMENT = "adjustment", _("人工调整")


class PaymentStatus(models.TextChoices):
    SUCCEEDED = "succeeded", _("已到账")
    REFUNDED = "refunded", _("已退款")
    PARTIALLY_REFUNDED = "partially_refunded", _("部分退款")
    REVERSED = "reversed", _("已冲正")


class BillStatus(models.TextChoices):
    """Derived from the ledger, never stored."""

    UNPAID = "unpaid", _("未缴")
    PARTIAL = "partial", _("部分缴纳")
    PAID = "paid", _("已缴清")
    OVERDUE = "overdue", _("已逾期")


class PointsReason(models.TextChoices):
    ONLINE_PAYMENT = "online_payment", _("线上缴费")
    ON_TIME_PAYMENT = "on_time_payment", _("按时缴费")
    REDEMPTION = "redemption", _("积分兑换")
    ADJUSTMENT = "adjustment", _("人工调整")
