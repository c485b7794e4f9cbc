"""Event kinds this domain records."""

from django.utils.translation import gettext_lazy as _

from powerdesk.events.registry import define_event

DATACUBE_FETCHED = define_event("channel_stats.datacube_fetched", _("获取微信统计数据"))
