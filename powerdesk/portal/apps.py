from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "powerdesk.portal"
    label = "portal"
    verbose_name = "H5 微网页"

    def ready(self) -> None:
        from powerdesk.portal import events  # noqa: F401  (declares this app's event kinds)
