from django.apps import AppConfig


class MenusConfig(AppConfig):
    name = "powerdesk.menus"
    label = "menus"
    verbose_name = "公众号自定义菜单"

    def ready(self) -> None:
        from powerdesk.menus import events  # noqa: F401  (declares this app's event kinds)
