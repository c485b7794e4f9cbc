from django.apps import AppConfig


class OrganisationConfig(AppConfig):
    name = "powerdesk.organisation"
    label = "organisation"
    verbose_name = "组织机构"
