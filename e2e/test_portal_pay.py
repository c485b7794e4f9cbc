"""The showcase customer pays the bill on a phone: 电费 → 立即缴费 → 支付宝 → the sandbox cashier
→ 确认支付; the sandbox posts its RSA2-signed notification to the live server, which credits
once; back on the result page the order is 已到账 and 电费 shows nothing owed.

The sandbox is a real HTTP server in a thread speaking Alipay's wire protocol, with its own
dispatcher thread delivering notifications over HTTP to the live server.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from e2e.test_portal_bind import ACCOUNT_A_PHONE, sign_in
from powerdesk.billing.models import Payment
from powerdesk.billing.reads import account_balance, fen_to_yuan
from powerdesk.billing.testing import make_billing_history
from powerdesk.payments import sandbox_keys
from powerdesk.payments.choices import OrderStatus
from powerdesk.payments.models import GatewayNotification, PaymentOrder
from powerdesk.payments.sandbox_server import running_sandbox

pytestmark = pytest.mark.browser


@pytest.fixture
def payment_sandbox(live_server, settings, tmp_path):
    key_file = tmp_path / "payments_sandbox_keys.json"
    keys = sandbox_keys.load_or_create(key_file)
    with running_sandbox(keys, dispatcher=True) as sandbox:
        settings.PAYMENTS_MODE = "sandbox"
        settings.PAYMENTS_GATEWAYS = ["alipay", "wechatpay"]
        settings.PAYMENTS_SANDBOX_KEY_FILE = key_file
        settings.PAYMENTS_SANDBOX_URL = sandbox.url
        settings.PAYMENTS_NOTIFY_BASE_URL = live_server.url
        settings.PAYMENTS_RETURN_URL = f"{live_server.url}/h5/pay/result/"
        yield sandbox


def test_customer_pays_the_bill_with_alipay_through_the_sandbox(
    live_server,
    transactional_db,
    customer,
    account_a,
    payment_sandbox,
    phone_page,
    page_factory,
    screenshot_path,
):
    history = make_billing_history(account_a)
    owed_fen = account_balance(account=account_a).owed_fen
    assert owed_fen > 0
    owed = f"¥{fen_to_yuan(owed_fen)}"
    page = phone_page
    sign_in(page, live_server.url, ACCOUNT_A_PHONE)

    page.locator(".weui-tabbar").get_by_text("电费").tap()
    expect(page).to_have_url(f"{live_server.url}/h5/billing/0000000001/")
    expect(page.locator(".billing-balance .billing-amount")).to_have_text(owed)
    page.get_by_role("link", name="立即缴费").tap()

    period = f"{history.latest_period:%Y-%m}"
    expect(page).to_have_url(f"{live_server.url}/h5/billing/0000000001/pay/?period={period}")
    expect(page.get_by_role("heading", name="缴纳电费")).to_be_visible()
    expect(page.get_by_label("缴费金额（元）")).to_have_value(fen_to_yuan(owed_fen))
    page.get_by_text("支付宝", exact=True).tap()
    expect(page.get_by_role("radio", name="支付宝")).to_be_checked()
    page.screenshot(path=screenshot_path("portal_pay_form.png"), full_page=True)
    page.get_by_role("button", name="去支付").tap()

    # The gateway's cashier (the sandbox checked our RSA2 signature before showing it).
    expect(page).to_have_url(re.compile(rf"^{re.escape(payment_sandbox.url)}/alipay/gateway\.do\?"))
    expect(page.get_by_role("heading", name="支付宝收银台（沙箱）")).to_be_visible()
    expect(page.locator(".amount")).to_have_text(owed)
    order = PaymentOrder.objects.get()
    assert (order.amount_fen, order.gateway, order.status) == (owed_fen, "alipay", OrderStatus.CREATED)
    page.get_by_role("button", name="确认支付").tap()
    expect(page.get_by_role("heading", name="支付成功（沙箱）")).to_be_visible()
    page.get_by_role("link", name="返回商户").tap()

    # Back with us: the page only reads; the signed notification is what credits.
    expect(page).to_have_url(f"{live_server.url}/h5/pay/result/")
    result = page.locator("#pay-result")
    expect(result).to_have_attribute("data-order-status", "paid")  # polls every 2 s until then
    expect(result.get_by_role("heading", name="缴费成功")).to_be_visible()
    expect(result.locator("[data-status-label]")).to_have_text("已到账")
    expect(result.locator(".pay-result__amount")).to_have_text(owed)
    page.screenshot(path=screenshot_path("portal_pay_result.png"), full_page=True)

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Payment.objects.filter(gateway="alipay", amount_fen=owed_fen, account=account_a).count() == 1
    notifications = GatewayNotification.objects.filter(out_trade_no=order.out_trade_no)
    assert notifications.filter(outcome="credited").count() == 1

    result.get_by_role("link", name="返回电费").tap()
    expect(page).to_have_url(f"{live_server.url}/h5/billing/0000000001/")
    expect(page.locator(".billing-balance .billing-amount")).to_have_text("¥0.00")
    expect(page.locator("[data-pay-button]")).to_have_count(0)
    assert account_balance(account=account_a).balance_fen == 0
    assert page_factory.js_errors == []


def test_inside_wechat_a_follower_pays_with_wechat_pay_jsapi(
    live_server,
    transactional_db,
    customer,
    account_a,
    payment_sandbox,
    phone_page,
    page_factory,
    screenshot_path,
):
    """In WeChat's browser (the phone page's User-Agent is WeChat's) a customer known by their
    Official Account openid pays with JSAPI: our page hands the signed parameters to the bridge
    (the sandbox's stand-in here), which checks paySign and asks to confirm; the notification
    credits; the result page shows 已到账."""
    from powerdesk.customers.models import Identity

    Identity.objects.create(
        customer_user=customer,
        provider="wechat_openid",
        app_id=sandbox_keys.SANDBOX_WECHAT_APPID,
        subject="o_demo_showcase",
    )
    make_billing_history(account_a)
    owed_fen = account_balance(account=account_a).owed_fen
    page = phone_page
    sign_in(page, live_server.url, ACCOUNT_A_PHONE)
    page.goto(f"{live_server.url}/h5/billing/0000000001/pay/")
    page.get_by_text("微信支付", exact=True).tap()
    dialogs = []

    def confirm(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", confirm)
    page.get_by_role("button", name="去支付").tap()

    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/h5/pay/result/\?out_trade_no=PD"))
    result = page.locator("#pay-result")
    expect(result).to_have_attribute("data-order-status", "paid", timeout=15_000)
    expect(result.locator("[data-status-label]")).to_have_text("已到账")
    page.screenshot(path=screenshot_path("portal_pay_jsapi_result.png"), full_page=True)
    assert dialogs == ["微信支付（沙箱）：确认支付？"]
    order = PaymentOrder.objects.get()
    assert (order.gateway, order.channel, order.status) == ("wechatpay", "wechat", OrderStatus.PAID)
    assert Payment.objects.filter(gateway="wechatpay", amount_fen=owed_fen).count() == 1
    assert page_factory.js_errors == []
