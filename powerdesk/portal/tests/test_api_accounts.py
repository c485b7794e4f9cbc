"""GET /api/v1/me/ and /api/v1/me/accounts: a customer reads only what is bound to them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from powerdesk.access.testing import customer_caller
from powerdesk.core.testing import make_account
from powerdesk.customers.choices import BindingEndReason, BindingRole, VerificationMethod
from powerdesk.customers.models import Binding
from powerdesk.customers.services import binding_end

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
ACCOUNTS = "/api/v1/me/accounts"


@pytest.fixture
def me(client, customer):
    """The standing customer (13800000000, holder of 户号 0000000001) calling from the app."""
    return customer_caller(client, customer)


@pytest.fixture
def stranger_me(client, stranger):
    return customer_caller(client, stranger)


def test_profile_shows_the_phone_masked(me):
    response = me.get(ME)
    assert response.status_code == 200
    assert response.json() == {"display_name": "张三", "phone_masked": "138****0000", "email": "",
                               "accounts_bound": 1}


def test_accounts_lists_the_callers_bound_accounts_masked(me, account_a, account_b):
    response = me.get(ACCOUNTS)
    assert response.status_code == 200
    [listed] = response.json()
    assert listed["account_number"] == "0000000001"
    assert listed["phone_masked"] == "138****0000"
    assert listed["holder_name_masked"] == "张*"
    assert listed["role"] == "holder" and listed["role_label"] == "户主"
    assert "13800000000" not in response.content.decode()
    assert "id_card" not in response.content.decode()


def test_ended_bindings_are_not_listed(me, customer):
    binding_end(binding=Binding.objects.get(customer_user=customer), reason=BindingEndReason.STAFF,
                channel="console")
    assert me.get(ACCOUNTS).json() == []
    assert me.get(ME).json()["accounts_bound"] == 0


def test_expired_bindings_are_not_listed(me, customer):
    Binding.objects.filter(customer_user=customer).update(valid_until=timezone.now())
    assert me.get(ACCOUNTS).json() == []


def test_stranger_lists_nothing(stranger_me, account_a):
    assert stranger_me.get(ACCOUNTS).json() == []


def test_bound_account_detail(me):
    response = me.get(f"{ACCOUNTS}/0000000001")
    assert response.status_code == 200
    body = response.json()
    assert body["supply_unit_name"] == "湖滨供电所"
    assert body["verified_by"] == "sms_otp"


def test_account_bound_to_someone_else_is_not_found(me, account_b):
    response = me.get(f"{ACCOUNTS}/0000000002")
    assert response.status_code == 404
    assert response.json()["code"] == "account_not_bound"


def test_stranger_cannot_read_the_customers_account(stranger_me, customer, account_a):
    response = stranger_me.get(f"{ACCOUNTS}/0000000001")
    assert response.status_code == 404
    assert response.json()["code"] == "account_not_bound"


def test_nonexistent_account_looks_the_same_as_an_unbound_one(me, account_b):
    unbound = me.get(f"{ACCOUNTS}/0000000002")
    missing = me.get(f"{ACCOUNTS}/0000000999")
    assert missing.status_code == unbound.status_code == 404
    assert missing.json()["code"] == unbound.json()["code"] == "account_not_bound"


def test_malformed_account_number_is_named(me):
    response = me.get(f"{ACCOUNTS}/12345")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_account_number"


def test_accounts_list_query_count_does_not_grow_with_bindings(me, customer, company):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert me.get(ACCOUNTS).status_code == 200
        return len(queries)

    baseline = count()
    for number in ("0000000011", "0000000012", "0000000013"):
        Binding.objects.create(customer_user=customer, account=make_account(number=number, unit=company.station_a),
                               role=BindingRole.FAMILY, verified_by=VerificationMethod.SMS_OTP, channel="app",
                               valid_from=timezone.now())
    assert len(me.get(ACCOUNTS).json()) == 4
    assert count() == baseline
