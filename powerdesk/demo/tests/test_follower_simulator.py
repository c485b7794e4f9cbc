"""The follower simulator: seed-exact traffic, XML as WeChat writes it, messages landing in the
inbox through the real callback over HTTP, and a backfill whose rows carry past moments."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import wechatpy
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from powerdesk.channels.wechat.protocol import parse_message
from powerdesk.conversations.demo import DEMO_APP_ID, demo_conversations_setup
from powerdesk.conversations.engine import MENU_KEYS as ENGINE_MENU_KEYS
from powerdesk.conversations.models import ConversationMessage
from powerdesk.customers.models import CustomerUser, Identity
from powerdesk.demo import follower_simulator as sim
from powerdesk.demo.fake_wechat import SHOWCASE_OPENID, running_demo_fake_wechat
from powerdesk.events.models import DomainEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")
ORIGINAL_ID = "gh_4d00ed8d6399"
BOUND = [f"oBoundFollower{n:014d}" for n in range(12)]
NOW = 1772330400  # 2026-03-01 10:00 Beijing


def plan(seed=7, count=20, bound=BOUND, share=0.5, anchor=0) -> sim.TrafficPlan:
    followers = sim.simulated_followers(seed=seed, count=count, bound_openids=bound, bound_share=share)
    return sim.TrafficPlan(seed=seed, followers=followers, anchor=anchor)


def xml_of(actions, *, create_time=NOW) -> list[str]:
    return [
        sim.action_xml(a, original_id=ORIGINAL_ID, create_time=create_time, site_url="https://h5.example.cn")
        for a in actions
    ]


# --- deterministic by seed -----------------------------------------------------------------------


def test_a_seed_gives_the_same_followers_and_the_same_traffic():
    assert sim.simulated_followers(seed=7, count=50, bound_openids=BOUND) == sim.simulated_followers(
        seed=7, count=50, bound_openids=BOUND
    )
    first, second = plan().take(500), plan().take(500)
    assert first == second
    assert xml_of(first) == xml_of(second)


def test_another_seed_gives_other_traffic():
    assert plan(seed=7).take(200) != plan(seed=8).take(200)
    assert [f.openid for f in plan(seed=7).followers] != [f.openid for f in plan(seed=8).followers]


def test_another_anchor_changes_only_the_msgids():
    today, tomorrow = plan(anchor=1).take(300), plan(anchor=2).take(300)
    strip = [a.__class__(**{**a.__dict__, "msg_id": None}) for a in today]
    assert strip == [a.__class__(**{**a.__dict__, "msg_id": None}) for a in tomorrow]
    ids = [a.msg_id for a in today if a.msg_id] + [a.msg_id for a in tomorrow if a.msg_id]
    assert len(ids) == len(set(ids))


def test_some_followers_are_demo_customers_most_are_not():
    followers = sim.simulated_followers(
        seed=3, count=40, bound_openids=[*BOUND, SHOWCASE_OPENID], bound_share=0.25
    )
    bound = [f for f in followers if f.bound]
    assert len(bound) == 10
    assert {f.openid for f in bound} <= set(BOUND)  # never the showcase: the demo user plays them
    strangers = [f for f in followers if not f.bound]
    assert all(len(f.openid) == 28 and f.openid.startswith("o") for f in strangers)
    assert all(f.following for f in bound)
    assert len({f.openid for f in followers}) == 40


def test_the_traffic_looks_like_a_public_account_s():
    actions = plan(count=60).take(3000)
    kinds = Counter(a.kind for a in actions)
    assert set(kinds) == {
        "subscribe",
        "unsubscribe",
        "click",
        "view",
        "scan",
        "location_event",
        "location",
        "text",
    }
    assert kinds["text"] > kinds["click"] > kinds["view"] > kinds["unsubscribe"]
    assert {a.event_key for a in actions if a.kind == "click"} <= set(ENGINE_MENU_KEYS)
    topics = Counter(a.topic for a in actions if a.kind == "text")
    assert set(topics) == set(sim.TEXTS) and topics.most_common(1)[0][0] == "bill"
    assert any(a.event_key.startswith("qrscene_") for a in actions if a.kind == "subscribe")
    assert any(not a.event_key for a in actions if a.kind == "subscribe")
    # Only someone not following subscribes, and someone who left must subscribe before anything else.
    following = {f.openid: f.following for f in plan(count=60).followers}
    for action in actions:
        assert (action.kind == "subscribe") == (not following[action.openid])
        following[action.openid] = action.kind != "unsubscribe"


@pytest.mark.parametrize(
    "kind", ["subscribe", "unsubscribe", "click", "view", "scan", "location_event", "location", "text"]
)
def test_every_kind_is_read_alike_by_our_parser_and_by_wechatpy(kind):
    action = next(a for a in plan(count=60).take(3000) if a.kind == kind)
    [xml] = xml_of([action])
    ours, theirs = parse_message(xml.encode()), wechatpy.parse_message(xml)
    assert ours.from_user == theirs.source == action.openid
    assert ours.to_user == theirs.target == ORIGINAL_ID
    assert ours.create_time == NOW
    if kind == "text":
        assert ours.content == theirs.content == action.text
        assert ours.msg_id == theirs.id == action.msg_id
    elif kind == "location":
        assert ours.location_x == Decimal(action.latitude) and theirs.label == action.label
    elif kind == "location_event":
        assert ours.latitude == Decimal(action.latitude) and theirs.longitude == float(action.longitude)
    elif kind == "view":
        assert ours.event_key == theirs.url == "https://h5.example.cn" + action.event_key
    elif kind == "click":
        assert ours.event_key == theirs.key == action.event_key
    else:
        assert ours.event == {"subscribe": "subscribe", "unsubscribe": "unsubscribe", "scan": "scan"}[kind]
        if action.ticket:
            assert ours.ticket == action.ticket and theirs.scene_id == action.event_key.removeprefix(
                "qrscene_"
            )


def test_the_daily_rhythm_is_quiet_at_night_and_busy_in_the_evening():
    moments = sim.backfill_moments(seed=1, count=4000, days=30, now=NOW)
    assert moments == sorted(moments) and NOW - 30 * 86400 <= moments[0] and moments[-1] < NOW
    hours = Counter(datetime.fromtimestamp(m, SHANGHAI).hour for m in moments)
    night = sum(hours[h] for h in range(0, 6)) / len(moments)
    evening = sum(hours[h] for h in range(18, 22)) / len(moments)
    assert night < 0.04 and evening > 0.2
    flat = Counter(
        datetime.fromtimestamp(m, SHANGHAI).hour
        for m in sim.backfill_moments(seed=1, count=4000, days=30, now=NOW, daily_rhythm=False)
    )
    assert sum(flat[h] for h in range(0, 6)) / 4000 > 0.2
    midnight = NOW - 10 * 3600  # NOW is 10:00 in Beijing
    assert sim.rhythm_factor(midnight + 3 * 3600) < 0.1 < 1.5 < sim.rhythm_factor(midnight + 20 * 3600)


def test_the_simulator_reads_replies_as_wechat_does_and_spots_a_forged_one():
    from powerdesk.channels.wechat.crypto import WeChatCrypto
    from powerdesk.channels.wechat.protocol import render_text_reply, wrap_encrypted_reply

    crypto = WeChatCrypto("powerdesk", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", DEMO_APP_ID)
    client = sim.CallbackClient("http://127.0.0.1:9/", crypto=crypto, original_id=ORIGINAL_ID)
    reply = render_text_reply(to_user="o1", from_user=ORIGINAL_ID, create_time=NOW, content="您好")
    sealed = wrap_encrypted_reply(crypto, reply, nonce="abc", timestamp=NOW)
    assert client._reply_kind(sealed) == "text"
    assert client._reply_kind(b"success") == "success"
    forged = sealed.replace(b"<MsgSignature><![CDATA[", b"<MsgSignature><![CDATA[0")
    assert client._reply_kind(forged) == "invalid"
    assert client._reply_kind(b"<xml><Encrypt>") == "invalid"


# --- live, through the real callback ------------------------------------------------------------


@pytest.fixture
def bound_customers(db):
    """Demo customers who follow the account: their WeChat identities (the simulator's "bound")."""
    for n, openid in enumerate(BOUND):
        user = CustomerUser.objects.create(phone=f"1390000{n:04d}", display_name=f"客户{n}")
        Identity.objects.create(
            customer_user=user, provider="wechat_openid", app_id=DEMO_APP_ID, subject=openid
        )


class SecondsClock:
    """Real time, one second further at every look: each message its own CreateTime."""

    def __init__(self) -> None:
        self.ticks = itertools.count(int(time.time()))

    def __call__(self) -> float:
        return float(next(self.ticks))


STORED_AS = {
    "text": ("text", ""),
    "location": ("location", ""),
    "subscribe": ("event", "subscribe"),
    "unsubscribe": ("event", "unsubscribe"),
    "click": ("event", "click"),
    "view": ("event", "view"),
    "scan": ("event", "scan"),
    "location_event": ("event", "location"),
}


def test_live_traffic_lands_in_the_inbox_through_the_callback(live_server, transactional_db, bound_customers):
    demo_conversations_setup()
    from powerdesk.channels.wechat_store.models import WeChatAccount

    account = WeChatAccount.objects.get(slug="demo")
    openids = sim.bound_follower_openids(app_id=DEMO_APP_ID)
    assert openids == sorted(BOUND)
    followers = sim.simulated_followers(seed=11, count=20, bound_openids=openids, bound_share=0.5)
    expected = sim.TrafficPlan(seed=11, followers=followers).take(40)
    with running_demo_fake_wechat(token=account.token, encoding_aes_key=account.encoding_aes_key) as fake:
        client = sim.CallbackClient(
            f"{live_server.url}/channels/wechat/demo/", crypto=account.crypto(), original_id=ORIGINAL_ID
        )
        report = sim.simulate_live(
            plan=sim.TrafficPlan(seed=11, followers=followers),
            client=client,
            registry=sim.FakeFollowerRegistry(fake.url),
            site_url=live_server.url,
            messages=40,
            clock=SecondsClock(),
        )
        fake_followers = {f["openid"]: f for f in fake.followers()}
    assert report.sent == 40 and report.statuses == Counter({200: 40}) and report.errors == 0
    inbound = list(ConversationMessage.objects.filter(direction="inbound").order_by("id"))
    assert [(m.sender_subject, m.kind, m.payload.get("event", "")) for m in inbound] == [
        (a.openid, *STORED_AS[a.kind]) for a in expected
    ]
    bound = {f.openid for f in followers if f.bound}
    assert all((m.customer_user_id is not None) == (m.sender_subject in bound) for m in inbound)
    texts = [m for m in inbound if m.kind == "text"]
    assert [m.text for m in texts] == [a.text for a in expected if a.kind == "text"]
    assert all(m.replies.get().delivery == "passive" for m in texts)  # each question answered at once
    assert "invalid" not in report.replies
    answered = sum(n for kind, n in report.replies.items() if kind != "success")
    assert answered >= len(texts)  # the encrypted replies were checked and decrypted
    # WeChat's side knows them: everyone following at the start, and everyone who subscribed.
    for follower in followers:
        if follower.following:
            assert fake_followers[follower.openid]["subscribed"] or any(
                a.openid == follower.openid and a.kind == "unsubscribe" for a in expected
            )
    for action in expected:
        if action.kind == "subscribe":
            assert action.openid in fake_followers


def test_the_command_sends_a_number_of_messages(live_server, transactional_db):
    demo_conversations_setup()
    out = StringIO()
    call_command(
        "simulate_followers",
        "--messages",
        "6",
        "--followers",
        "5",
        "--callback-url",
        f"{live_server.url}/channels/wechat/demo/",
        "--fake-url",
        "",
        stdout=out,
    )
    assert "已发送 6 条" in out.getvalue()
    assert "200×6" in out.getvalue()
    assert (
        ConversationMessage.objects.filter(direction="inbound").count() >= 5
    )  # two alike in one second count once


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--forever"], "需要 --rate"),
        ([], "--messages N"),
        (["--messages", "5", "--account", "nope"], "不存在或未启用"),
        (["--messages", "5", "--bound-share", "2"], "--bound-share"),
        (["--forever", "--rate", "2", "--backfill-days", "3"], "不能与"),
    ],
)
def test_the_command_refuses_what_it_cannot_do(db, args, message):
    demo_conversations_setup()
    with pytest.raises(CommandError, match=message):
        call_command("simulate_followers", *args)


