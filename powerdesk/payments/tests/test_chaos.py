"""The sandbox chaos run: repeated, reordered, delayed and tampered notifications."""

from __future__ import annotations

import pytest

from powerdesk.payments.chaos import chaos_run

pytestmark = pytest.mark.django_db


def test_chaos_run_credits_every_genuine_payment_exactly_once(sandbox, notify, customer):
    result = chaos_run(
        sandbox=sandbox,
        transport=notify,
        customer_user=customer,
        account_numbers=["0000000001"],
        orders=200,
        seed=7,
        tamper_rate=0.08,
    )

    assert result["tampered_orders"] > 0
    assert result["notifications_sent"] > result["orders"]
    assert result["double_credits"] == 0
    assert result["lost"] == 0
    assert result["credited"] == result["orders"] - result["tampered_orders"]
    assert result["tampered_credited"] == 0
    assert result["tampered_notifications_not_refused_or_suspense"] == 0
    assert result["ledger_equals_orders"], result
