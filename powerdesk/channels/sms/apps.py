from django.apps import AppConfig


class SmsChannelConfig(AppConfig):
    name = "powerdesk.channels.sms"
    label = "channel_sms"
    verbose_name = "短信渠道"
