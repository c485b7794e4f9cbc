"""Event kinds the H5 portal records (sign-ins themselves are ``customer.signed_in``)."""

from django.utils.translation import gettext_lazy as _

from powerdesk.events.registry import define_event

CUSTOMER_IDENTITY_LINKED = define_event("customer.identity_linked", _("客户关联渠道身份"))
