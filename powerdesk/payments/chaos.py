"""The sandbox chaos run shared by the test suite and bench/payments_chaos.py.

N orders are opened through the real service and adapters, paid at the sandbox, and their
notifications delivered 1–4 times each, shuffled and delayed (reordered across orders), with a
share of orders whose every copy is tampered with (bad signature, other amount signed by the
gateway, other amount under the original signature). Then it counts what the ledger says.
"""

from __future__ import annotations

import random
import time
from collections import Counter

from django.db.models import Count, Sum

from powerdesk.billing.choices import LedgerKind
from powerdesk.billing.models import LedgerEntry, Payment
from powerdesk.payments import services
from powerdesk.payments.choices import NotificationOutcome, OrderStatus
from powerdesk.payments.models import GatewayNotification, PaymentOrder, SuspenseItem
from powerdesk.payments.sandbox_server import RunningSandbox, Transport

TAMPERS = ("signature", "amount", "amount_unsigned")


def chaos_run(
    *,
    sandbox: RunningSandbox,
    transport: Transport,
    customer_user,
    account_numbers: list[str],
    orders: int,
    seed: int = 20261123,
    tamper_rate: float = 0.05,
    max_delay: float = 0.02,
) -> dict:
    import urllib.request

    rng = random.Random(seed)
    started = time.perf_counter()
    sandbox.control("hold", {"hold": True})
    opened: list[tuple[PaymentOrder, int]] = []
    for index in range(orders):
        gateway = ("alipay", "wechatpay")[index % 2]
        order, instruction = services.payment_order_create(
            customer_user=customer_user,
            account_number=account_numbers[index % len(account_numbers)],
            amount_fen=rng.randint(1, 500_000),
            gateway=gateway,
            channel="h5",
        )
        if gateway == "alipay":  # a page request: the sandbox learns the order when the browser opens it
            with urllib.request.urlopen(instruction.pay_url, timeout=10) as response:  # noqa: S310
                response.read()
        paid = sandbox.control("pay", {"gateway": gateway, "out_trade_no": order.out_trade_no})
        opened.append((order, paid["notification_id"]))

    tampered: set[str] = set()
    deliveries: list[tuple[int, str | None]] = []
    for order, notification_id in opened:
        copies = rng.randint(1, 4)
        if rng.random() < tamper_rate:
            tampered.add(order.out_trade_no)
            deliveries += [(notification_id, rng.choice(TAMPERS)) for _ in range(copies)]
        else:
            deliveries += [(notification_id, None)] * copies
    rng.shuffle(deliveries)
    for notification_id, tamper in deliveries:
        sandbox.control(
            "deliver", {"ids": [notification_id], "delay": rng.uniform(0, max_delay), "tamper": tamper}
        )
    sent = 0
    while sandbox.state.pending():
        sent += sandbox.state.dispatch(transport)
        time.sleep(0.002)

    # --- what the database says -----------------------------------------------------------
    order_ids = [order.pk for order, _ in opened]
    by_no = {
        o.out_trade_no: o
        for o in PaymentOrder.objects.filter(pk__in=order_ids).select_related("paid_payment")
    }
    sandbox_txn = {o["out_trade_no"]: o["trade_no"] for o in sandbox.state.orders()}
    payments_per_txn = Counter(
        Payment.objects.filter(gateway_txn_id__in=sandbox_txn.values()).values_list(
            "gateway_txn_id", flat=True
        )
    )
    ledger_per_payment = (
        LedgerEntry.objects.filter(kind=LedgerKind.PAYMENT, payment__gateway_txn_id__in=sandbox_txn.values())
        .values("payment")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    double_credits = sum(1 for n in payments_per_txn.values() if n > 1) + ledger_per_payment
    lost = credited = tampered_credited = 0
    expected_total = 0
    for out_trade_no, order in by_no.items():
        txn = sandbox_txn[out_trade_no]
        if out_trade_no in tampered:
            tampered_credited += payments_per_txn[txn] > 0 or order.status != OrderStatus.CREATED
            continue
        expected_total += order.amount_fen
        if (
            payments_per_txn[txn] == 1
            and order.status == OrderStatus.PAID
            and order.paid_payment.gateway_txn_id == txn
        ):
            credited += 1
        else:
            lost += 1
    ledger_total = -(
        LedgerEntry.objects.filter(
            kind=LedgerKind.PAYMENT, payment__gateway_txn_id__in=sandbox_txn.values()
        ).aggregate(t=Sum("amount_fen"))["t"]
        or 0
    )
    notifications = GatewayNotification.objects.filter(
        out_trade_no__in=list(by_no)
    ) | GatewayNotification.objects.filter(out_trade_no="")
    outcomes = Counter(notifications.values_list("outcome", flat=True))
    tampered_notifications = GatewayNotification.objects.filter(out_trade_no__in=tampered)
    tampered_unaccounted = tampered_notifications.exclude(
        outcome__in=[NotificationOutcome.SIGNATURE_INVALID, NotificationOutcome.SUSPENSE]
    ).count()
    return {
        "orders": orders,
        "tampered_orders": len(tampered),
        "notifications_sent": sent,
        "credited": credited,
        "double_credits": double_credits,
        "lost": lost,
        "tampered_credited": int(tampered_credited),
        "tampered_notifications_not_refused_or_suspense": tampered_unaccounted,
        "suspense": SuspenseItem.objects.filter(out_trade_no__in=tampered).count(),
        "refused": outcomes[NotificationOutcome.SIGNATURE_INVALID],
        "duplicates_acknowledged": outcomes[NotificationOutcome.DUPLICATE],
        "ledger_total_fen": ledger_total,
        "orders_total_fen": expected_total,
        "ledger_equals_orders": ledger_total == expected_total,
        "seconds": round(time.perf_counter() - started, 2),
    }
