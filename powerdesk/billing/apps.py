from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "powerdesk.billing"
    label = "billing"
    verbose_name = "电费账务"

    def ready(self) -> None:
        from powerdesk.billing import events  # noqa: F401  (declares this app's event kinds)
