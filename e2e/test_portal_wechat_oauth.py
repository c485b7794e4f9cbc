"""Inside WeChat's browser, the H5 pages sign people in through WeChat's web authorisation.

The phone's browser carries a MicroMessenger User-Agent; WeChat is the demo's fake
(powerdesk/demo/fake_wechat.py), whose authorize page asks who is holding the phone.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from e2e.test_portal_bind import latest_code
from powerdesk.billing.testing import make_billing_history
from powerdesk.conversations.demo import DEMO_APP_ID, demo_wechat_account_setup
from powerdesk.customers.models import CustomerUser, Identity
from powerdesk.demo.fake_wechat import SHOWCASE_OPENID, running_demo_fake_wechat
from powerdesk.events.models import DomainEvent

pytestmark = pytest.mark.browser
REDIRECTS_MS = 15_000


@pytest.fixture
def fake_wechat(live_server, transactional_db, settings):
    account = demo_wechat_account_setup()
    with running_demo_fake_wechat(
        token=account.token,
        encoding_aes_key=account.encoding_aes_key,
        callback_url=f"{live_server.url}/channels/wechat/demo/",
    ) as fake:
        settings.WECHAT_API_BASE_URL = fake.url
        settings.WECHAT_API_OAUTH_BASE_URL = fake.url
        settings.WECHAT_OAUTH_ACCOUNT = "demo"
        yield fake


def test_the_showcase_follower_opens_bills_in_wechat_and_is_signed_in(
    live_server, fake_wechat, customer, account_a, phone_page, page_factory, screenshot_path
):
    make_billing_history(account_a)
    Identity.objects.create(
        customer_user=customer, provider="wechat_openid", app_id=DEMO_APP_ID, subject=SHOWCASE_OPENID
    )
    page = phone_page
    assert "MicroMessenger" in page.evaluate("navigator.userAgent")

    page.goto(f"{live_server.url}/h5/billing/")
    # Redirects across two servers: more patience than one page load needs on a busy machine.
    expect(page).to_have_url(
        re.compile(rf"^{re.escape(fake_wechat.url)}/connect/oauth2/authorize\?"), timeout=REDIRECTS_MS
    )
    expect(page.get_by_text("请选择以哪位微信用户的身份继续")).to_be_visible()
    page.screenshot(path=screenshot_path("portal_wechat_authorize.png"), full_page=True)
    page.get_by_text(SHOWCASE_OPENID).tap()
    page.get_by_role("button", name="确认登录").tap()

    expect(page).to_have_url(f"{live_server.url}/h5/billing/0000000001/", timeout=REDIRECTS_MS)
    expect(page.get_by_text("0000000001").first).to_be_visible()
    expect(page.get_by_role("heading", name="当前应缴")).to_be_visible()
    expect(page.locator(".weui-tabbar")).to_be_visible()  # signed in: the tab bar shows
    page.screenshot(path=screenshot_path("portal_wechat_signed_in.png"), full_page=True)
    event = DomainEvent.objects.get(kind="customer.signed_in")
    assert (event.channel, event.customer_user_id) == ("wechat", customer.pk)
    assert page_factory.js_errors == []


def test_a_new_wechat_user_verifies_a_phone_once_and_is_recognised_after(
    live_server, fake_wechat, phone_page, page_factory
):
    page = phone_page
    page.goto(f"{live_server.url}/h5/")
    page.get_by_text("新的微信用户").tap()
    page.get_by_role("button", name="确认登录").tap()
    # Unknown openid: WeChat is asked once more, for the nickname (the consent page).
    expect(page.get_by_text("获得你的公开信息（昵称、头像）")).to_be_visible(timeout=REDIRECTS_MS)
    page.get_by_role("button", name="允许").tap()

    expect(page).to_have_url(re.compile(r"/h5/login/\?next=%2Fh5%2F$"), timeout=REDIRECTS_MS)
    expect(page.get_by_text("首次使用微信登录，请验证手机号")).to_be_visible()
    page.get_by_label("手机号").fill("13900000001")
    page.get_by_role("button", name="获取验证码").tap()
    expect(page.locator("#code-feedback")).to_have_text("验证码已发送至 139****0001")
    page.get_by_label("验证码").fill(latest_code("13900000001"))
    page.get_by_role("button", name="登录", exact=True).tap()
    expect(page).to_have_url(f"{live_server.url}/h5/")
    expect(page.get_by_text("已关联您的微信，下次在微信中打开将自动登录。")).to_be_visible()
    user = CustomerUser.objects.get(phone="13900000001")
    assert Identity.objects.filter(customer_user=user, provider="wechat_openid", app_id=DEMO_APP_ID).exists()

    # A new browser session on the same phone (WeChat still knows its user): straight in.
    page.context.clear_cookies(name="sessionid")
    page.goto(f"{live_server.url}/h5/profile/")
    # Silent round (snsapi_base); a browser keeps the authorize URL's #wechat_redirect through
    # redirects that name no fragment of their own.
    expect(page).to_have_url(
        re.compile(rf"^{re.escape(live_server.url)}/h5/profile/(#wechat_redirect)?$"), timeout=REDIRECTS_MS
    )
    expect(page.get_by_role("heading", name="我的")).to_be_visible()
    assert DomainEvent.objects.filter(
        kind="customer.signed_in", channel="wechat", customer_user_id=user.pk
    ).exists()
    assert page_factory.js_errors == []
