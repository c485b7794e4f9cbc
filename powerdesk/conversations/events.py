"""Event kinds this domain records."""

from django.utils.translation import gettext_lazy as _

from powerdesk.events.registry import define_event

MESSAGE_RECEIVED = define_event("conversation.message_received", _("收到渠道消息"))
REPLY_SENT = define_event("conversation.reply_sent", _("回复渠道消息"))
KEYWORD_RULE_CREATED = define_event("keyword_rule.created", _("新建关键词回复规则"))
KEYWORD_RULE_UPDATED = define_event("keyword_rule.updated", _("修改关键词回复规则"))
KEYWORD_RULE_DELETED = define_event("keyword_rule.deleted", _("删除关键词回复规则"))
AUTO_REPLY_CHANGED = define_event("auto_reply.changed", _("修改关注欢迎语或默认回复"))
STAFF_REPLIED = define_event("conversation.staff_replied", _("员工回复留言"))
STAFF_REPLY_FAILED = define_event("conversation.staff_reply_failed", _("员工回复留言发送失败"))
CONVERSATION_ASSIGNED = define_event("conversation.assigned", _("分配留言处理人"))
CONVERSATION_STATUS_CHANGED = define_event("conversation.status_changed", _("修改留言状态"))
