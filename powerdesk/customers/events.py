"""Event kinds this domain records."""

from django.utils.translation import gettext_lazy as _

from powerdesk.events.registry import define_event

CUSTOMER_SIGNED_IN = define_event("customer.signed_in", _("客户登录"))
CUSTOMER_BOUND = define_event("customer.bound", _("客户绑定户号"))
CUSTOMER_UNBOUND = define_event("customer.unbound", _("客户解绑户号"))
CUSTOMER_PHONE_CHANGED = define_event("customer.phone_changed", _("客户更换手机号"))
CUSTOMER_EMAIL_CHANGED = define_event("customer.email_changed", _("客户更换邮箱"))
ACCOUNT_HOLDER_CHANGED = define_event("account.holder_changed", _("过户"))
OTP_SENT = define_event("otp.sent", _("发送短信验证码"))
REAL_NAME_FAILED = define_event("customer.real_name_failed", _("实名核验未通过"))
