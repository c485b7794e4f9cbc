"""Display helpers for the H5 portal: masking (个人信息保护法) and the page language tag."""

from __future__ import annotations

from django import template
from django.utils import translation

from powerdesk.customers import validators

register = template.Library()


@register.filter
def mask_phone(value: str | None) -> str:
    return validators.mask_phone(value or "")


@register.filter
def mask_name(value: str | None) -> str:
    return validators.mask_name(value or "")


@register.filter
def mask_email(value: str | None) -> str:
    """zhangsan@example.com → z***@example.com: enough to recognise, not enough to harvest."""
    local, at, domain = (value or "").partition("@")
    if not at:
        return ""
    return f"{local[:1]}***@{domain}"


@register.simple_tag
def html_lang() -> str:
    """BCP 47 form of the active language, e.g. ``zh-Hans`` for Django's ``zh-hans``."""
    return translation.to_locale(translation.get_language() or "zh-hans").replace("_", "-")
