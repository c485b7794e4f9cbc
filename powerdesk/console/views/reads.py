"""Scoped reads behind the console pages, shaped for display.

Everything here starts from the staff member's supply unit (``scope_to_staff``) and hands the
templates values that are already masked, so a template cannot show a full phone or ID-card
number by accident: only the audited reveal in ``views/customers.py`` produces those.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.customers.models import Account, Binding, CustomerUser, Identity
from powerdesk.customers.pii import id_card_reveal
from powerdesk.customers.validators import mask_id_card, mask_name, mask_phone
from powerdesk.events.models import DomainEvent
from powerdesk.events.registry import get_event_kind
from powerdesk.organisation.choices import UnitLevel
from powerdesk.organisation.models import SupplyUnit
from powerdesk.organisation.selectors import units_within
from powerdesk.privacy.crypto import DecryptionError
from powerdesk.privacy.models import PersonalDataAccess
from powerdesk.staff.models import StaffUser
from powerdesk.staff.scoping import scope_to_staff

ACCOUNT_SUBJECT = "account"
RECENT_EVENTS = 50
RECENT_AUDIT_ROWS = 50


# --- scope ------------------------------------------------------------------------------------


def is_province_level(staff) -> bool:
    unit = getattr(staff, "supply_unit", None)
    return unit is not None and unit.level == UnitLevel.PROVINCE


def scoped_account_ids(staff) -> QuerySet:
    return scope_to_staff(Account.objects.all(), staff).values("pk")


def audit_rows_for(staff) -> QuerySet[PersonalDataAccess]:
    """Audit lines about accounts within the staff member's unit; all of them at province level."""
    rows = PersonalDataAccess.objects.order_by("-accessed_at", "-id")
    if is_province_level(staff):
        return rows
    return rows.filter(subject_type=ACCOUNT_SUBJECT, subject_id__in=scoped_account_ids(staff))


def events_for(staff) -> QuerySet[DomainEvent]:
    """Events about accounts within the unit, and account-less events of customers bound there.

    The log stores plain ids, not units, so the scope is reached through the accounts.
    """
    events = DomainEvent.objects.order_by("-id")
    if is_province_level(staff):
        return events
    accounts = scoped_account_ids(staff)
    customers = Binding.objects.filter(account__in=accounts).values("customer_user_id")
    return events.filter(
        Q(account_id__in=accounts) | Q(account_id__isnull=True, customer_user_id__in=customers)
    )


def staff_for(staff) -> QuerySet[StaffUser]:
    return scope_to_staff(StaffUser.objects.select_related("supply_unit", "department"), staff).order_by(
        "supply_unit__path", "username"
    )


def units_for(staff) -> list[SupplyUnit]:
    """The staff member's part of the supply-unit tree, each unit with its depth and head-counts."""
    unit = getattr(staff, "supply_unit", None)
    if unit is None:
        return []

    def count_of(model):
        return Coalesce(
            Subquery(
                model.objects.filter(supply_unit=OuterRef("pk"))
                .order_by()
                .values("supply_unit")
                .annotate(n=Count("pk"))
                .values("n")
            ),
            Value(0),
        )

    units = list(
        units_within(unit)
        .prefetch_related("departments")
        .annotate(account_count=count_of(Account), staff_count=count_of(StaffUser))
        .order_by("path")
    )
    base_depth = unit.path.count("/")
    for each in units:
        each.depth = each.path.count("/") - base_depth
    return units


# --- display helpers ----------------------------------------------------------------------------


def truncate_subject(subject: str) -> str:
    """Openids and platform user ids are identifiers, not for reading out: show both ends only."""
    if len(subject) <= 12:
        return subject
    return f"{subject[:6]}…{subject[-4:]}"


def masked_id_card(account: Account) -> str:
    """The masked ID number shown on screens that do not need it (no audit line for this)."""
    try:
        number = id_card_reveal(account)
    except DecryptionError:
        return _("（无法解密）")
    return mask_id_card(number) if number else ""


def event_label(kind: str) -> str:
    try:
        return get_event_kind(kind).description
    except LookupError:
        return kind


def account_numbers(account_ids, known: dict[int, str] | None = None) -> dict[int, str]:
    numbers = dict(known or {})
    ids = {pk for pk in account_ids if pk is not None and pk not in numbers}
    if ids:
        numbers.update(Account.objects.filter(pk__in=ids).values_list("pk", "number"))
    return numbers


def staff_usernames(staff_ids) -> dict[int, str]:
    ids = {pk for pk in staff_ids if pk is not None}
    return dict(StaffUser.objects.filter(pk__in=ids).values_list("pk", "username")) if ids else {}


def decorate_events(events, *, known_numbers: dict[int, str] | None = None) -> list[DomainEvent]:
    """Attach label, 户号 and operator name to a page of events in two queries, not N."""
    events = list(events)
    numbers = account_numbers((e.account_id for e in events), known_numbers)
    names = staff_usernames(e.actor_staff_id for e in events)
    for event in events:
        event.kind_label = event_label(event.kind)
        event.account_number = numbers.get(event.account_id, "")
        event.actor_username = names.get(event.actor_staff_id, "")
        event.payload_text = json.dumps(event.payload, ensure_ascii=False, sort_keys=True)
    return events


