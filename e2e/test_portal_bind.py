"""A customer on a phone signs in by SMS, binds a 户号 with the code texted to its phone on file,
sees it listed, and unbinds it through the confirm dialog."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from powerdesk.channels.sms.models import OutboundSms

pytestmark = pytest.mark.browser

NEW_CUSTOMER_PHONE = "13900000001"
ACCOUNT_A_PHONE = "13800000000"


def latest_code(phone: str) -> str:
    """Read the code from the SMS outbox, as the customer would read it off their phone."""
    body = OutboundSms.objects.filter(phone=phone).order_by("-id").values_list("body", flat=True).first()
    return re.search(r"验证码 (\d{6})", body or "").group(1)


def sign_in(page: Page, base_url: str, phone: str) -> None:
    page.goto(f"{base_url}/h5/")
    expect(page).to_have_url(re.compile(r"/h5/login/\?next="))
    expect(page.get_by_text("演示环境：验证码见坐席工作台「短信发件箱」")).to_be_visible()
    page.get_by_label("手机号").fill(phone)
    page.evaluate("window.stillSamePage = true")
    page.get_by_role("button", name="获取验证码").tap()
    masked = f"{phone[:3]}****{phone[-4:]}"
    expect(page.locator("#code-feedback")).to_have_text(f"验证码已发送至 {masked}")
    assert page.evaluate("window.stillSamePage === true"), "htmx should swap the fragment, not reload the page"
    page.get_by_label("验证码").fill(latest_code(phone))
    page.get_by_role("button", name="登录", exact=True).tap()
    expect(page).to_have_url(f"{base_url}/h5/")


def test_customer_binds_an_account_by_sms_code(live_server, transactional_db, account_a, phone_page,
                                               page_factory, screenshot_path):
    page = phone_page
    sign_in(page, live_server.url, NEW_CUSTOMER_PHONE)
    expect(page.get_by_text("还没有绑定户号")).to_be_visible()

    page.locator(".weui-tabbar").get_by_text("绑定").tap()
    expect(page).to_have_url(f"{live_server.url}/h5/bind/")
    expect(page.get_by_role("tab", name="短信验证")).to_have_attribute("aria-selected", "true")
    page.get_by_label("户号").fill("0000000001")
    page.get_by_label("绑定身份").select_option(label="户主")
    code_button = page.get_by_role("button", name="获取验证码")
    code_button.tap()
    expect(page.locator("#code-feedback")).to_have_text("验证码已发送至 138****0000")
    expect(page.locator("[data-code-button]")).to_be_disabled()  # resend countdown running
    page.get_by_label("验证码").fill(latest_code(ACCOUNT_A_PHONE))
    page.screenshot(path=screenshot_path("portal_bind.png"), full_page=True)

    page.get_by_role("button", name="绑定", exact=True).tap()
    expect(page).to_have_url(f"{live_server.url}/h5/")
    expect(page.get_by_text("户号 0000000001 绑定成功。")).to_be_visible()
    card = page.locator(".portal-account", has_text="0000000001")
    expect(card).to_contain_text("张*")
    expect(card).to_contain_text("示范路1号")
    expect(card).to_contain_text("居民生活")
    expect(card).to_contain_text("户主")
    page.screenshot(path=screenshot_path("portal_accounts.png"), full_page=True)
    assert page_factory.js_errors == []


def test_customer_unbinds_after_confirming(live_server, transactional_db, customer, phone_page, page_factory):
    page = phone_page
    sign_in(page, live_server.url, ACCOUNT_A_PHONE)
    card = page.locator(".portal-account", has_text="0000000001")

    card.get_by_role("button", name="解除绑定").tap()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("确定解除户号 0000000001 的绑定吗？")
    dialog.get_by_role("button", name="取消").tap()
    expect(dialog).to_have_count(0)
    expect(card).to_be_visible()

    card.get_by_role("button", name="解除绑定").tap()
    page.get_by_role("dialog").get_by_role("button", name="确定").tap()
    expect(page.get_by_text("已解除户号 0000000001 的绑定。")).to_be_visible()
    expect(page.get_by_text("还没有绑定户号")).to_be_visible()
    assert page_factory.js_errors == []
