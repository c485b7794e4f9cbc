from django.apps import AppConfig


class AlipayLifeConfig(AppConfig):
    name = "powerdesk.channels.alipay"
    label = "channel_alipay"
    verbose_name = "支付宝生活号"

    def ready(self) -> None:
        from powerdesk.channels.alipay.models import register_sealed_columns
        from powerdesk.conversations.services import REPLY_SENDERS
        from powerdesk.events.choices import Channel

        register_sealed_columns()
        # Deferred replies on this channel go out through the open API (the engine looks the
        # sender up by dotted path and never imports a channel package).
        REPLY_SENDERS.setdefault(Channel.ALIPAY, "powerdesk.channels.alipay.outbound.reply_send")
