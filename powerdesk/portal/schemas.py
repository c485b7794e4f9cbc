"""Request and response bodies of /api/v1/me/ (the signed-in customer).

Phones and holder names are sent masked: the app shows them masked, and a leaked response
should not be a directory of phone numbers.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ninja import Schema
from pydantic import Field

from powerdesk.customers.choices import BindingRole


class ProfileOut(Schema):
    display_name: str
    phone_masked: str
    email: str
    accounts_bound: int


class AccountOut(Schema):
    account_number: str
    holder_name_masked: str
    phone_masked: str
    address: str
    tariff_class: str
    tariff_class_label: str
    status: str
    role: str
    role_label: str
    bound_at: datetime


class AccountDetailOut(AccountOut):
    supply_unit_name: str
    county_code: str
    opened_on: date | None
    verified_by: str


class AccountBindCodeIn(Schema):
    account_number: str = Field(..., max_length=32)


class CodeSentOut(Schema):
    """A one-time code was texted; to which phone (masked) and when it can be asked for again."""

    phone_masked: str
    resend_after: int


class AccountBindIn(Schema):
    """Bind with the code texted to the account's phone (``code``), or with the holder's real
    name and ID-card number (``holder_name`` + ``id_card_number``) — one of the two."""

    account_number: str = Field(..., max_length=32)
    role: BindingRole = BindingRole.HOLDER
    code: str | None = Field(None, max_length=16)
    holder_name: str | None = Field(None, max_length=100)
    id_card_number: str | None = Field(None, max_length=32)


class PhoneCodeIn(Schema):
    new_phone: str = Field(..., max_length=32)


class PhoneChangeIn(Schema):
    new_phone: str = Field(..., max_length=32)
    code: str = Field(..., max_length=16)


class EmailChangeIn(Schema):
    new_email: str = Field(..., max_length=254)
    code: str = Field(..., max_length=16)


# --- billing reads (/api/v1/me/accounts/{account_number}/…) -------------------------------------
# Money is integer fen plus the same amount as an exact yuan string ("1234.56"); kWh are decimal
# strings. Nothing goes through float.


class BillOut(Schema):
    period: str  # YYYY-MM
    version: int
    kwh_total: Decimal
    kwh_sharp: Decimal
    kwh_peak: Decimal
    kwh_flat: Decimal
    kwh_valley: Decimal
    amount_fen: int
    amount_yuan: str
    status: str
    status_label: str
    outstanding_fen: int
    outstanding_yuan: str
    issued_on: date
    due_date: date
    is_corrected: bool


class BillVersionOut(Schema):
    version: int
    is_current: bool
    amount_fen: int
    amount_yuan: str
    difference_fen: int
    difference_yuan: str
    created_at: datetime


class BillDetailOut(BillOut):
    corrected_by_fen: int
    corrected_by_yuan: str
    versions: list[BillVersionOut]


class BalanceOut(Schema):
    """``balance_fen`` is the ledger sum: positive = owed, negative = prepaid credit."""

    account_number: str
    balance_fen: int
    balance_yuan: str
    owed_fen: int
    owed_yuan: str
    credit_fen: int
    credit_yuan: str


class PaymentOut(Schema):
    amount_fen: int
    amount_yuan: str
    refunded_fen: int
    refunded_yuan: str
    paid_at: datetime
    channel: str
    channel_label: str
    gateway: str
    status: str
    status_label: str


class PointsEntryOut(Schema):
    points: int
    reason: str
    reason_label: str
    occurred_at: datetime


class PointsOut(Schema):
    points: int
    entries: list[PointsEntryOut]


class DailyUsageOut(Schema):
    reading_date: date
    kwh_total: Decimal


class DailyUsageListOut(Schema):
    days: int
    kwh_total: Decimal
    readings: list[DailyUsageOut]
