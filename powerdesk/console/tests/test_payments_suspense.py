"""挂账队列: open items first with reason, amount, gateway, txn, account and age; resolving with a
note through ``suspense_resolve``; resolved items kept with who, when and the note. Items whose
account is unknown are for province-level staff only; everything else is scoped by account."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from powerdesk.console.tests.helpers import client_for, staff_with_role
from powerdesk.console.tests.test_payments_support import make_suspense_item
from powerdesk.core.testing import make_staff
from powerdesk.payments.models import PaymentOrder, SuspenseItem
from powerdesk.payments.services import suspense_resolve
from powerdesk.staff.roles import ROLE_PERMISSIONS, Perm, Role

pytestmark = pytest.mark.django_db

URL = "/console/suspense/"
ROLES = list(ROLE_PERMISSIONS)


def make_order(account, number: str = "PD0000000000000000000000000000A1") -> PaymentOrder:
    return PaymentOrder.objects.create(
        out_trade_no=number, account=account, amount_fen=5000, gateway="alipay", channel="h5"
    )


def resolve_url(item) -> str:
    return f"{URL}{item.pk}/resolve/"


def listed(client, **params) -> list:
    response = client.get(URL, params)
    assert response.status_code == 200
    return [item.pk for item in response.context["rows"]]


def test_open_items_first_with_their_details(back_office_a, manager, account_a):
    order = make_order(account_a)
    done = make_suspense_item(order=order, txn="DONE")
    suspense_resolve(item=done, staff_user=manager, note="已原路退款")
    old = make_suspense_item(order=order, txn="OLD", amount_fen=5001)
    SuspenseItem.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    new = make_suspense_item(order=order, txn="NEW")
    client = client_for(back_office_a)
    assert listed(client) == [old.pk, new.pk, done.pk]  # open oldest first, then resolved
    html = client.get(URL).content.decode()
    assert "金额与订单不符" in html and "50.01" in html and "支付宝" in html and "OLD" in html
    assert "0000000001" in html and "张*" in html and "张三" not in html
    assert "已挂 3" in html  # age of the oldest open item, in days
    assert "manager" in html and "已原路退款" in html  # who resolved it and how
    assert listed(client, state="open") == [old.pk, new.pk]
    assert listed(client, state="resolved") == [done.pk]


def test_resolving_records_who_when_and_the_note(back_office_a, account_a):
    item = make_suspense_item(order=make_order(account_a))
    response = client_for(back_office_a).post(
        resolve_url(item), {"note": "  核实为重复支付，已退款  "}, follow=True
    )
    assert "挂账款项已处理" in response.content.decode()
    item.refresh_from_db()
    assert item.resolved_by == back_office_a and item.resolved_at is not None
    assert item.resolution_note == "核实为重复支付，已退款"
    assert "data-resolve-form" not in response.content.decode()


def test_an_empty_note_is_refused_and_changes_nothing(back_office_a, account_a):
    item = make_suspense_item(order=make_order(account_a))
    response = client_for(back_office_a).post(resolve_url(item), {"note": "   "}, follow=True)
    assert "请填写处理说明" in response.content.decode()
    item.refresh_from_db()
    assert item.resolved_at is None and item.resolved_by is None and item.resolution_note == ""


def test_resolving_twice_keeps_the_first_resolution(back_office_a, admin_user, account_a):
    item = make_suspense_item(order=make_order(account_a))
    suspense_resolve(item=item, staff_user=admin_user, note="第一次")
    response = client_for(back_office_a).post(resolve_url(item), {"note": "第二次"}, follow=True)
    assert "该待查款项已处理" in response.content.decode()
    item.refresh_from_db()
    assert item.resolved_by == admin_user and item.resolution_note == "第一次"


def test_items_for_unknown_accounts_are_for_province_staff_only(
    admin_user, back_office_a, manager, account_a
):
    unknown = make_suspense_item(order=None, txn="NOORDER", reason="unknown_order")
    known = make_suspense_item(order=make_order(account_a), txn="KNOWN")
    assert listed(client_for(admin_user)) == [unknown.pk, known.pk]
    assert listed(client_for(manager)) == [known.pk]
    assert listed(client_for(back_office_a)) == [known.pk]
    assert "未知" in client_for(admin_user).get(URL).content.decode()
    assert client_for(back_office_a).post(resolve_url(unknown), {"note": "x"}).status_code == 404
    client_for(admin_user).post(resolve_url(unknown), {"note": "渠道确认为测试交易"})
    assert SuspenseItem.objects.get(pk=unknown.pk).resolved_by == admin_user


def test_other_units_neither_see_nor_resolve(company, agent_b, account_a, account_b):
    item_a = make_suspense_item(order=make_order(account_a), txn="A")
    item_b = make_suspense_item(order=make_order(account_b, "PD0000000000000000000000000000B1"), txn="B")
    assert listed(client_for(agent_b)) == [item_b.pk]
    clerk_b = make_staff("clerk_b", Role.BACK_OFFICE, company.county_b)
    assert client_for(clerk_b).post(resolve_url(item_a), {"note": "越权"}).status_code == 404
    assert SuspenseItem.objects.get(pk=item_a.pk).resolved_at is None


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_queue_and_resolve_follow_the_matrix(company, account_a, role):
    item = make_suspense_item(order=make_order(account_a))
    granted = ROLE_PERMISSIONS[role]
    client = client_for(staff_with_role(company, role))
    queue = client.get(URL)
    assert queue.status_code == (200 if Perm.PAYMENTS_VIEW in granted else 403)
    if queue.status_code == 200:
        assert ("data-resolve-form" in queue.content.decode()) == (Perm.SUSPENSE_RESOLVE in granted)
    resolve = client.post(resolve_url(item), {"note": "已处理"})
    assert resolve.status_code == (302 if Perm.SUSPENSE_RESOLVE in granted else 403)
    assert (SuspenseItem.objects.get().resolved_at is not None) == (Perm.SUSPENSE_RESOLVE in granted)


def test_resolve_only_accepts_post(back_office_a, account_a):
    item = make_suspense_item(order=make_order(account_a))
    assert client_for(back_office_a).get(resolve_url(item)).status_code == 405


def test_query_count_does_not_grow(admin_user, manager, account_a, django_assert_max_num_queries):
    order = make_order(account_a)
    client = client_for(admin_user)
    make_suspense_item(order=order, txn="S0")
    client.get(URL)
    with django_assert_max_num_queries(5):
        assert len(client.get(URL).context["rows"]) == 1
    for n in range(1, 20):
        item = make_suspense_item(order=order if n % 2 else None, txn=f"S{n}")
        if n % 3 == 0:
            suspense_resolve(item=item, staff_user=manager, note="已处理")
    with django_assert_max_num_queries(5):
        assert len(client.get(URL).context["rows"]) == 20
