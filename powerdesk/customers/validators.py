"""Validators, normalisers and maskers for customer identifiers.

Pure functions: each validator raises :class:`~django.core.exceptions.ValidationError`
with a Chinese message and a stable ``code`` that API clients and tests can rely on.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta, timezone

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_ACCOUNT_NUMBER_RE = re.compile(r"\d{10}", re.ASCII)
# Optional country code (+86, 86 or 0086) followed by a mainland mobile number.
_PHONE_INPUT_RE = re.compile(r"(?:\+86|0086|86)?(1[3-9]\d{9})", re.ASCII)
_MOBILE_RE = re.compile(r"1[3-9]\d{9}", re.ASCII)
# Spaces and the dash-like characters people type or paste between digit groups.
_PHONE_SEPARATORS = str.maketrans("", "", " \t-‐‑‒–—−")

_ID_CARD_SHAPE_RE = re.compile(r"\d{17}[\dXx]", re.ASCII)
# GB 11643-1999: weights are 2^(17 - i) mod 11 for positions i = 0..16 (ISO 7064 MOD 11-2).
_ID_CARD_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CARD_CHECK_CHARS = "10X98765432"  # indexed by the weighted sum mod 11
# Province-level prefixes of GB/T 2260 (including 71 台湾, 81 香港, 82 澳门).
_PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
# Birth dates on ID cards are Beijing time; the server clock may be in another zone.
_CHINA_TZ = timezone(timedelta(hours=8), "CST")


def validate_account_number(value: str) -> None:
    """户号: exactly 10 ASCII digits (full-width digits are rejected, not converted)."""
    if not isinstance(value, str) or not _ACCOUNT_NUMBER_RE.fullmatch(value):
        raise ValidationError(_("户号应为10位数字。"), code="invalid_account_number")


def normalize_phone(value: str) -> str:
    """Return the 11-digit form of a mainland mobile number as people type it.

    Accepts full-width characters, spaces, dashes and a +86 / 86 / 0086 prefix.
    """
    if isinstance(value, str):
        compact = unicodedata.normalize("NFKC", value).translate(_PHONE_SEPARATORS)
        match = _PHONE_INPUT_RE.fullmatch(compact)
        if match:
            return match.group(1)
    raise ValidationError(_("请输入有效的11位手机号码。"), code="invalid_phone")


def validate_mobile_phone(value: str) -> None:
    """Accept only the stored form: 11 ASCII digits ``1[3-9]XXXXXXXXX`` (see normalize_phone)."""
    if not isinstance(value, str) or not _MOBILE_RE.fullmatch(value):
        raise ValidationError(_("请输入有效的11位手机号码。"), code="invalid_phone")


def id_card_checksum(first17: str) -> str:
    """Return the GB 11643 check character ("0"-"9" or "X") for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("first17 must be 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_CARD_WEIGHTS, strict=True))
    return _ID_CARD_CHECK_CHARS[total % 11]


def validate_id_card_number(value: str) -> None:
    """Check an 18-character resident ID: region, birth date, then check character.

    A lowercase ``x`` is accepted; store the upper-cased value.
    """
    if not isinstance(value, str) or not _ID_CARD_SHAPE_RE.fullmatch(value):
        raise ValidationError(_("身份证号码应为18位，由17位数字和1位数字或X组成。"), code="invalid_id_card")
    if value[:2] not in _PROVINCE_PREFIXES:
        raise ValidationError(_("身份证号码的地址码无效。"), code="invalid_id_card")
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        birth = None
    if birth is None or birth > datetime.now(_CHINA_TZ).date():
        raise ValidationError(_("身份证号码中的出生日期无效。"), code="invalid_id_card")
    if id_card_checksum(value[:17]) != value[17].upper():
        raise ValidationError(_("身份证号码校验位不正确，请核对。"), code="invalid_id_card")


def make_id_card_number(region_code: str, birth_date: date, sequence: int) -> str:
    """Build a checksum-valid ID number for demo data (odd sequence = male, even = female)."""
    if len(region_code) != 6 or not region_code.isascii() or not region_code.isdigit():
        raise ValueError("region_code must be 6 ASCII digits")
    if not 0 <= sequence <= 999:
        raise ValueError("sequence must be in 0..999")
    first17 = f"{region_code}{birth_date.year:04d}{birth_date.month:02d}{birth_date.day:02d}{sequence:03d}"
    return first17 + id_card_checksum(first17)


def mask_phone(phone: str) -> str:
    """Show the first 3 and last 4 digits, as Chinese services conventionally do."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_card(number: str) -> str:
    """Show the region code (first 6) and the last 4 characters, e.g. ``330102********123X``."""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:].upper()


def mask_name(name: str) -> str:
    """Keep the first character and star the rest: 张三 → 张*, 欧阳小明 → 欧***."""
    return name[:1] + "*" * (len(name) - 1) if name else ""
