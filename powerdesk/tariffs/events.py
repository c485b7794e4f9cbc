"""Event kinds this domain records."""

from django.utils.translation import gettext_lazy as _

from powerdesk.events.registry import define_event

TARIFF_CREATED = define_event("tariff.created", _("新增电价"))
TARIFF_ENDED = define_event("tariff.ended", _("电价停止执行"))
