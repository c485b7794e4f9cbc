"""Event kinds this domain records."""

from django.utils.translation import gettext_lazy as _

from powerdesk.events.registry import define_event

MESSAGE_RECEIVED = define_event("conversation.message_received", _("收到渠道消息"))
REPLY_SENT = define_event("conversation.reply_sent", _("回复渠道消息"))
