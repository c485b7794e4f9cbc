"""Menu clicks per button (with names when known), H5 article reads, keyword rule hits."""

from datetime import date

import pytest
from django.apps import apps

from powerdesk.channel_stats.selectors import (
    ArticleReadDay,
    ArticleReads,
    MenuItemClicks,
    StatsPeriod,
    article_read_days,
    keyword_hits,
    menu_clicks,
    top_articles_read,
)
from powerdesk.channel_stats.services import menu_labels_store
from powerdesk.channel_stats.tests.builders import event, inbound, local, rule_reply
from powerdesk.content.events import ARTICLE_READ
from powerdesk.content.models import Article
from powerdesk.conversations.choices import Intent, MatchKind, RuleReplyKind
from powerdesk.conversations.services import keyword_rule_create
from powerdesk.events.choices import Channel
from powerdesk.events.services import event_record

MARCH = StatsPeriod(date(2026, 3, 1), date(2026, 3, 3))
BILLS_URL = "https://h5.example.cn/h5/billing/"
PUBLISHED_MENU = {
    "menu": {
        "button": [
            {
                "name": "电费服务",
                "sub_button": [
                    {"type": "click", "name": "查电费", "key": "BILL_QUERY", "sub_button": []},
                    {"type": "view", "name": "我的账单", "url": BILLS_URL, "sub_button": []},
                ],
            },
            {"type": "click", "name": "停电查询", "key": "OUTAGE_QUERY"},
        ]
    }
}


def test_menu_clicks_per_button_named_from_the_published_menu(demo, other_account):
    menu_labels_store(app_id=demo.app_id, menu=PUBLISHED_MENU)
    for sender in ("a", "a", "b"):
        event(demo, "click", at="2026-03-01 00:00:00", sender=sender, key="BILL_QUERY")
    event(demo, "view", at="2026-03-02 10:00:00", sender="a", key=BILLS_URL)
    event(demo, "click", at="2026-03-03 23:59:59", sender="c", key="HUMAN_SERVICE")  # not in the menu: intent
    event(demo, "click", at="2026-03-03 11:00:00", sender="c", key="LEGACY_KEY")  # nobody knows it
    # outside the period or the account, or not a menu event
    event(demo, "click", at="2026-02-28 23:59:59", sender="a", key="BILL_QUERY")
    event(other_account, "click", at="2026-03-02 10:00:00", sender="a", key="BILL_QUERY")
    event(demo, "subscribe", at="2026-03-02 10:00:00", sender="d", key="qrscene_7")

    assert menu_clicks(account=demo, period=MARCH) == [
        MenuItemClicks("click", "BILL_QUERY", "查电费", "电费服务", clicks=3, users=2),
        MenuItemClicks("click", "HUMAN_SERVICE", str(Intent.HUMAN.label), "", clicks=1, users=1),
        MenuItemClicks("click", "LEGACY_KEY", "", "", clicks=1, users=1),
        MenuItemClicks("view", BILLS_URL, "我的账单", "电费服务", clicks=1, users=1),
    ]


def test_menu_names_are_kept_when_a_button_leaves_the_menu(demo):
    menu_labels_store(app_id=demo.app_id, menu=PUBLISHED_MENU)
    menu_labels_store(
        app_id=demo.app_id, menu={"menu": {"button": [{"type": "click", "name": "报修", "key": "R"}]}}
    )
    menu_labels_store(app_id=demo.app_id, menu=None)  # the menu was deleted
    event(demo, "click", at="2026-03-01 10:00:00", key="OUTAGE_QUERY")

    [item] = menu_clicks(account=demo, period=MARCH)

    assert item.name == "停电查询"
    from powerdesk.channel_stats.models import MenuItemLabel

    assert not MenuItemLabel.objects.filter(in_menu=True).exists()
    assert MenuItemLabel.objects.count() == 4  # three of the first menu, one of the second


