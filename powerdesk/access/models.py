"""API credentials: registered clients, one-time login codes, access and refresh tokens.

No secret is stored in the clear. Tokens, login codes and client secrets are random strings
with a recognisable prefix (``pdat_`` access, ``pdrt_`` refresh, ``pdlc_`` login code,
``pdpc_`` partner client secret) so a leaked one can be spotted in logs and by secret scanners;
the database holds only their SHA-256 (client secrets: salted SHA-256).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from powerdesk.access.choices import ClientKind, RevokeReason


class ApiClient(models.Model):
    """A program calling the API: our customer app (public) or a partner system (confidential).

    App clients exchange customer sign-ins for per-customer tokens and have no secret; partner
    clients authenticate with ``client_id`` + secret and receive tokens limited to
    ``allowed_scopes``.
    """

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=ClientKind.choices)
    client_id = models.CharField(_("客户端 ID"), max_length=64, unique=True)
    secret_hash = models.CharField(max_length=128, blank=True, editable=False)
    allowed_scopes = models.JSONField(_("允许的权限范围"), default=list, blank=True)
    # App clients only: where the H5 authorise page may send a login code. Exact match.
    redirect_uris = models.JSONField(_("登记的回调地址"), default=list, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("接口客户端")
        verbose_name_plural = _("接口客户端")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=ClientKind.PARTNER) | ~Q(secret_hash=""),
                name="api_client_partner_has_secret",
                violation_error_message=_("合作方客户端必须有密钥。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"


class AppLoginCode(models.Model):
    """A single-use code the H5 "authorise app" page gives the app, exchanged for a token pair.

    ``family`` is set when the code is spent: if the same code is presented again, the tokens
    it produced are revoked (the code leaked). ``code_challenge`` (PKCE, S256) is optional.
    """

    code_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    customer_user = models.ForeignKey("customers.CustomerUser", on_delete=models.CASCADE, related_name="+")
    code_challenge = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    family = models.UUIDField(null=True, blank=True)

    class Meta:
        verbose_name = _("App 登录码")
        verbose_name_plural = _("App 登录码")
        constraints = [
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | Q(family__isnull=False),
                name="app_login_code_used_has_family",
                violation_error_message=_("已使用的登录码必须记录其签发的令牌族。"),
            ),
        ]

    def __str__(self) -> str:
        return f"登录码 #{self.pk} → 客户用户 #{self.customer_user_id}"


class RefreshToken(models.Model):
    """A customer's long-lived token, rotated on every use.

    All refresh tokens descending from one sign-in share a ``family``. Presenting a rotated
    (already used) token means a copy is in someone else's hands, so the whole family, with
    its access tokens, is revoked.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    customer_user = models.ForeignKey("customers.CustomerUser", on_delete=models.CASCADE, related_name="+")
    family = models.UUIDField(db_index=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    rotated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=16, choices=RevokeReason.choices, blank=True)

    class Meta:
        verbose_name = _("刷新令牌")
        verbose_name_plural = _("刷新令牌")
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revoke_reason=""),
                name="refresh_token_revoke_has_reason",
                violation_error_message=_("吊销令牌必须注明原因。"),
            ),
        ]

    def __str__(self) -> str:
        return f"刷新令牌 #{self.pk} (族 {self.family})"


class AccessToken(models.Model):
    """A short-lived bearer token: a customer's (``customer_user`` and ``family`` set, no scopes)
    or a partner's (neither set, ``scopes`` ⊆ the client's allowed scopes)."""

    token_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    customer_user = models.ForeignKey(
        "customers.CustomerUser", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    family = models.UUIDField(null=True, blank=True, db_index=True)
    scopes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=16, choices=RevokeReason.choices, blank=True)

    class Meta:
        verbose_name = _("访问令牌")
        verbose_name_plural = _("访问令牌")
        constraints = [
            models.CheckConstraint(
                condition=Q(customer_user__isnull=True, family__isnull=True)
                | Q(customer_user__isnull=False, family__isnull=False),
                name="access_token_customer_has_family",
                violation_error_message=_("客户令牌必须属于一个令牌族。"),
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revoke_reason=""),
                name="access_token_revoke_has_reason",
                violation_error_message=_("吊销令牌必须注明原因。"),
            ),
        ]

    def __str__(self) -> str:
        return f"访问令牌 #{self.pk}"

