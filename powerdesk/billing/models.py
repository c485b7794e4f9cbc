"""Bills (versioned, imported from the billing system), meter readings, the account ledger,
payments and points.

Money is integer fen. Business dates (billing period, reading date, due date) are local
calendar dates in Asia/Shanghai. Balances and bill status are derived from the append-only
ledger, never stored.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from powerdesk.billing.choices import BillSource, LedgerKind, PaymentStatus, PointsReason
from powerdesk.core.ids import uuid7
from powerdesk.events.choices import Channel
from powerdesk.tariffs.choices import ChargeBasis

KWH = {"max_digits": 14, "decimal_places": 2}


class Meter(models.Model):
    """电能表 of an account. ``multiplier`` (倍率) turns register differences into kWh."""

    account = models.ForeignKey("customers.Account", on_delete=models.PROTECT, related_name="meters")
    number = models.CharField(_("表号"), max_length=32, unique=True)
    multiplier = models.DecimalField(_("倍率"), max_digits=10, decimal_places=2, default=1)
    is_smart = models.BooleanField(_("智能表"), default=True)
    installed_on = models.DateField(_("装表日期"), null=True, blank=True)
    removed_on = models.DateField(_("拆表日期"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("电能表")
        verbose_name_plural = _("电能表")

    def __str__(self) -> str:
        return self.number


class DailyReading(models.Model):
    """Daily frozen register values (日冻结) and the day's consumption by time-of-use band.

    Only recent days stay in the database at scale; full history lives in the Parquet lake.
    """

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="daily_readings")
    reading_date = models.DateField(_("抄表日期"))
    register_total = models.DecimalField(_("总示数"), **KWH)
    kwh_total = models.DecimalField(_("日用电量"), **KWH)
    kwh_sharp = models.DecimalField(_("尖"), **KWH, default=0)
    kwh_peak = models.DecimalField(_("峰"), **KWH, default=0)
    kwh_flat = models.DecimalField(_("平"), **KWH, default=0)
    kwh_valley = models.DecimalField(_("谷"), **KWH, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("日冻结读数")
        verbose_name_plural = _("日冻结读数")
        constraints = [
            models.UniqueConstraint(
                fields=["meter", "reading_date"],
                name="daily_reading_one_per_meter_day",
                violation_error_message=_("同一电能表同一天只能有一条读数。"),
            ),
            models.CheckConstraint(
                condition=Q(kwh_total__gte=0),
                name="daily_reading_kwh_not_negative",
                violation_error_message=_("日用电量不能为负。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.reading_date} {self.kwh_total} kWh"


class LoadCurve(models.Model):
    """96-point (15-minute) load curve of one meter and day (用电信息采集), kWh per interval."""

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="load_curves")
    curve_date = models.DateField(_("日期"))
    points = models.JSONField(_("96 点电量"))  # list of 96 decimal strings
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("负荷曲线")
        verbose_name_plural = _("负荷曲线")
        constraints = [
            models.UniqueConstraint(fields=["meter", "curve_date"], name="load_curve_one_per_meter_day")
        ]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.curve_date}"


class PostingDay(models.Model):
    """A day whose 销账 file was exported (posting.py): also the days with no payments, so the
    billing system — and staff — can tell "nothing to post" from "not exported yet"."""

    day = models.DateField(_("日期"), unique=True)
    file_name = models.CharField(_("文件名"), max_length=64)
    rows = models.PositiveIntegerField(_("笔数"), default=0)
    amount_fen = models.BigIntegerField(_("金额（分）"), default=0)
    runs = models.PositiveIntegerField(_("导出次数"), default=0)
    first_exported_at = models.DateTimeField(_("首次导出"))
    last_exported_at = models.DateTimeField(_("最近导出"))

    class Meta:
        verbose_name = _("销账导出日")
        verbose_name_plural = _("销账导出日")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day} {self.file_name}"


class MonthlyUsage(models.Model):
    """One meter's month, summed, kept in the database when that month's daily readings and load
    curves move to the Parquet lake (retention.py): what the TOU advice needs of older months.

    ``kwh_*`` and ``reading_days`` sum the daily readings; ``curve_slots`` holds the 96 quarter-
    hour kWh totals of the month's load curves (``curve_days`` of them) as decimal strings — TOU
    windows are set per month, so the month's slot totals split into bands exactly as the days
    would have.
    """

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="monthly_usage")
    period = models.DateField(_("月份"))
    reading_days = models.PositiveSmallIntegerField(_("读数天数"), default=0)
    kwh_total = models.DecimalField(_("月用电量"), **KWH, default=0)
    kwh_sharp = models.DecimalField(_("尖"), **KWH, default=0)
    kwh_peak = models.DecimalField(_("峰"), **KWH, default=0)
    kwh_flat = models.DecimalField(_("平"), **KWH, default=0)
    kwh_valley = models.DecimalField(_("谷"), **KWH, default=0)
    curve_days = models.PositiveSmallIntegerField(_("负荷曲线天数"), default=0)
    curve_slots = models.JSONField(_("96 点月累计电量"), default=list, blank=True)
    archived_at = models.DateTimeField(_("归档时间"), auto_now=True)

    class Meta:
        verbose_name = _("月度用电汇总")
        verbose_name_plural = _("月度用电汇总")
        constraints = [
            models.UniqueConstraint(fields=["meter", "period"], name="monthly_usage_one_per_meter_month")
        ]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.period:%Y-%m}"


class Bill(models.Model):
    """One version of a monthly bill. A correction (退补) from the billing system is a new
    version beside the old one, with the difference recorded; nothing is overwritten."""

    account = models.ForeignKey("customers.Account", on_delete=models.PROTECT, related_name="bills")
    period = models.DateField(_("电费年月"))  # first day of the billing month
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    is_current = models.BooleanField(_("当前版本"), default=True)
    source = models.CharField(_("来源"), max_length=16, choices=BillSource.choices, default=BillSource.IMPORT)
    source_ref = models.CharField(_("营销系统账单号"), max_length=64, blank=True)
    kwh_total = models.DecimalField(_("总电量"), **KWH)
    kwh_sharp = models.DecimalField(_("尖电量"), **KWH, default=0)
    kwh_peak = models.DecimalField(_("峰电量"), **KWH, default=0)
    kwh_flat = models.DecimalField(_("平电量"), **KWH, default=0)
    kwh_valley = models.DecimalField(_("谷电量"), **KWH, default=0)
    amount_fen = models.BigIntegerField(_("电费（分）"))
    difference_fen = models.BigIntegerField(_("较上一版本差额（分）"), default=0)
    issued_on = models.DateField(_("出账日期"))
    due_date = models.DateField(_("缴费截止日"))
    previous = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="next_version",
        verbose_name=_("上一版本"),
    )
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("电费账单")
        verbose_name_plural = _("电费账单")
        constraints = [
            models.UniqueConstraint(fields=["account", "period", "version"], name="bill_unique_version"),
            models.UniqueConstraint(
                fields=["account", "period"],
                condition=Q(is_current=True),
                name="bill_one_current_version",
                violation_error_message=_("同一户号同一月份只能有一个当前版本账单。"),
            ),
            models.CheckConstraint(condition=Q(kwh_total__gte=0), name="bill_kwh_not_negative"),
        ]
        indexes = [models.Index(fields=["account", "-period"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.period:%Y-%m} v{self.version}"


class Payment(models.Model):
    """Money received for an account. (gateway, gateway_txn_id) is the idempotency key: the
    same transaction reported any number of times is one payment."""

    account = models.ForeignKey("customers.Account", on_delete=models.PROTECT, related_name="payments")
    amount_fen = models.BigIntegerField(_("金额（分）"))
    gateway = models.CharField(_("收款渠道"), max_length=32)
    gateway_txn_id = models.CharField(_("渠道流水号"), max_length=64)
    channel = models.CharField(_("业务渠道"), max_length=16, choices=Channel.choices)
    paid_at = models.DateTimeField(_("到账时间"))
    status = models.CharField(
        _("状态"), max_length=24, choices=PaymentStatus.choices, default=PaymentStatus.SUCCEEDED
    )
    refunded_fen = models.BigIntegerField(_("已退金额（分）"), default=0)
    customer_user_id = models.BigIntegerField(null=True, blank=True)
    # The day file for the billing system (销账) this payment was exported in; null = not yet.
    posted_in_file = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("缴费记录")
        verbose_name_plural = _("缴费记录")
        # The console lists payments newest first, by account and across the company.
        indexes = [models.Index(fields=["account", "-paid_at"]), models.Index(fields=["-paid_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "gateway_txn_id"],
                name="payment_once_per_gateway_txn",
                violation_error_message=_("该渠道流水已入账。"),
            ),
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0),
                name="payment_amount_positive",
                violation_error_message=_("缴费金额必须大于零。"),
            ),
            models.CheckConstraint(
                condition=Q(refunded_fen__gte=0) & Q(refunded_fen__lte=models.F("amount_fen")),
                name="payment_refund_within_amount",
                violation_error_message=_("退款金额不能超过缴费金额。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.gateway_txn_id} {self.amount_fen} 分"


class LedgerEntry(models.Model):
    """One movement on an account (append-only). Positive amounts are charges (the customer
    owes more), negative amounts are credits. Balance owed = the sum. ``reference`` makes
    every posting idempotent: the same business fact cannot be posted twice."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    account = models.ForeignKey("customers.Account", on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(_("类型"), max_length=24, choices=LedgerKind.choices)
    amount_fen = models.BigIntegerField(_("金额（分）"))
    reference = models.CharField(_("业务凭证"), max_length=120, unique=True)
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    occurred_at = models.DateTimeField(_("发生时间"), db_index=True)
    memo = models.CharField(_("摘要"), max_length=200, blank=True)
    actor_staff_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("账务流水")
        verbose_name_plural = _("账务流水")
        indexes = [models.Index(fields=["account", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_fen} 分"


class PointsEntry(models.Model):
    """Points earned or spent (积分), append-only, idempotent by reference."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    account = models.ForeignKey("customers.Account", on_delete=models.PROTECT, related_name="points_entries")
    points = models.IntegerField(_("积分"))
    reason = models.CharField(_("原因"), max_length=24, choices=PointsReason.choices)
    reference = models.CharField(max_length=120, unique=True)
    occurred_at = models.DateTimeField(_("发生时间"))

    class Meta:
        verbose_name = _("积分流水")
        verbose_name_plural = _("积分流水")

    def __str__(self) -> str:
        return f"{self.reason} {self.points}"


class PrepaidSetting(models.Model):
    """Low-balance alert threshold of a prepaid (预付费) account."""

    account = models.OneToOneField(
        "customers.Account", on_delete=models.CASCADE, related_name="prepaid_setting"
    )
    low_balance_threshold_fen = models.BigIntegerField(_("余额预警阈值（分）"), default=5000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("预付费设置")
        verbose_name_plural = _("预付费设置")

    def __str__(self) -> str:
        return f"{self.account_id} ≥ {self.low_balance_threshold_fen}"


# --- which tariff an account is billed on; the calculator's check of imported bills ---------------


class MaxDemandSource(models.TextChoices):
    """Where the maximum demand (kW) of a two-part tariff billed on demand comes from."""

    CONTRACT = "contract", _("核定需量")
    LOAD_CURVE = "load_curve", _("负荷曲线最大值")


class AccountTariff(models.Model):
    """The tariff an account is billed on (用户电价档案), as the billing system says.

    Production imports it from the billing system; an account without a row is billed on its
    tariff class's default series (``powerdesk.tariffs.demo.DEMO_SERIES_BY_CLASS``).
    ``series`` may also be a version code: the versions of its series are used.
    """

    account = models.OneToOneField(
        "customers.Account", on_delete=models.CASCADE, related_name="billing_tariff", verbose_name=_("用电户")
    )
    series = models.CharField(_("执行电价"), max_length=32)
    tou_series = models.CharField(_("可选峰谷电价"), max_length=32, blank=True)
    charge_basis = models.CharField(
        _("基本电费计费方式"), max_length=16, choices=ChargeBasis.choices, blank=True
    )
    transformer_kva = models.DecimalField(
        _("变压器容量（kVA）"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    max_demand_source = models.CharField(
        _("最大需量来源"), max_length=16, choices=MaxDemandSource.choices, blank=True
    )
    contract_demand_kw = models.DecimalField(
        _("核定需量（kW）"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    valid_from = models.DateField(_("生效日期"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("用户电价档案")
        verbose_name_plural = _("用户电价档案")

    def __str__(self) -> str:
        return f"{self.account_id} {self.series}"


class BillCheckStatus(models.TextChoices):
    OK = "ok", _("一致")
    MISMATCH = "mismatch", _("不一致")
    NOT_COMPUTABLE = "not_computable", _("无法核算")


class UsageSource(models.TextChoices):
    """Where the kWh by band of a computation came from."""

    BILL_REGISTERS = "bill_registers", _("账单分时电量")
    DAILY_READINGS = "daily_readings", _("日冻结读数")
    LOAD_CURVE = "load_curve", _("负荷曲线")


class BillCheck(models.Model):
    """Our calculator's recomputation of one bill version, beside what the billing system billed.

    One row per bill version (re-checking updates it). ``difference_fen`` = imported − computed:
    positive when the billing system charged more than the calculator. Tolerance is 0 fen.
    """

    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="checks")
    account = models.ForeignKey("customers.Account", on_delete=models.CASCADE, related_name="bill_checks")
    period = models.DateField(_("电费年月"))
    status = models.CharField(_("核算结果"), max_length=16, choices=BillCheckStatus.choices)
    reason_code = models.CharField(max_length=48, blank=True)
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    imported_fen = models.BigIntegerField(_("账单电费（分）"))
    computed_fen = models.BigIntegerField(_("核算电费（分）"), null=True, blank=True)
    difference_fen = models.BigIntegerField(_("差额（分）"), null=True, blank=True)
    tariff_codes = models.CharField(_("电价版本"), max_length=200, blank=True)
    usage_source = models.CharField(_("电量来源"), max_length=16, choices=UsageSource.choices, blank=True)
    prior_kwh_in_tier_year = models.DecimalField(_("本阶梯年度此前电量"), **KWH, null=True, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    lines = models.JSONField(_("核算明细"), default=list, blank=True)
    checked_at = models.DateTimeField(_("核算时间"))
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("账单核算")
        verbose_name_plural = _("账单核算")
        constraints = [models.UniqueConstraint(fields=["bill"], name="bill_check_one_per_bill_version")]
        indexes = [
            models.Index(fields=["account", "-period"]),
            models.Index(fields=["period", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.bill_id} {self.status} {self.difference_fen}"
