"""The SMS texts we send, each under our own key.

Chinese SMS gateways deliver only templates approved in advance (模板), never free text: we send
the provider's template code plus the values of its variables, and the gateway fills them in.
This registry holds our side of each template: the key the code base uses (``"otp"``) and the
text exactly as approved, with ``{name}`` for each variable. The text is what we store as the
message body (the outbox and the console show it); the provider's code for each key comes from
settings (``POWERDESK_SMS_ALIYUN_TEMPLATES`` / ``POWERDESK_SMS_TENCENT_TEMPLATES``), because it
differs per account and per sign. Alibaba Cloud names variables (``${code}``); Tencent Cloud
numbers them (``{1}``, ``{2}`` …) in order of appearance, which ``positional_variables`` gives.

Changing a text here means submitting the new text for approval first. Plain Python on purpose:
the standalone fake gateway reads this module without Django.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SmsTemplate:
    """One approved text. ``text`` uses ``{name}`` placeholders (Aliyun writes ``${name}``)."""

    key: str
    text: str
    description: str

    # Needed only when the SMS business hall (inbound commands) is switched on; the system
    # check asks for its provider code only then.
    business_hall: bool = False

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(name for _, name, _, _ in string.Formatter().parse(self.text) if name)

    @property
    def positional_variables(self) -> tuple[str, ...]:
        """The variables in order of first appearance: Tencent's {1}, {2} …"""
        ordered: list[str] = []
        for _, name, _, _ in string.Formatter().parse(self.text):
            if name and name not in ordered:
                ordered.append(name)
        return tuple(ordered)

    def clean_params(self, params: Mapping[str, object]) -> dict[str, str]:
        """The values as the strings a gateway expects; exactly the template's variables.

        A missing or unexpected variable is a bug in the caller, not a vendor failure, so it
        raises ``ValueError`` before anything is recorded or sent.
        """
        missing = self.variables - params.keys()
        extra = params.keys() - self.variables
        if missing or extra:
            raise ValueError(
                f"SMS template {self.key!r}: missing {sorted(missing)}, unexpected {sorted(extra)}"
            )
        cleaned = {name: str(value) for name, value in params.items()}
        if any(not value.strip() for value in cleaned.values()):
            raise ValueError(f"SMS template {self.key!r}: empty value in {sorted(cleaned)}")
        return cleaned

    def render(self, params: Mapping[str, object]) -> str:
        return self.text.format_map(self.clean_params(params))


TEMPLATES: dict[str, SmsTemplate] = {
    template.key: template
    for template in (
        SmsTemplate(
            key="otp",
            # customers/verification.py and its tests read the code with 验证码 (\d{6}).
            text="您正在{action}，验证码 {code}，{minutes} 分钟内有效。请勿告诉他人。",
            description="一次性短信验证码（登录、绑定户号、更换手机号或邮箱）",
        ),
        SmsTemplate(
            key="hall_reply",
            # The business hall answers the customer's own command (CXDF, YE, TD, BZ): a service
            # message, one variable holding the engine's reply. Gateways refuse all-variable
            # templates, hence the fixed salutation. See docs/sms-business-hall.md for the
            # vendors' limits on variable length and links.
            text="尊敬的客户：{reply}",
            description="短信营业厅回复（客户发送指令后的答复）",
            business_hall=True,
        ),
    )
}


def template_get(key: str) -> SmsTemplate:
    try:
        return TEMPLATES[key]
    except KeyError:
        raise ValueError(f"unknown SMS template {key!r}; registered: {sorted(TEMPLATES)}") from None
