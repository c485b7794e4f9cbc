from django.apps import AppConfig


class WeChatStoreConfig(AppConfig):
    name = "powerdesk.channels.wechat_store"
    label = "channel_wechat_store"
    verbose_name = "微信公众号接口"

    def ready(self) -> None:
        from powerdesk.channels.wechat_store.models import register_sealed_columns

        register_sealed_columns()
