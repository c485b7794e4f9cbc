"""``customer_accounts_brief`` (one statement, used on every channel message) lists exactly the
accounts ``customer_accounts`` lists, in the same order, with the fields a reply shows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from powerdesk.billing.reads import customer_accounts, customer_accounts_brief
from powerdesk.billing.testing import make_binding
from powerdesk.core.testing import make_account
from powerdesk.customers.models import CustomerUser

pytestmark = pytest.mark.django_db


def test_the_brief_list_is_the_full_list_in_the_same_order(company, django_assert_num_queries):
    now = timezone.now()
    user = CustomerUser.objects.create(phone="13900000001", display_name="王五")
    other = CustomerUser.objects.create(phone="13900000002", display_name="赵六")
    accounts = [
        make_account(number=f"{n:010d}", unit=company.station_a, holder_name=f"户主{n}") for n in range(1, 7)
    ]
    make_binding(user, accounts[3], valid_from=now - timedelta(days=3))  # bound first, listed first
    make_binding(user, accounts[0], valid_from=now - timedelta(days=2))
    make_binding(user, accounts[5], valid_from=now - timedelta(days=2))  # same time: by binding id
    make_binding(user, accounts[1], valid_from=now - timedelta(days=9), ended=True)  # unbound
    make_binding(user, accounts[2], valid_from=now - timedelta(days=9), valid_until=now - timedelta(hours=1))  # expired
    make_binding(user, accounts[4], valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=1))  # still valid
    make_binding(other, accounts[1], valid_from=now - timedelta(days=5))  # someone else's

    expected = customer_accounts(customer_user=user)
    with django_assert_num_queries(1):
        brief = customer_accounts_brief(customer_user_id=user.pk)
        shown = [(a.pk, a.number, a.holder_name) for a in brief]
    assert shown == [(a.pk, a.number, a.holder_name) for a in expected]
    assert [a.number for a in brief] == ["0000000004", "0000000001", "0000000006", "0000000005"]
    assert customer_accounts_brief(customer_user_id=CustomerUser.objects.create(phone="13900000003").pk) == []
