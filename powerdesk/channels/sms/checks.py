"""System checks: an aliyun backend needs a provider template code for every template we send."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from powerdesk.channels.sms.templates import TEMPLATES


@register()
def sms_templates_have_codes(app_configs=None, **kwargs) -> list[Error]:
    if settings.SMS_BACKEND != "aliyun":
        return []
    missing = sorted(set(TEMPLATES) - set(settings.SMS_ALIYUN_TEMPLATES))
    unknown = sorted(set(settings.SMS_ALIYUN_TEMPLATES) - set(TEMPLATES))
    errors = []
    if missing:
        errors.append(
            Error(
                f"POWERDESK_SMS_ALIYUN_TEMPLATES has no template code for {', '.join(missing)}",
                hint="Add key:TemplateCode pairs for every template in powerdesk/channels/sms/templates.py.",
                id="channel_sms.E001",
            )
        )
    if unknown:
        errors.append(
            Error(
                f"POWERDESK_SMS_ALIYUN_TEMPLATES names templates we do not have: {', '.join(unknown)}",
                hint=f"Known templates: {', '.join(sorted(TEMPLATES))}.",
                id="channel_sms.E002",
            )
        )
    return errors
