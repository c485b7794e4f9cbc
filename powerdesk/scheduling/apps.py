from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class SchedulingConfig(AppConfig):
    name = "powerdesk.scheduling"
    label = "scheduling"
    verbose_name = "定时任务"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Each app declares its periodic jobs in its own ``periodic.py``.
        autodiscover_modules("periodic")
