"""The 电费 tab: balance, bills by month with bands and 退补 note, charts' data, payments, points,
the statement PDF — and only for accounts actively bound to the signed-in customer."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from powerdesk.billing.models import Bill
from powerdesk.billing.reads import account_balance
from powerdesk.billing.testing import CORRECTION_FEN, make_billing_history
from powerdesk.customers.choices import BindingEndReason
from powerdesk.customers.models import Binding
from powerdesk.customers.services import binding_end
from powerdesk.events.models import DomainEvent
from powerdesk.portal import views_billing

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(account_a):
    return make_billing_history(account_a)


def month_url(number: str, period) -> str:
    return reverse("portal:billing_month", args=[number, f"{period:%Y-%m}"])


def test_the_tabbar_has_a_billing_tab(customer_client):
    response = customer_client.get(reverse("portal:home"))
    assert reverse("portal:billing").encode() in response.content
    assert "电费" in response.content.decode()


def test_billing_tab_opens_the_first_bound_account(customer_client):
    response = customer_client.get(reverse("portal:billing"))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:billing_account", args=["0000000001"])


def test_billing_tab_without_accounts_offers_binding(stranger_client):
    response = stranger_client.get(reverse("portal:billing"))
    assert response.status_code == 200
    assert reverse("portal:bind").encode() in response.content


def test_signed_out_visitors_are_sent_to_sign_in(client, account_a):
    response = client.get(reverse("portal:billing_account", args=["0000000001"]))
    assert response.status_code == 302 and "/h5/login/" in response["Location"]


def test_account_page_shows_balance_current_bill_months_and_chart_data(customer_client, account_a, history):
    response = customer_client.get(reverse("portal:billing_account", args=["0000000001"]))
    assert response.status_code == 200
    page = response.content.decode()
    owed = account_balance(account=account_a).owed_fen
    assert owed > 0
    assert f"¥{owed // 100}.{owed % 100:02d}" in page  # exact yuan, from fen
    assert "当前应缴" in page
    assert f"{history.latest_period:%Y-%m} 电费" in page
    assert 'class="billing-badge billing-badge_' in page
    assert page.count("data-period=") == 26
    chart = response.context["chart_data"]
    assert len(chart["trend"]["months"]) == 24
    assert chart["trend"]["months"][-1] == f"{history.latest_period:%Y-%m}"
    assert len(chart["usage"]["days"]) == 30
    assert 'id="billing-chart-data"' in page and "echarts.min.js" in page
    assert "张*" in page and "张三" not in page
    assert reverse("portal:billing_statement", args=["0000000001"]) in page


def test_account_page_shows_90_days_of_usage_on_request(customer_client, history):
    response = customer_client.get(reverse("portal:billing_account", args=["0000000001"]), {"days": "90"})
    assert len(response.context["chart_data"]["usage"]["days"]) == 90


def test_account_page_shows_prepaid_credit(customer_client, account_a):
    from datetime import datetime

    from django.utils import timezone

    from powerdesk.billing.services import payment_record

    payment_record(
        account=account_a,
        amount_fen=10_001,
        gateway="alipay",
        gateway_txn_id="PRE1",
        paid_at=datetime(2026, 1, 1, 8, tzinfo=timezone.get_current_timezone()),
        channel="h5",
    )
    page = customer_client.get(reverse("portal:billing_account", args=["0000000001"])).content.decode()
    assert "预存余额" in page and "¥100.01" in page
    assert "该户号暂无电费账单。" in page


def test_account_page_query_count_is_pinned(customer_client, history):
    url = reverse("portal:billing_account", args=["0000000001"])
    customer_client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert customer_client.get(url).status_code == 200
    assert len(queries) <= 14, [q["sql"] for q in queries]


def test_month_page_shows_bands_amount_and_status(customer_client, account_a, history):
    response = customer_client.get(month_url("0000000001", history.latest_period))
    assert response.status_code == 200
    page = response.content.decode()
    bill = Bill.objects.get(account=account_a, period=history.latest_period, is_current=True)
    for label, value in (
        ("尖", bill.kwh_sharp),
        ("峰", bill.kwh_peak),
        ("平", bill.kwh_flat),
        ("谷", bill.kwh_valley),
    ):
        assert f'{label}</div><div class="weui-cell__ft">{value}</div>' in page
    assert f"¥{bill.amount_fen // 100}.{bill.amount_fen % 100:02d}" in page
    assert "已退补" not in page


def test_a_corrected_month_says_so_with_the_difference(customer_client, history):
    page = customer_client.get(month_url("0000000001", history.corrected_period)).content.decode()
    assert f"已退补，差额 ¥{CORRECTION_FEN // 100}.{CORRECTION_FEN % 100:02d}" in page
    assert "第 1 版" in page and "第 2 版" in page


def test_viewing_a_month_records_one_bill_viewed_event_on_h5(customer_client, customer, account_a, history):
    customer_client.get(month_url("0000000001", history.latest_period))
    [event] = DomainEvent.objects.filter(kind="bill.viewed")
    assert event.channel == "h5"
    assert event.account_id == account_a.pk and event.customer_user_id == customer.pk
    assert event.payload == {"period": f"{history.latest_period:%Y-%m}", "version": 1}
    customer_client.get(reverse("portal:billing_account", args=["0000000001"]))
    assert DomainEvent.objects.filter(kind="bill.viewed").count() == 1  # the overview is not a bill view


def test_a_month_without_a_bill_is_404(customer_client, history):
    response = customer_client.get(reverse("portal:billing_month", args=["0000000001", "1999-01"]))
    assert response.status_code == 404
    assert response.context["error"].code == "bill_not_found"
    assert not DomainEvent.objects.filter(kind="bill.viewed").exists()


def test_a_malformed_month_is_refused(customer_client, history):
    response = customer_client.get(reverse("portal:billing_month", args=["0000000001", "2026-13"]))
    assert response.status_code == 400
    assert response.context["error"].code == "invalid_period"


def test_payments_page_lists_payments_newest_first(customer_client, history):
    response = customer_client.get(reverse("portal:billing_payments", args=["0000000001"]))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("data-payment") == 20  # first page of 25
    assert "支付宝生活号" in page
    assert response.context["page"].paginator.count == 25


def test_points_page_shows_the_total(customer_client, account_a, history):
    from powerdesk.billing.selectors import account_points

    response = customer_client.get(reverse("portal:billing_points", args=["0000000001"]))
    assert response.status_code == 200
    assert response.context["points"] == account_points(account_a) > 0
    assert "线上缴费" in response.content.decode()


def test_statement_download_is_a_pdf_and_records_one_event(customer_client, customer, account_a, history):
    response = customer_client.get(reverse("portal:billing_statement", args=["0000000001"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert "attachment" in response["Content-Disposition"]
    [event] = DomainEvent.objects.filter(kind="bill.statement_downloaded")
    assert (
        event.channel == "h5" and event.account_id == account_a.pk and event.customer_user_id == customer.pk
    )


def test_statement_rejects_a_backwards_range(customer_client, history):
    response = customer_client.get(
        reverse("portal:billing_statement", args=["0000000001"]), {"from": "2026-05", "to": "2026-01"}
    )
    assert response.status_code == 400
    assert not DomainEvent.objects.filter(kind="bill.statement_downloaded").exists()


@pytest.mark.parametrize(
    "name", ["billing_account", "billing_payments", "billing_points", "billing_statement"]
)
def test_a_stranger_gets_404_for_someone_elses_account(stranger_client, history, name):
    response = stranger_client.get(reverse(f"portal:{name}", args=["0000000001"]))
    assert response.status_code == 404
    assert response.context["error"].code == "account_not_bound"


def test_a_stranger_cannot_view_someone_elses_month(stranger_client, history):
    response = stranger_client.get(month_url("0000000001", history.latest_period))
    assert response.status_code == 404
    assert response.context["error"].code == "account_not_bound"
    assert not DomainEvent.objects.filter(kind="bill.viewed").exists()


def test_an_unbound_account_is_404_even_though_it_exists(customer_client, account_b):
    make_billing_history(account_b)
    response = customer_client.get(reverse("portal:billing_account", args=["0000000002"]))
    assert response.status_code == 404
    assert response.context["error"].code == "account_not_bound"
    assert "李" not in response.content.decode()


def test_an_ended_binding_no_longer_shows_billing(customer_client, customer, history):
    binding_end(
        binding=Binding.objects.get(customer_user=customer), reason=BindingEndReason.STAFF, channel="console"
    )
    response = customer_client.get(reverse("portal:billing_account", args=["0000000001"]))
    assert response.status_code == 404


def test_the_pay_button_is_hidden_while_no_pay_url_is_registered(customer_client, history, monkeypatch):
    monkeypatch.setattr(views_billing, "PAY_URL_NAME", "payments:not_registered")
    page = customer_client.get(reverse("portal:billing_account", args=["0000000001"])).content.decode()
    assert "data-pay-button" not in page


def test_the_pay_button_links_to_the_pay_url_with_the_month(customer_client, history, monkeypatch):
    # Any URL taking ``account_number`` stands in for the payments app's ``payments:pay``.
    monkeypatch.setattr(views_billing, "PAY_URL_NAME", "portal:billing_account")
    page = customer_client.get(month_url("0000000001", history.latest_period)).content.decode()
    expected = (
        reverse("portal:billing_account", args=["0000000001"]) + f"?period={history.latest_period:%Y-%m}"
    )
    assert f'href="{expected}" class="weui-btn weui-btn_primary billing-pay" data-pay-button' in page
