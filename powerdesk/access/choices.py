from django.db import models
from django.utils.translation import gettext_lazy as _


class ClientKind(models.TextChoices):
    # Our own customer app: a public client (no secret), gets per-customer tokens.
    APP = "app", _("客户 App")
    # A partner system: a confidential client (secret), gets scoped machine tokens.
    PARTNER = "partner", _("合作方系统")


class Scope(models.TextChoices):
    """What a partner token may read. Customer tokens carry no scopes: they act as the customer."""

    ACCOUNTS_READ = "accounts:read", _("读取用电户信息")
    CUSTOMERS_READ = "customers:read", _("读取客户信息")
    EVENTS_READ = "events:read", _("读取事件日志")


class RevokeReason(models.TextChoices):
    CLIENT = "client", _("客户端注销")
    REFRESH_REUSE = "refresh_reuse", _("刷新令牌被重复使用")
    CODE_REUSE = "code_reuse", _("登录码被重复使用")
