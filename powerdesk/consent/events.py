"""Event kinds this domain records."""

from django.utils.translation import gettext_lazy as _

from powerdesk.events.registry import define_event

OPTED_IN = define_event("consent.opted_in", _("同意接收营销信息"))
OPTED_OUT = define_event("consent.opted_out", _("退订营销信息"))
