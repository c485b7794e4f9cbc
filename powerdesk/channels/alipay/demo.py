"""The demo life account and its keyword rules (idempotent: run it as often as you like).

``demo_alipay_setup()`` configures the life account ``demo`` (APPID ``2021004100000001``) with the
demo key file's keys (``demo_keys.py``), pointed at the local fake gateway
(``python -m powerdesk.channels.alipay.fake_server``, port 8704), and gives it the same keyword
rules as the demo WeChat account (``conversations.demo.DEMO_RULES``): 电费, 余额, 缴费, 停电,
报修, 人工, each answering through its intent.
"""

from __future__ import annotations

from django.db import transaction

from powerdesk.channels.alipay.demo_keys import DEMO_APP_ID, demo_keys
from powerdesk.channels.alipay.models import AlipayLifeAccount
from powerdesk.channels.alipay.services import life_account_save
from powerdesk.conversations.choices import RuleReplyKind
from powerdesk.conversations.demo import DEMO_GREETING, DEMO_RULES
from powerdesk.conversations.models import KeywordRule
from powerdesk.conversations.services import keyword_rule_create, keyword_rule_update
from powerdesk.events.choices import Channel

DEMO_SLUG = "demo"
DEMO_GATEWAY_URL = "http://127.0.0.1:8704/gateway.do"


@transaction.atomic
def demo_life_account_setup(*, gateway_url: str = DEMO_GATEWAY_URL) -> AlipayLifeAccount:
    keys = demo_keys()
    existing = AlipayLifeAccount.objects.filter(slug=DEMO_SLUG).first()
    same_key = existing is not None and existing.app_private_key.strip() == keys["app_private_key"].strip()
    return life_account_save(
        slug=DEMO_SLUG,
        app_id=DEMO_APP_ID,
        app_private_key=None if same_key else keys["app_private_key"],
        alipay_public_key=keys["alipay_public_key"],
        name="示范供电公司",
        gateway_url=gateway_url,
        greeting=DEMO_GREETING,
    )


@transaction.atomic
def demo_alipay_keyword_rules_setup(*, channel_account: str = DEMO_SLUG) -> list[KeywordRule]:
    rules = []
    for pattern, match_kind, intent, priority in DEMO_RULES:
        wanted = {
            "reply_kind": RuleReplyKind.INTENT,
            "reply_intent": intent,
            "priority": priority,
            "active": True,
        }
        rule = KeywordRule.objects.filter(
            channel=Channel.ALIPAY, channel_account=channel_account, match_kind=match_kind, pattern=pattern
        ).first()
        if rule is None:
            rule = keyword_rule_create(
                channel=Channel.ALIPAY,
                channel_account=channel_account,
                match_kind=match_kind,
                pattern=pattern,
                **wanted,
            )
        elif any(getattr(rule, name) != value for name, value in wanted.items()):
            rule = keyword_rule_update(rule=rule, **wanted)
        rules.append(rule)
    return rules


def demo_alipay_setup() -> None:
    """The demo life account and its keyword rules; safe to call on every ``powerdesk demo``."""
    demo_life_account_setup()
    demo_alipay_keyword_rules_setup()
