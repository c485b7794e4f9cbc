from django.db import models
from django.utils.translation import gettext_lazy as _


class HolderKind(models.TextChoices):
    PERSON = "person", _("个人")
    ORGANISATION = "organisation", _("单位")


class TariffClass(models.TextChoices):
    RESIDENTIAL = "residential", _("居民生活")
    GENERAL_COMMERCIAL = "general_commercial", _("一般工商业")
    LARGE_INDUSTRY = "large_industry", _("大工业")
    AGRICULTURAL = "agricultural", _("农业生产")


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("正常")
    SUSPENDED = "suspended", _("暂停")
    CLOSED = "closed", _("销户")


class AgeGroup(models.TextChoices):
    UNDER_30 = "under_30", _("30岁以下")
    FROM_30_TO_44 = "30_44", _("30-44岁")
    FROM_45_TO_59 = "45_59", _("45-59岁")
    OVER_60 = "60_plus", _("60岁及以上")


class ConsumptionLevel(models.TextChoices):
    LOW = "low", _("低")
    MEDIUM = "medium", _("中")
    HIGH = "high", _("高")


class CreditRating(models.TextChoices):
    AAA = "AAA", "AAA"
    AA = "AA", "AA"
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


class IdentityProvider(models.TextChoices):
    PHONE = "phone", _("手机号")
    WECHAT_OPENID = "wechat_openid", _("微信 OpenID")
    WECHAT_UNIONID = "wechat_unionid", _("微信 UnionID")
    ALIPAY = "alipay", _("支付宝用户")
    APP = "app", _("App 账号")


class BindingRole(models.TextChoices):
    HOLDER = "holder", _("户主")
    FAMILY = "family", _("家庭成员")
    AGENT = "agent", _("授权代理人")


class VerificationMethod(models.TextChoices):
    SMS_OTP = "sms_otp", _("短信验证码")
    REAL_NAME = "real_name", _("实名信息核验")
    OUTLET = "outlet", _("营业厅现场核验")
    IMPORT = "import", _("系统导入")


class OtpPurpose(models.TextChoices):
    SIGN_IN = "sign_in", _("登录")
    BIND_ACCOUNT = "bind_account", _("绑定户号")
    CHANGE_PHONE = "change_phone", _("更换手机号")
    CHANGE_EMAIL = "change_email", _("更换邮箱")


class BindingEndReason(models.TextChoices):
    UNBOUND_BY_CUSTOMER = "unbound", _("客户解绑")
    HOLDER_CHANGED = "holder_changed", _("过户")
    EXPIRED = "expired", _("授权到期")
    STAFF = "staff", _("工作人员解除")
