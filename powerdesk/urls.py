from django.urls import include, path
from django.views.generic import RedirectView

from powerdesk.api import api
from powerdesk.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", core_views.metrics_view, name="metrics"),
    path("api/v1/", api.urls),
    path("console/", include("powerdesk.console.urls")),
    path("h5/", include("powerdesk.portal.urls")),
    path("h5/articles/", include("powerdesk.content.urls_portal")),
    path("payments/", include("powerdesk.payments.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", RedirectView.as_view(url="/console/", permanent=False)),
    path("channels/wechat/", include("powerdesk.channels.wechat.urls")),
    path("channels/sms/", include("powerdesk.channels.sms.urls")),
    path("channels/alipay/", include("powerdesk.channels.alipay.urls")),
]
