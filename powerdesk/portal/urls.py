from django.urls import path

from powerdesk.portal import views, views_billing, views_pay, views_wechat_oauth

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
    # 微信网页授权 (OAuth2) sign-in
    path("wechat/login/", views_wechat_oauth.wechat_login, name="wechat_login"),
    path("wechat/callback/", views_wechat_oauth.wechat_callback, name="wechat_callback"),
    # 电费 (read side)
    path("billing/", views_billing.billing_home, name="billing"),
    path("billing/<str:account_number>/", views_billing.billing_account, name="billing_account"),
    path(
        "billing/<str:account_number>/bills/<str:period>/", views_billing.billing_month, name="billing_month"
    ),
    path("billing/<str:account_number>/payments/", views_billing.billing_payments, name="billing_payments"),
    path("billing/<str:account_number>/points/", views_billing.billing_points, name="billing_points"),
    path("billing/<str:account_number>/tou/", views_billing.billing_tou, name="billing_tou"),
    path(
        "billing/<str:account_number>/statement.pdf", views_billing.billing_statement, name="billing_statement"
    ),
    # 缴费: order → gateway cashier → read-only result
    path("billing/<str:account_number>/pay/", views_pay.pay, name="pay"),
    path("pay/result/", views_pay.pay_result, name="pay_result"),
]
