from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "powerdesk.console"
    label = "console"
    verbose_name = "坐席工作台"
