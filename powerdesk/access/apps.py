from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "powerdesk.access"
    label = "access"
    verbose_name = "接口访问凭证"
