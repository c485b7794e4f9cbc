"""The demo Official Account and a second one whose traffic must stay out of the demo's figures."""

from __future__ import annotations

import pytest

from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.conversations.demo import demo_wechat_account_setup


@pytest.fixture
def demo(db) -> WeChatAccount:
    return demo_wechat_account_setup()


@pytest.fixture
def other_account(db) -> WeChatAccount:
    """A second Official Account, whose traffic must never leak into the demo's figures."""
    account = WeChatAccount(
        slug="other", name="另一个公众号", app_id="wx0000000000000002", token="t", safe_mode=False
    )
    account.save()
    return account
