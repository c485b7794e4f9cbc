from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "powerdesk.customers"
    label = "customers"
    verbose_name = "客户信息库"

    def ready(self) -> None:
        from powerdesk.customers import events  # noqa: F401  (declares this app's event kinds)
