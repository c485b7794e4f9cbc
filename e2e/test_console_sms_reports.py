"""Back office in a real browser: the SMS outbox shows what the gateway's status reports said,
and finds the messages that did not reach the handset."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from powerdesk.channels.sms.delivery import reports_apply
from powerdesk.channels.sms.models import OutboundSms
from powerdesk.channels.sms.reports import parse_aliyun_reports
from powerdesk.console.tests.helpers import console_sign_in as sign_in
from powerdesk.console.tests.helpers import staff_with_role
from powerdesk.staff.roles import Role

pytestmark = pytest.mark.browser


def sent(phone: str, text: str, biz_id: str) -> OutboundSms:
    return OutboundSms.objects.create(
        phone=phone, body=f"【示范供电】尊敬的客户：{text}", purpose="sms.hall_reply", backend="aliyun",
        status=OutboundSms.Status.SENT, vendor_message_id=biz_id,
    )


def test_back_office_sees_delivery_reports_and_filters_the_undelivered(
    live_server, transactional_db, company, desktop_page, page_factory, screenshot_path
):
    sent("13800000000", "户号 0000000001 2026年10月电费 109.57 元。", "100^0")
    sent("13900000002", "您已退订营销信息。", "101^0")
    sent("13900000003", "短信指令：BZ 帮助", "102^0")
    reports = [
        {"phone_number": "13800000000", "send_time": "2026-11-23 10:00:00", "report_time": "2026-11-23 10:00:04",
         "success": True, "err_code": "DELIVERED", "err_msg": "用户接收成功", "sms_size": "1", "biz_id": "100^0",
         "out_id": ""},
        {"phone_number": "13900000002", "send_time": "2026-11-23 10:01:00", "report_time": "2026-11-23 10:01:09",
         "success": False, "err_code": "MK:0001", "err_msg": "用户关机或不在服务区", "sms_size": "1",
         "biz_id": "101^0", "out_id": ""},
    ]
    assert reports_apply(parse_aliyun_reports(json.dumps(reports).encode())).changed == 2
    staff = staff_with_role(company, Role.BACK_OFFICE)
    page = desktop_page
    sign_in(page, live_server.url, staff.username)
    page.locator(".sidenav").get_by_role("link", name="短信发件箱").click()
    rows = page.locator("table.table tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("[data-delivery=delivered]")).to_contain_text("已送达")
    expect(page.locator("[data-delivery=undelivered]")).to_contain_text("MK:0001")
    expect(page.locator("[data-delivery=undelivered]")).to_contain_text("2026-11-23 10:01:09")
    expect(rows.nth(0)).to_contain_text("未回执")  # the newest: sent, no report yet
    page.screenshot(path=screenshot_path("console_sms_outbox_reports.png"), full_page=True)

    page.get_by_label("送达情况").select_option("undelivered")
    page.get_by_role("button", name="筛选").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("139****0002")
    expect(rows.first).to_contain_text("用户关机或不在服务区")
    assert page_factory.js_errors == []
