"""The 账务 tab of the customer 360: balance, ledger newest first and paged, bill versions with
their difference; scoped to the staff member's units, with pinned query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from powerdesk.billing.models import LedgerEntry
from powerdesk.billing.reads import account_balance
from powerdesk.billing.testing import CORRECTION_FEN, make_billing_history
from powerdesk.console.tests.helpers import client_for

pytestmark = pytest.mark.django_db

URL = "/console/customers/0000000001/billing/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def history(account_a):
    return make_billing_history(account_a)


def tab(user, url: str = URL):
    return client_for(user).get(url, **HTMX)


def test_the_360_page_loads_the_billing_tab(agent_a, account_a):
    html = client_for(agent_a).get("/console/customers/0000000001/").content.decode()
    assert 'id="billing"' in html and 'hx-get="/console/customers/0000000001/billing/?page=1"' in html


def test_the_tab_shows_the_balance_in_exact_yuan(agent_a, account_a, history):
    response = tab(agent_a)
    assert response.status_code == 200
    owed = account_balance(account=account_a).owed_fen
    assert f"当前应缴 ¥{owed // 100}.{owed % 100:02d}" in response.content.decode()


def test_the_ledger_is_newest_first_and_paged(agent_a, account_a, history):
    response = tab(agent_a)
    html = response.content.decode()
    page = response.context["ledger_page"]
    total = LedgerEntry.objects.filter(account=account_a).count()
    assert page.paginator.count == total == 26 + 25 + 1  # bills, payments, one correction
    assert html.count("data-ledger-row") == 20
    newest = LedgerEntry.objects.filter(account=account_a).order_by("-occurred_at", "-id").first()
    assert page.object_list[0].pk == newest.pk
    times = [entry.occurred_at for entry in page.object_list]
    assert times == sorted(times, reverse=True)
    assert 'hx-get="/console/customers/0000000001/billing/?page=2"' in html
    last = tab(agent_a, f"{URL}?page=3")
    assert last.content.decode().count("data-ledger-row") == total - 40


def test_bill_versions_show_the_correction_difference(agent_a, history):
    html = tab(agent_a).content.decode()
    period = f"{history.corrected_period:%Y-%m}"
    assert f'data-bill-version="{period}-v2"' in html and f'data-bill-version="{period}-v1"' in html
    assert f"+{CORRECTION_FEN // 100}.{CORRECTION_FEN % 100:02d}" in html
    assert "退补调整" in html


def test_the_tab_query_count_is_pinned(agent_a, history):
    client = client_for(agent_a)
    client.get(URL, **HTMX)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, **HTMX).status_code == 200
    assert len(queries) <= 8, [q["sql"] for q in queries]


def test_a_plain_request_goes_back_to_the_360_page_at_the_tab(agent_a, history):
    response = client_for(agent_a).get(f"{URL}?page=2")
    assert response.status_code == 302
    assert response["Location"] == "/console/customers/0000000001/?ledger_page=2#billing"


def test_an_agent_of_another_county_cannot_see_the_tab(agent_b, history):
    response = tab(agent_b)
    assert response.status_code == 404
    assert "0000000001" not in response.content.decode() or "未找到户号" in response.content.decode()
    assert "data-ledger" not in response.content.decode()


def test_an_analyst_is_refused(analyst, history):
    assert tab(analyst).status_code == 403


def test_an_empty_account_says_so(agent_a, account_a):
    html = tab(agent_a).content.decode()
    assert "尚无账务流水。" in html and "尚无电费账单。" in html
