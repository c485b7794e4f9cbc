from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "powerdesk.access"
    label = "access"
    verbose_name = "接口访问凭证"

    def ready(self) -> None:
        from powerdesk.access import events  # noqa: F401  (declares the event kinds)
