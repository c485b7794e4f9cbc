"""An analyst opens 统计分析 in a real browser: every chart is drawn on a canvas, the tables
under the charts hold the figures, both sources are named, and the page is in Chinese."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from powerdesk.channel_stats.models import DatacubeCumulateDay, DatacubeUserDay
from powerdesk.channel_stats.selectors import local_today
from powerdesk.channel_stats.services import menu_labels_store
from powerdesk.channel_stats.tests.builders import api_call, event, inbound, local, rule_reply
from powerdesk.console.tests.helpers import console_sign_in as sign_in
from powerdesk.content.events import ARTICLE_READ
from powerdesk.content.models import Article
from powerdesk.conversations.demo import demo_keyword_rules_setup, demo_wechat_account_setup
from powerdesk.events.choices import Channel
from powerdesk.events.services import event_record

pytestmark = pytest.mark.browser


def two_weeks_of_figures():
    """Fourteen days of followers, messages, menu clicks, keyword hits and API calls, and
    WeChat's figures up to yesterday."""
    demo = demo_wechat_account_setup()
    rules = {rule.pattern: rule for rule in demo_keyword_rules_setup()}
    menu_labels_store(
        app_id=demo.app_id,
        menu={
            "menu": {
                "button": [
                    {
                        "name": "电费服务",
                        "sub_button": [
                            {"type": "click", "name": "查电费", "key": "BILL_QUERY"},
                            {"type": "click", "name": "查余额", "key": "BALANCE_QUERY"},
                        ],
                    },
                    {"type": "click", "name": "停电查询", "key": "OUTAGE_QUERY"},
                ]
            }
        },
    )
    guide = Article.objects.create(
        title="如何在线缴纳电费", body="…", status="published", published_at=local("2026-01-01 00:00:00")
    )
    today = local_today()
    total = 1200
    for back in range(13, -1, -1):
        day = today - timedelta(days=back)
        stamp = f"{day.isoformat()} 10:{back:02d}:00"
        came, went = 3 + back % 4, back % 3
        for n in range(came):
            event(demo, "subscribe", at=stamp, sender=f"o_new_{back}_{n}")
        for n in range(went):
            event(demo, "unsubscribe", at=stamp, sender=f"o_gone_{back}_{n}")
        for n in range(2 + back % 5):
            message = inbound(demo, at=stamp, sender=f"o_msg_{n}", text="查电费" if n % 2 else "余额多少")
            rule_reply(message, rules["电费" if n % 2 else "余额"], at=stamp)
        for n in range(1 + back % 3):
            event(demo, "click", at=stamp, sender=f"o_click_{n}", key=("BILL_QUERY", "OUTAGE_QUERY")[n % 2])
        for n in range(back % 4):
            event_record(
                ARTICLE_READ,
                channel=Channel.H5,
                payload={"article_id": guide.pk},
                occurred_at=local(stamp),
                customer_user_id=n + 1,
            )
        api_call(at=stamp, endpoint="/cgi-bin/message/custom/send", latency_ms=90 + back * 7)
        api_call(
            at=stamp,
            endpoint="/cgi-bin/stable_token",
            latency_ms=40 + back,
            outcome="ok" if back % 5 else "vendor_error",
        )
        if back >= 1:  # WeChat has nothing for today
            total += came - went
            DatacubeCumulateDay.objects.create(
                app_id=demo.app_id, ref_date=day, cumulate_user=total, fetched_at=f"{today}T01:00:00Z"
            )
            DatacubeUserDay.objects.create(
                app_id=demo.app_id,
                ref_date=day,
                user_source=30,
                new_user=came,
                cancel_user=went,
                fetched_at=f"{today}T01:00:00Z",
            )
    return demo


def test_analyst_sees_the_charts_drawn_and_the_figures_in_the_tables(
    live_server, transactional_db, analyst, desktop_page, page_factory, screenshot_path
):
    two_weeks_of_figures()
    page = desktop_page
    sign_in(page, live_server.url, analyst.username)

    page.locator(".sidenav").get_by_role("link", name="统计分析", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("统计分析")
    page.get_by_role("link", name="近 7 天").click()
    expect(page).to_have_url(re.compile(r"/console/wechat/stats/\?account=demo&start=.*&end="))

    charts = page.locator("[data-chart]")
    expect(charts.first).to_have_attribute("data-chart-ready", "true")
    assert charts.count() >= 8
    for index in range(charts.count()):  # every chart is drawn on a canvas
        expect(charts.nth(index)).to_have_attribute("data-chart-ready", "true")
        expect(charts.nth(index).locator("canvas")).to_have_count(1)

    today = local_today()
    yesterday = today - timedelta(days=1)
    # today's own figures: 3 came, none went (back = 0); WeChat has nothing for today yet
    followers = page.locator("table[data-series=followers]")
    expect(followers.locator("tr", has_text=today.isoformat())).to_contain_text(re.compile(r"3\s*0\s*3"))
    wechat = page.locator("table[data-series=wechat_users]")
    expect(wechat.locator("tr", has_text=today.isoformat())).to_contain_text("—")
    expect(wechat.locator("tr", has_text=yesterday.isoformat())).to_contain_text("4")  # back = 1: 4 came
    expect(page.locator("table[data-series=menu]")).to_contain_text("查电费")
    expect(page.locator("table[data-series=keywords]")).to_contain_text("电费")
    expect(page.locator("table[data-series=top_articles]")).to_contain_text("如何在线缴纳电费")
    expect(page.locator("#series-followers")).to_contain_text("来源：我方事件日志")
    expect(page.locator("#series-wechat_users")).to_contain_text("来源：微信数据接口")

    page.screenshot(path=screenshot_path("console_channel_stats.png"), full_page=True)
    page.locator("#series-followers").screenshot(path=screenshot_path("console_channel_stats_followers.png"))

    with page.expect_download() as download:
        page.locator("#series-followers").get_by_role("link", name="导出 CSV").click()
    assert download.value.suggested_filename.startswith("wechat-stats-demo-followers-")
    assert page_factory.js_errors == []
