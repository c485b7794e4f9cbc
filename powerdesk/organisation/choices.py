from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitLevel(models.TextChoices):
    PROVINCE = "province", _("省公司")
    CITY = "city", _("地市公司")
    COUNTY = "county", _("县公司")
    STATION = "station", _("供电所")


# Each level's parent level; the tree is exactly four deep.
PARENT_LEVEL = {
    UnitLevel.CITY: UnitLevel.PROVINCE,
    UnitLevel.COUNTY: UnitLevel.CITY,
    UnitLevel.STATION: UnitLevel.COUNTY,
}


class DepartmentKind(models.TextChoices):
    CUSTOMER_SERVICE = "customer_service", _("客户服务")
    MARKETING = "marketing", _("市场营销")
    OPERATIONS = "operations", _("运维检修")
    PROCUREMENT = "procurement", _("物资采购")
    DATA = "data", _("数据分析")
    IT = "it", _("信息运维")
