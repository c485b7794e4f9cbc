"""Request and response bodies of /api/v1/me/ (the signed-in customer).

Phones and holder names are sent masked: the app shows them masked, and a leaked response
should not be a directory of phone numbers.
"""

from __future__ import annotations

from datetime import date, datetime

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
