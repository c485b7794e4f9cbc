from django.apps import AppConfig


class ChannelStatsConfig(AppConfig):
    name = "powerdesk.channel_stats"
    label = "channel_stats"
    verbose_name = "公众号统计分析"

    def ready(self) -> None:
        from powerdesk.channel_stats import events  # noqa: F401  (declares this app's event kinds)
