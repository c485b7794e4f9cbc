"""Console pages for 统计分析, merged into the console's own URL list (namespace ``console``).

Spread into powerdesk/console/urls.py with ``*channel_stats_urls.urlpatterns`` rather than
include(): the console's tests walk its patterns and expect plain URLPatterns, each guarded by a Perm.
"""

from django.urls import path

from powerdesk.channel_stats import views_console

urlpatterns = [
    path("wechat/stats/", views_console.stats_page, name="channel_stats"),
    path("wechat/stats/fetch/", views_console.stats_fetch, name="channel_stats_fetch"),
    path("wechat/stats/<slug:series_key>.csv", views_console.stats_export, name="channel_stats_export"),
]
