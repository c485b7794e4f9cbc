"""Customer identifier validators; ID checksums are cross-checked against id-validator (PyPI)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from id_validator import helper as id_helper
from id_validator import validator as id_reference

from powerdesk.customers.validators import (
    id_card_checksum,
    make_id_card_number,
    mask_id_card,
    mask_name,
    mask_phone,
    normalize_phone,
    validate_account_number,
    validate_id_card_number,
    validate_mobile_phone,
)

if not settings.configured:  # run without pytest-django: messages are lazy gettext strings
    settings.configure(USE_I18N=False)

DIVISIONS = Path(__file__).resolve().parents[2] / "demo" / "data" / "divisions.json"
COUNTY_CODES = sorted(
    county["code"]
    for city in json.loads(DIVISIONS.read_text(encoding="utf-8"))["cities"]
    for county in city["counties"]
)
TODAY_IN_CHINA = datetime.now(timezone(timedelta(hours=8))).date()

digits17 = st.text(alphabet="0123456789", min_size=17, max_size=17)
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY_IN_CHINA - timedelta(days=1))
id_numbers = st.builds(make_id_card_number, st.sampled_from(COUNTY_CODES), birth_dates, st.integers(0, 999))


def error_of(validator: Callable[[Any], object], value: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validator(value)
    return info.value


# --- 户号 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0123456789", "3301020001", "9999999999"])
def test_account_number_valid(value: str) -> None:
    validate_account_number(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "123456789",
        "12345678901",
        "12345６7890",
        "123456789a",
        " 1234567890",
        "1234567890\n",
        None,
        1234567890,
    ],
)
def test_account_number_invalid(value: object) -> None:
    assert error_of(validate_account_number, value).code == "invalid_account_number"


# --- 手机号 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800000000", "13800000000"),
        ("138 0000 0000", "13800000000"),
        ("138-0000-0000", "13800000000"),
        ("+86 138 0000 0000", "13800000000"),
        ("+8613800000000", "13800000000"),
        ("86-138-0000-0000", "13800000000"),
        ("0086 13800000000", "13800000000"),
        ("１３８００００００００", "13800000000"),
        ("＋８６　１３８－００００－００００", "13800000000"),
        ("199 1234 5678", "19912345678"),
        ("\t17712345678 ", "17712345678"),
    ],
)
def test_normalize_phone(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected
    validate_mobile_phone(normalize_phone(raw))


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "10086",
        "12800000000",
        "1380000000",
        "138000000000",
        "+85 13800000000",
        "8813800000000",
        "+86+8613800000000",
        "1380000000a",
        "021-12345678",
        None,
    ],
)
def test_normalize_phone_rejects(raw: object) -> None:
    assert error_of(normalize_phone, raw).code == "invalid_phone"


@pytest.mark.parametrize(
    "value", ["+8613800000000", "138 0000 0000", "１３８００００００００", "12800000000", None]
)
def test_validate_mobile_phone_wants_the_normalized_form(value: object) -> None:
    assert error_of(validate_mobile_phone, value).code == "invalid_phone"


@given(st.sampled_from("3456789"), st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_every_mobile_number_survives_formatting(second: str, rest: str) -> None:
    number = "1" + second + rest
    formatted = f"+86 {number[:3]}-{number[3:7]}-{number[7:]}"
    assert normalize_phone(formatted) == number


# --- 身份证 -------------------------------------------------------------------------------

VALID_ID_CARDS = [
    "11010519491231002X",  # the example in GB 11643-1999
    "11010519491231002x",
    "440524188001010014",  # the other example in GB 11643-1999
    "330102199003071230",
]


@pytest.mark.parametrize("number", VALID_ID_CARDS)
def test_id_card_valid(number: str) -> None:
    validate_id_card_number(number)
    assert id_reference.is_valid(number.upper())


def test_id_card_messages_are_distinct() -> None:
    bad_checksum = "330102199003071234"  # 330102199003071230 is the valid one
    bad_date = "33010219900230123"
    tomorrow = TODAY_IN_CHINA + timedelta(days=1)
    errors = {
        "length": error_of(validate_id_card_number, "33010219900307123"),
        "region": error_of(validate_id_card_number, make_id_card_number("990102", date(1990, 3, 7), 123)),
        "birth": error_of(validate_id_card_number, bad_date + id_card_checksum(bad_date)),
        "future": error_of(validate_id_card_number, make_id_card_number("330102", tomorrow, 123)),
        "checksum": error_of(validate_id_card_number, bad_checksum),
    }
    assert {e.code for e in errors.values()} == {"invalid_id_card"}
    messages = {name: str(e.message) for name, e in errors.items()}
    assert "18位" in messages["length"]
    assert "地址码" in messages["region"]
    assert "出生日期" in messages["birth"]
    assert messages["future"] == messages["birth"]
    assert "校验位" in messages["checksum"]
    assert len(set(messages.values())) == 4


@pytest.mark.parametrize(
    "number",
    [
        "",
        "33010219900307123",
        "3301021990030712300",
        "33010219900307123Y",
        "3301021990030X1230",
        "３３０１０２１９９００３０７１２３０",
        " 330102199003071230",
        None,
    ],
)
def test_id_card_bad_shape(number: object) -> None:
    assert error_of(validate_id_card_number, number).code == "invalid_id_card"


@pytest.mark.parametrize("birth", ["19900230", "19901301", "19900000", "00000101", "20230229"])
def test_id_card_impossible_birth_dates(birth: str) -> None:
    first17 = f"330102{birth}123"
    assert error_of(validate_id_card_number, first17 + id_card_checksum(first17)).code == "invalid_id_card"


def test_leap_day_birth_date_is_valid() -> None:
    validate_id_card_number(make_id_card_number("330102", date(2000, 2, 29), 1))


@given(digits17)
def test_checksum_matches_id_validator(first17: str) -> None:
    assert id_card_checksum(first17) == id_helper.generator_check_bit(first17)


@pytest.mark.parametrize(
    "bad",
    ["", "1234567890123456", "123456789012345678", "１２３４５６７８９０１２３４５６７", "1234567890123456a"],
)
def test_checksum_rejects_bad_input(bad: str) -> None:
    with pytest.raises(ValueError, match="17 ASCII digits"):
        id_card_checksum(bad)


@given(id_numbers)
def test_made_numbers_always_validate(number: str) -> None:
    validate_id_card_number(number)


@given(
    st.sampled_from(["330102", "330106", "330282", "330782", "331002"]),
    st.dates(min_value=date(1930, 1, 1), max_value=date(2010, 12, 31)),
    st.integers(0, 999),
)
def test_made_numbers_pass_id_validator(region: str, birth: date, sequence: int) -> None:
    assert id_reference.is_valid(make_id_card_number(region, birth, sequence))


@given(id_numbers, st.integers(0, 17), st.data())
def test_any_single_character_change_breaks_the_checksum(
    number: str, position: int, data: st.DataObject
) -> None:
    alphabet = "0123456789X" if position == 17 else "0123456789"
    changed = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    mutated = number[:position] + changed + number[position + 1 :]
    assert id_card_checksum(mutated[:17]) != mutated[17]
    with pytest.raises(ValidationError):
        validate_id_card_number(mutated)


@given(id_numbers, st.integers(0, 15))
def test_adjacent_transposition_breaks_the_checksum(number: str, position: int) -> None:
    a, b = number[position], number[position + 1]
    if a != b:
        swapped = number[:position] + b + a + number[position + 2 :]
        assert id_card_checksum(swapped[:17]) != swapped[17]


def test_make_id_card_number_example() -> None:
    assert make_id_card_number("110105", date(1949, 12, 31), 2) == "11010519491231002X"


@pytest.mark.parametrize(
    ("region", "sequence"), [("33010", 1), ("3301020", 1), ("33o102", 1), ("330102", -1), ("330102", 1000)]
)
def test_make_id_card_number_rejects_bad_arguments(region: str, sequence: int) -> None:
    with pytest.raises(ValueError):
        make_id_card_number(region, date(1990, 1, 1), sequence)


# --- 脱敏 ---------------------------------------------------------------------------------


def test_mask_phone() -> None:
    assert mask_phone("13800000000") == "138****0000"
    assert mask_phone("") == ""
    assert mask_phone("10086") == "*****"


def test_mask_id_card() -> None:
    assert mask_id_card("33010219900307123x") == "330102********123X"
    assert mask_id_card("11010519491231002X") == "110105********002X"
    assert mask_id_card("") == ""


@pytest.mark.parametrize(
    ("name", "masked"), [("张三", "张*"), ("欧阳小明", "欧***"), ("王小二", "王**"), ("李", "李"), ("", "")]
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked
