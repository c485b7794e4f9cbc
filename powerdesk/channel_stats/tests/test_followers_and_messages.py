"""Follower growth and messages by kind, per Asia/Shanghai day, from the inbox — exact numbers
from hand-made rows, with events placed on both sides of midnight."""

from datetime import date

from powerdesk.channel_stats.selectors import (
    FollowerDay,
    StatsPeriod,
    follower_days,
    message_days,
)
from powerdesk.channel_stats.tests.builders import event, inbound
from powerdesk.conversations.choices import MessageKind

MARCH = StatsPeriod(date(2026, 3, 1), date(2026, 3, 3))


def test_followers_count_by_local_day_with_net_and_running_total(demo, other_account):
    # Before the period: 3 came, 1 went → the running total starts at 2.
    event(demo, "subscribe", at="2026-02-10 09:00:00", sender="a")
    event(demo, "subscribe", at="2026-02-20 09:00:00", sender="b")
    event(demo, "subscribe", at="2026-02-28 23:59:59", sender="c")  # 15:59:59 UTC: still February here
    event(demo, "unsubscribe", at="2026-02-28 12:00:00", sender="a")
    # 1 March: 2 came (one exactly at local midnight, i.e. 16:00 UTC the day before), 1 went.
    event(demo, "subscribe", at="2026-03-01 00:00:00", sender="d")
    event(demo, "subscribe", at="2026-03-01 18:30:00", sender="e")
    event(demo, "unsubscribe", at="2026-03-01 20:00:00", sender="b")
    # 2 March: nothing. 3 March: 0 came, 2 went, the last one second before local midnight.
    event(demo, "unsubscribe", at="2026-03-03 08:00:00", sender="c")
    event(demo, "unsubscribe", at="2026-03-03 23:59:59", sender="d")
    # After the period, another account, and other events: none of them count.
    event(demo, "subscribe", at="2026-03-04 00:00:00", sender="f")
    event(other_account, "subscribe", at="2026-03-02 10:00:00", sender="g")
    event(demo, "click", at="2026-03-02 10:00:00", sender="e", key="BILL_QUERY")
    inbound(demo, at="2026-03-02 10:00:00", sender="e", text="subscribe")

    assert follower_days(account=demo, period=MARCH) == [
        FollowerDay(date(2026, 3, 1), subscribed=2, unsubscribed=1, net=1, cumulative=3),
        FollowerDay(date(2026, 3, 2), subscribed=0, unsubscribed=0, net=0, cumulative=3),
        FollowerDay(date(2026, 3, 3), subscribed=0, unsubscribed=2, net=-2, cumulative=1),
    ]


def test_a_retried_subscribe_event_counts_once(demo):
    key = "event:o_x:1772294400:subscribe:"
    assert event(demo, "subscribe", at="2026-03-01 10:00:00", sender="o_x", dedup_key=key) is not None
    assert (
        event(demo, "subscribe", at="2026-03-01 10:00:03", sender="o_x", dedup_key=key) is None
    )  # WeChat's retry

    [day, *_rest] = follower_days(account=demo, period=MARCH)
    assert (day.subscribed, day.cumulative) == (1, 1)


def test_messages_by_kind_and_senders_per_local_day(demo, other_account):
    inbound(demo, at="2026-03-01 00:00:00", sender="a", text="电费")
    inbound(demo, at="2026-03-01 09:00:00", sender="a", text="余额")
    inbound(demo, at="2026-03-01 09:05:00", sender="b", kind=MessageKind.IMAGE)
    inbound(demo, at="2026-03-01 23:59:59", sender="c", kind=MessageKind.VOICE, text="缴费")
    inbound(demo, at="2026-03-03 12:00:00", sender="a", kind=MessageKind.LOCATION)
    inbound(demo, at="2026-03-03 12:00:01", sender="a", kind=MessageKind.OTHER)
    # not messages of the period: the day before, events, another account
    inbound(demo, at="2026-02-28 23:59:59", sender="a", text="电费")
    event(demo, "subscribe", at="2026-03-01 10:00:00", sender="d")
    inbound(other_account, at="2026-03-01 10:00:00", sender="e", text="电费")

    days = message_days(account=demo, period=MARCH)

    assert [(d.day, d.total, d.senders) for d in days] == [
        (date(2026, 3, 1), 4, 3),
        (date(2026, 3, 2), 0, 0),
        (date(2026, 3, 3), 2, 1),
    ]
    assert days[0].by_kind == {
        "text": 2,
        "image": 1,
        "voice": 1,
        "video": 0,
        "location": 0,
        "link": 0,
        "other": 0,
    }
    assert days[2].by_kind["location"] == 1 and days[2].by_kind["other"] == 1
