"""/api/v1/staff/: customer search and account view, permission-checked and scoped to the unit."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from powerdesk.core.testing import make_account
from powerdesk.customers.models import Binding, CustomerUser

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/staff/customers"
ACCOUNT = "/api/v1/staff/accounts"


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [hit["account_number"] for hit in response.json()]


@pytest.fixture
def agent(agent_a):
    return _signed_in(agent_a)


def test_search_needs_a_signed_in_staff_member(client, account_a):
    response = client.get(SEARCH, {"q": "0000000001"})
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


def test_a_portal_customer_session_is_not_a_staff_session(client, customer):
    from powerdesk.access.auth import PORTAL_SESSION_KEY

    session = client.session
    session[PORTAL_SESSION_KEY] = customer.pk
    session.save()
    assert client.get(SEARCH, {"q": "0000000001"}).status_code == 401


def test_search_by_account_number(agent, account_a):
    assert _numbers(agent.get(SEARCH, {"q": "0000000001"})) == ["0000000001"]
    assert _numbers(agent.get(SEARCH, {"q": "0000000009"})) == []


def test_partial_account_numbers_are_refused_not_guessed(agent, account_a):
    response = agent.get(SEARCH, {"q": "000000000"})
    assert response.status_code == 400
    assert response.json()["code"] == "search_query_unrecognised" and response.json()["field"] == "q"


def test_search_by_full_phone(agent, account_a):
    assert _numbers(agent.get(SEARCH, {"q": "13800000000"})) == ["0000000001"]
    assert _numbers(agent.get(SEARCH, {"q": "+86 138-0000-0000"})) == ["0000000001"]
    assert _numbers(agent.get(SEARCH, {"q": "13800000001"})) == []


def test_search_by_masked_phone_matches_prefix_and_suffix(agent, account_a, company):
    make_account(number="0000000005", unit=company.station_a, phone="13811110000")
    make_account(number="0000000006", unit=company.station_a, phone="13911110000")
    assert _numbers(agent.get(SEARCH, {"q": "138****0000"})) == ["0000000001", "0000000005"]
    assert _numbers(agent.get(SEARCH, {"q": "１３８＊＊＊＊００００"})) == ["0000000001", "0000000005"]


def test_search_by_holder_name_contains(agent, account_a, company):
    make_account(number="0000000007", unit=company.station_a, holder_name="张三丰")
    make_account(number="0000000008", unit=company.station_a, holder_name="王五")
    assert _numbers(agent.get(SEARCH, {"q": "张三"})) == ["0000000001", "0000000007"]


def test_search_results_are_masked_and_never_carry_an_id_number(agent, account_a):
    response = agent.get(SEARCH, {"q": "张三"})
    [hit] = response.json()
    assert hit["holder_name_masked"] == "张*" and hit["phone_masked"] == "138****0000"
    assert hit["supply_unit_name"] == "湖滨供电所"
    text = response.content.decode()
    assert "13800000000" not in text and "张三" not in text
    assert "id_card" not in text and "330102199003" not in text


def test_search_is_scoped_to_the_staff_members_unit(agent_b, account_a, account_b):
    agent = _signed_in(agent_b)
    assert _numbers(agent.get(SEARCH, {"q": "0000000001"})) == []
    assert _numbers(agent.get(SEARCH, {"q": "13800000000"})) == []
    assert _numbers(agent.get(SEARCH, {"q": "0000000002"})) == ["0000000002"]


def test_a_city_manager_sees_every_county_below(manager, account_a, account_b):
    assert _numbers(_signed_in(manager).get(SEARCH, {"q": "138****0000"})) == ["0000000001"]
    assert len(_numbers(_signed_in(manager).get(SEARCH, {"q": "张"}))) == 1
    assert _numbers(_signed_in(manager).get(SEARCH, {"q": "李四"})) == ["0000000002"]


def test_search_needs_the_customer_search_permission(analyst, account_a):
    response = _signed_in(analyst).get(SEARCH, {"q": "0000000001"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_search_needs_a_query(agent):
    response = agent.get(SEARCH)
    assert response.status_code == 422 and response.json()["field"] == "q"
    assert _numbers(agent.get(SEARCH, {"q": "   "})) == []


def test_search_limit_is_honoured(agent, company):
    for n in range(5):
        make_account(number=f"00000001{n:02d}", unit=company.station_a, holder_name=f"赵{n}")
    assert len(_numbers(agent.get(SEARCH, {"q": "赵", "limit": 3}))) == 3
    assert agent.get(SEARCH, {"q": "赵", "limit": 500}).status_code == 422


def test_search_query_count_does_not_grow_with_results(agent, company):
    make_account(number="0000000100", unit=company.station_a, holder_name="赵一")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert agent.get(SEARCH, {"q": "赵"}).status_code == 200
        return len(queries)

    baseline = count()
    for n in range(1, 6):
        make_account(number=f"00000001{n:02d}", unit=company.station_a if n % 2 else company.county_a,
                     holder_name=f"赵{n}")
    assert count() == baseline


def test_account_detail_in_scope(agent, customer, account_a):
    response = agent.get(f"{ACCOUNT}/0000000001")
    assert response.status_code == 200
    body = response.json()
    assert body["phone_masked"] == "138****0000" and body["holder_name_masked"] == "张*"
    assert body["has_id_card_on_file"] is True
    assert [binding["role"] for binding in body["bindings"]] == ["holder"]
    assert body["bindings"][0]["customer_display_name"] == "张*"
    assert "330102199003" not in response.content.decode()


def test_account_outside_scope_looks_exactly_like_a_missing_one(agent_b, account_a):
    agent = _signed_in(agent_b)
    outside = agent.get(f"{ACCOUNT}/0000000001")
    missing = agent.get(f"{ACCOUNT}/0000000009")
    assert outside.status_code == missing.status_code == 404
    assert outside.json()["code"] == missing.json()["code"] == "account_not_found"
    assert outside.json()["message"].replace("0000000001", "N") == missing.json()["message"].replace("0000000009", "N")


def test_account_detail_needs_the_view_permission(analyst, account_a):
    assert _signed_in(analyst).get(f"{ACCOUNT}/0000000001").status_code == 403


def test_account_detail_lists_only_active_bindings(agent, customer, account_a, stranger):
    started = customer.bindings.get().valid_from
    Binding.objects.create(customer_user=stranger, account=account_a, role="family", verified_by="sms_otp",
                           channel="app", valid_from=started, ended_at=started, end_reason="unbound")
    assert len(agent.get(f"{ACCOUNT}/0000000001").json()["bindings"]) == 1


def test_account_detail_query_count_does_not_grow_with_bindings(agent, customer, account_a):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert agent.get(f"{ACCOUNT}/0000000001").status_code == 200
        return len(queries)

    baseline = count()
    for n in range(4):
        user = CustomerUser.objects.create(phone=f"1350000{n:04d}", display_name=f"家属{n}")
        Binding.objects.create(customer_user=user, account=account_a, role="family", verified_by="sms_otp",
                               channel="app", valid_from=customer.bindings.get().valid_from)
    assert len(agent.get(f"{ACCOUNT}/0000000001").json()["bindings"]) == 5
    assert count() == baseline
