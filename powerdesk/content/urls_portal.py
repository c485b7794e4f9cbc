"""H5 article pages, mounted at /h5/articles/ (powerdesk/urls.py)."""

from django.urls import path

from powerdesk.content import views_portal

app_name = "content_portal"
urlpatterns = [
    path("", views_portal.article_list, name="article_list"),
    path("<int:article_id>/", views_portal.article_detail, name="article_detail"),
    path("<int:article_id>/cover/", views_portal.article_cover, name="article_cover"),
]
