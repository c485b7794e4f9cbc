"""The demo Official Account and its keyword rules (idempotent: run it as often as you like).

``demo_conversations_setup()`` configures the ``demo`` account exactly as issue 5 publishes it
(AppID, token, EncodingAESKey, safe mode) with the fake API server's AppSecret, and the six
keyword rules 电费, 余额, 缴费, 停电, 报修, 人工 — each answering through its intent, so an
unbound follower gets the binding link and a bound one their own figures.
"""

from __future__ import annotations

from django.db import transaction

from powerdesk.conversations.choices import Intent, MatchKind, RuleReplyKind
from powerdesk.conversations.models import KeywordRule
from powerdesk.conversations.services import keyword_rule_create, keyword_rule_update
from powerdesk.events.choices import Channel

DEMO_SLUG = "demo"
DEMO_APP_ID = "wx5d3a1c0e9b7f2468"
DEMO_TOKEN = "powerdesk"  # noqa: S105  (published in issue 5 for the demo account)
DEMO_ENCODING_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
# The fake API server's (powerdesk.channels.wechat_store.fake_server.DEMO_APP_SECRET).
DEMO_APP_SECRET = "fake0demo0app0secret000000000000"  # noqa: S105
DEMO_GREETING = "欢迎关注示范供电公司！绑定户号后，可随时查询电费、余额，在线缴费。"

# (pattern, match kind, intent, priority): "contains", so 查电费 and 我要缴费 match too; when a
# text holds two keywords the higher priority wins (电费余额 → 余额).
DEMO_RULES = [
    ("电费", MatchKind.CONTAINS, Intent.BILL, 10),
    ("账单", MatchKind.CONTAINS, Intent.BILL, 10),
    ("余额", MatchKind.CONTAINS, Intent.BALANCE, 20),
    ("缴费", MatchKind.CONTAINS, Intent.PAY, 30),
    ("停电", MatchKind.CONTAINS, Intent.OUTAGE, 40),
    ("报修", MatchKind.CONTAINS, Intent.REPAIR, 50),
    ("人工", MatchKind.CONTAINS, Intent.HUMAN, 60),
]


@transaction.atomic
def demo_wechat_account_setup():
    from powerdesk.channels.wechat_store.models import WeChatAccount

    account = WeChatAccount.objects.filter(slug=DEMO_SLUG).first() or WeChatAccount(slug=DEMO_SLUG)
    account.name = "示范供电公司"
    account.app_id = DEMO_APP_ID
    account.token = DEMO_TOKEN
    account.safe_mode = True
    account.timestamp_window_seconds = 300
    account.greeting = DEMO_GREETING
    account.is_active = True
    if account.encoding_aes_key != DEMO_ENCODING_AES_KEY:
        account.set_encoding_aes_key(DEMO_ENCODING_AES_KEY)
    if account.app_secret != DEMO_APP_SECRET:
        account.set_app_secret(DEMO_APP_SECRET)
    account.save()
    return account


@transaction.atomic
def demo_keyword_rules_setup(*, channel_account: str = DEMO_SLUG) -> list[KeywordRule]:
    rules = []
    for pattern, match_kind, intent, priority in DEMO_RULES:
        rule = KeywordRule.objects.filter(
            channel=Channel.WECHAT, channel_account=channel_account, match_kind=match_kind, pattern=pattern
        ).first()
        wanted = {
            "reply_kind": RuleReplyKind.INTENT,
            "reply_intent": intent,
            "priority": priority,
            "active": True,
        }
        if rule is None:
            rule = keyword_rule_create(
                channel=Channel.WECHAT,
                channel_account=channel_account,
                match_kind=match_kind,
                pattern=pattern,
                **wanted,
            )
        elif any(getattr(rule, name) != value for name, value in wanted.items()):
            rule = keyword_rule_update(rule=rule, **wanted)
        rules.append(rule)
    return rules


def demo_conversations_setup() -> None:
    """The demo account and its keyword rules; safe to call on every ``powerdesk demo``."""
    demo_wechat_account_setup()
    demo_keyword_rules_setup()
