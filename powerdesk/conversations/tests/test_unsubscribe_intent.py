"""The unsubscribe intent (退订) on any channel: a keyword rule can point at it on WeChat too;
the opt-out lands in the consent registry once, the confirmation comes every time."""

import pytest
from django.utils import timezone

from powerdesk.consent.models import ChannelConsent, ConsentChange
from powerdesk.consent.selectors import may_contact
from powerdesk.conversations.choices import Intent
from powerdesk.conversations.engine import handle_inbound
from powerdesk.conversations.messages import ChannelContext, InboundMessage, SenderIdentity
from powerdesk.conversations.services import keyword_rule_create

from .conftest import SHOWCASE_OPENID

pytestmark = pytest.mark.django_db


def wechat_text(text, key):
    return InboundMessage(
        channel="wechat",
        channel_account="demo",
        sender=SenderIdentity("wechat_openid", "wx-test", SHOWCASE_OPENID),
        kind="text",
        dedup_key=key,
        received_at=timezone.now(),
        text=text,
    )


def test_a_keyword_rule_can_unsubscribe_a_follower(db):
    keyword_rule_create(
        channel_account="demo",
        match_kind="exact",
        pattern="TD",
        reply_kind="intent",
        reply_intent=Intent.UNSUBSCRIBE,
    )
    replies = [handle_inbound(wechat_text("td", f"msgid:{n}"), context=ChannelContext()) for n in range(2)]
    replay = handle_inbound(wechat_text("td", "msgid:1"), context=ChannelContext())
    assert all(r.intent == Intent.UNSUBSCRIBE and "您已退订营销信息" in r.text for r in replies)
    assert replay.replayed
    consent = ChannelConsent.objects.get()
    assert (consent.channel, consent.status) == ("wechat", "opted_out")
    assert ConsentChange.objects.count() == 1
    assert not may_contact(channel="wechat", address=SHOWCASE_OPENID)


def test_a_keyword_rule_can_resubscribe_a_follower_who_unsubscribed(db):
    for pattern, intent in (("TD", Intent.UNSUBSCRIBE), ("订阅", Intent.RESUBSCRIBE)):
        keyword_rule_create(
            channel_account="demo", match_kind="exact", pattern=pattern, reply_kind="intent", reply_intent=intent
        )
    handle_inbound(wechat_text("TD", "msgid:10"), context=ChannelContext())
    replies = [handle_inbound(wechat_text("订阅", f"msgid:{n}"), context=ChannelContext()) for n in (11, 12)]
    assert all(r.intent == Intent.RESUBSCRIBE and "您已恢复接收营销信息" in r.text for r in replies)
    assert "回复TD" not in replies[0].text  # the TD command is the SMS hall's, not WeChat's
    consent = ChannelConsent.objects.get()
    assert (consent.channel, consent.status, consent.source) == ("wechat", "opted_in", "reply")
    assert ConsentChange.objects.count() == 2
    assert may_contact(channel="wechat", address=SHOWCASE_OPENID)
