from django.apps import AppConfig


class WeChatStoreConfig(AppConfig):
    name = "powerdesk.channels.wechat_store"
    label = "channel_wechat_store"
    verbose_name = "微信公众号接口"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from powerdesk.channels.wechat_store.models import WeChatAccount, register_sealed_columns
        from powerdesk.channels.wechat_store.selectors import account_cache_clear

        register_sealed_columns()
        # The callback keeps accounts for a second; a change saved here applies at once.
        post_save.connect(account_cache_clear, sender=WeChatAccount, dispatch_uid="wechat_account_cache")
        post_delete.connect(account_cache_clear, sender=WeChatAccount, dispatch_uid="wechat_account_cache_del")
