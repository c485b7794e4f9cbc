"""A draft menu per Official Account, and every attempt to publish or delete the live one."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MenuDraft(models.Model):
    """The menu being edited for one account, in WeChat's own ``button`` format (the body of
    ``menu/create`` minus the wrapper), so what is saved is exactly what would be published.

    ``revision`` grows with every save; the editor posts the revision it loaded, and a save
    over someone else's newer one is refused instead of silently overwriting it.
    """

    account = models.OneToOneField(
        "channel_wechat_store.WeChatAccount",
        on_delete=models.CASCADE,
        related_name="menu_draft",
        verbose_name=_("公众号"),
    )
    buttons = models.JSONField(_("菜单"), default=list, blank=True)
    revision = models.PositiveIntegerField(_("版本"), default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("修改人"),
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("菜单草稿")
        verbose_name_plural = _("菜单草稿")

    def __str__(self) -> str:
        return f"{self.account_id} r{self.revision}"


class MenuPublication(models.Model):
    """One call to WeChat that changed (or tried to change) the live menu: who, when, the exact
    JSON sent, and WeChat's answer. Kept for the record; never edited."""

    class Action(models.TextChoices):
        PUBLISH = "publish", _("发布")
        DELETE = "delete", _("删除线上菜单")

    class Outcome(models.TextChoices):
        OK = "ok", _("成功")
        FAILED = "failed", _("失败")

    account = models.ForeignKey(
        "channel_wechat_store.WeChatAccount",
        on_delete=models.CASCADE,
        related_name="menu_publications",
        verbose_name=_("公众号"),
    )
    action = models.CharField(_("操作"), max_length=16, choices=Action.choices)
    buttons = models.JSONField(_("发布内容"), default=list, blank=True)
    draft_revision = models.PositiveIntegerField(_("草稿版本"), null=True, blank=True)
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices)
    errcode = models.IntegerField(_("错误码"), null=True, blank=True)
    error = models.CharField(_("错误信息"), max_length=500, blank=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    staff_username = models.CharField(_("操作人账号"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("菜单发布记录")
        verbose_name_plural = _("菜单发布记录")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "created_at"], name="menu_publication_account")]

    def __str__(self) -> str:
        return f"{self.action} {self.outcome} {self.created_at:%Y-%m-%d %H:%M}"
