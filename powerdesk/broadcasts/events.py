"""Event kinds this domain records."""

from django.utils.translation import gettext_lazy as _

from powerdesk.events.registry import define_event

BROADCAST_CREATED = define_event("broadcast.created", _("新建群发"))
BROADCAST_PREVIEWED = define_event("broadcast.previewed", _("群发预览"))
BROADCAST_SCHEDULED = define_event("broadcast.scheduled", _("群发已排定"))
BROADCAST_CANCELLED = define_event("broadcast.cancelled", _("取消群发"))
BROADCAST_STARTED = define_event("broadcast.started", _("群发开始"))
BROADCAST_PAUSED = define_event("broadcast.paused", _("群发因配额暂停"))
BROADCAST_FINISHED = define_event("broadcast.finished", _("群发结束"))
