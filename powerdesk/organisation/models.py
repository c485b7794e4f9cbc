"""The supply-unit tree (省公司 → 地市公司 → 县公司 → 供电所), departments, 台区 and outlets."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from powerdesk.organisation.choices import PARENT_LEVEL, DepartmentKind, UnitLevel


class SupplyUnit(models.Model):
    """A node of the company tree. ``path`` ("/33/3301/330102/…") makes "this unit and all
    below it" one indexed prefix query, which is how every staff query is scoped."""

    code = models.CharField(_("单位编码"), max_length=32, unique=True)
    name = models.CharField(_("单位名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=16, choices=UnitLevel.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级"),
    )
    path = models.CharField(_("路径"), max_length=255, unique=True, editable=False)
    division_code = models.CharField(_("行政区划代码"), max_length=12, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("供电单位")
        verbose_name_plural = _("供电单位")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level=UnitLevel.PROVINCE, parent__isnull=True)
                | (~models.Q(level=UnitLevel.PROVINCE) & models.Q(parent__isnull=False)),
                name="supply_unit_root_is_province",
                violation_error_message=_("只有省公司没有上级单位。"),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.level == UnitLevel.PROVINCE:
            return
        if self.parent is None or self.parent.level != PARENT_LEVEL[UnitLevel(self.level)]:
            raise ValidationError({"parent": _("上级单位层级不正确。")})

    def is_within(self, other: "SupplyUnit") -> bool:
        """True when this unit is ``other`` or below it."""
        return self.path.startswith(other.path)


class Department(models.Model):
    """A department inside a supply unit (客服、营销、运检、采购…)."""

    supply_unit = models.ForeignKey(SupplyUnit, on_delete=models.PROTECT, related_name="departments")
    name = models.CharField(_("部门名称"), max_length=100)
    kind = models.CharField(_("部门类型"), max_length=32, choices=DepartmentKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        constraints = [
            models.UniqueConstraint(
                fields=["supply_unit", "name"],
                name="department_unique_name_per_unit",
                violation_error_message=_("同一单位下部门名称不能重复。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.supply_unit.name} {self.name}"


class TransformerArea(models.Model):
    """台区: the low-voltage area fed by one distribution transformer."""

    code = models.CharField(_("台区编号"), max_length=32, unique=True)
    name = models.CharField(_("台区名称"), max_length=100)
    supply_unit = models.ForeignKey(SupplyUnit, on_delete=models.PROTECT, related_name="transformer_areas")
    capacity_kva = models.PositiveIntegerField(_("容量(kVA)"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("台区")
        verbose_name_plural = _("台区")

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class Outlet(models.Model):
    """营业网点: a service hall customers can visit."""

    code = models.CharField(_("网点编号"), max_length=32, unique=True)
    name = models.CharField(_("网点名称"), max_length=100)
    supply_unit = models.ForeignKey(SupplyUnit, on_delete=models.PROTECT, related_name="outlets")
    address = models.CharField(_("地址"), max_length=200)
    division_code = models.CharField(_("行政区划代码"), max_length=12, blank=True)
    phone = models.CharField(_("电话"), max_length=32, blank=True)
    manager_name = models.CharField(_("负责人"), max_length=50, blank=True)
    opening_hours = models.JSONField(_("营业时间"), default=dict, blank=True)  # {"mon": ["08:30","17:30"], …}
    services = models.JSONField(_("服务项目"), default=list, blank=True)
    lng_wgs84 = models.DecimalField(max_digits=10, decimal_places=6, null=True, blank=True)
    lat_wgs84 = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    lng_gcj02 = models.DecimalField(max_digits=10, decimal_places=6, null=True, blank=True)
    lat_gcj02 = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("营业网点")
        verbose_name_plural = _("营业网点")

    def __str__(self) -> str:
        return self.name
