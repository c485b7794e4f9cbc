"""``{% load money %}`` — money in templates: integer fen shown as exact yuan."""

from __future__ import annotations

from django import template

from powerdesk.billing.reads import fen_to_yuan as _fen_to_yuan

register = template.Library()


@register.filter
def fen_to_yuan(value: int | None) -> str:
    """``{{ bill.amount_fen|fen_to_yuan }}`` → "1234.56" (never through float)."""
    return _fen_to_yuan(value)
