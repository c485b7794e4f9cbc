"""The 核算差异 section of the console 账务 tab: mismatches and uncomputable bills with their
differences and reasons, the 峰谷电价 figure or why there is none; scoped like the tab."""

from __future__ import annotations

from datetime import date

import pytest

from powerdesk.billing.checks import bill_check
from powerdesk.billing.reads import months_back
from powerdesk.billing.tests.test_checks import bill
from powerdesk.console.tests.helpers import client_for
from powerdesk.tariffs.demo import demo_tariffs

pytestmark = pytest.mark.django_db

TAB = "/console/customers/0000000001/billing/"
SECTION = f"{TAB}?section=checks"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def catalogue(db):
    return demo_tariffs()


@pytest.fixture
def checked(account_a):
    ok = bill(account_a, date(2025, 1, 1), 16140, 300)  # 300 × 0.538 = 161.40
    mismatch = bill(account_a, date(2025, 2, 1), 16200, 300)  # 0.60 元 more than the calculator
    uncomputable = bill(account_a, date(2025, 4, 1), 16140, 300)  # March is missing
    for one in (ok, mismatch, uncomputable):
        bill_check(bill=one)
    return ok, mismatch, uncomputable


def section(user):
    return client_for(user).get(SECTION, **HTMX)


def test_the_tab_loads_the_section_after_it_renders(agent_a, account_a):
    html = client_for(agent_a).get(TAB, **HTMX).content.decode()
    assert 'hx-get="/console/customers/0000000001/billing/?section=checks"' in html
    assert "核算差异" in html


def test_mismatches_and_uncomputable_bills_are_listed(agent_a, checked):
    response = section(agent_a)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-bill-check="2025-02-v1" data-status="mismatch"' in html
    assert 'data-difference-fen="60"' in html and "+0.60" in html and "161.40" in html
    assert 'data-bill-check="2025-04-v1" data-status="not_computable"' in html
    assert "缺少本阶梯年度 2025-03 的账单" in html
    assert 'data-bill-check="2025-01-v1"' not in html  # ok checks are counted, not listed
    assert "一致 1 · 不一致 1 · 无法核算 1" in html


def test_a_superseded_version_leaves_the_list(agent_a, account_a, checked):
    corrected = bill(account_a, date(2025, 2, 1), 16140, 300, flat=300)  # 退补 to the right amount
    bill_check(bill=corrected)
    html = section(agent_a).content.decode()
    assert 'data-bill-check="2025-02' not in html
    assert "一致 2 · 不一致 0 · 无法核算 1" in html


def test_the_tou_figure_and_why_it_is_missing(agent_a, account_a, checked):
    html = section(agent_a).content.decode()
    assert 'data-tou-status="unavailable"' in html
    assert "不向客户展示峰谷电价建议：近 12 个月缺少" in html
    for back in range(12):
        period = months_back(date(2025, 12, 1), back)
        if period.year == 2025 and period.month in (1, 2, 4):
            continue
        bill(account_a, period, 10760, 200, peak=60, valley=140)
    html = section(agent_a).content.decode()
    assert 'data-tou-status="unavailable"' in html and "没有可用的分时电量" in html  # Jan/Feb/Apr: flat only


def test_the_tou_saving_is_shown_to_staff(agent_a, account_a):
    for back in range(12):
        bill(account_a, months_back(date(2025, 10, 1), back), 10760, 200, peak=60, valley=140)
    html = section(agent_a).content.decode()
    assert 'data-tou-saving-fen="39840"' in html and "近 12 个月可节省 ¥398.40" in html


def test_an_agent_of_another_county_cannot_see_the_section(agent_b, checked):
    response = section(agent_b)
    assert response.status_code == 404 and "data-bill-check" not in response.content.decode()


def test_an_analyst_is_refused(analyst, checked):
    assert section(analyst).status_code == 403


def test_a_plain_request_goes_back_to_the_360_page(agent_a, checked):
    assert client_for(agent_a).get(SECTION).status_code == 302
