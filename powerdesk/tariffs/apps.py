from django.apps import AppConfig


class TariffsConfig(AppConfig):
    name = "powerdesk.tariffs"
    label = "tariffs"
    verbose_name = "电价"

    def ready(self) -> None:
        from powerdesk.tariffs import events  # noqa: F401  (declares this app's event kinds)
