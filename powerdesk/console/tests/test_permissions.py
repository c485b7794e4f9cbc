"""The permission matrix, role by role, walked from staff/roles.py so it cannot drift.

For each role: the navigation shows exactly the items whose Perm the role holds, each of those
pages answers 200, every other item's page answers 403 (in Chinese), and the customer pages
behind the search (360, reveal, 过户, end binding) follow the same matrix.
"""

import pytest
from django.urls import URLPattern, get_resolver, resolve, reverse

from powerdesk.console.navigation import NAV_ITEMS
from powerdesk.console.tests.helpers import client_for, staff_with_role
from powerdesk.staff.roles import ROLE_PERMISSIONS, Perm, Role

ROLES = list(ROLE_PERMISSIONS)


def nav_links(html: str) -> set[str]:
    return {item.url_name for item in NAV_ITEMS if f'href="{reverse(item.url_name)}" class="nav-item' in html}


def test_every_nav_item_opens_a_page_guarded_by_the_same_perm():
    for item in NAV_ITEMS:
        view = resolve(reverse(item.url_name)).func
        assert view.required_perm == item.perm, item.url_name


def test_every_console_page_but_login_is_guarded():
    patterns = next(p for p in get_resolver().url_patterns if getattr(p, "namespace", None) == "console")
    for pattern in patterns.url_patterns:
        assert isinstance(pattern, URLPattern)
        if pattern.name in ("login", "logout"):
            continue
        assert hasattr(pattern.callback, "required_perm"), pattern.name


def test_the_nav_has_no_placeholder_pages():
    # Analytics has a Perm but no page yet: no link may lead nowhere.
    assert Perm.ANALYTICS_VIEW not in {item.perm for item in NAV_ITEMS}


@pytest.mark.parametrize("role", ROLES, ids=[role.value for role in ROLES])
def test_navigation_shows_exactly_the_items_the_role_may_open(company, role):
    client = client_for(staff_with_role(company, role))
    html = client.get("/console/").content.decode()
    expected = {item.url_name for item in NAV_ITEMS if item.perm in ROLE_PERMISSIONS[role]}
    assert nav_links(html) == expected
    assert str(role.label) in html  # the home page names the role


@pytest.mark.parametrize(("role", "item"), [(r, i) for r in ROLES for i in NAV_ITEMS],
                         ids=[f"{r.value}-{i.url_name.split(':')[1]}" for r in ROLES for i in NAV_ITEMS])
def test_each_nav_page_answers_200_or_403_by_role(company, role, item):
    response = client_for(staff_with_role(company, role)).get(reverse(item.url_name))
    if item.perm in ROLE_PERMISSIONS[role]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        html = response.content.decode()
        assert "无权访问" in html and str(item.perm.label) in html


@pytest.mark.parametrize("role", ROLES, ids=[role.value for role in ROLES])
def test_customer_pages_follow_the_matrix(company, account_a, customer, role):
    staff = staff_with_role(company, role)
    granted = ROLE_PERMISSIONS[role]
    client = client_for(staff)
    binding = account_a.bindings.get()

    detail = client.get("/console/customers/0000000001/")
    assert detail.status_code == (200 if Perm.CUSTOMER_VIEW in granted else 403)
    holder = client.get("/console/customers/0000000001/holder/")
    assert holder.status_code == (200 if Perm.CUSTOMER_EDIT in granted else 403)
    reveal = client.post("/console/customers/0000000001/pii/", {"purpose": "核实身份"})
    assert reveal.status_code == (200 if Perm.CUSTOMER_VIEW_PII in granted else 403)
    end = client.post(f"/console/customers/0000000001/bindings/{binding.pk}/end/")
    assert end.status_code == (302 if Perm.BINDING_MANAGE in granted else 403)

    if detail.status_code == 200:
        html = detail.content.decode()
        assert ("查看完整信息" in html and 'name="purpose"' in html) == (Perm.CUSTOMER_VIEW_PII in granted)
        assert ("办理过户" in html) == (Perm.CUSTOMER_EDIT in granted)


def test_forbidden_page_keeps_the_navigation(analyst):
    response = client_for(analyst).get("/console/customers/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "查找客户" in html  # the missing permission, named
    analyst_items = {item.url_name for item in NAV_ITEMS if item.perm in ROLE_PERMISSIONS[Role.ANALYST]}
    assert "console:event_log" in analyst_items and "console:customer_search" not in analyst_items
    assert nav_links(html) == analyst_items
