"""``handle_inbound`` without any channel protocol: the resolution order, the domain intents,
who may see which account, the inbox and its events, dedup, and deferred replies."""

from dataclasses import replace

import pytest
from django.utils import timezone

from powerdesk.billing.selectors import account_balance_fen, bills_with_status
from powerdesk.billing.testing import CORRECTION_FEN
from powerdesk.conversations import engine, services
from powerdesk.conversations.choices import Delivery, Direction, Intent, MessageKind, ReplyKind
from powerdesk.conversations.demo import DEMO_APP_ID, demo_conversations_setup
from powerdesk.conversations.engine import command_parser_register, handle_inbound
from powerdesk.conversations.messages import ChannelContext, InboundMessage, Reply, SenderIdentity
from powerdesk.conversations.models import ConversationMessage, KeywordRule
from powerdesk.conversations.services import keyword_rule_create
from powerdesk.events.models import DomainEvent

from .conftest import SHOWCASE_OPENID, STRANGER_OPENID

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
SITE = "https://wx.example.cn"
CONTEXT = ChannelContext(site_url=SITE, greeting="欢迎！")
_counter = iter(range(10**6))


def message(
    text="",
    *,
    openid=SHOWCASE_OPENID,
    kind=MessageKind.TEXT,
    event="",
    event_key="",
    key=None,
    account="demo",
):
    return InboundMessage(
        channel="wechat",
        channel_account=account,
        sender=SenderIdentity("wechat_openid", DEMO_APP_ID, openid),
        kind=kind,
        dedup_key=key or f"test:{next(_counter)}",
        received_at=timezone.now(),
        text=text,
        event=event,
        event_key=event_key,
    )


def ask(text="", **options):
    return handle_inbound(message(text, **options), context=CONTEXT)


@pytest.fixture
def rules(db):
    demo_conversations_setup()


# --- account data: only one's own ----------------------------------------------------------------


@pytest.mark.django_db
def test_bound_follower_gets_the_current_bill_with_exact_amounts(rules, showcase, account_a):
    _customer, history = showcase
    latest = bills_with_status(account_a)[0]
    assert latest.bill.period == history.latest_period
    reply = ask("电费")
    assert reply.kind == ReplyKind.LINK and reply.intent == Intent.BILL
    amount = f"{latest.bill.amount_fen // 100}.{latest.bill.amount_fen % 100:02d}"
    assert "户号 0000000001（张*）" in reply.text
    assert f"{latest.bill.period.year}年{latest.bill.period.month}月电费 {amount} 元" in reply.text, (
        reply.text
    )
    assert f"待缴 {amount} 元" in reply.text  # the newest bill is unpaid in the history
    assert f"缴费截止 {latest.bill.due_date.isoformat()}" in reply.text
    assert reply.links[0].url == f"{SITE}/h5/billing/"


@pytest.mark.django_db
def test_bound_follower_gets_balance_and_pay_link(rules, showcase, account_a):
    latest = bills_with_status(account_a)[0]
    # the unpaid newest bill plus the unpaid 退补 correction of an older month
    owed_fen = account_balance_fen(account_a)
    assert owed_fen == latest.bill.amount_fen + CORRECTION_FEN
    balance = ask("余额")
    owed = f"{owed_fen // 100}.{owed_fen % 100:02d}"
    assert balance.text == f"户号 0000000001（张*）：当前欠费 {owed} 元。"
    pay = ask("我要缴费")
    assert pay.kind == ReplyKind.LINK and pay.links[0].url == f"{SITE}/h5/billing/0000000001/pay/"


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["电费", "余额", "缴费", "查询账单"])
def test_unbound_follower_gets_the_binding_link_and_no_data(rules, showcase, account_a, account_b, text):
    reply = ask(text, openid=STRANGER_OPENID)
    assert reply.kind == ReplyKind.LINK
    assert [link.url for link in reply.links] == [f"{SITE}/h5/bind/"]
    for number in ("0000000001", "0000000002"):
        assert number not in reply.text
    assert "元" not in reply.text


