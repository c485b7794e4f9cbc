"""事件日志: newest first, filter by kind, paginated, scoped below province level."""

from powerdesk.console.tests.helpers import client_for
from powerdesk.core.testing import make_staff
from powerdesk.customers import events as kinds
from powerdesk.events.services import event_record
from powerdesk.staff.roles import Role

URL = "/console/events/"


def test_events_are_listed_with_chinese_labels(analyst, account_a, customer):
    event_record(kinds.CUSTOMER_BOUND, channel="wechat", customer_user_id=customer.pk, account_id=account_a.pk,
                 payload={"role": "holder"})
    html = client_for(analyst).get(URL).content.decode()
    assert "客户绑定户号" in html and "微信公众号" in html and "0000000001" in html
    assert 'href="/console/customers/0000000001/"' not in html  # analysts do not open customers


def test_filter_by_kind(analyst, account_a, customer):
    event_record(kinds.CUSTOMER_BOUND, channel="h5", customer_user_id=customer.pk, account_id=account_a.pk)
    event_record(kinds.CUSTOMER_SIGNED_IN, channel="h5", customer_user_id=customer.pk)
    html = client_for(analyst).get(URL, {"kind": "customer.signed_in"}).content.decode()
    assert "<td>客户登录" in html and "<td>客户绑定户号" not in html


def test_unknown_kind_filter_shows_everything_rather_than_failing(analyst, customer):
    event_record(kinds.CUSTOMER_SIGNED_IN, channel="h5", customer_user_id=customer.pk)
    response = client_for(analyst).get(URL, {"kind": "no.such_kind"})
    assert response.status_code == 200 and "<td>客户登录" in response.content.decode()


def test_events_are_paginated_newest_first(analyst, account_a):
    for n in range(60):
        event_record(kinds.OTP_SENT, channel="sms", payload={"n": f"第{n:02d}条"})
    client = client_for(analyst)
    first = client.get(URL).content.decode()
    assert "第59条" in first and "第09条" not in first and "共 60 条" in first
    assert "第09条" in client.get(URL, {"page": 2}).content.decode()


def test_county_manager_sees_only_events_of_the_county(company, account_a, account_b, customer):
    event_record(kinds.CUSTOMER_BOUND, channel="h5", customer_user_id=customer.pk, account_id=account_a.pk,
                 payload={"mark": "甲县"})
    event_record(kinds.ACCOUNT_HOLDER_CHANGED, channel="console", account_id=account_b.pk, payload={"mark": "乙县"})
    event_record(kinds.CUSTOMER_SIGNED_IN, channel="h5", customer_user_id=customer.pk, payload={"mark": "甲县客户"})
    manager_a = make_staff("manager_a", Role.DEPT_MANAGER, company.county_a)
    html = client_for(manager_a).get(URL).content.decode()
    assert "甲县" in html and "甲县客户" in html and "乙县" not in html


def test_event_page_query_count_is_fixed(analyst, account_a, back_office_a, django_assert_max_num_queries):
    for n in range(30):
        event_record(kinds.ACCOUNT_HOLDER_CHANGED, channel="console", account_id=account_a.pk,
                     actor_staff_id=back_office_a.pk, payload={"n": n})
    # session, user, user's unit, count, page, 户号, operator names
    client = client_for(analyst)
    with django_assert_max_num_queries(7):
        html = client.get(URL).content.decode()
    assert "clerk_a" in html
