"""System checks: a gateway backend needs a provider template code for every template we send.

The business hall's reply template is sent only when the hall is on
(``POWERDESK_SMS_INBOUND_ENABLED``), so only then is its code required.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from powerdesk.channels.sms.templates import TEMPLATES

# backend → (the settings attribute with its codes, the variable people set, the code's name)
_BACKENDS = {
    "aliyun": ("SMS_ALIYUN_TEMPLATES", "POWERDESK_SMS_ALIYUN_TEMPLATES", "TemplateCode"),
    "tencent": ("SMS_TENCENT_TEMPLATES", "POWERDESK_SMS_TENCENT_TEMPLATES", "TemplateId"),
}


def templates_in_use() -> set[str]:
    return {
        key
        for key, template in TEMPLATES.items()
        if not template.business_hall or settings.SMS_INBOUND_ENABLED
    }


@register()
def sms_templates_have_codes(app_configs=None, **kwargs) -> list[Error]:
    if settings.SMS_BACKEND not in _BACKENDS:
        return []
    attribute, variable, code_name = _BACKENDS[settings.SMS_BACKEND]
    configured = getattr(settings, attribute)
    missing = sorted(templates_in_use() - set(configured))
    unknown = sorted(set(configured) - set(TEMPLATES))
    errors = []
    if missing:
        errors.append(
            Error(
                f"{variable} has no template code for {', '.join(missing)}",
                hint=f"Add key:{code_name} pairs for every template in powerdesk/channels/sms/templates.py"
                " (hall_reply only while POWERDESK_SMS_INBOUND_ENABLED is on).",
                id="channel_sms.E001",
            )
        )
    if unknown:
        errors.append(
            Error(
                f"{variable} names templates we do not have: {', '.join(unknown)}",
                hint=f"Known templates: {', '.join(sorted(TEMPLATES))}.",
                id="channel_sms.E002",
            )
        )
    return errors
