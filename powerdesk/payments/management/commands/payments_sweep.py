"""``powerdesk payments_sweep``: query open orders at their gateway now (what the clock runs)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from powerdesk.payments.services import payment_orders_sweep


class Command(BaseCommand):
    help = "Ask the gateways about open payment orders: credit paid ones, close expired ones."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--limit", type=int, default=500, help="orders per run (oldest first)")

    def handle(self, *args, limit: int, **options) -> None:
        result = payment_orders_sweep(limit=limit)
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
