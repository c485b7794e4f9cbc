"""缴费查询: search by 户号 / txn / order number / local date range / gateway / channel / status,
exact yuan, Beijing time, 销账 file; scoped to the staff member's units; pinned query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from powerdesk.billing.models import Payment
from powerdesk.console.tests.helpers import client_for, staff_with_role
from powerdesk.console.tests.test_payments_support import PAID_AT, make_payment, order_of
from powerdesk.staff.roles import ROLE_PERMISSIONS, Perm

pytestmark = pytest.mark.django_db

URL = "/console/payments/"
ROLES = list(ROLE_PERMISSIONS)


def listed(client, **params) -> list[int]:
    response = client.get(URL, params)
    assert response.status_code == 200
    return [p.pk for p in response.context["rows"]]


def test_the_list_shows_exact_yuan_beijing_time_and_the_posting_file(agent_a, account_a):
    payment = make_payment(account_a, amount_fen=10001)
    Payment.objects.filter(pk=payment.pk).update(refunded_fen=1, posted_in_file="PAY_20261102.csv")
    html = client_for(agent_a).get(URL).content.decode()
    assert f'data-payment-row="{payment.pk}"' in html
    assert "100.01" in html and "0.01" in html
    assert "2026-11-02 00:30:00" in html  # 16:30 UTC → 00:30 next day in Asia/Shanghai
    assert "PAY_20261102.csv" in html
    assert order_of(payment).out_trade_no in html
    assert "张*" in html and "张三" not in html  # the holder's name is masked


def test_search_by_each_field(agent_a, account_a, company):
    from powerdesk.core.testing import make_account

    other = make_account(number="0000000003", unit=company.station_a, holder_name="王五")
    first = make_payment(account_a, txn="T1", gateway="alipay", channel="h5")
    second = make_payment(
        other, txn="T2", gateway="wechatpay", channel="wechat", paid_at=PAID_AT + timedelta(days=3)
    )
    third = make_payment(account_a, txn="T3", with_order=False, channel="outlet", gateway="counter")
    Payment.objects.filter(pk=third.pk).update(status="refunded", refunded_fen=third.amount_fen)
    client = client_for(agent_a)
    assert listed(client) == [second.pk, third.pk, first.pk]  # newest first, then by id
    assert set(listed(client, account_number="0000000001")) == {first.pk, third.pk}
    assert listed(client, gateway_txn_id="T2") == [second.pk]
    assert listed(client, out_trade_no=order_of(first).out_trade_no) == [first.pk]
    assert listed(client, gateway="wechatpay") == [second.pk]
    assert listed(client, channel="outlet") == [third.pk]
    assert listed(client, status="refunded") == [third.pk]
    # Local days: the first payment is on 2026-11-02 in Beijing although 11-01 in UTC.
    assert listed(client, date_from="2026-11-02", date_to="2026-11-02", gateway="alipay") == [first.pk]
    assert listed(client, date_to="2026-11-01") == []
    assert listed(client, date_from="2026-11-03") == [second.pk]


def test_newest_first(agent_a, account_a):
    older = make_payment(account_a, txn="OLD", paid_at=PAID_AT - timedelta(days=1))
    newer = make_payment(account_a, txn="NEW")
    assert listed(client_for(agent_a)) == [newer.pk, older.pk]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2026-13-01"}, "日期格式应为 YYYY-MM-DD"),
        ({"date_to": "02/11/2026"}, "日期格式应为 YYYY-MM-DD"),
        ({"date_from": "2026-11-05", "date_to": "2026-11-01"}, "截止日期不能早于起始日期"),
        ({"account_number": "12345"}, "户号应为 10 位数字"),
        ({"gateway": "paypal"}, "paypal"),
    ],
)
def test_bad_input_is_explained_and_lists_nothing(agent_a, account_a, params, message):
    make_payment(account_a)
    response = client_for(agent_a).get(URL, params)
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-search-errors" in html and message in html
    assert response.context["rows"] == []


def test_agent_b_sees_none_of_account_a_payments(agent_b, account_a, account_b):
    mine = make_payment(account_b, txn="B1")
    make_payment(account_a, txn="A1")
    client = client_for(agent_b)
    assert listed(client) == [mine.pk]
    assert listed(client, account_number="0000000001") == []
    assert listed(client, gateway_txn_id="A1") == []


def test_province_staff_see_every_unit(admin_user, account_a, account_b):
    make_payment(account_a, txn="A1")
    make_payment(account_b, txn="B1")
    assert len(listed(client_for(admin_user))) == 2


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_the_list_follows_the_matrix(company, account_a, role):
    make_payment(account_a)
    response = client_for(staff_with_role(company, role)).get(URL)
    if Perm.PAYMENTS_VIEW in ROLE_PERMISSIONS[role]:
        assert response.status_code == 200 and len(response.context["rows"]) == 1
    else:
        assert response.status_code == 403 and "无权访问" in response.content.decode()


def test_htmx_gets_only_the_results(agent_a, account_a):
    make_payment(account_a)
    html = client_for(agent_a).get(URL, HTTP_HX_REQUEST="true").content.decode()
    assert "data-payment-results" in html and "<html" not in html


def test_query_count_does_not_grow_with_the_rows(agent_a, account_a, django_assert_max_num_queries):
    client = client_for(agent_a)
    make_payment(account_a, txn="Q0")
    client.get(URL)  # warm the session
    with django_assert_max_num_queries(5):
        assert len(client.get(URL).context["rows"]) == 1
    for n in range(1, 30):
        make_payment(account_a, txn=f"Q{n}")
    with django_assert_max_num_queries(5):
        assert len(client.get(URL).context["rows"]) == 30
