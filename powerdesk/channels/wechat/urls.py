from django.urls import path

from powerdesk.channels.wechat import inbound

app_name = "channel_wechat"
urlpatterns = [
    path("<slug:slug>/", inbound.callback, name="callback"),
]
