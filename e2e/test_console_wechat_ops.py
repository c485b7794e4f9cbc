"""公众号运营 in a real browser against the fake WeChat API: an operator edits the custom menu (the
phone preview follows), publishes it — WeChat receives exactly the edited JSON through
menu/create — then answers a follower's message from the inbox through message/custom/send."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from powerdesk.channels.wechat.tests.peers import ORIGINAL_ID, safe_request
from powerdesk.channels.wechat_store.fake_server import running_fake_wechat_api
from powerdesk.console.tests.helpers import console_sign_in as sign_in
from powerdesk.conversations.demo import demo_conversations_setup
from powerdesk.menus.demo import demo_menu_setup
from powerdesk.menus.models import MenuDraft

pytestmark = pytest.mark.browser

FOLLOWER = "oV5CrjpxgaGXNHIQigzNlgLTnwic"


@pytest.fixture
def fake_wechat(settings):
    with running_fake_wechat_api(seed_followers=[{"openid": FOLLOWER, "nickname": "王五"}]) as fake:
        settings.WECHAT_API_BASE_URL = fake.url
        settings.WECHAT_API_OAUTH_BASE_URL = fake.url
        yield fake


def follower_writes(base_url: str, text: str) -> None:
    """A text message POSTed to our callback as WeChat sends it (safe mode, wechatpy-encrypted)."""
    now = int(time.time())
    xml = (
        f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><FromUserName><![CDATA[{FOLLOWER}]]>"
        f"</FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content><MsgId>{now}0001</MsgId></xml>"
    )
    body, query = safe_request(xml, timestamp=now)
    params = {
        "signature": query.signature,
        "timestamp": query.timestamp,
        "nonce": query.nonce,
        "encrypt_type": query.encrypt_type,
        "msg_signature": query.msg_signature,
    }
    request = urllib.request.Request(  # noqa: S310  (the live test server)
        f"{base_url}/channels/wechat/demo/?{urlencode(params)}",
        data=body,
        method="POST",
        headers={"Content-Type": "text/xml"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200


def test_an_operator_publishes_the_menu_and_answers_a_follower(
    live_server, transactional_db, manager, fake_wechat, desktop_page, page_factory, screenshot_path
):
    demo_conversations_setup()
    demo_menu_setup(site_url=live_server.url)
    page = desktop_page
    sign_in(page, live_server.url, "manager")

    # --- the custom menu --------------------------------------------------------------------
    page.locator(".sidenav").get_by_role("link", name="自定义菜单", exact=True).click()
    expect(page.locator("h1").first).to_have_text("自定义菜单")
    preview = page.locator("#menu-preview")
    expect(preview.locator("[data-preview-button]")).to_have_count(3)
    expect(preview).to_contain_text("停电公告")

    page.get_by_label("一级菜单 2 子菜单 3 名称").fill("计划停电")
    page.get_by_label("一级菜单 2 子菜单 3 KEY").fill("OUTAGE_QUERY")
    page.get_by_label("一级菜单 3 子菜单 3 名称").fill("常见问题")
    expect(preview).to_contain_text("计划停电")  # the htmx preview follows the typing
    expect(preview).to_contain_text("常见问题")

    page.get_by_label("一级菜单 1 名称").fill("电费查询服务中心")  # 24 bytes: over WeChat's 16
    expect(preview.locator("[data-menu-problems]")).to_contain_text("名称为 24 字节，超过 16 字节的上限")
    page.get_by_label("一级菜单 1 名称").fill("电费查询")
    expect(preview.locator("[data-menu-problems]")).to_have_count(0)
    page.screenshot(path=screenshot_path("console_menu_editor.png"), full_page=True)

    page.get_by_role("button", name="保存并发布").click()
    expect(page.locator(".messages")).to_contain_text("菜单已发布到微信")
    expect(page.locator("[data-publications] tbody tr")).to_have_count(1)

    draft = MenuDraft.objects.get(account__slug="demo")
    calls = fake_wechat.calls("/cgi-bin/menu/create")
    assert len(calls) == 1 and calls[0]["body"] == {"button": draft.buttons}
    outage = calls[0]["body"]["button"][1]
    assert outage["sub_button"][2] == {"type": "click", "name": "计划停电", "key": "OUTAGE_QUERY"}
    assert calls[0]["body"]["button"][2]["sub_button"][2]["name"] == "常见问题"

    page.get_by_role("link", name="查看线上菜单并对比").click()
    expect(page.locator("[data-live-same]")).to_be_visible()

    # --- the inbox ----------------------------------------------------------------------------
    follower_writes(live_server.url, "请问分时电价怎么申请？")
    page.locator(".sidenav").get_by_role("link", name="粉丝留言", exact=True).click()
    expect(page.locator("h1").first).to_have_text("粉丝留言")
    row = page.locator("[data-thread]", has_text="请问分时电价怎么申请？")
    expect(row).to_contain_text("未绑定户号的粉丝")
    expect(row.locator("[data-needs-reply]")).to_be_visible()
    row.get_by_role("link", name="未绑定户号的粉丝").click()

    expect(page.locator("[data-thread-messages]")).to_contain_text("请问分时电价怎么申请？")
    expect(page.locator("[data-window-open]")).to_be_visible()
    page.get_by_role("button", name="分配给我").click()
    expect(page.locator(".messages")).to_contain_text("已分配给 manager")
    page.get_by_label("回复内容").fill("您好，分时电价可在“我的服务”中在线申请，次月生效。")
    page.get_by_role("button", name="发送回复").click()
    expect(page.locator(".messages")).to_contain_text("回复已通过客服消息发送")
    expect(page.locator('[data-direction="outbound"] [data-delivery="sent"]')).to_have_count(1)
    expect(page.locator("[data-needs-reply]")).to_have_count(0)
    page.screenshot(path=screenshot_path("console_inbox_thread.png"), full_page=True)

    sends = fake_wechat.calls("/cgi-bin/message/custom/send")
    assert [call["body"] for call in sends] == [
        {
            "touser": FOLLOWER,
            "msgtype": "text",
            "text": {"content": "您好，分时电价可在“我的服务”中在线申请，次月生效。"},
        }
    ]
    delivered = fake_wechat.messages(openid=FOLLOWER, kind="custom")
    assert json.dumps(delivered[0]["content"], ensure_ascii=False) == json.dumps(
        {"content": "您好，分时电价可在“我的服务”中在线申请，次月生效。"}, ensure_ascii=False
    )
    expect(page).to_have_url(re.compile(r"/console/wechat/inbox/\d+/$"))

    # --- the keyword test box: which rule would answer, and why -----------------------------------
    page.locator(".sidenav").get_by_role("link", name="关键词回复", exact=True).click()
    page.get_by_label("测试消息").fill("电费余额")
    page.get_by_role("button", name="测试", exact=True).click()
    result = page.locator("#keyword-test-result")
    expect(result.locator("[data-winner]")).to_contain_text("余额")
    expect(result).to_contain_text("命中规则优先级更高（20 > 10）")
    page.screenshot(path=screenshot_path("console_keyword_rules.png"), full_page=True)
    assert page_factory.js_errors == []
