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


# --- the inbox: messages arriving through the engine, a fake WeChat API, a settable clock ---------

_dedup = iter(range(10**9))


def arrive(
    text="", *, openid=SHOWCASE_OPENID, kind="text", event="", event_key="", at=None, account="demo", key=None
):
    """A follower's message through the engine's one entry point (as the WeChat callback does)."""
    from django.utils import timezone

    from powerdesk.conversations.engine import handle_inbound
    from powerdesk.conversations.messages import ChannelContext, InboundMessage, SenderIdentity

    message = InboundMessage(
        channel="wechat",
        channel_account=account,
        sender=SenderIdentity("wechat_openid", DEMO_APP_ID, openid),
        kind=kind,
        dedup_key=key or f"inbox-test:{next(_dedup)}",
        received_at=at or timezone.now(),
        text=text,
        event=event,
        event_key=event_key,
    )
    return handle_inbound(message, context=ChannelContext(site_url="https://wx.example.cn"))


@pytest.fixture
def fake_api(settings):
    """The fake api.weixin.qq.com, with the showcase follower and the unbound one following."""
    from powerdesk.channels.wechat_store.fake_server import running_fake_wechat_api

    followers = [{"openid": SHOWCASE_OPENID, "nickname": "示范用户"}, {"openid": STRANGER_OPENID}]
    with running_fake_wechat_api(seed_followers=followers) as fake:
        settings.WECHAT_API_BASE_URL = fake.url
        settings.WECHAT_API_OAUTH_BASE_URL = fake.url
        yield fake


class Clock:
    """``django.utils.timezone.now`` frozen at ``at`` (move it with ``clock.at = …``)."""

    def __init__(self, at):
        self.at = at

    def __call__(self):
        return self.at


@pytest.fixture
def clock(monkeypatch):
    from django.utils import timezone

    frozen = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", frozen)
    return frozen
