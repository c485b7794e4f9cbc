"""Response bodies of /api/v1/staff/. Lists never carry an ID-card number; phones and names
are masked (the full values are shown only through the audited reveal in the console)."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Schema


class AccountHitOut(Schema):
    account_number: str
    holder_name_masked: str
    phone_masked: str
    address: str
    tariff_class: str
    status: str
    supply_unit_code: str
    supply_unit_name: str


class BindingOut(Schema):
    customer_display_name: str
    role: str
    verified_by: str
    channel: str
    bound_at: datetime


class StaffAccountOut(AccountHitOut):
    holder_kind: str
    county_code: str
    transformer_area_name: str | None
    is_important: bool
    credit_rating: str
    opened_on: date | None
    has_id_card_on_file: bool
    bindings: list[BindingOut]
