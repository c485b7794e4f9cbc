"""WeChat's own statistics (数据统计接口, "datacube"), kept as daily snapshots beside our figures.

Our own figures are never stored here: they are computed on demand from the inbox, the event
log and the API call log (selectors.py). These tables hold only what WeChat reports, one row per
AppID and day (and source or article), written by ``services.datacube_fetch``: fetching the same
day again updates its rows, so a re-run never duplicates anything.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DatacubeUserDay(models.Model):
    """New and cancelled followers of one day from one source (``getusersummary``).

    WeChat lists only the sources that had followers come or go that day; a day it reported on
    without a row for a source had none from there.
    """

    app_id = models.CharField(_("AppID"), max_length=32)
    ref_date = models.DateField(_("日期"))
    user_source = models.IntegerField(_("关注来源"))
    new_user = models.PositiveIntegerField(_("新关注"), default=0)
    cancel_user = models.PositiveIntegerField(_("取消关注"), default=0)
    fetched_at = models.DateTimeField(_("获取时间"))
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("微信用户增减（日）")
        verbose_name_plural = _("微信用户增减（日）")
        ordering = ["app_id", "ref_date", "user_source"]
        constraints = [
            models.UniqueConstraint(
                fields=["app_id", "ref_date", "user_source"],
                name="datacube_user_day_unique",
                violation_error_message=_("该公众号这一天这一来源的数据已存在。"),
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.app_id} {self.ref_date} source {self.user_source}: +{self.new_user} −{self.cancel_user}"
        )


class DatacubeCumulateDay(models.Model):
    """Total followers at the end of one day (``getusercumulate``). A row here also says that
    WeChat's figures for the day were fetched at all."""

    app_id = models.CharField(_("AppID"), max_length=32)
    ref_date = models.DateField(_("日期"))
    cumulate_user = models.PositiveIntegerField(_("累计关注"))
    fetched_at = models.DateTimeField(_("获取时间"))
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("微信累计关注（日）")
        verbose_name_plural = _("微信累计关注（日）")
        ordering = ["app_id", "ref_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["app_id", "ref_date"],
                name="datacube_cumulate_day_unique",
                violation_error_message=_("该公众号这一天的累计关注数已存在。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.app_id} {self.ref_date}: {self.cumulate_user}"


class DatacubeArticleDay(models.Model):
    """Reads, shares and favourites, on one day, of one article of a mass send
    (``getarticlesummary``; ``msgid`` is WeChat's ``<msg_data_id>_<index in the send>``)."""

    app_id = models.CharField(_("AppID"), max_length=32)
    ref_date = models.DateField(_("日期"))
    msgid = models.CharField(_("图文消息 ID"), max_length=64)
    title = models.CharField(_("标题"), max_length=200, blank=True)
    int_page_read_user = models.PositiveIntegerField(_("图文页阅读人数"), default=0)
    int_page_read_count = models.PositiveIntegerField(_("图文页阅读次数"), default=0)
    ori_page_read_user = models.PositiveIntegerField(_("原文页阅读人数"), default=0)
    ori_page_read_count = models.PositiveIntegerField(_("原文页阅读次数"), default=0)
    share_user = models.PositiveIntegerField(_("分享人数"), default=0)
    share_count = models.PositiveIntegerField(_("分享次数"), default=0)
    add_to_fav_user = models.PositiveIntegerField(_("收藏人数"), default=0)
    add_to_fav_count = models.PositiveIntegerField(_("收藏次数"), default=0)
    fetched_at = models.DateTimeField(_("获取时间"))
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("微信图文阅读（日）")
        verbose_name_plural = _("微信图文阅读（日）")
        ordering = ["app_id", "ref_date", "msgid"]
        constraints = [
            models.UniqueConstraint(
                fields=["app_id", "ref_date", "msgid"],
                name="datacube_article_day_unique",
                violation_error_message=_("该公众号这一天这篇图文的数据已存在。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.app_id} {self.ref_date} {self.msgid}: {self.int_page_read_count}"


class MenuItemLabel(models.Model):
    """The name a menu button carries, for labelling the CLICK/VIEW events it produces.

    Taken from the published menu (``menu/get``) whenever WeChat's figures are fetched; a button
    that has left the menu keeps its row (``in_menu`` False), since its old clicks still point at
    it. ``key`` is the button's ``key`` for click-like buttons and its ``url`` for view buttons —
    exactly what the event's EventKey carries.
    """

    app_id = models.CharField(_("AppID"), max_length=32)
    button_type = models.CharField(_("按钮类型"), max_length=32)
    key = models.CharField(_("按钮 KEY 或网址"), max_length=1024)
    name = models.CharField(_("按钮名称"), max_length=64)
    parent_name = models.CharField(_("所属主菜单"), max_length=64, blank=True)
    in_menu = models.BooleanField(_("在当前菜单中"), default=True)
    seen_at = models.DateTimeField(_("最近读取时间"))
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("菜单按钮名称")
        verbose_name_plural = _("菜单按钮名称")
        ordering = ["app_id", "parent_name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["app_id", "button_type", "key"],
                name="menu_item_label_unique",
                violation_error_message=_("该公众号已有此菜单按钮。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.app_id} {self.button_type} {self.key} = {self.name}"
