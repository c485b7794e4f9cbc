"""The showcase customer signs in on a phone, opens 电费, sees the charts drawn, and views a month."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from e2e.test_portal_bind import ACCOUNT_A_PHONE, sign_in
from powerdesk.billing.testing import make_billing_history

pytestmark = pytest.mark.browser


def test_customer_views_a_month_and_the_trend_chart(
    live_server, transactional_db, customer, account_a, phone_page, page_factory, screenshot_path
):
    history = make_billing_history(account_a)
    page = phone_page
    sign_in(page, live_server.url, ACCOUNT_A_PHONE)

    page.locator(".weui-tabbar").get_by_text("电费").tap()
    expect(page).to_have_url(f"{live_server.url}/h5/billing/0000000001/")
    expect(page.get_by_role("heading", name="当前应缴")).to_be_visible()
    trend = page.locator("#billing-trend-chart")
    expect(trend).to_have_attribute("data-chart-ready", "true")
    expect(trend.locator("canvas")).to_have_count(1)
    expect(page.locator("#billing-usage-chart canvas")).to_have_count(1)
    page.screenshot(path=screenshot_path("portal_billing.png"), full_page=True)

    corrected = f"{history.corrected_period:%Y-%m}"
    page.locator(f'.billing-months [data-period="{corrected}"]').tap()
    expect(page).to_have_url(f"{live_server.url}/h5/billing/0000000001/bills/{corrected}/")
    expect(page.get_by_role("heading", name=f"{corrected} 电费")).to_be_visible()
    expect(page.locator("[data-correction]")).to_contain_text("已退补，差额 ¥12.34")
    expect(page.locator(".billing-bands")).to_contain_text("峰")
    page.screenshot(path=screenshot_path("portal_bill_month.png"), full_page=True)
    assert page_factory.js_errors == []
