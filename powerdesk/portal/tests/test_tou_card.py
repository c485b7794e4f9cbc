"""The 峰谷电价建议 card on the H5 电费 page and its details page: shown only when switching
would have saved money, and only for accounts bound to the signed-in customer."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache
from django.urls import reverse

from powerdesk.billing.reads import months_back
from powerdesk.billing.tests.test_checks import bill
from powerdesk.portal.tests.conftest import sign_in
from powerdesk.tariffs.demo import demo_tariffs

pytestmark = pytest.mark.django_db

WINDOW = [months_back(date(2025, 10, 1), back) for back in range(11, -1, -1)]


@pytest.fixture(autouse=True)
def catalogue(db):
    cache.clear()  # the card is cached per account and bill versions
    yield demo_tariffs()
    cache.clear()


def twelve_months(account, *, peak, valley):
    for period in WINDOW:
        bill(account, period, 10760, peak + valley, peak=peak, valley=valley)


def page(client, number="0000000001"):
    return client.get(reverse("portal:billing_account", args=[number]))


def test_the_card_shows_the_saving_of_a_valley_heavy_account(customer_client, account_a):
    twelve_months(account_a, peak=60, valley=140)  # 33.20 元 a month cheaper on 峰谷
    html = page(customer_client).content.decode()
    assert "data-tou-card" in html
    assert "若改用峰谷电价，近 12 个月可节省 ¥398.40" in html
    assert reverse("portal:billing_tou", args=["0000000001"]) in html


def test_the_details_page_lists_the_months(customer_client, account_a):
    twelve_months(account_a, peak=60, valley=140)
    response = customer_client.get(reverse("portal:billing_tou", args=["0000000001"]))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("data-tou-month=") == 12
    assert 'data-tou-month="2024-11"' in html and 'data-tou-month="2025-10"' in html
    assert "¥107.60 → ¥74.40" in html
    assert "现行电价 ¥1291.20 → 峰谷电价 ¥892.80" in html and "¥398.40" in html
    assert "账单分时电量" in html


def test_no_card_when_tou_would_cost_more(customer_client, account_a):
    twelve_months(account_a, peak=190, valley=10)  # 3.20 元 a month dearer
    html = page(customer_client).content.decode()
    assert "data-tou-card" not in html and "峰谷电价建议" not in html
    details = customer_client.get(reverse("portal:billing_tou", args=["0000000001"])).content.decode()
    assert "data-tou-none" in details and "data-tou-month" not in details


def test_no_card_when_data_is_missing(customer_client, account_a):
    for period in WINDOW[1:]:  # 11 months only
        bill(account_a, period, 10760, 200, peak=60, valley=140)
    assert "data-tou-card" not in page(customer_client).content.decode()


def test_a_new_bill_version_refreshes_the_cached_card(customer_client, account_a):
    twelve_months(account_a, peak=60, valley=140)
    assert "¥398.40" in page(customer_client).content.decode()
    bill(account_a, WINDOW[-1], 11080, 200, peak=190, valley=10)  # 退补: October turns peak-heavy
    # 11 months × 33.20 − 3.20 = 362.00 元
    assert "近 12 个月可节省 ¥362.00" in page(customer_client).content.decode()


def test_only_bound_accounts(client, customer, stranger, account_a, account_b):
    twelve_months(account_b, peak=60, valley=140)
    sign_in(client, customer)  # bound to account A only
    assert page(client, "0000000002").status_code == 404
    response = client.get(reverse("portal:billing_tou", args=["0000000002"]))
    assert response.status_code == 404 and "398.40" not in response.content.decode()
    sign_in(client, stranger)
    assert client.get(reverse("portal:billing_tou", args=["0000000001"])).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, account_a):
    response = client.get(reverse("portal:billing_tou", args=["0000000001"]))
    assert response.status_code == 302 and "/h5/login/" in response["Location"]
