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


# --- the Official Accounts we run ---------------------------------------------------------------

WECHAT_AES_KEY_CONTEXT = "channel_wechat_store.wechataccount.encoding_aes_key"
WECHAT_APP_SECRET_CONTEXT = "channel_wechat_store.wechataccount.app_secret"  # noqa: S105 (a name)


class WeChatAccount(models.Model):
    """One Official Account (公众号) whose callback is ``/channels/wechat/<slug>/``.

    ``token`` signs every callback (WeChat shows it in the console, so it is stored as is); the
    EncodingAESKey and AppSecret are sealed at rest with the PII keyring (powerdesk.privacy.crypto,
    each with its key id, so ``pii_rotate`` re-seals them like the ID-card numbers) and read
    through ``encoding_aes_key`` / ``app_secret``. ``safe_mode`` refuses plaintext callbacks, which
    no signature covers. ``h5_base_url`` is the origin of our H5 pages in reply links; empty uses
    the origin WeChat called the callback on.
    """

    slug = models.SlugField(_("标识"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64, blank=True)
    app_id = models.CharField(_("AppID"), max_length=32, unique=True)
    original_id = models.CharField(_("原始 ID"), max_length=32, blank=True)
    token = models.CharField(_("令牌（Token）"), max_length=32)
    encoding_aes_key_key_id = models.CharField(max_length=16, blank=True, editable=False)
    encoding_aes_key_ciphertext = models.TextField(blank=True, editable=False)
    app_secret_key_id = models.CharField(max_length=16, blank=True, editable=False)
    app_secret_ciphertext = models.TextField(blank=True, editable=False)
    safe_mode = models.BooleanField(_("安全模式"), default=True)
    timestamp_window_seconds = models.PositiveIntegerField(_("时间戳容差（秒）"), default=300)
    greeting = models.TextField(_("关注欢迎语"), blank=True)
    h5_base_url = models.URLField(_("微网页地址"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("公众号")
        verbose_name_plural = _("公众号")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(timestamp_window_seconds__gte=30, timestamp_window_seconds__lte=3600),
                name="wechat_account_window_30_to_3600",
                violation_error_message=_("时间戳容差应在 30 至 3600 秒之间。"),
            ),
            models.CheckConstraint(
                condition=~models.Q(safe_mode=True, encoding_aes_key_ciphertext=""),
                name="wechat_account_safe_mode_has_key",
                violation_error_message=_("安全模式需要消息加解密密钥（EncodingAESKey）。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slug} ({self.app_id})"

    def set_encoding_aes_key(self, encoding_aes_key: str) -> None:
        """Seal a new EncodingAESKey (43 characters; refused with ``ProtocolError`` otherwise)."""
        from powerdesk.channels.wechat.crypto import decode_encoding_aes_key
        from powerdesk.privacy.crypto import seal

        if not encoding_aes_key:
            self.encoding_aes_key_key_id, self.encoding_aes_key_ciphertext = "", ""
            return
        decode_encoding_aes_key(encoding_aes_key)
        self.encoding_aes_key_key_id, self.encoding_aes_key_ciphertext = seal(
            encoding_aes_key, context=WECHAT_AES_KEY_CONTEXT
        )

    def set_app_secret(self, app_secret: str) -> None:
        from powerdesk.privacy.crypto import seal

        if not app_secret:
            self.app_secret_key_id, self.app_secret_ciphertext = "", ""
            return
        self.app_secret_key_id, self.app_secret_ciphertext = seal(
            app_secret, context=WECHAT_APP_SECRET_CONTEXT
        )

    @property
    def encoding_aes_key(self) -> str:
        from powerdesk.privacy.crypto import open_sealed

        if not self.encoding_aes_key_ciphertext:
            return ""
        return open_sealed(
            self.encoding_aes_key_key_id, self.encoding_aes_key_ciphertext, context=WECHAT_AES_KEY_CONTEXT
        )

    @property
    def app_secret(self) -> str:
        from powerdesk.privacy.crypto import open_sealed

        if not self.app_secret_ciphertext:
            return ""
        return open_sealed(
            self.app_secret_key_id, self.app_secret_ciphertext, context=WECHAT_APP_SECRET_CONTEXT
        )

    def crypto(self):
        """The account's ``WeChatCrypto``, or None without an EncodingAESKey."""
        from powerdesk.channels.wechat.crypto import WeChatCrypto

        key = self.encoding_aes_key
        return WeChatCrypto(self.token, key, self.app_id) if key else None


def register_sealed_columns() -> None:
    """Called from WeChatStoreConfig.ready so key rotation (pii_rotate) re-seals these too."""
    from powerdesk.privacy.rotation import SealedColumn, register_sealed_column

    for key_id_field, ciphertext_field, context in (
        ("encoding_aes_key_key_id", "encoding_aes_key_ciphertext", WECHAT_AES_KEY_CONTEXT),
        ("app_secret_key_id", "app_secret_ciphertext", WECHAT_APP_SECRET_CONTEXT),
    ):
        register_sealed_column(
            SealedColumn("channel_wechat_store.WeChatAccount", key_id_field, ciphertext_field, context)
        )


class ImageMaterial(models.Model):
    """An image we uploaded to an Official Account as permanent material (素材管理 → 图片),
    by the SHA-256 of its bytes: an article's cover becomes an mpnews ``thumb_media_id`` once,
    and every later broadcast of it reuses that media_id (materials.py)."""

    app_id = models.CharField(_("AppID"), max_length=32)
    sha256 = models.CharField(max_length=64)
    media_id = models.CharField(_("素材 media_id"), max_length=128)
    byte_size = models.PositiveIntegerField(_("大小（字节）"))
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("公众号图片素材")
        verbose_name_plural = _("公众号图片素材")
        constraints = [
            models.UniqueConstraint(fields=["app_id", "sha256"], name="wechat_image_material_once"),
        ]

    def __str__(self) -> str:
        return f"{self.app_id} {self.sha256[:12]} → {self.media_id}"
