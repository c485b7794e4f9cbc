"""Console pages for consent, merged into the console's own URL list (namespace ``console``)
with ``*consent_urls.urlpatterns``, like content's."""

from django.urls import path

from powerdesk.consent import views_console

urlpatterns = [
    path("consent/", views_console.consent_list_view, name="consent_list"),
    path("consent/<int:consent_id>/", views_console.consent_detail_view, name="consent_detail"),
]
