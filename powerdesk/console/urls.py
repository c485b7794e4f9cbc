"""The operator console, mounted at /console/."""

from django.urls import path

from powerdesk.broadcasts import urls_console as broadcast_urls
from powerdesk.channel_stats import urls_console as channel_stats_urls
from powerdesk.consent import urls_console as consent_urls
from powerdesk.console.views import administration, auth, billing, customers, home, oversight, payments
from powerdesk.content import urls_console as content_urls
from powerdesk.conversations import urls_console as conversations_urls
from powerdesk.menus import urls_console as menus_urls

app_name = "console"
urlpatterns = [
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("", home.home, name="home"),
    path("customers/", customers.customer_search, name="customer_search"),
    path("customers/<str:number>/", customers.customer_detail, name="customer_detail"),
    path("customers/<str:number>/pii/", customers.customer_pii_reveal, name="customer_pii_reveal"),
    path("customers/<str:number>/holder/", customers.customer_change_holder, name="customer_change_holder"),
    path(
        "customers/<str:number>/bindings/<int:binding_id>/end/",
        customers.customer_binding_end,
        name="customer_binding_end",
    ),
    path("customers/<str:number>/billing/", billing.customer_billing, name="customer_billing"),
    path("payments/", payments.payment_list, name="payment_search"),
    path("payments/<int:payment_id>/", payments.payment_detail, name="payment_detail"),
    path("payments/<int:payment_id>/refund/", payments.payment_refund, name="payment_refund"),
    path("suspense/", payments.suspense_queue, name="suspense_queue"),
    path("suspense/<uuid:item_id>/resolve/", payments.suspense_item_resolve, name="suspense_resolve"),
    path("reconciliation/", payments.reconciliation, name="reconciliation"),
    path("audit/", oversight.audit_log, name="audit_log"),
    path("events/", oversight.event_log, name="event_log"),
    path("sms/", oversight.sms_outbox, name="sms_outbox"),
    path("staff/", administration.staff_list, name="staff_list"),
    path("organisation/", administration.organisation, name="organisation"),
    *content_urls.urlpatterns,
    *conversations_urls.urlpatterns,
    *menus_urls.urlpatterns,
    *broadcast_urls.urlpatterns,
    *channel_stats_urls.urlpatterns,
    *consent_urls.urlpatterns,
]
