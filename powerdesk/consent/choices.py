from django.db import models
from django.utils.translation import gettext_lazy as _


class ConsentPurpose(models.TextChoices):
    """What kind of message a consent covers. Service messages (bills, outage notices, replies
    to the customer's own questions) need no marketing consent and are not listed here."""

    MARKETING = "marketing", _("营销信息")


class ConsentStatus(models.TextChoices):
    OPTED_IN = "opted_in", _("同意接收")
    OPTED_OUT = "opted_out", _("已退订")


class ConsentSource(models.TextChoices):
    """Where a change came from."""

    REPLY = "reply", _("客户回复指令（如短信 TD）")
    PORTAL = "portal", _("网上营业厅")
    CONSOLE = "console", _("坐席工作台")
    IMPORT = "import", _("批量导入")
