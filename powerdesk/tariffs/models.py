"""The tariff catalogue (电价目录): one row per tariff *version*, with its tiers, band prices and
time-of-use windows as child rows.

A version is identified by ``code``; versions of one schedule share a ``series`` and do not
overlap in validity. Rows are written only by ``powerdesk.tariffs.services`` (which validates
them strictly) and read by the calculator through ``selectors.snapshot``.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from powerdesk.customers.choices import TariffClass
from powerdesk.tariffs.choices import Band, TariffKind, TierPeriod

PRICE_MAX_DIGITS = 12
PRICE_DECIMAL_PLACES = 5  # e.g. 0.53800 or 0.83420 yuan/kWh; services refuse a sixth decimal


class Tariff(models.Model):
    """One version of a tariff schedule, in force on local dates ``[valid_from, valid_to)``.

    ``valid_to`` is exclusive (the day the next version starts) and null while open-ended.
    Two-part prices are set only for ``kind == two_part``; tier settings only for tiered kinds.
    """

    code = models.CharField(_("电价编码"), max_length=40, unique=True)
    series = models.CharField(_("电价系列"), max_length=40, db_index=True)
    name = models.CharField(_("名称"), max_length=100)
    tariff_class = models.CharField(_("用电类别"), max_length=32, choices=TariffClass.choices)
    kind = models.CharField(_("计价方式"), max_length=16, choices=TariffKind.choices)
    valid_from = models.DateField(_("执行起始日"))  # local date, inclusive
    valid_to = models.DateField(_("执行截止日（不含）"), null=True, blank=True)  # local date, exclusive
    tier_period = models.CharField(_("阶梯周期"), max_length=8, choices=TierPeriod.choices, blank=True)
    tier_year_start_month = models.PositiveSmallIntegerField(_("阶梯年度起始月"), default=1)
    capacity_price_per_kva_month = models.DecimalField(
        _("容量电价（元/千伏安·月）"),
        max_digits=PRICE_MAX_DIGITS,
        decimal_places=PRICE_DECIMAL_PLACES,
        null=True,
        blank=True,
    )
    demand_price_per_kw_month = models.DecimalField(
        _("需量电价（元/千瓦·月）"),
        max_digits=PRICE_MAX_DIGITS,
        decimal_places=PRICE_DECIMAL_PLACES,
        null=True,
        blank=True,
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("电价")
        verbose_name_plural = _("电价")
        ordering = ["series", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="tariff_valid_to_after_valid_from",
                violation_error_message=_("执行截止日须晚于执行起始日。"),
            ),
            models.CheckConstraint(
                condition=Q(tier_year_start_month__gte=1, tier_year_start_month__lte=12),
                name="tariff_tier_year_start_month_1_12",
                violation_error_message=_("阶梯年度起始月须为 1–12。"),
            ),
            models.CheckConstraint(
                condition=(
                    Q(capacity_price_per_kva_month__isnull=True) | Q(capacity_price_per_kva_month__gte=0)
                )
                & (Q(demand_price_per_kw_month__isnull=True) | Q(demand_price_per_kw_month__gte=0)),
                name="tariff_two_part_prices_not_negative",
                violation_error_message=_("基本电价不能为负数。"),
            ),
        ]
        indexes = [models.Index(fields=["tariff_class", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class TariffTier(models.Model):
    """One step of a tiered tariff: kWh up to ``upper_kwh`` (null for the last, open step)
    cost the band price plus ``surcharge_per_kwh`` (0 for the first step)."""

    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="tiers")
    order = models.PositiveSmallIntegerField(_("档次"))  # 1, 2, 3 …
    upper_kwh = models.DecimalField(
        _("档位上限（千瓦时）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    surcharge_per_kwh = models.DecimalField(
        _("加价（元/千瓦时）"), max_digits=PRICE_MAX_DIGITS, decimal_places=PRICE_DECIMAL_PLACES
    )

    class Meta:
        verbose_name = _("阶梯档位")
        verbose_name_plural = _("阶梯档位")
        ordering = ["tariff", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["tariff", "order"],
                name="tariff_tier_unique_order",
                violation_error_message=_("同一电价的档次不能重复。"),
            ),
            models.CheckConstraint(
                condition=Q(surcharge_per_kwh__gte=0),
                name="tariff_tier_surcharge_not_negative",
                violation_error_message=_("阶梯加价不能为负数。"),
            ),
            models.CheckConstraint(
                condition=Q(upper_kwh__isnull=True) | Q(upper_kwh__gt=0),
                name="tariff_tier_upper_positive",
                violation_error_message=_("档位上限须大于 0。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tariff.code} 第{self.order}档"


class TariffBandPrice(models.Model):
    """The energy price of one time-of-use band (a single-price tariff has one row, band 平)."""

    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="band_prices")
    band = models.CharField(_("时段"), max_length=8, choices=Band.choices)
    price_per_kwh = models.DecimalField(
        _("电度电价（元/千瓦时）"), max_digits=PRICE_MAX_DIGITS, decimal_places=PRICE_DECIMAL_PLACES
    )

    class Meta:
        verbose_name = _("时段电价")
        verbose_name_plural = _("时段电价")
        constraints = [
            models.UniqueConstraint(
                fields=["tariff", "band"],
                name="tariff_band_price_unique_band",
                violation_error_message=_("同一电价的时段不能重复定价。"),
            ),
            models.CheckConstraint(
                condition=Q(price_per_kwh__gte=0),
                name="tariff_band_price_not_negative",
                violation_error_message=_("电度电价不能为负数。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tariff.code} {self.get_band_display()} {self.price_per_kwh}"


class TouWindow(models.Model):
    """A clock window ``[starts_at, ends_at)`` belonging to one band in the listed months.

    A window may cross midnight (22:00–08:00); ``starts_at == ends_at`` means the whole day.
    For every month, the windows applying to it tile the 24 hours exactly (checked by services).
    """

    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="windows")
    order = models.PositiveSmallIntegerField(_("序号"))
    band = models.CharField(_("时段"), max_length=8, choices=Band.choices)
    starts_at = models.TimeField(_("开始时刻"))
    ends_at = models.TimeField(_("结束时刻（不含）"))
    months = models.JSONField(_("适用月份"), default=list)  # sorted list of 1..12

    class Meta:
        verbose_name = _("分时时段")
        verbose_name_plural = _("分时时段")
        ordering = ["tariff", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["tariff", "order"],
                name="tou_window_unique_order",
                violation_error_message=_("同一电价的时段序号不能重复。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tariff.code} {self.get_band_display()} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"
