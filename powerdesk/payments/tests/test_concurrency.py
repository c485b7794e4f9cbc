"""16 threads deliver the same signed notification at once, on a real PostgreSQL server."""

from __future__ import annotations

import os
import threading

import pytest
from django.db import connection
from django.test import Client

from powerdesk.billing.choices import LedgerKind
from powerdesk.billing.models import LedgerEntry, Payment
from powerdesk.payments.models import GatewayNotification, PaymentOrder
from powerdesk.payments.tests.conftest import client_transport
from powerdesk.payments.tests.helpers import order_opened

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL"), reason="needs concurrent writers (PostgreSQL run)"
    ),
]


@pytest.mark.parametrize("gateway", ["alipay", "wechatpay"])
def test_sixteen_simultaneous_deliveries_credit_once(sandbox, customer, account_a, gateway):
    order, _ = order_opened(customer, gateway=gateway, amount_fen=6600)
    sandbox.control("hold", {"hold": True})
    notification_id = sandbox.control("pay", {"gateway": gateway, "out_trade_no": order.out_trade_no})[
        "notification_id"
    ]
    notification = sandbox.state._notifications[notification_id]
    body, headers = sandbox.state._wire(notification, None)  # one signed copy, sent 16 times
    barrier = threading.Barrier(16)
    statuses: list[int] = []

    def deliver():
        try:
            barrier.wait()
            status, _answer = client_transport(Client())(notification.url, body, headers)
            statuses.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 16
    assert Payment.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerKind.PAYMENT).count() == 1
    assert PaymentOrder.objects.get(pk=order.pk).status == "paid"
    outcomes = sorted(GatewayNotification.objects.values_list("outcome", flat=True))
    assert outcomes == ["credited"] + ["duplicate"] * 15
