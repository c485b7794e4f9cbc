from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    """Where a chart's figures come from; every chart names one."""

    OURS = "ours", _("我方事件日志")
    WECHAT = "wechat", _("微信数据接口")


# getusersummary's user_source codes (WeChat's 用户分析 documentation).
USER_SOURCES: dict[int, str] = {
    0: _("其他合计"),
    1: _("公众号搜索"),
    17: _("名片分享"),
    30: _("扫描二维码"),
    57: _("文章内账号名称"),
    100: _("微信广告"),
    149: _("小程序关注"),
    161: _("他人转载"),
    200: _("视频号"),
    201: _("直播"),
}


def user_source_label(code: int) -> str:
    label = USER_SOURCES.get(code)
    return str(label) if label is not None else _("来源 %(code)s") % {"code": code}
