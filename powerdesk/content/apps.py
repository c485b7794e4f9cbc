from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "powerdesk.content"
    label = "content"
    verbose_name = "图文与使用指南"

    def ready(self) -> None:
        from powerdesk.content import events  # noqa: F401  (declares this app's event kinds)
