"""Event kinds this domain records."""

from django.utils.translation import gettext_lazy as _

from powerdesk.events.registry import define_event

TOKEN_ISSUED = define_event("access.token_issued", _("签发接口访问令牌"))
TOKENS_REVOKED = define_event("access.tokens_revoked", _("吊销接口访问令牌"))
