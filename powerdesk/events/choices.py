from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """Where an interaction happened; every event and message names one."""

    WECHAT = "wechat", _("微信公众号")
    ALIPAY = "alipay", _("支付宝生活号")
    SMS = "sms", _("短信营业厅")
    H5 = "h5", _("H5 微网页")
    APP = "app", _("手机 App")
    API = "api", _("开放接口")
    WEB = "web", _("网站")
    OUTLET = "outlet", _("营业厅")
    BANK = "bank", _("银行代扣")
    CONSOLE = "console", _("坐席工作台")
    SYSTEM = "system", _("系统")