@pytest.mark.skipif(not apps.is_installed("powerdesk.menus"), reason="the menus app names published buttons")
def test_a_button_we_published_is_named_before_the_menu_is_read_back(demo):
    publication = apps.get_model("menus", "MenuPublication")
    publication.objects.create(
        account=demo,
        action="publish",
        outcome="ok",
        buttons=[{"type": "click", "name": "积分查询", "key": "POINTS"}],
    )
    publication.objects.create(
        account=demo,
        action="publish",
        outcome="failed",
        buttons=[{"type": "click", "name": "错", "key": "POINTS"}],
    )
    event(demo, "click", at="2026-03-02 10:00:00", key="POINTS")

    [item] = menu_clicks(account=demo, period=MARCH)

    assert item.name == "积分查询"


def _read(article_id: int, *, at: str, customer: int | None = None) -> None:
    event_record(
        ARTICLE_READ,
        channel=Channel.H5,
        customer_user_id=customer,
        payload={"article_id": article_id},
        occurred_at=local(at),
    )


def test_article_reads_per_local_day_and_most_read(db):
    guide = Article.objects.create(
        title="如何在线缴费", body="…", status="published", published_at=local("2026-01-01 00:00:00")
    )
    notice = Article.objects.create(
        title="夏季安全用电", body="…", status="published", published_at=local("2026-01-01 00:00:00")
    )
    _read(guide.pk, at="2026-03-01 00:00:00", customer=7)
    _read(guide.pk, at="2026-03-01 08:00:00", customer=7)
    _read(guide.pk, at="2026-03-01 09:00:00")  # not signed in
    _read(notice.pk, at="2026-03-01 23:59:59", customer=8)
    _read(notice.pk, at="2026-03-03 12:00:00", customer=7)
    _read(guide.pk, at="2026-02-28 23:59:59", customer=9)  # the day before
    _read(guide.pk, at="2026-03-04 00:00:00", customer=9)  # the day after

    assert article_read_days(period=MARCH) == [
        ArticleReadDay(date(2026, 3, 1), reads=4, readers=2),
        ArticleReadDay(date(2026, 3, 2), reads=0, readers=0),
        ArticleReadDay(date(2026, 3, 3), reads=1, readers=1),
    ]
    assert top_articles_read(period=MARCH) == [
        ArticleReads(guide.pk, "如何在线缴费", 3),
        ArticleReads(notice.pk, "夏季安全用电", 2),
    ]


def test_keyword_hits_in_the_period_beside_the_lifetime_count(demo, other_account):
    def rule(pattern, priority, account=demo):
        return keyword_rule_create(
            channel_account=account.slug,
            match_kind=MatchKind.CONTAINS,
            pattern=pattern,
            reply_kind=RuleReplyKind.INTENT,
            reply_intent=Intent.BILL,
            priority=priority,
        )

    bill, balance, idle = rule("电费", 10), rule("余额", 20), rule("停电", 30)
    foreign = rule("电费", 10, account=other_account)
    from powerdesk.conversations.models import KeywordRule

    KeywordRule.objects.filter(pk=bill.pk).update(hit_count=41)  # hits from before the period too
    for at in ("2026-03-01 00:00:00", "2026-03-02 12:00:00", "2026-03-03 23:59:59"):
        rule_reply(inbound(demo, at=at, text="电费"), bill, at=at)
    rule_reply(inbound(demo, at="2026-03-02 13:00:00", text="余额"), balance, at="2026-03-02 13:00:00")
    rule_reply(inbound(demo, at="2026-02-28 23:59:59", text="余额"), balance, at="2026-02-28 23:59:59")
    rule_reply(
        inbound(other_account, at="2026-03-02 13:00:00", text="电费"), foreign, at="2026-03-02 13:00:00"
    )

    hits = keyword_hits(account=demo, period=MARCH)

    assert [(h.pattern, h.hits, h.hit_count, h.active) for h in hits] == [
        ("电费", 3, 41, True),
        ("余额", 1, 0, True),
        ("停电", 0, 0, True),
    ]
    assert hits[0].match_kind == str(MatchKind.CONTAINS.label)
    assert hits[0].reply == f"{RuleReplyKind.INTENT.label}：{Intent.BILL.label}"
    assert idle.pk == hits[2].rule_id
