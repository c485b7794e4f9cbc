from django.urls import path

from powerdesk.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("bind/", views.bind, name="bind"),
    path("accounts/<str:account_number>/unbind/", views.unbind, name="unbind"),
    path("profile/", views.profile, name="profile"),
    path("profile/phone/", views.profile_phone, name="profile_phone"),
    path("profile/email/", views.profile_email, name="profile_email"),
    path("authorize/", views.authorize, name="authorize"),
]
