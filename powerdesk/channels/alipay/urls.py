from django.urls import path

from powerdesk.channels.alipay import inbound

app_name = "channel_alipay"
urlpatterns = [
    path("<slug:slug>/", inbound.callback, name="callback"),
]
