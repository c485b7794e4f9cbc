"""Customer & account registry (客户信息库): accounts, the people using our channels, their
identities on each channel, and the verified bindings between people and accounts."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from powerdesk.customers.choices import (
    AccountStatus,
    AgeGroup,
    BindingEndReason,
    BindingRole,
    ConsumptionLevel,
    CreditRating,
    HolderKind,
    IdentityProvider,
    OtpPurpose,
    TariffClass,
    VerificationMethod,
)
from powerdesk.events.choices import Channel


class Account(models.Model):
    """An electricity account (用电户, 户号) as the billing system knows it.

    The holder's ID-card number is stored only encrypted (``holder_id_card_ciphertext`` under
    key ``holder_id_card_key_id``) with a keyed hash for exact-match search.
    """

    number = models.CharField(_("户号"), max_length=10, unique=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    holder_kind = models.CharField(_("户主类型"), max_length=16, choices=HolderKind.choices)
    holder_name = models.CharField(_("户名"), max_length=100, db_index=True)
    holder_id_card_key_id = models.CharField(max_length=16, blank=True, editable=False)
    holder_id_card_ciphertext = models.TextField(blank=True, editable=False)
    holder_id_card_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    holder_org_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    phone = models.CharField(_("预留手机号"), max_length=11, blank=True, db_index=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    tariff_class = models.CharField(_("用电类别"), max_length=32, choices=TariffClass.choices)
    supply_unit = models.ForeignKey(
        "organisation.SupplyUnit",
        on_delete=models.PROTECT,
        related_name="accounts",
        verbose_name=_("供电单位"),
    )
    transformer_area = models.ForeignKey(
        "organisation.TransformerArea",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("台区"),
    )
    province_code = models.CharField(_("省"), max_length=6)
    city_code = models.CharField(_("市"), max_length=6)
    county_code = models.CharField(_("区县"), max_length=6, db_index=True)
    town_code = models.CharField(_("乡镇街道"), max_length=12, blank=True)
    address = models.CharField(_("用电地址"), max_length=200)
    lng_wgs84 = models.DecimalField(max_digits=10, decimal_places=6, null=True, blank=True)
    lat_wgs84 = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    lng_gcj02 = models.DecimalField(max_digits=10, decimal_places=6, null=True, blank=True)
    lat_gcj02 = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    is_important = models.BooleanField(_("重要客户"), default=False)
    # Segmentation attributes (marketing uses them; none is personal data on its own).
    age_group = models.CharField(_("年龄段"), max_length=16, choices=AgeGroup.choices, blank=True)
    occupation = models.CharField(_("职业"), max_length=50, blank=True)
    consumption_level = models.CharField(
        _("用电水平"), max_length=8, choices=ConsumptionLevel.choices, blank=True
    )
    credit_rating = models.CharField(_("信用等级"), max_length=4, choices=CreditRating.choices, blank=True)
    preferred_channel = models.CharField(_("偏好渠道"), max_length=16, choices=Channel.choices, blank=True)
    tags = models.JSONField(_("标签"), default=list, blank=True)
    opened_on = models.DateField(_("立户日期"), null=True, blank=True)  # local calendar date
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("用电户")
        verbose_name_plural = _("用电户")
        constraints = [
            models.CheckConstraint(
                condition=Q(number__regex=r"^[0-9]{10}$"),
                name="account_number_is_10_digits",
                violation_error_message=_("户号应为10位数字。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.holder_name}"


class CustomerUser(models.Model):
    """A person using our channels. Owns identities; sees the accounts bound to them."""

    display_name = models.CharField(_("称呼"), max_length=100, blank=True)
    phone = models.CharField(_("手机号"), max_length=11, null=True, blank=True, unique=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    is_active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("客户用户")
        verbose_name_plural = _("客户用户")

    def __str__(self) -> str:
        return self.display_name or f"客户用户 #{self.pk}"


class Identity(models.Model):
    """How a customer user is known on one channel: (provider, app id, subject) is unique.

    WeChat openids differ per official account, so the app id is part of the key; a unionid
    ties several openids of one person together.
    """

    customer_user = models.ForeignKey(CustomerUser, on_delete=models.CASCADE, related_name="identities")
    provider = models.CharField(_("身份来源"), max_length=32, choices=IdentityProvider.choices)
    app_id = models.CharField(_("应用 ID"), max_length=64, blank=True, default="")
    subject = models.CharField(_("标识"), max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("渠道身份")
        verbose_name_plural = _("渠道身份")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "app_id", "subject"],
                name="identity_unique_per_provider_app",
                violation_error_message=_("该渠道身份已属于另一位客户。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.app_id}:{self.subject}"


class Binding(models.Model):
    """A verified link between a customer user and an account, with a role and a validity.

    At most one *active* binding per (user, account); ended bindings are kept for the record.
    """

    customer_user = models.ForeignKey(CustomerUser, on_delete=models.CASCADE, related_name="bindings")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="bindings")
    role = models.CharField(_("绑定身份"), max_length=16, choices=BindingRole.choices)
    verified_by = models.CharField(_("核验方式"), max_length=16, choices=VerificationMethod.choices)
    channel = models.CharField(_("绑定渠道"), max_length=16, choices=Channel.choices)
    valid_from = models.DateTimeField(_("生效时间"))
    valid_until = models.DateTimeField(_("失效时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    end_reason = models.CharField(_("解除原因"), max_length=16, choices=BindingEndReason.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("户号绑定")
        verbose_name_plural = _("户号绑定")
        constraints = [
            models.UniqueConstraint(
                fields=["customer_user", "account"],
                condition=Q(ended_at__isnull=True),
                name="binding_one_active_per_user_account",
                violation_error_message=_("该户号已绑定到您的账户。"),
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | ~Q(end_reason=""),
                name="binding_end_has_reason",
                violation_error_message=_("解除绑定必须注明原因。"),
            ),
        ]
        indexes = [models.Index(fields=["account", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.customer_user} ↔ {self.account.number} ({self.get_role_display()})"


class OtpChallenge(models.Model):
    """One SMS one-time code. Only a keyed hash of the code is stored."""

    phone = models.CharField(max_length=11, db_index=True)
    purpose = models.CharField(max_length=16, choices=OtpPurpose.choices)
    code_hash = models.CharField(max_length=64)
    # What the code is for, so a code sent to bind account A cannot bind account B.
    context = models.CharField(max_length=64, blank=True, default="")
    requested_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        indexes = [models.Index(fields=["phone", "purpose", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} → {self.phone[:3]}****{self.phone[-4:]}"
