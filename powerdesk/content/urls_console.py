"""Console pages for content, merged into the console's own URL list (namespace ``console``).

Spread into powerdesk/console/urls.py with ``*content_urls.urlpatterns`` rather than include():
the console's tests walk its patterns and expect plain URLPatterns, each guarded by a Perm.
"""

from django.urls import path

from powerdesk.content import views_console

urlpatterns = [
    path("content/articles/", views_console.article_list, name="content_article_list"),
    path("content/articles/new/", views_console.article_create, name="content_article_create"),
    path("content/articles/<int:article_id>/", views_console.article_edit, name="content_article_edit"),
    path(
        "content/articles/<int:article_id>/publish/",
        views_console.article_publish,
        name="content_article_publish",
    ),
    path(
        "content/articles/<int:article_id>/unpublish/",
        views_console.article_unpublish,
        name="content_article_unpublish",
    ),
    path(
        "content/articles/<int:article_id>/cover/", views_console.article_cover, name="content_article_cover"
    ),
    path("content/search/", views_console.search_test, name="content_search_test"),
]
