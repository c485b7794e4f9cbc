"""The demo Official Account with its keyword rules, and the showcase follower o_demo_showcase
bound (through the standing ``customer`` persona) to 户号 0000000001 with a billing history."""

import pytest

from powerdesk.billing.testing import make_billing_history
from powerdesk.conversations.demo import DEMO_APP_ID, demo_conversations_setup
from powerdesk.conversations.keywords import matcher_cache_clear
from powerdesk.customers.models import Identity

SHOWCASE_OPENID = "o_demo_showcase"
STRANGER_OPENID = "o_unbound_follower"


@pytest.fixture(autouse=True)
def _fresh_matchers():
    matcher_cache_clear()
    yield
    matcher_cache_clear()


@pytest.fixture
def demo_account(db):
    from powerdesk.channels.wechat_store.models import WeChatAccount

    demo_conversations_setup()
    return WeChatAccount.objects.get(slug="demo")


@pytest.fixture
def showcase(customer, account_a):
    """The customer persona, known on WeChat as o_demo_showcase, with 26 months of bills."""
    Identity.objects.create(
        customer_user=customer, provider="wechat_openid", app_id=DEMO_APP_ID, subject=SHOWCASE_OPENID
    )
    history = make_billing_history(account_a)
    return customer, history
