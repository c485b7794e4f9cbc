"""Event kinds this domain records."""

from django.utils.translation import gettext_lazy as _

from powerdesk.events.registry import define_event

MENU_DRAFT_SAVED = define_event("menu.draft_saved", _("保存公众号菜单草稿"))
MENU_PUBLISHED = define_event("menu.published", _("发布公众号菜单"))
MENU_PUBLISH_FAILED = define_event("menu.publish_failed", _("公众号菜单发布失败"))
MENU_DELETED = define_event("menu.deleted", _("删除公众号线上菜单"))