@pytest.mark.django_db
def test_known_identity_without_bindings_gets_the_binding_link(rules, stranger, account_a):
    from powerdesk.customers.models import Identity

    Identity.objects.create(
        customer_user=stranger, provider="wechat_openid", app_id=DEMO_APP_ID, subject="o_new"
    )
    reply = ask("电费", openid="o_new")
    assert reply.links[0].url.endswith("/h5/bind/")


@pytest.mark.django_db
def test_the_same_openid_of_another_app_is_a_stranger(rules, showcase):
    other = replace(message("电费"), sender=SenderIdentity("wechat_openid", "wx_other_app", SHOWCASE_OPENID))
    reply = handle_inbound(other, context=CONTEXT)
    assert reply.links[0].url.endswith("/h5/bind/")


# --- honest answers for what does not exist yet -------------------------------------------------


@pytest.mark.django_db
def test_outage_repair_and_human_are_honest(rules, showcase):
    outage = ask("停电了吗")
    assert (
        outage.intent == Intent.OUTAGE and "即将上线" in outage.text and outage.links[0].url == f"{SITE}/h5/"
    )
    repair = ask("报修")
    assert "95598" in repair.text and "即将上线" in repair.text
    human = ask("转人工")
    assert "95598" in human.text


# --- the resolution order ------------------------------------------------------------------------


@pytest.mark.django_db
def test_events_subscribe_greets_unsubscribe_is_silent_and_menu_keys_resolve(rules, showcase):
    greeting = ask(kind=MessageKind.EVENT, event="subscribe")
    assert greeting.text.startswith("欢迎！") and "【电费】" in greeting.text
    assert (
        ask(kind=MessageKind.EVENT, event="subscribe", event_key="qrscene_hall_0101").intent
        == Intent.GREETING
    )
    assert ask(kind=MessageKind.EVENT, event="unsubscribe").kind == ReplyKind.NOTHING
    assert ask(kind=MessageKind.EVENT, event="click", event_key="BILL_QUERY").intent == Intent.BILL
    assert ask(kind=MessageKind.EVENT, event="click", event_key="balance").intent == Intent.BALANCE
    assert ask(kind=MessageKind.EVENT, event="click", event_key="NO_SUCH_KEY").intent == Intent.MENU
    assert ask(kind=MessageKind.EVENT, event="view", event_key="https://x").kind == ReplyKind.NOTHING


@pytest.mark.django_db
def test_event_keys_come_before_keyword_rules(rules):
    # a text "BILL_QUERY" rule must not hijack the menu key of the same spelling
    keyword_rule_create(
        channel_account="demo",
        match_kind="exact",
        pattern="BILL_QUERY",
        reply_kind="text",
        reply_text="hijacked",
    )
    assert ask(kind=MessageKind.EVENT, event="click", event_key="BILL_QUERY").intent == Intent.BILL


@pytest.mark.django_db
def test_keywords_then_sms_command_then_knowledge_base_then_fallback(rules, monkeypatch):
    calls = []
    command_parser_register(
        "wechat", lambda m: calls.append("command") or (Intent.MENU if m.text == "BZ" else None)
    )
    monkeypatch.setattr(engine, "_article_search", lambda: lambda **kw: calls.append("kb") or [])
    try:
        assert ask("电费").intent == Intent.BILL and calls == []  # keyword rule: nothing after it runs
        assert ask("BZ").intent == Intent.MENU and calls == ["command"]
        fallback = ask("今天天气怎么样")
        assert calls == ["command", "command", "kb"]
        assert fallback.intent == "fallback" and "【电费】" in fallback.text
    finally:
        engine._command_parsers.clear()


@pytest.mark.django_db
def test_knowledge_base_hits_become_articles(rules, monkeypatch):
    class Article:
        title = "电费缴纳方式一览"

        def get_absolute_url(self):
            return "/h5/articles/7/"

        def cover_url(self):
            return "/h5/articles/7/cover"

    class Hit:
        article, score, snippet = Article(), 3.5, "支持微信、支付宝……"

    monkeypatch.setattr(engine, "_article_search", lambda: lambda *, query, limit: [Hit()] * 10)
    reply = ask("怎么交钱")
    assert reply.kind == ReplyKind.ARTICLES and len(reply.articles) == 8
    assert reply.articles[0].url == f"{SITE}/h5/articles/7/"
    assert reply.articles[0].pic_url == f"{SITE}/h5/articles/7/cover"
    assert reply.articles[0].description == "支持微信、支付宝……"


