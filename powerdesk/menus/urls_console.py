"""Console pages of the custom menu, merged into the console's URL list (namespace ``console``)
with ``*menus_urls.urlpatterns``, like content's."""

from django.urls import path

from powerdesk.menus import views_console

urlpatterns = [
    path("wechat/menu/", views_console.menu_editor, name="wechat_menu"),
    path("wechat/menu/preview/", views_console.menu_preview, name="wechat_menu_preview"),
    path("wechat/menu/publish/", views_console.menu_publish, name="wechat_menu_publish"),
    path("wechat/menu/delete/", views_console.menu_delete, name="wechat_menu_delete"),
    path("wechat/menu/live/", views_console.menu_live, name="wechat_menu_live"),
    path("wechat/menu/live/import/", views_console.menu_import_live, name="wechat_menu_import_live"),
    path(
        "wechat/menu/publications/<int:publication_id>/",
        views_console.menu_publication,
        name="wechat_menu_publication",
    ),
]
