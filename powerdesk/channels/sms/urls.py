from django.urls import path

from powerdesk.channels.sms import inbound

app_name = "channel_sms"
urlpatterns = [
    path("inbound/<slug:provider>/", inbound.upstream, name="inbound"),
    path("reports/<slug:provider>/", inbound.delivery_reports, name="reports"),
]
