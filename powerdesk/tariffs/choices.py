from django.db import models
from django.utils.translation import gettext_lazy as _


class TariffKind(models.TextChoices):
    """How a tariff prices energy (see docs/tariffs.md for the lines each kind produces)."""

    FLAT = "flat", _("单一电价")
    TIERED = "tiered", _("阶梯电价")
    TOU = "tou", _("分时电价")
    TIERED_TOU = "tiered_tou", _("阶梯分时电价")
    TWO_PART = "two_part", _("两部制电价")


class TierPeriod(models.TextChoices):
    """Over what the tier thresholds count kWh: each billing month, or the tier year (cumulative)."""

    MONTHLY = "monthly", _("月阶梯")
    YEARLY = "yearly", _("年阶梯")


class Band(models.TextChoices):
    """Time-of-use bands (尖/峰/平/谷). A single-price tariff prices only ``flat``."""

    SHARP = "sharp", _("尖")
    PEAK = "peak", _("峰")
    FLAT = "flat", _("平")
    VALLEY = "valley", _("谷")


class ChargeBasis(models.TextChoices):
    """What the basic charge (基本电费) of a two-part tariff is billed on."""

    CAPACITY = "capacity", _("按变压器容量")
    DEMAND = "demand", _("按最大需量")


TIERED_KINDS = frozenset({TariffKind.TIERED, TariffKind.TIERED_TOU})
TOU_KINDS = frozenset({TariffKind.TOU, TariffKind.TIERED_TOU})
