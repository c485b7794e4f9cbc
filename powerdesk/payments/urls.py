from django.urls import path

from powerdesk.payments import views

app_name = "payments"

urlpatterns = [
    path("notify/<slug:gateway>/", views.notify, name="notify"),
]
