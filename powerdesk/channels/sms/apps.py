from django.apps import AppConfig


class SmsChannelConfig(AppConfig):
    name = "powerdesk.channels.sms"
    label = "channel_sms"
    verbose_name = "短信渠道"

    def ready(self) -> None:
        from powerdesk.channels.sms import checks  # noqa: F401  (registers the system checks)
