"""Turn raw input into clean values or one ApplicationError naming the field and the reason."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from powerdesk.core.exceptions import ApplicationError
from powerdesk.customers import validators


def _as_application_error(exc: ValidationError, field: str) -> ApplicationError:
    return ApplicationError(exc.code or "invalid", str(exc.messages[0]), field=field)


def clean_account_number(value: str) -> str:
    value = (value or "").strip()
    try:
        validators.validate_account_number(value)
    except ValidationError as exc:
        raise _as_application_error(exc, "account_number") from None
    return value


def clean_phone(value: str) -> str:
    try:
        phone = validators.normalize_phone(value or "")
        validators.validate_mobile_phone(phone)
    except ValidationError as exc:
        raise _as_application_error(exc, "phone") from None
    return phone


def clean_id_card(value: str) -> str:
    value = (value or "").strip().upper()
    try:
        validators.validate_id_card_number(value)
    except ValidationError as exc:
        raise _as_application_error(exc, "id_card_number") from None
    return value


def clean_email(value: str) -> str:
    value = (value or "").strip()
    try:
        validate_email(value)
    except ValidationError:
        raise ApplicationError("invalid_email", _("电子邮箱格式不正确。"), field="email") from None
    return value.lower()
