from django.apps import AppConfig


class WeChatStoreConfig(AppConfig):
    name = "powerdesk.channels.wechat_store"
    label = "channel_wechat_store"
    verbose_name = "微信公众号接口"