@pytest.mark.django_db
def test_a_failing_knowledge_base_falls_back(rules, monkeypatch):
    def broken(**kw):
        raise RuntimeError("index gone")

    monkeypatch.setattr(engine, "_article_search", lambda: broken)
    assert ask("随便问问").intent == "fallback"


@pytest.mark.django_db
def test_location_asks_for_outage_and_media_get_the_fallback(rules):
    assert ask(kind=MessageKind.LOCATION).intent == Intent.OUTAGE
    assert ask(kind=MessageKind.IMAGE).intent == "fallback"
    assert ask("电费", kind=MessageKind.VOICE).intent == Intent.BILL  # recognised speech


@pytest.mark.django_db
def test_rule_replies_text_articles_image(rules):
    keyword_rule_create(
        channel_account="demo",
        match_kind="exact",
        pattern="营业时间",
        reply_kind="text",
        reply_text="8:30-17:00",
    )
    keyword_rule_create(
        channel_account="demo",
        match_kind="exact",
        pattern="指南",
        reply_kind="articles",
        reply_articles=[{"title": "用电指南", "url": "https://x/1"}],
    )
    keyword_rule_create(
        channel_account="demo",
        match_kind="exact",
        pattern="二维码",
        reply_kind="image",
        reply_media_id="MEDIA1",
    )
    assert ask("营业时间").text == "8:30-17:00"
    assert ask("指南").articles[0].title == "用电指南"
    assert ask("二维码").media_id == "MEDIA1"


# --- inbox, events, dedup ------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_message_and_reply_is_stored_and_emitted(rules, showcase):
    customer, _history = showcase
    reply = handle_inbound(
        message("电费", key="msgid:42"), context=CONTEXT, render=lambda r: "<xml>rendered</xml>"
    )
    inbound = ConversationMessage.objects.get(direction=Direction.INBOUND)
    outbound = ConversationMessage.objects.get(direction=Direction.OUTBOUND)
    assert (inbound.customer_user_id, inbound.sender_subject, inbound.text) == (
        customer.pk,
        SHOWCASE_OPENID,
        "电费",
    )
    assert outbound.rendered_reply == reply.rendered == "<xml>rendered</xml>"
    assert (
        outbound.reply_to == inbound
        and outbound.intent == Intent.BILL
        and outbound.delivery == Delivery.PASSIVE
    )
    assert outbound.keyword_rule == KeywordRule.objects.get(pattern="电费")
    assert KeywordRule.objects.get(pattern="电费").hit_count == 1
    events = list(
        DomainEvent.objects.filter(kind__startswith="conversation.").values_list("kind", "customer_user_id")
    )
    assert events == [
        ("conversation.message_received", customer.pk),
        ("conversation.reply_sent", customer.pk),
    ]


@pytest.mark.django_db
def test_a_retry_is_stored_once_acts_once_and_gets_the_same_reply(rules, showcase):
    renders = iter(["<xml>first</xml>", "<xml>second</xml>", "<xml>third</xml>"])
    replies = [
        handle_inbound(message("电费", key="msgid:7"), context=CONTEXT, render=lambda r: next(renders))
        for _ in range(3)
    ]
    assert [r.rendered for r in replies] == ["<xml>first</xml>"] * 3
    assert [r.replayed for r in replies] == [False, True, True]
    assert replies[1].as_payload() == replies[0].as_payload()
    assert ConversationMessage.objects.filter(direction=Direction.INBOUND).count() == 1
    assert ConversationMessage.objects.filter(direction=Direction.OUTBOUND).count() == 1
    assert DomainEvent.objects.filter(kind__startswith="conversation.").count() == 2
    assert KeywordRule.objects.get(pattern="电费").hit_count == 1


