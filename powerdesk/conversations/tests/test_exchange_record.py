"""``services.exchange_record``: a message and its resolved reply stored together — on PostgreSQL
as one statement that writes exactly what the step-by-step path writes, or nothing at all for a
dedup key already taken."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from powerdesk.conversations import services
from powerdesk.conversations.choices import Delivery, Direction, Intent, MessageKind
from powerdesk.conversations.demo import DEMO_APP_ID, demo_conversations_setup
from powerdesk.conversations.messages import InboundMessage, Reply, SenderIdentity
from powerdesk.conversations.models import Conversation, ConversationMessage, KeywordRule
from powerdesk.events.models import DomainEvent

from .conftest import SHOWCASE_OPENID

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the one-statement write is PostgreSQL's (SQLite runs it in order)"
)


def _message(text="电费", *, key="msgid:1", kind=MessageKind.TEXT, event="", openid=SHOWCASE_OPENID):
    return InboundMessage(
        channel="wechat",
        channel_account="demo",
        sender=SenderIdentity("wechat_openid", DEMO_APP_ID, openid),
        kind=kind,
        dedup_key=key,
        received_at=timezone.now(),
        text=text,
        event=event,
        raw={"MsgType": "text", "Content": text},
    )


def _rule_reply():
    rule = KeywordRule.objects.get(pattern="电费")
    return Reply.text_reply("2026年10月电费 128.50 元", intent=Intent.BILL, rule_id=rule.pk)


# Values that are "now" when each path runs: compared as set or not.
_CLOCK_FIELDS = {"delivered_at", "updated_at", "last_hit_at"}


def _snapshot():
    """Everything the write touched, with database keys replaced by what they point at."""
    names = {}
    messages = []
    for row in ConversationMessage.objects.order_by("id").values():
        names[row["id"]] = f"message{len(names)}"
        messages.append(row)
    for row in messages:
        row["id"] = names[row["id"]]
        row["reply_to_id"] = names.get(row["reply_to_id"])
        for field in _CLOCK_FIELDS & set(row):
            row[field] = row[field] is not None
        if row["direction"] == Direction.OUTBOUND:  # inbound: the message's own time
            row["created_at"] = row["created_at"] is not None
    events = []
    for row in DomainEvent.objects.filter(kind__startswith="conversation.").order_by("kind").values():
        row.pop("id")
        payload = dict(row["payload"])
        for key in ("message_id", "reply_to"):
            if key in payload:
                payload[key] = names.get(payload[key], payload[key])
        row["payload"] = payload
        if row["kind"] == "conversation.reply_sent":
            row["occurred_at"] = row["occurred_at"] is not None
        events.append(row)
    threads = []
    for row in Conversation.objects.order_by("id").values():
        row.pop("id")
        row["last_message_id"] = names.get(row["last_message_id"])
        for field in _CLOCK_FIELDS & set(row):
            row[field] = row[field] is not None
        threads.append(row)
    rules = list(KeywordRule.objects.order_by("id").values_list("pattern", "hit_count"))
    return {"messages": messages, "events": events, "threads": threads, "rules": rules}


def _written_by(write, **arguments):
    """What ``write`` leaves in the database, then undone (savepoint), so both paths start alike."""
    savepoint = transaction.savepoint()
    stored = write(**arguments)
    snapshot = _snapshot()
    transaction.savepoint_rollback(savepoint)
    return stored, snapshot


CASES = {
    "rule answer, bound follower": dict(message=("电费", MessageKind.TEXT, ""), reply="rule", delivery=Delivery.PASSIVE),
    "fallback: the thread needs a person": dict(
        message=("今天天气", MessageKind.TEXT, ""), reply="fallback", delivery=Delivery.PASSIVE
    ),
    "deferred: reply_sent waits for the API": dict(
        message=("电费", MessageKind.TEXT, ""), reply="rule", delivery=Delivery.DEFERRED
    ),
    "WeChat's own report: no thread, no answer": dict(
        message=("", MessageKind.EVENT, "masssendjobfinish"), reply="nothing", delivery=Delivery.NONE
    ),
}


@postgresql_only
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("thread_exists", [False, True], ids=["first contact", "known follower"])
def test_the_one_statement_writes_what_the_step_by_step_path_writes(customer, case, thread_exists):
    demo_conversations_setup()
    if thread_exists:  # an earlier message: the thread is updated, not created
        services.exchange_record(
            message=_message("你好", key="msgid:earlier"),
            customer_user_id=customer.pk,
            reply=Reply.text_reply("您好", intent="fallback"),
            delivery=Delivery.PASSIVE,
        )
    text, kind, event = case["message"]
    reply = {
        "rule": _rule_reply,
        "fallback": lambda: Reply.text_reply("抱歉，暂时没有找到……", intent="fallback"),
        "nothing": lambda: Reply.nothing(intent=Intent.SILENT),
    }[case["reply"]]()
    arguments = dict(
        message=_message(text, kind=kind, event=event),
        customer_user_id=customer.pk,
        reply=reply,
        delivery=case["delivery"],
        rendered="<xml>answer</xml>" if case["delivery"] == Delivery.PASSIVE else "",
    )

    one_statement, ours = _written_by(services._exchange_record_one_statement, **arguments)
    in_order, theirs = _written_by(services._exchange_record_in_order, **arguments)

    for part in ours:
        for a, b in zip(ours[part], theirs[part], strict=True):
            assert a == b, {k: (a[k], b[k]) for k in a if a[k] != b[k]} if isinstance(a, dict) else (a, b)
    assert ours == theirs
    assert one_statement is not None and in_order is not None
    assert one_statement[1].reply_to_id == one_statement[0].pk
    assert len(ours["messages"]) == (4 if thread_exists else 2)


@postgresql_only
def test_it_is_one_statement_on_postgresql(customer, django_assert_num_queries):
    demo_conversations_setup()
    reply = _rule_reply()
    with django_assert_num_queries(1):
        stored = services.exchange_record(
            message=_message(), customer_user_id=customer.pk, reply=reply, delivery=Delivery.PASSIVE
        )
    inbound, outbound = stored
    assert ConversationMessage.objects.get(pk=outbound.pk).reply_to_id == inbound.pk
    assert Conversation.objects.get().last_message_id == inbound.pk
    received, sent = DomainEvent.objects.filter(kind__startswith="conversation.").order_by("kind")
    assert received.payload["message_id"] == inbound.pk
    assert (sent.payload["message_id"], sent.payload["reply_to"]) == (outbound.pk, inbound.pk)


def test_a_taken_dedup_key_writes_nothing_at_all(customer):
    demo_conversations_setup()
    arguments = dict(customer_user_id=customer.pk, reply=_rule_reply(), delivery=Delivery.PASSIVE)
    first = services.exchange_record(message=_message(key="msgid:9"), **arguments)
    before = _snapshot()

    again = services.exchange_record(message=_message("电费 again", key="msgid:9"), **arguments)

    assert first is not None and again is None
    assert _snapshot() == before
    assert KeywordRule.objects.get(pattern="电费").hit_count == 1
    assert Conversation.objects.get().unread_count == 1
    assert ConversationMessage.objects.filter(direction=Direction.INBOUND).count() == 1


def test_outside_a_transaction_the_write_is_whole(customer, transactional_db):
    """Autocommit (as in the callback): the statement — on SQLite its own transaction — commits
    all it wrote at once, or nothing: a reply naming a rule that does not exist fails the
    foreign key check at commit, and neither message, event nor thread remains."""
    demo_conversations_setup()
    assert not connection.in_atomic_block
    arguments = dict(customer_user_id=customer.pk, delivery=Delivery.PASSIVE)
    gone = Reply.text_reply("电费", intent=Intent.BILL, rule_id=KeywordRule.objects.order_by("-id")[0].pk + 1000)

    with pytest.raises(IntegrityError):
        services.exchange_record(message=_message(key="msgid:broken"), reply=gone, **arguments)
    assert _snapshot()["messages"] == _snapshot()["threads"] == _snapshot()["events"] == []

    stored = services.exchange_record(message=_message(key="msgid:whole"), reply=_rule_reply(), **arguments)
    assert ConversationMessage.objects.filter(reply_to=stored[0]).get().pk == stored[1].pk
    assert DomainEvent.objects.filter(kind__startswith="conversation.").count() == 2


@postgresql_only
def test_the_statement_stays_within_what_psycopg_caches(customer):
    """psycopg converts a statement's ``%s`` placeholders afresh on every call unless it is at
    most 4,096 characters with at most 50 parameters (then the conversion is cached): the
    statement's largest form (thread, both events, a rule hit) must stay within both."""
    from psycopg import _queries as psycopg_queries  # the limits are psycopg's own (3.x)

    demo_conversations_setup()
    reply = _rule_reply()
    seen = []

    def spy(execute, sql, params, many, context):
        seen.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        services.exchange_record(
            message=_message(), customer_user_id=customer.pk, reply=reply, delivery=Delivery.PASSIVE
        )
    ((sql, params),) = seen
    assert sql.count(" AS (") == 6  # inbound, reply, two events, thread, rule hit
    assert len(params) <= psycopg_queries.MAX_CACHED_STATEMENT_PARAMS
    assert len(sql) <= psycopg_queries.MAX_CACHED_STATEMENT_LENGTH