def decorate_audit_rows(rows) -> list[PersonalDataAccess]:
    rows = list(rows)
    numbers = account_numbers(r.subject_id for r in rows if r.subject_type == ACCOUNT_SUBJECT)
    for row in rows:
        row.account_number = numbers.get(row.subject_id, "") if row.subject_type == ACCOUNT_SUBJECT else ""
    return rows


# --- search results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchRow:
    number: str
    holder_name: str
    phone: str
    tariff_class: str
    status: str
    supply_unit: str
    address: str
    is_important: bool


def search_rows(accounts) -> list[SearchRow]:
    """Result rows with the holder's name and phone masked (the list is for finding, not reading)."""
    return [
        SearchRow(
            number=a.number,
            holder_name=mask_name(a.holder_name),
            phone=mask_phone(a.phone) if a.phone else "",
            tariff_class=a.get_tariff_class_display(),
            status=a.get_status_display(),
            supply_unit=a.supply_unit.name,
            address=a.address,
            is_important=a.is_important,
        )
        for a in accounts
    ]


# --- customer 360 -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IdentityRow:
    provider: str
    app_id: str
    subject: str
    last_seen_at: datetime | None


@dataclass(frozen=True)
class BindingRow:
    binding: Binding
    customer_name: str
    customer_phone: str
    identities: list[IdentityRow]
    is_active: bool
    state: str


@dataclass
class Customer360:
    account: Account
    phone: str
    id_card: str
    bindings: list[BindingRow] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)
    audit_rows: list[PersonalDataAccess] = field(default_factory=list)

    @property
    def active_bindings(self) -> list[BindingRow]:
        return [row for row in self.bindings if row.is_active]

    @property
    def ended_bindings(self) -> list[BindingRow]:
        return [row for row in self.bindings if not row.is_active]


def _identity_row(identity: Identity) -> IdentityRow:
    subject = (
        mask_phone(identity.subject) if identity.provider == "phone" else truncate_subject(identity.subject)
    )
    return IdentityRow(
        provider=identity.get_provider_display(),
        app_id=identity.app_id,
        subject=subject,
        last_seen_at=identity.last_seen_at,
    )


def _binding_row(binding: Binding, now: datetime) -> BindingRow:
    user: CustomerUser = binding.customer_user
    expired = binding.valid_until is not None and binding.valid_until <= now
    is_active = binding.ended_at is None and not expired
    if binding.ended_at:
        state = binding.get_end_reason_display()
    else:
        state = _("已到期") if expired else _("有效")
    return BindingRow(
        binding=binding,
        customer_name=user.display_name or f"#{user.pk}",
        customer_phone=mask_phone(user.phone) if user.phone else "",
        identities=[_identity_row(i) for i in user.identities.all()],
        is_active=is_active,
        state=state,
    )


def account_audit_rows(account: Account) -> list[PersonalDataAccess]:
    return list(
        PersonalDataAccess.objects.filter(subject_type=ACCOUNT_SUBJECT, subject_id=account.pk).order_by(
            "-accessed_at", "-id"
        )[:RECENT_AUDIT_ROWS]
    )


def customer_360(account: Account) -> Customer360:
    """Everything the 360 page shows about an account the caller may already see.

    A fixed number of queries whatever the number of bindings, identities or events.
    """
    now = timezone.now()
    bindings = list(
        Binding.objects.filter(account=account)
        .select_related("customer_user")
        .prefetch_related("customer_user__identities")
        .order_by("-valid_from", "-pk")
    )
    rows = sorted((_binding_row(b, now) for b in bindings), key=lambda row: not row.is_active)
    # The account's own events, plus account-less ones (sign-in, phone change) of the people
    # currently bound to it; not their dealings with other accounts, which may be out of scope.
    user_ids = [row.binding.customer_user_id for row in rows if row.is_active]
    events = DomainEvent.objects.filter(
        Q(account_id=account.pk) | Q(account_id__isnull=True, customer_user_id__in=user_ids)
    ).order_by("-id")[:RECENT_EVENTS]
    return Customer360(
        account=account,
        phone=mask_phone(account.phone) if account.phone else "",
        id_card=masked_id_card(account),
        bindings=rows,
        events=decorate_events(events, known_numbers={account.pk: account.number}),
        audit_rows=account_audit_rows(account),
    )


# --- SMS outbox -------------------------------------------------------------------------------

_DIGITS = str.maketrans("0123456789", "**********")


@dataclass(frozen=True)
class SmsRow:
    message: object
    phone: str
    body: str


def sms_rows(messages, *, show_codes: bool) -> list[SmsRow]:
    """The demo outbox shows codes (that is how a demo user signs in); a real gateway's log does not."""
    return [
        SmsRow(
            message=m,
            phone=mask_phone(m.phone),
            body=m.body if show_codes or not m.is_sensitive else m.body.translate(_DIGITS),
        )
        for m in messages
    ]
