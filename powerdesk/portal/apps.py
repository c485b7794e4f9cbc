from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "powerdesk.portal"
    label = "portal"
    verbose_name = "H5 微网页"
