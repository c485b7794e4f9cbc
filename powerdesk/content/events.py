"""Event kinds this domain records."""

from django.utils.translation import gettext_lazy as _

from powerdesk.events.registry import define_event

ARTICLE_CREATED = define_event("content.article_created", _("新建图文"))
ARTICLE_UPDATED = define_event("content.article_updated", _("修改图文"))
ARTICLE_PUBLISHED = define_event("content.article_published", _("发布图文"))
ARTICLE_UNPUBLISHED = define_event("content.article_unpublished", _("撤回图文"))
ARTICLE_READ = define_event("content.article_read", _("阅读图文"))
