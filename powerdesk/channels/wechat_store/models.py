"""The access_token every worker shares, and a log line for every call we make to WeChat."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessTokenCache(models.Model):
    """The one current ``access_token`` of an AppID, shared by every process.

    One row per AppID, refreshed under a row lock (token_store.py) so that concurrent workers
    never fetch — and never force-invalidate — each other's token. The token lives two hours and
    only ever reaches WeChat, so it is stored as WeChat issued it.
    """

    app_id = models.CharField(_("AppID"), max_length=32, unique=True)
    # WeChat asks for at least 512 characters of storage.
    token = models.CharField(max_length=512, blank=True)
    expires_at = models.DateTimeField(_("过期时间"))
    refreshed_at = models.DateTimeField(_("获取时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("公众号接口调用凭据")
        verbose_name_plural = _("公众号接口调用凭据")

    def __str__(self) -> str:
        return f"{self.app_id} until {self.expires_at:%Y-%m-%d %H:%M:%S}"


class ApiCallLog(models.Model):
    """One HTTP exchange with the WeChat API (a retried call writes two rows).

    Written once and never updated; old rows may be pruned, which is why, unlike the event log,
    no append-only trigger guards the table. Only the path is kept: never the query string (it
    carries the access_token) nor the body (it carries openids and message text).
    """

    class Outcome(models.TextChoices):
        OK = "ok", _("成功")
        VENDOR_ERROR = "vendor_error", _("微信返回错误码")
        HTTP_ERROR = "http_error", _("HTTP 错误")
        NETWORK_ERROR = "network_error", _("网络错误")

    app_id = models.CharField(_("AppID"), max_length=32)
    endpoint = models.CharField(_("接口"), max_length=64)
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices)
    # None when no HTTP answer came (timeout, refused connection).
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # WeChat's errcode; 0 for success, None when the body was not a WeChat answer.
    errcode = models.IntegerField(null=True, blank=True)
    # 1, or 2 for the one retry after an access_token refresh.
    attempt = models.PositiveSmallIntegerField(default=1)
    latency_ms = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("公众号接口调用记录")
        verbose_name_plural = _("公众号接口调用记录")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["app_id", "at"], name="wechat_call_app_at"),
            models.Index(fields=["endpoint", "at"], name="wechat_call_endpoint_at"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.outcome} {self.errcode} {self.latency_ms} ms"
