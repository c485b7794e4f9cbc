"""The Alipay life accounts we run, and a log line for every call we make to Alipay's open API."""

from django.db import models
from django.utils.translation import gettext_lazy as _

ALIPAY_PRIVATE_KEY_CONTEXT = "channel_alipay.alipaylifeaccount.app_private_key"
DEFAULT_GATEWAY_URL = "https://openapi.alipay.com/gateway.do"


class AlipayLifeAccount(models.Model):
    """One life account (生活号) whose application gateway is ``/channels/alipay/<slug>/``.

    Our application private key signs every answer and every API request; it is sealed at rest
    with the PII keyring (``powerdesk.privacy.crypto``, key id stored beside it, so ``pii_rotate``
    re-seals it) and read through ``app_private_key``. Alipay's public key verifies every push
    and every API answer; it is public and stored as PEM. ``gateway_url`` is Alipay's open API
    gateway (``https://openapi.alipay.com/gateway.do``), or the local fake in tests and the demo.
    Write through ``services.life_account_save``, which checks the keys and the URL.
    """

    slug = models.SlugField(_("标识"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64, blank=True)
    app_id = models.CharField(_("应用 APPID"), max_length=32, unique=True)
    app_private_key_key_id = models.CharField(max_length=16, editable=False)
    app_private_key_ciphertext = models.TextField(editable=False)
    alipay_public_key = models.TextField(_("支付宝公钥"))
    gateway_url = models.URLField(_("开放平台网关"), max_length=200, default=DEFAULT_GATEWAY_URL)
    greeting = models.TextField(_("关注欢迎语"), blank=True)
    h5_base_url = models.URLField(_("微网页地址"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("支付宝生活号")
        verbose_name_plural = _("支付宝生活号")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(app_private_key_ciphertext="") & ~models.Q(alipay_public_key=""),
                name="alipay_life_account_keys_present",
                violation_error_message=_("请填写应用私钥和支付宝公钥。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slug} ({self.app_id})"

    @property
    def app_private_key(self) -> str:
        """Our application private key (PKCS#8 PEM), opened from its sealed column."""
        from powerdesk.privacy.crypto import open_sealed

        return open_sealed(
            self.app_private_key_key_id, self.app_private_key_ciphertext, context=ALIPAY_PRIVATE_KEY_CONTEXT
        )

    def set_app_private_key(self, private_key_pem: str) -> None:
        """Seal a private key already normalised by ``keys.private_key_pem``."""
        from powerdesk.privacy.crypto import seal

        self.app_private_key_key_id, self.app_private_key_ciphertext = seal(
            private_key_pem, context=ALIPAY_PRIVATE_KEY_CONTEXT
        )

    def app_public_key_base64(self) -> str:
        """Our public key as Alipay's console shows it (the gateway check answers with it)."""
        from powerdesk.channels.alipay.keys import bare_base64, public_key_of

        return bare_base64(public_key_of(self.app_private_key))


class AlipayApiCall(models.Model):
    """One HTTP exchange with Alipay's open API gateway. Written once and never updated; only the
    method and outcome are kept — never the body (it carries user ids and message text)."""

    class Outcome(models.TextChoices):
        OK = "ok", _("成功")
        VENDOR_ERROR = "vendor_error", _("支付宝返回错误码")
        HTTP_ERROR = "http_error", _("HTTP 错误")
        NETWORK_ERROR = "network_error", _("网络错误")
        BAD_RESPONSE = "bad_response", _("应答无法验证")

    app_id = models.CharField(_("应用 APPID"), max_length=32)
    method = models.CharField(_("接口"), max_length=64)
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)  # None: no HTTP answer
    code = models.CharField(_("网关返回码"), max_length=16, blank=True)  # 10000 for success
    sub_code = models.CharField(_("业务返回码"), max_length=64, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("生活号接口调用记录")
        verbose_name_plural = _("生活号接口调用记录")
        ordering = ["-id"]
        indexes = [models.Index(fields=["app_id", "at"], name="alipay_call_app_at")]

    def __str__(self) -> str:
        return f"{self.method} {self.outcome} {self.code} {self.sub_code} {self.latency_ms} ms"


def register_sealed_columns() -> None:
    """Called from AlipayLifeConfig.ready so key rotation (pii_rotate) re-seals the private key."""
    from powerdesk.privacy.rotation import SealedColumn, register_sealed_column

    register_sealed_column(
        SealedColumn(
            "channel_alipay.AlipayLifeAccount",
            "app_private_key_key_id",
            "app_private_key_ciphertext",
            ALIPAY_PRIVATE_KEY_CONTEXT,
        )
    )
