"""The demo account and rules: as published in issue 5, secrets sealed, idempotent."""

import pytest

from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.conversations.demo import DEMO_ENCODING_AES_KEY, DEMO_RULES, demo_conversations_setup
from powerdesk.conversations.keywords import rule_set_version
from powerdesk.conversations.models import KeywordRule


@pytest.mark.django_db
def test_demo_setup_is_idempotent_and_seals_the_secrets():
    demo_conversations_setup()
    version = rule_set_version(channel="wechat", channel_account="demo")
    demo_conversations_setup()
    account = WeChatAccount.objects.get()
    assert (account.slug, account.app_id, account.token, account.safe_mode) == (
        "demo",
        "wx5d3a1c0e9b7f2468",
        "powerdesk",
        True,
    )
    assert account.encoding_aes_key == DEMO_ENCODING_AES_KEY
    assert DEMO_ENCODING_AES_KEY not in account.encoding_aes_key_ciphertext
    assert account.app_secret and account.app_secret not in account.app_secret_ciphertext
    assert account.crypto().app_id == "wx5d3a1c0e9b7f2468"
    assert KeywordRule.objects.count() == len(DEMO_RULES)
    assert rule_set_version(channel="wechat", channel_account="demo") == version  # nothing changed


@pytest.mark.django_db
def test_the_sealed_columns_are_registered_for_rotation():
    from powerdesk.privacy.rotation import sealed_columns

    labels = {(c.model_label, c.ciphertext_field) for c in sealed_columns()}
    assert ("channel_wechat_store.WeChatAccount", "encoding_aes_key_ciphertext") in labels
    assert ("channel_wechat_store.WeChatAccount", "app_secret_ciphertext") in labels
