"""``insert_rows`` writes exactly what ``save()`` would, skips conflicts when told, and refuses
what it cannot do right."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict

from powerdesk.conversations.models import Conversation, ConversationMessage
from powerdesk.core.rowsql import (
    WriteBatch,
    insert_rows,
    insert_select_statement,
    insert_statement,
    select_rows,
)
from powerdesk.events.models import DomainEvent

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 23, 8, 30, 15, 123456, tzinfo=UTC)


def _message(**changes) -> ConversationMessage:
    values = dict(
        direction="inbound",
        channel="wechat",
        channel_account="demo",
        sender_provider="wechat_openid",
        sender_app_id="wx5d3a1c0e9b7f2468",
        sender_subject="o_follower",
        kind="text",
        text="电费 'quoted' \"double\" %s %(x)s",
        payload={"raw": {"Content": "电费", "MsgId": 24561234567890123}, "nested": [1, 2.5, None, True]},
        dedup_key="msgid:1",
        created_at=AT,
    )
    values.update(changes)
    return ConversationMessage(**values)


def test_a_row_reads_back_as_the_same_row_saved_by_the_orm():
    ours, theirs = _message(dedup_key="msgid:1"), _message(dedup_key="msgid:2")
    insert_rows([ours], returning_pk=True)
    theirs.save()
    ours_read, theirs_read = (model_to_dict(ConversationMessage.objects.get(pk=m.pk)) for m in (ours, theirs))
    for row in (ours_read, theirs_read):
        row.pop("id")
        row.pop("dedup_key")
    assert ours_read == theirs_read
    assert ConversationMessage.objects.get(pk=ours.pk).created_at == AT


def test_several_rows_go_in_one_statement_and_get_their_keys(django_assert_num_queries):
    events = [
        DomainEvent(kind="conversation.message_received", channel="wechat", occurred_at=AT, payload={"n": n})
        for n in range(3)
    ]
    with django_assert_num_queries(1):
        insert_rows(events)
    assert sorted(e.payload["n"] for e in DomainEvent.objects.filter(pk__in=[e.pk for e in events])) == [0, 1, 2]
    messages = [_message(dedup_key=f"msgid:{n}") for n in range(3)]
    keys = insert_rows(messages, returning_pk=True)
    assert keys == [m.pk for m in messages] and len(set(keys)) == 3
    assert [ConversationMessage.objects.get(pk=m.pk).dedup_key for m in messages] == ["msgid:0", "msgid:1", "msgid:2"]


def test_auto_now_fields_are_set_as_save_sets_them():
    thread = Conversation(
        channel="wechat",
        channel_account="demo",
        sender_provider="wechat_openid",
        sender_subject="o_follower",
        last_message_at=AT,
    )
    before = datetime.now(UTC)
    insert_rows([thread], returning_pk=True)
    assert Conversation.objects.get(pk=thread.pk).updated_at >= before


def test_on_conflict_nothing_skips_a_duplicate_and_says_so():
    (first,) = insert_rows([_message()], on_conflict="nothing", returning_pk=True)
    assert first is not None
    duplicate = _message(text="another text, same dedup key")
    assert insert_rows([duplicate], on_conflict="nothing", returning_pk=True) == [None]
    assert duplicate.pk is None
    assert list(ConversationMessage.objects.values_list("text", flat=True)) == [_message().text]


def test_without_on_conflict_a_duplicate_raises_and_stores_nothing():
    insert_rows([_message()])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows([_message(text="second")])
    assert ConversationMessage.objects.count() == 1


def test_it_refuses_what_it_cannot_report_or_mix():
    with pytest.raises(ValueError, match="one row at a time"):
        insert_rows([_message(), _message(dedup_key="msgid:9")], on_conflict="nothing", returning_pk=True)
    with pytest.raises(TypeError, match="DomainEvent among ConversationMessage"):
        insert_rows([_message(), DomainEvent(kind="x", channel="wechat", occurred_at=AT)])
    assert insert_rows([], returning_pk=True) == []
    assert not ConversationMessage.objects.exists()


def test_select_rows_gives_instances_with_converted_values_extras_and_deferred_fields():
    stored = _message()
    stored.save()
    table = ConversationMessage._meta.db_table
    (row,) = select_rows(
        ConversationMessage,
        f'SELECT "created_at", "id", "payload", 41 + 1 AS answer FROM "{table}" WHERE "id" = %s',  # noqa: S608
        [stored.pk],
        fields=("created_at", "id", "payload"),
    )
    assert (row.pk, row.created_at, row.payload, row.answer) == (stored.pk, AT, stored.payload, 42)
    assert row.get_deferred_fields() >= {"text", "dedup_key"}
    assert row.text == stored.text  # a deferred field loads when read
    assert select_rows(ConversationMessage, f'SELECT "id" FROM "{table}" WHERE "id" = %s', [0], fields=("id",)) == []  # noqa: S608


def test_a_write_batch_is_one_statement_on_postgresql_with_the_same_effect(django_assert_num_queries):
    """Events, a thread upsert and a counter UPDATE — the callback's last writes — go as one
    statement on PostgreSQL (WITH clauses) and one by one elsewhere; the rows come out the same."""
    from django.db import connection

    from powerdesk.conversations.models import KeywordRule

    rule = KeywordRule.objects.create(
        channel="wechat", channel_account="demo", match_kind="exact", pattern="电费",
        reply_kind="text", reply_text="电费请看账单",
    )
    inbound = _message(dedup_key="msgid:batch")
    insert_rows([inbound], returning_pk=True)
    thread = Conversation(
        channel="wechat",
        channel_account="demo",
        sender_provider="wechat_openid",
        sender_app_id="wx5d3a1c0e9b7f2468",
        sender_subject="o_follower",
        last_message_id=inbound.pk,
        last_message_at=AT,
        unread_count=1,
        created_at=AT,
    )
    events = [
        DomainEvent(kind="conversation.reply_sent", channel="wechat", occurred_at=AT, payload={"n": n})
        for n in range(2)
    ]
    batch = WriteBatch()
    batch.add(*insert_statement(events))
    batch.add(*insert_statement([thread]))
    batch.add('UPDATE "conversations_keywordrule" SET "hit_count" = "hit_count" + %s WHERE "id" = %s', [2, rule.pk])
    statements = 1 if connection.vendor == "postgresql" else 3
    with django_assert_num_queries(statements):
        batch.run()
    assert DomainEvent.objects.filter(pk__in=[e.pk for e in events]).count() == 2
    assert Conversation.objects.get(sender_subject="o_follower").last_message_id == inbound.pk
    rule.refresh_from_db()
    assert rule.hit_count == 2
    assert batch.statements == []  # run empties it: running again writes nothing
    with django_assert_num_queries(0):
        batch.run()


def test_a_write_batch_refuses_statements_that_return_rows():
    with pytest.raises(ValueError, match="return nothing"):
        WriteBatch().add(*insert_statement([_message()], returning_pk=True))


def test_a_failing_statement_in_a_batch_leaves_nothing_of_the_batch():
    """One statement (or, on SQLite, the caller's transaction) — all or nothing."""
    first = _message(dedup_key="msgid:taken")
    insert_rows([first], returning_pk=True)
    event = DomainEvent(kind="conversation.reply_sent", channel="wechat", occurred_at=AT, payload={})
    batch = WriteBatch()
    batch.add(*insert_statement([event]))
    batch.add(*insert_statement([_message(dedup_key="msgid:taken")]))  # violates the dedup constraint
    with pytest.raises(IntegrityError), transaction.atomic():
        batch.run()
    assert not DomainEvent.objects.filter(pk=event.pk).exists()


def test_select_rows_sends_init_signals_when_someone_listens():
    """Instances are built without ``__init__`` unless a pre/post_init receiver exists for the
    model, in which case they go through ``from_db`` and the receiver runs."""
    from django.db.models.signals import post_init

    insert_rows([_message(dedup_key="msgid:init")], returning_pk=True)
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    sql = 'SELECT "id", "dedup_key" FROM "conversations_conversationmessage" WHERE "dedup_key" = %s'
    quiet = select_rows(ConversationMessage, sql, ["msgid:init"], fields=("id", "dedup_key"))
    post_init.connect(receiver, sender=ConversationMessage)
    try:
        heard = select_rows(ConversationMessage, sql, ["msgid:init"], fields=("id", "dedup_key"))
    finally:
        post_init.disconnect(receiver, sender=ConversationMessage)
    assert seen == heard and len(heard) == 1
    for instance in (quiet[0], heard[0]):
        assert instance.dedup_key == "msgid:init" and not instance._state.adding
        assert instance.get_deferred_fields() >= {"text", "payload"}
        assert instance.text == _message().text  # a deferred field loads when read


# --- insert_select_statement ----------------------------------------------------------------------


def _run(sql, params):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_insert_select_writes_the_instances_values_once_per_source_row():
    saved = _message(dedup_key="msgid:orm")
    saved.save()
    reply = _message(direction="outbound", dedup_key="", text="回复 'q' %s")
    _run(
        *insert_select_statement(
            reply,
            source=f'"{ConversationMessage._meta.db_table}" AS earlier WHERE earlier."dedup_key" = \'msgid:orm\'',
            expressions={"reply_to_id": 'earlier."id"'},
        )
    )
    written = ConversationMessage.objects.get(direction="outbound")
    assert written.reply_to_id == saved.pk
    as_saved = model_to_dict(written)
    reply.reply_to_id = saved.pk
    reply.save()
    expected = model_to_dict(ConversationMessage.objects.get(pk=reply.pk))
    for row in (as_saved, expected):
        row.pop("id")
    assert as_saved == expected


def test_insert_select_writes_nothing_for_an_empty_source():
    _run(*insert_select_statement(_message(), source="(SELECT 1 AS one) AS src WHERE 1 = 0", expressions={}))
    assert not ConversationMessage.objects.exists()


def test_an_expression_with_a_placeholder_receives_its_fields_value():
    sql, params = insert_select_statement(
        _message(text="电费"), source="(SELECT 1 AS one) AS src", expressions={"text": "%s || '（已读）'"}
    )
    assert params.count("电费") == 1
    _run(sql, params)
    assert ConversationMessage.objects.get().text == "电费（已读）"


def test_insert_select_refuses_unknown_fields_and_double_placeholders():
    with pytest.raises(ValueError, match="no field"):
        insert_select_statement(_message(), source="x", expressions={"nonsense": "1"})
    with pytest.raises(ValueError, match="once at most"):
        insert_select_statement(_message(), source="x", expressions={"text": "%s || %s"})
