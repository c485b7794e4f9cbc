"""Import accounts from the billing system (CSV or Parquet; columns in docs/import-accounts.md).

Streaming and batched: rows are validated one by one, then written a batch at a time with
bulk_create / bulk_update — never a save() per row. Re-importing the same file changes
nothing (rows equal to what is stored are counted as unchanged and not written). A changed
holder is a 过户: the account's bindings end, as in ``account_change_holder``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from powerdesk.core.geo import wgs84_to_gcj02
from powerdesk.core.imports.readers import read_rows
from powerdesk.core.imports.report import ImportResult
from powerdesk.customers import events as kinds
from powerdesk.customers import validators
from powerdesk.customers.choices import AccountStatus, BindingEndReason, HolderKind, TariffClass
from powerdesk.customers.models import Account, Binding
from powerdesk.customers.pii import id_card_hash, id_card_seal
from powerdesk.events.choices import Channel
from powerdesk.events.models import DomainEvent
from powerdesk.organisation.models import SupplyUnit, TransformerArea

REQUIRED_COLUMNS = [
    "account_number",
    "holder_kind",
    "holder_name",
    "tariff_class",
    "supply_unit_code",
    "province_code",
    "city_code",
    "county_code",
    "address",
]
# Fields compared to decide "unchanged"; the sealed ID is compared by its keyed hash.
COMPARED_FIELDS = [
    "status",
    "holder_kind",
    "holder_name",
    "holder_id_card_hash",
    "holder_org_code",
    "phone",
    "email",
    "tariff_class",
    "supply_unit_id",
    "transformer_area_id",
    "province_code",
    "city_code",
    "county_code",
    "town_code",
    "address",
    "lng_wgs84",
    "lat_wgs84",
    "lng_gcj02",
    "lat_gcj02",
    "is_important",
    "opened_on",
]
_HOLDER_KINDS = {
    "person": HolderKind.PERSON,
    "个人": HolderKind.PERSON,
    "居民": HolderKind.PERSON,
    "organisation": HolderKind.ORGANISATION,
    "organization": HolderKind.ORGANISATION,
    "单位": HolderKind.ORGANISATION,
    "企业": HolderKind.ORGANISATION,
}
_TARIFFS = {**{c.value: c for c in TariffClass}, **{str(c.label): c for c in TariffClass}}
_STATUSES = {**{c.value: c for c in AccountStatus}, **{str(c.label): c for c in AccountStatus}}
_BOOLEANS = {
    "": False,
    "0": False,
    "false": False,
    "否": False,
    "n": False,
    "1": True,
    "true": True,
    "是": True,
    "y": True,
}
_DIVISION = re.compile(r"^\d{6}$")
_TOWN = re.compile(r"^(\d{9}|\d{12})$")
_ORG_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")
_SIX_PLACES = Decimal("0.000001")


class RowError(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.reason = column, reason


def import_accounts(
    path: Path,
    *,
    encoding: str | None = None,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    _columns, rows = read_rows(path, required=REQUIRED_COLUMNS, encoding=encoding)
    result = ImportResult(source=path)
    units = dict(SupplyUnit.objects.values_list("code", "id"))
    areas = dict(TransformerArea.objects.values_list("code", "id"))
    first_seen: dict[str, int] = {}
    batch: list[tuple[int, dict]] = []
    for row in rows:
        result.read += 1
        try:
            if "__error__" in row.values:
                raise RowError("*", row.values["__error__"])
            clean = _clean_row(row.values, units, areas)
        except RowError as exc:
            result.reject(row.number, exc.column, exc.reason)
            continue
        number = clean["number"]
        if number in first_seen:
            result.reject(
                row.number,
                "account_number",
                f"户号 {number} 在文件中重复，首次出现在第 {first_seen[number]} 行",
            )
            continue
        first_seen[number] = row.number
        batch.append((row.number, clean))
        if len(batch) >= batch_size:
            _write_batch(batch, result)
            batch = []
        if progress and result.read % 10_000 == 0:
            progress(result.read)
    if batch:
        _write_batch(batch, result)
    if progress:
        progress(result.read)
    result.write_report()
    return result


def _clean_row(values: dict[str, str], units: dict[str, int], areas: dict[str, int]) -> dict:
    def get(column: str) -> str:
        return values.get(column, "") or ""

    number = get("account_number")
    _check(validators.validate_account_number, number, "account_number")
    kind = _HOLDER_KINDS.get(get("holder_kind").lower())
    if kind is None:
        raise RowError(
            "holder_kind", f"户主类型 {get('holder_kind')!r} 无效，应为 person/organisation 或 个人/单位"
        )
    name = get("holder_name")
    if not name or len(name) > 100:
        raise RowError("holder_name", "户名为空或超过 100 个字符")
    id_card = get("id_card_number").upper()
    if id_card:
        if kind != HolderKind.PERSON:
            raise RowError("id_card_number", "单位户不应填写身份证号")
        _check(validators.validate_id_card_number, id_card, "id_card_number")
    org_code = get("org_code").upper()
    if org_code and not _ORG_CODE.match(org_code):
        raise RowError("org_code", "统一社会信用代码应为 18 位数字或大写字母")
    phone = get("phone")
    if phone:
        try:
            phone = validators.normalize_phone(phone)
        except ValidationError as exc:
            raise RowError("phone", str(exc.messages[0])) from None
        _check(validators.validate_mobile_phone, phone, "phone")
    email = get("email")
    if email:
        _check(validate_email, email, "email")
    tariff = _TARIFFS.get(get("tariff_class"))
    if tariff is None:
        raise RowError("tariff_class", f"用电类别 {get('tariff_class')!r} 无效")
    status = _STATUSES.get(get("status") or AccountStatus.ACTIVE)
    if status is None:
        raise RowError("status", f"状态 {get('status')!r} 无效")
    unit_id = units.get(get("supply_unit_code"))
    if unit_id is None:
        raise RowError("supply_unit_code", f"供电单位 {get('supply_unit_code')!r} 不存在")
    area_code = get("transformer_area_code")
    area_id = areas.get(area_code) if area_code else None
    if area_code and area_id is None:
        raise RowError("transformer_area_code", f"台区 {area_code!r} 不存在")
    for column in ("province_code", "city_code", "county_code"):
        if not _DIVISION.match(get(column)):
            raise RowError(column, "行政区划代码应为 6 位数字")
    town = get("town_code")
    if town and not _TOWN.match(town):
        raise RowError("town_code", "乡镇街道代码应为 9 或 12 位数字")
    address = get("address")
    if not address or len(address) > 200:
        raise RowError("address", "地址为空或超过 200 个字符")
    lng, lat = (
        _coordinate(get("lng_wgs84"), "lng_wgs84", -180, 180),
        _coordinate(get("lat_wgs84"), "lat_wgs84", -90, 90),
    )
    if (lng is None) != (lat is None):
        raise RowError("lng_wgs84" if lng is None else "lat_wgs84", "经度和纬度须同时填写")
    gcj_lng = gcj_lat = None
    if lng is not None:
        g_lng, g_lat = wgs84_to_gcj02(float(lng), float(lat))
        gcj_lng, gcj_lat = Decimal(g_lng).quantize(_SIX_PLACES), Decimal(g_lat).quantize(_SIX_PLACES)
    important = _BOOLEANS.get(get("is_important").lower())
    if important is None:
        raise RowError("is_important", "重要客户标志应为 0/1、是/否 或 true/false")
    return {
        "number": number,
        "status": status,
        "holder_kind": kind,
        "holder_name": name,
        "id_card": id_card,
        "holder_org_code": org_code,
        "phone": phone,
        "email": email,
        "tariff_class": tariff,
        "supply_unit_id": unit_id,
        "transformer_area_id": area_id,
        "province_code": get("province_code"),
        "city_code": get("city_code"),
        "county_code": get("county_code"),
        "town_code": town,
        "address": address,
        "lng_wgs84": lng,
        "lat_wgs84": lat,
        "lng_gcj02": gcj_lng,
        "lat_gcj02": gcj_lat,
        "is_important": important,
        "opened_on": _date(get("opened_on"), "opened_on"),
    }


def _check(validator, value: str, column: str) -> None:
    try:
        validator(value)
    except ValidationError as exc:
        raise RowError(column, str(exc.messages[0])) from None


def _coordinate(raw: str, column: str, low: int, high: int) -> Decimal | None:
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise RowError(column, f"{raw!r} 不是数字") from None
    if not value.is_finite() or not low <= value <= high:
        raise RowError(column, f"{raw} 超出范围 [{low}, {high}]")
    return value.quantize(_SIX_PLACES)


def _date(raw: str, column: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.replace("/", "-"))
    except ValueError:
        raise RowError(column, f"{raw!r} 不是有效日期（YYYY-MM-DD）") from None


def _apply(account: Account, clean: dict) -> None:
    for field, value in clean.items():
        if field in ("number", "id_card"):
            continue
        setattr(account, field, value)
    new_hash = id_card_hash(clean["id_card"]) if clean["id_card"] else ""
    if new_hash != account.holder_id_card_hash:
        if clean["id_card"]:
            account.holder_id_card_key_id, account.holder_id_card_ciphertext = id_card_seal(clean["id_card"])
        else:
            account.holder_id_card_key_id = account.holder_id_card_ciphertext = ""
        account.holder_id_card_hash = new_hash


def _snapshot(account: Account) -> tuple:
    return tuple(getattr(account, field) for field in COMPARED_FIELDS)


@transaction.atomic
def _write_batch(batch: list[tuple[int, dict]], result: ImportResult) -> None:
    numbers = [clean["number"] for _row, clean in batch]
    existing = {a.number: a for a in Account.objects.filter(number__in=numbers)}
    to_create, to_update, holder_changed = [], [], []
    for _row, clean in batch:
        account = existing.get(clean["number"])
        if account is None:
            account = Account(number=clean["number"])
            _apply(account, clean)
            to_create.append(account)
            continue
        before = _snapshot(account)
        old_holder = (account.holder_kind, account.holder_name, account.holder_id_card_hash)
        _apply(account, clean)
        if _snapshot(account) == before:
            result.unchanged += 1
            continue
        if _is_new_holder(
            old_holder, (account.holder_kind, account.holder_name, account.holder_id_card_hash)
        ):
            holder_changed.append(account)
        to_update.append(account)
    now = timezone.now()
    if to_create:
        Account.objects.bulk_create(to_create, batch_size=2000)
        result.created += len(to_create)
    if to_update:
        for account in to_update:
            account.updated_at = now
        Account.objects.bulk_update(to_update, [*_update_fields(), "updated_at"], batch_size=2000)
        result.updated += len(to_update)
    if holder_changed:
        _end_bindings_for_holder_change(holder_changed, now)


def _is_new_holder(old: tuple, new: tuple) -> bool:
    """Another kind or name, or a different ID number, is a new holder (过户). An ID number
    appearing or disappearing for the same name is a data correction, not a new person."""
    (old_kind, old_name, old_id), (new_kind, new_name, new_id) = old, new
    return old_kind != new_kind or old_name != new_name or bool(old_id and new_id and old_id != new_id)


def _update_fields() -> list[str]:
    fields = [f for f in COMPARED_FIELDS if f != "holder_id_card_hash"]
    return [*fields, "holder_id_card_hash", "holder_id_card_key_id", "holder_id_card_ciphertext"]


def _end_bindings_for_holder_change(accounts: list[Account], now) -> None:
    ids = [a.pk for a in accounts]
    ended = list(
        Binding.objects.filter(account_id__in=ids, ended_at__isnull=True).values_list(
            "customer_user_id", "account_id"
        )
    )
    Binding.objects.filter(account_id__in=ids, ended_at__isnull=True).update(
        ended_at=now, end_reason=BindingEndReason.HOLDER_CHANGED, updated_at=now
    )
    # Bulk-append the events a per-account 过户 would have recorded.
    from powerdesk.core.ids import uuid7

    events = [
        DomainEvent(
            id=uuid7(),
            kind=kinds.ACCOUNT_HOLDER_CHANGED.name,
            channel=Channel.SYSTEM,
            occurred_at=now,
            account_id=pk,
            payload={"source": "import"},
        )
        for pk in ids
    ]
    events += [
        DomainEvent(
            id=uuid7(),
            kind=kinds.CUSTOMER_UNBOUND.name,
            channel=Channel.SYSTEM,
            occurred_at=now,
            customer_user_id=user_id,
            account_id=account_id,
            payload={"reason": BindingEndReason.HOLDER_CHANGED},
        )
        for user_id, account_id in ended
    ]
    DomainEvent.objects.bulk_create(events)