@pytest.mark.django_db
def test_the_same_dedup_key_on_another_account_is_another_message(rules):
    ask("电费", key="msgid:1")
    ask("电费", key="msgid:1", account="other")
    assert ConversationMessage.objects.filter(direction=Direction.INBOUND).count() == 2


# --- deferred replies ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_reply_past_its_deadline_is_deferred_to_the_channel_api(
    rules, showcase, django_capture_on_commit_callbacks, monkeypatch, settings
):
    settings.TASKS = IMMEDIATE
    monkeypatch.setitem(services.REPLY_SENDERS, "wechat", f"{__name__}.record_send")
    SENT.clear()
    late = ChannelContext(site_url=SITE, passive_reply_seconds=4.0, started_at=0.0)  # "arrived" long ago
    with django_capture_on_commit_callbacks(execute=True):
        reply = handle_inbound(message("余额"), context=late, render=lambda r: "<xml/>")
    assert reply.deferred and reply.rendered == ""
    outbound = ConversationMessage.objects.get(direction=Direction.OUTBOUND)
    assert outbound.delivery == Delivery.SENT and outbound.delivered_at is not None
    assert SENT == [("demo", SHOWCASE_OPENID, Reply.from_payload(outbound.payload))]
    assert DomainEvent.objects.filter(kind="conversation.reply_sent").count() == 1


SENT: list = []


def record_send(*, channel_account, recipient, reply):
    SENT.append((channel_account, recipient, reply))


def test_reply_payload_round_trips():
    from powerdesk.conversations.messages import Article, Link

    reply = Reply(kind=ReplyKind.LINK, text="t", links=(Link("a", "https://a"),), intent="pay", rule_id=3)
    assert Reply.from_payload(reply.as_payload()) == reply
    news = Reply(kind=ReplyKind.ARTICLES, articles=(Article("x", "d", "u", "p"),))
    assert Reply.from_payload(news.as_payload()) == news
    with pytest.raises(ValueError):
        Reply(kind=ReplyKind.ARTICLES, articles=())


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_racing_retries_are_stored_once_and_all_get_the_first_answer(rules, showcase):
    import threading
    import time

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections (PostgreSQL)")
    start = threading.Barrier(4)
    answers: list[str] = []
    renders = iter(range(100))

    def render(reply):
        time.sleep(0.2)  # hold the first transaction open while the others arrive
        return f"<xml>{next(renders)}</xml>"

    def retry():
        try:
            start.wait()
            answers.append(
                handle_inbound(message("电费", key="msgid:race"), context=CONTEXT, render=render).rendered
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 4 and len(set(answers)) == 1
    assert ConversationMessage.objects.filter(direction=Direction.INBOUND).count() == 1
    assert DomainEvent.objects.filter(kind="conversation.message_received").count() == 1


@pytest.mark.django_db
def test_the_accounts_own_default_reply_replaces_the_built_in_fallback(rules):
    from powerdesk.conversations.models import AutoReplySettings

    built_in = ask("今天天气怎么样", kind=MessageKind.TEXT)
    assert built_in.intent == "fallback" and "抱歉" in built_in.text
    AutoReplySettings.objects.update_or_create(
        channel="wechat", channel_account="demo", defaults={"fallback_text": "请拨打 95598 供电服务热线。"}
    )

    own = ask("今天天气怎么样？", kind=MessageKind.TEXT)

    assert (own.intent, own.text) == ("fallback", "请拨打 95598 供电服务热线。")


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_a_bound_followers_bill_question_is_two_statements_on_postgresql(rules, showcase, django_assert_num_queries):
    """The sender with their accounts' newest bills (one read), then the message, reply, events,
    thread and hit count (one write) — docs/performance.md, fifth pass."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the one-statement write is PostgreSQL's (SQLite writes in order)")
    ask("电费")  # the keyword rules are loaded and cached by the first message
    with django_assert_num_queries(2):
        reply = ask("电费")
    assert reply.intent == Intent.BILL and "户号 0000000001（张*）" in reply.text
    stored = ConversationMessage.objects.filter(direction=Direction.INBOUND).order_by("-id").first()
    assert stored.customer_user_id == showcase[0].pk  # the sender found by the same read
