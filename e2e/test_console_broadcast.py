"""An operator in a real browser composes a text mass message (群发) for the bound customers of
their county, sees the htmx audience count, sends a preview to one follower through the fake
WeChat API (which records the mass/preview call), and finds the draft in the list."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from powerdesk.broadcasts.models import Broadcast
from powerdesk.broadcasts.tests import conftest as broadcast_fixtures
from powerdesk.console.tests.helpers import console_sign_in as sign_in

pytestmark = pytest.mark.browser

# The broadcasts app's fixtures: a fake WeChat API (real HTTP, in this process, so the live
# server's client reaches it), the account pointed at it, county A's bound customers, a clerk.
clerk_a = broadcast_fixtures.clerk_a
customers = broadcast_fixtures.customers
fake_wechat = broadcast_fixtures.fake_wechat
wechat_account = broadcast_fixtures.wechat_account

NOTICE = "【示范供电】明日 9:00–12:00 湖滨片区计划停电检修，请提前做好准备。"


def test_an_operator_composes_previews_and_finds_the_broadcast(
    live_server,
    transactional_db,
    clerk_a,
    customers,
    wechat_account,
    fake_wechat,
    desktop_page,
    page_factory,
    screenshot_path,
):
    page = desktop_page
    sign_in(page, live_server.url, clerk_a.username)
    page.locator(".sidenav").get_by_role("link", name="群发消息", exact=True).click()
    expect(page.locator("h1").first).to_have_text("群发消息")
    page.get_by_role("link", name="新建群发").click()
    expect(page).to_have_url(f"{live_server.url}/console/wechat/broadcasts/new/")

    page.get_by_label("群发名称").fill("计划停电通知")
    page.get_by_label("文字内容").fill(NOTICE)
    # The count comes from htmx as soon as the form loads: county A's 8 bound customers …
    estimate = page.locator("#audience-estimate")
    expect(estimate).to_contain_text("预计发送给 8 位关注者")
    # … and follows the filters.
    page.get_by_label("一般工商业").check()
    expect(estimate).to_contain_text("预计发送给 3 位关注者")
    page.get_by_label("一般工商业").uncheck()
    expect(estimate).to_contain_text("预计发送给 8 位关注者")
    page.screenshot(path=screenshot_path("console_broadcast_compose.png"), full_page=True)
    page.get_by_role("button", name="保存草稿").click()

    broadcast = Broadcast.objects.get()
    expect(page).to_have_url(f"{live_server.url}/console/wechat/broadcasts/{broadcast.pk}/")
    expect(page.locator(".messages")).to_contain_text("已保存为草稿")
    target = customers.a_residential[0]
    page.get_by_label("预览接收人 OpenID").fill(target)
    page.get_by_role("button", name="发送预览").click()
    expect(page.locator(".messages")).to_contain_text("预览已发送，请在微信中查看。")

    [call] = fake_wechat.calls("/cgi-bin/message/mass/preview")
    assert call["errcode"] == 0
    assert call["body"] == {"touser": target, "msgtype": "text", "text": {"content": NOTICE}}
    assert fake_wechat.calls("/cgi-bin/message/mass/send") == []  # a preview sends nothing else
    page.screenshot(path=screenshot_path("console_broadcast_detail.png"), full_page=True)

    page.get_by_role("link", name="群发消息").first.click()
    row = page.locator(f'[data-broadcast-row="{broadcast.pk}"]')
    expect(row).to_contain_text("计划停电通知")
    expect(row).to_contain_text("草稿")
    expect(row).to_contain_text(re.compile("上城区供电公司 · 全部用电类别 · 已绑定户号"))
    assert page_factory.js_errors == []
