"""Staff reads of the customer registry, shared by the console pages and the staff API.

Both faces call these functions, so "what can agent X find" has one answer: the caller's
permission is checked here, every query is scoped to the caller's supply unit, and an account
outside that scope looks exactly like one that does not exist.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from powerdesk.core.exceptions import ApplicationError, NotFound, PermissionDenied
from powerdesk.customers.models import Account
from powerdesk.staff.roles import Perm
from powerdesk.staff.scoping import scope_to_staff

SEARCH_LIMIT_MAX = 200

_ACCOUNT_NUMBER_RE = re.compile(r"\d{10}", re.ASCII)
_PHONE_RE = re.compile(r"1\d{10}", re.ASCII)
# The masked form people read off a screen or an SMS: 138****0000 (any run of stars, 11 long).
_MASKED_PHONE_RE = re.compile(r"(1\d+)\*+(\d+)", re.ASCII)
# What people type or paste between digit groups; dropped before deciding what a query is.
_SEPARATORS = str.maketrans("", "", " \t-")


class QueryKind(StrEnum):
    ACCOUNT_NUMBER = "account_number"
    PHONE = "phone"
    MASKED_PHONE = "masked_phone"
    NAME = "name"


@dataclass(frozen=True)
class AccountQuery:
    """A search box entry, understood: which field it names and the value(s) to match."""

    kind: QueryKind
    value: str
    suffix: str = ""  # masked phone only: ``value`` is the prefix


def account_query_parse(query: str) -> AccountQuery | None:
    """Decide what a search entry is; None for an empty entry.

    10 digits → 户号 (exact); 11 digits (optionally +86) → phone (exact); ``138****0000`` →
    phone by prefix and suffix; anything else → holder name (contains). A digits-only or
    starred entry that is none of these is refused rather than searched as a name.
    """
    text = unicodedata.normalize("NFKC", query or "").strip()
    if not text:
        return None
    compact = text.translate(_SEPARATORS)
    if compact.startswith("+86"):
        compact = compact[3:]
    if _ACCOUNT_NUMBER_RE.fullmatch(compact):
        return AccountQuery(QueryKind.ACCOUNT_NUMBER, compact)
    if _PHONE_RE.fullmatch(compact):
        return AccountQuery(QueryKind.PHONE, compact)
    masked = _MASKED_PHONE_RE.fullmatch(compact)
    if masked and len(compact) == 11:
        return AccountQuery(QueryKind.MASKED_PHONE, masked.group(1), suffix=masked.group(2))
    if compact.isdigit() or "*" in compact:
        raise ApplicationError(
            "search_query_unrecognised",
            _("请输入 10 位户号、11 位手机号（或 138****0000 形式的脱敏手机号）或户名。"),
            field="q",
        )
    return AccountQuery(QueryKind.NAME, text[:100])


def account_search(*, staff, query: str, limit: int = 50) -> QuerySet[Account]:
    """Accounts within the staff member's supply unit matching ``query`` (see account_query_parse).

    Requires ``Perm.CUSTOMER_SEARCH``. Returns at most ``limit`` (capped at SEARCH_LIMIT_MAX)
    accounts ordered by 户号, with ``supply_unit`` loaded. The rows carry personal data: the
    caller shows phone and name masked and never shows the ID-card number in a list.
    """
    if not staff.can(Perm.CUSTOMER_SEARCH):
        raise PermissionDenied("permission_denied", _("您没有查找客户的权限。"))
    parsed = account_query_parse(query)
    accounts = scope_to_staff(Account.objects.select_related("supply_unit"), staff)
    if parsed is None:
        return accounts.none()
    if parsed.kind == QueryKind.ACCOUNT_NUMBER:
        accounts = accounts.filter(number=parsed.value)
    elif parsed.kind == QueryKind.PHONE:
        accounts = accounts.filter(phone=parsed.value)
    elif parsed.kind == QueryKind.MASKED_PHONE:
        accounts = accounts.filter(phone__startswith=parsed.value, phone__endswith=parsed.suffix,
                                   phone__regex=r"^[0-9]{11}$")
    else:
        accounts = accounts.filter(holder_name__icontains=parsed.value)
    limit = max(1, min(int(limit), SEARCH_LIMIT_MAX))
    return accounts.order_by("number")[:limit]


def account_get_for_staff(*, staff, number: str) -> Account:
    """One account by 户号, if it lies within the staff member's scope.

    Requires ``Perm.CUSTOMER_VIEW``. Out of scope and nonexistent raise the same NotFound, so
    the answer never reveals that an account exists elsewhere in the company.
    """
    if not staff.can(Perm.CUSTOMER_VIEW):
        raise PermissionDenied("permission_denied", _("您没有查看客户信息的权限。"))
    number = unicodedata.normalize("NFKC", number or "").strip()
    account = None
    if _ACCOUNT_NUMBER_RE.fullmatch(number):
        accounts = scope_to_staff(Account.objects.select_related("supply_unit", "transformer_area"), staff)
        account = accounts.filter(number=number).first()
    if account is None:
        raise NotFound("account_not_found", _("未找到户号 %(number)s。") % {"number": number[:20]},
                       field="account_number")
    return account
