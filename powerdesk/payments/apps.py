from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "powerdesk.payments"
    label = "payments"
    verbose_name = "在线缴费"
