"""/api/v1/me/accounts/{account_number}/bills, /bills/{period}, /balance, /payments, /points and
/usage/daily: the portal's billing reads for the app, money as fen plus an exact yuan string."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from powerdesk.access.testing import customer_caller
from powerdesk.billing.models import Bill
from powerdesk.billing.reads import account_balance
from powerdesk.billing.selectors import account_points
from powerdesk.billing.testing import CORRECTION_FEN, make_billing_history
from powerdesk.events.models import DomainEvent
from powerdesk.portal.tests.conftest import sign_in

pytestmark = pytest.mark.django_db

BASE = "/api/v1/me/accounts"


@pytest.fixture
def history(account_a):
    return make_billing_history(account_a)


@pytest.fixture
def me(client, customer):
    return customer_caller(client, customer)


@pytest.fixture
def stranger_me(client, stranger):
    return customer_caller(client, stranger)


def test_bills_lists_current_versions_newest_first_with_status(me, account_a, history):
    response = me.get(f"{BASE}/0000000001/bills")
    assert response.status_code == 200
    bills = response.json()
    assert len(bills) == 26
    newest = bills[0]
    assert newest["period"] == f"{history.latest_period:%Y-%m}"
    bill = Bill.objects.get(account=account_a, period=history.latest_period, is_current=True)
    assert newest["amount_fen"] == bill.amount_fen
    assert newest["amount_yuan"] == f"{bill.amount_fen // 100}.{bill.amount_fen % 100:02d}"
    assert newest["kwh_total"] == str(bill.kwh_total)
    assert newest["status"] in {"unpaid", "overdue"} and newest["outstanding_fen"] == bill.amount_fen
    assert bills[-1]["status"] == "paid" and bills[-1]["outstanding_yuan"] == "0.00"
    corrected = next(row for row in bills if row["period"] == f"{history.corrected_period:%Y-%m}")
    assert corrected["is_corrected"] is True and corrected["version"] == 2


def test_bills_query_count_is_pinned(me, history):
    me.get(f"{BASE}/0000000001/bills")
    with CaptureQueriesContext(connection) as queries:
        me.get(f"{BASE}/0000000001/bills")
    assert len(queries) <= 10


def test_one_month_has_its_versions_and_records_bill_viewed_on_the_app_channel(
    me, customer, account_a, history
):
    period = f"{history.corrected_period:%Y-%m}"
    response = me.get(f"{BASE}/0000000001/bills/{period}")
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == period and body["version"] == 2
    assert body["corrected_by_fen"] == CORRECTION_FEN and body["corrected_by_yuan"] == "12.34"
    assert [v["version"] for v in body["versions"]] == [2, 1]
    assert body["versions"][0]["difference_fen"] == CORRECTION_FEN
    [event] = DomainEvent.objects.filter(kind="bill.viewed")
    assert (
        event.channel == "app" and event.customer_user_id == customer.pk and event.account_id == account_a.pk
    )


def test_the_portal_session_reads_on_the_h5_channel(client, customer, history):
    sign_in(client, customer)
    response = client.get(f"{BASE}/0000000001/bills/{history.latest_period:%Y-%m}")
    assert response.status_code == 200
    assert DomainEvent.objects.get(kind="bill.viewed").channel == "h5"


def test_a_month_without_a_bill_is_404(me, history):
    response = me.get(f"{BASE}/0000000001/bills/1999-01")
    assert response.status_code == 404 and response.json()["code"] == "bill_not_found"


def test_a_malformed_month_is_400(me, history):
    response = me.get(f"{BASE}/0000000001/bills/2026-1x")
    assert response.status_code == 400 and response.json()["code"] == "invalid_period"


def test_balance_splits_owed_and_credit(me, account_a, history):
    body = me.get(f"{BASE}/0000000001/balance").json()
    balance = account_balance(account=account_a)
    assert body["balance_fen"] == balance.balance_fen == body["owed_fen"] > 0
    assert body["credit_fen"] == 0 and body["credit_yuan"] == "0.00"
    assert body["owed_yuan"] == f"{balance.owed_fen // 100}.{balance.owed_fen % 100:02d}"


def test_payments_are_paged_newest_first(me, history):
    first = me.get(f"{BASE}/0000000001/payments", data={"limit": 10}).json()
    rest = me.get(f"{BASE}/0000000001/payments", data={"limit": 100, "offset": 10}).json()
    assert len(first) == 10 and len(rest) == 15
    assert first[0]["paid_at"] > first[-1]["paid_at"] > rest[0]["paid_at"]
    assert first[0]["channel"] == "alipay" and first[0]["status"] == "succeeded"
    assert isinstance(first[0]["amount_fen"], int) and "." in first[0]["amount_yuan"]


def test_points_total_and_entries(me, account_a, history):
    body = me.get(f"{BASE}/0000000001/points").json()
    assert body["points"] == account_points(account_a) > 0
    assert body["entries"][0]["reason"] == "online_payment"


def test_daily_usage_for_30_or_90_days(me, history):
    body = me.get(f"{BASE}/0000000001/usage/daily").json()
    assert body["days"] == 30 and len(body["readings"]) == 30
    assert len(me.get(f"{BASE}/0000000001/usage/daily", data={"days": 90}).json()["readings"]) == 90
    response = me.get(f"{BASE}/0000000001/usage/daily", data={"days": 7})
    assert response.status_code == 400 and response.json()["code"] == "invalid_days"


ENDPOINTS = ["bills", "bills/2026-01", "balance", "payments", "points", "usage/daily"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_stranger_cannot_read_someone_elses_account(stranger_me, history, endpoint):
    response = stranger_me.get(f"{BASE}/0000000001/{endpoint}")
    assert response.status_code == 404
    assert response.json()["code"] == "account_not_bound"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_existing_but_unbound_account_is_404(me, account_b, endpoint):
    make_billing_history(account_b)
    response = me.get(f"{BASE}/0000000002/{endpoint}")
    assert response.status_code == 404
    assert response.json()["code"] == "account_not_bound"
    assert not DomainEvent.objects.filter(kind="bill.viewed").exists()


def test_anonymous_callers_are_refused(client, history):
    assert client.get(f"{BASE}/0000000001/bills").status_code == 401