# --- backfill: the same adapter and engine, at past moments ------------------------------------


def test_backfill_spreads_history_over_past_days_through_the_engine(db, bound_customers):
    demo_conversations_setup()
    from powerdesk.channels.wechat_store.models import WeChatAccount

    account = WeChatAccount.objects.get(slug="demo")
    followers = sim.simulated_followers(seed=5, count=30, bound_openids=BOUND, bound_share=0.3)

    def run():
        return sim.backfill(
            plan=sim.TrafficPlan(seed=5, followers=followers, anchor=20260301),
            account=account,
            messages=80,
            days=10,
            now=NOW,
            site_url="https://h5.example.cn",
            registry=sim.FakeFollowerRegistry(""),
            original_id=ORIGINAL_ID,
        )

    report = run()
    assert report.statuses == Counter({"stored": 80})
    inbound = list(ConversationMessage.objects.filter(direction="inbound"))
    assert len(inbound) == 80
    start, end = datetime.fromtimestamp(NOW - 10 * 86400, UTC), datetime.fromtimestamp(NOW, UTC)
    assert all(start <= m.created_at < end for m in inbound)
    assert len({m.created_at.astimezone(SHANGHAI).date() for m in inbound}) >= 7
    for message in inbound:  # the reply and both events carry the message's own moment
        reply = message.replies.get()
        assert reply.created_at == message.created_at
        received = DomainEvent.objects.get(
            kind="conversation.message_received", payload__message_id=message.pk
        )
        assert received.occurred_at == message.created_at
    texts = [m for m in inbound if m.kind == "text"]
    assert texts and all(m.replies.get().delivered_at == m.created_at for m in texts)

    # The clock is back: new rows get the real time again.
    assert abs(timezone.now() - datetime.now(UTC)) < timedelta(seconds=5)
    default = ConversationMessage._meta.get_field("created_at").get_default()
    assert abs(default - datetime.now(UTC)) < timedelta(seconds=5)

    # The same day's re-run is recognised as repeats: nothing new.
    assert run().statuses == Counter({"repeat": 80})
    assert ConversationMessage.objects.filter(direction="inbound").count() == 80


def test_backfill_registers_followers_with_their_past_subscribe_times(db):
    demo_conversations_setup()
    from powerdesk.channels.wechat_store.models import WeChatAccount

    account = WeChatAccount.objects.get(slug="demo")
    followers = sim.simulated_followers(seed=9, count=15, bound_openids=[], bound_share=0)
    with running_demo_fake_wechat(token=account.token, encoding_aes_key=account.encoding_aes_key) as fake:
        sim.backfill(
            plan=sim.TrafficPlan(seed=9, followers=followers),
            account=account,
            messages=40,
            days=7,
            now=NOW,
            site_url="https://h5.example.cn",
            registry=sim.FakeFollowerRegistry(fake.url),
            original_id=ORIGINAL_ID,
        )
        known = {f["openid"]: f for f in fake.followers()}
    for follower in followers:
        if follower.following:
            assert known[follower.openid]["subscribe_time"] < NOW
    subscribed_in_window = [
        a for a in sim.TrafficPlan(seed=9, followers=followers).take(40) if a.kind == "subscribe"
    ]
    for action in subscribed_in_window:
        assert NOW - 7 * 86400 <= known[action.openid]["subscribe_time"] < NOW
