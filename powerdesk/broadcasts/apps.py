from django.apps import AppConfig


class BroadcastsConfig(AppConfig):
    name = "powerdesk.broadcasts"
    label = "broadcasts"
    verbose_name = "公众号群发"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from powerdesk.broadcasts import events  # noqa: F401  (declares this app's event kinds)
