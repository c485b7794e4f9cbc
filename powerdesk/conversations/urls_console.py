"""Console pages of 公众号运营 — keyword auto-replies and the inbox — merged into the console's own
URL list (namespace ``console``) with ``*conversations_urls.urlpatterns``, like content's."""

from django.urls import path

from powerdesk.conversations import views_console

urlpatterns = [
    path("wechat/keywords/", views_console.keyword_list, name="wechat_keywords"),
    path("wechat/keywords/new/", views_console.keyword_create, name="wechat_keyword_create"),
    path("wechat/keywords/test/", views_console.keyword_test, name="wechat_keyword_test"),
    path("wechat/keywords/auto-replies/", views_console.auto_replies, name="wechat_auto_replies"),
    path("wechat/keywords/<int:rule_id>/", views_console.keyword_edit, name="wechat_keyword_edit"),
    path("wechat/keywords/<int:rule_id>/toggle/", views_console.keyword_toggle, name="wechat_keyword_toggle"),
    path("wechat/keywords/<int:rule_id>/delete/", views_console.keyword_delete, name="wechat_keyword_delete"),
    path("wechat/inbox/", views_console.inbox_list, name="wechat_inbox"),
    path("wechat/inbox/<int:conversation_id>/", views_console.inbox_thread, name="wechat_inbox_thread"),
    path("wechat/inbox/<int:conversation_id>/reply/", views_console.inbox_reply, name="wechat_inbox_reply"),
    path(
        "wechat/inbox/<int:conversation_id>/assign/", views_console.inbox_assign, name="wechat_inbox_assign"
    ),
    path(
        "wechat/inbox/<int:conversation_id>/status/", views_console.inbox_status, name="wechat_inbox_status"
    ),
]
