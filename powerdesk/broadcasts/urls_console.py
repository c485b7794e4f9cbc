"""Console pages for 群发消息, merged into the console's URL list (namespace ``console``) like
content's: spread into powerdesk/console/urls.py, each view guarded by a Perm."""

from django.urls import path

from powerdesk.broadcasts import views_console

urlpatterns = [
    path("wechat/broadcasts/", views_console.broadcast_list, name="broadcast_list"),
    path("wechat/broadcasts/new/", views_console.broadcast_create, name="broadcast_create"),
    path("wechat/broadcasts/audience/", views_console.broadcast_audience, name="broadcast_audience"),
    path("wechat/broadcasts/<int:broadcast_id>/", views_console.broadcast_detail, name="broadcast_detail"),
    path(
        "wechat/broadcasts/<int:broadcast_id>/preview/",
        views_console.broadcast_preview,
        name="broadcast_preview",
    ),
    path("wechat/broadcasts/<int:broadcast_id>/send/", views_console.broadcast_send, name="broadcast_send"),
    path(
        "wechat/broadcasts/<int:broadcast_id>/schedule/",
        views_console.broadcast_schedule,
        name="broadcast_schedule",
    ),
    path(
        "wechat/broadcasts/<int:broadcast_id>/cancel/",
        views_console.broadcast_cancel,
        name="broadcast_cancel",
    ),
    path(
        "wechat/broadcasts/<int:broadcast_id>/resume/",
        views_console.broadcast_resume,
        name="broadcast_resume",
    ),
]
