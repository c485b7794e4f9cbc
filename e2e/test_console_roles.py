"""Staff in a real browser: each role signs in and sees its own navigation; an admin finds 户号
0000000001 by live search, opens its 360 page and reveals the full data with a purpose."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from powerdesk.console.navigation import NAV_ITEMS
from powerdesk.console.tests.helpers import furnish_account_360, staff_with_role
from powerdesk.core.testing import SHOWCASE_ID_CARD, STAFF_PASSWORD
from powerdesk.privacy.models import PersonalDataAccess
from powerdesk.staff.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.browser

ROLES = list(ROLE_PERMISSIONS)


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/console/")
    expect(page).to_have_url(re.compile(r"/console/login/\?next=/console/"))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{base_url}/console/")


@pytest.mark.parametrize("role", ROLES, ids=[role.value for role in ROLES])
def test_each_role_sees_only_its_navigation(live_server, transactional_db, company, desktop_page, page_factory,
                                            role):
    staff = staff_with_role(company, role)
    page = desktop_page
    sign_in(page, live_server.url, staff.username)
    expect(page.get_by_role("heading", name=f"您好，{staff.username}")).to_be_visible()
    expect(page.locator(".whoami")).to_contain_text(str(role.label))

    expected = [str(item.label) for item in NAV_ITEMS if item.perm in ROLE_PERMISSIONS[role]]
    expect(page.locator(".sidenav [data-nav]")).to_have_text(expected)
    for item in NAV_ITEMS:  # every link shown opens; nothing hidden is reachable by the menu
        if str(item.label) in expected:
            page.locator(".sidenav").get_by_role("link", name=str(item.label), exact=True).click()
            expect(page.locator("h1").first).to_have_text(str(item.label))
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(f"{live_server.url}/console/login/")
    assert page_factory.js_errors == []


def test_admin_opens_the_360_page_and_reveals_with_a_purpose(live_server, transactional_db, admin_user, account_a,
                                                             customer, desktop_page, page_factory, screenshot_path):
    furnish_account_360(account_a, customer)
    page = desktop_page
    page.goto(f"{live_server.url}/console/login/")
    page.screenshot(path=screenshot_path("console_login.png"))
    sign_in(page, live_server.url, "admin")

    page.locator(".sidenav").get_by_role("link", name="客户查询").click()
    page.get_by_role("searchbox", name="户号 / 手机号 / 户名").fill("138****0000")
    results = page.locator("#search-results")
    expect(results).to_contain_text("找到 1 户")  # live results, no submit
    expect(results).to_contain_text("张*")
    expect(page).to_have_url(re.compile(r"/console/customers/\?q="))
    results.get_by_role("link", name="0000000001").click()

    expect(page).to_have_url(f"{live_server.url}/console/customers/0000000001/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("张三")
    expect(page.locator("h1 .badge", has_text="重要客户")).to_be_visible()
    expect(page.locator("body")).to_contain_text("138****0000")
    expect(page.locator("body")).not_to_contain_text(SHOWCASE_ID_CARD)
    page.screenshot(path=screenshot_path("console_customer_360.png"), full_page=True)

    page.get_by_role("button", name="查看完整信息").click()
    expect(page.locator("#pii-panel")).to_contain_text("查看客户个人信息须填写访问事由。")
    assert PersonalDataAccess.objects.count() == 0

    page.get_by_label("访问事由").fill("客户来电核实身份（工单 GD-001）")
    page.get_by_role("button", name="查看完整信息").click()
    expect(page.locator("[data-pii=phone]")).to_have_text("13800000000")
    expect(page.locator("[data-pii=id_card]")).to_have_text(SHOWCASE_ID_CARD)
    expect(page.locator("#pii-audit")).to_contain_text("客户来电核实身份（工单 GD-001）")  # refreshed out of band
    assert PersonalDataAccess.objects.get().purpose == "客户来电核实身份（工单 GD-001）"
    page.screenshot(path=screenshot_path("console_customer_360_revealed.png"), full_page=True)
    assert page_factory.js_errors == []
