"""The domain event log: declared kinds, sortable ids, append-only, incremental export."""

import pytest
from django.db import DatabaseError, connection, transaction

from powerdesk.core.ids import uuid7, uuid7_time_ms
from powerdesk.events.models import DomainEvent
from powerdesk.events.registry import define_event
from powerdesk.events.selectors import events_after
from powerdesk.events.services import event_record

TEST_EVENT = define_event("test.happened", "测试事件")


def test_uuid7_ids_are_version_7_and_strictly_increasing():
    ids = [uuid7() for _ in range(5000)]
    assert all(value.version == 7 for value in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert abs(uuid7_time_ms(ids[0]) - uuid7_time_ms(ids[-1])) < 5000


def test_kind_names_are_checked():
    with pytest.raises(ValueError):
        define_event("NoDot", "x")
    with pytest.raises(ValueError):
        define_event("test.happened", "另一个描述")


@pytest.mark.django_db
def test_unknown_kind_or_channel_is_refused():
    with pytest.raises(LookupError):
        event_record("test.typo", channel="h5")
    with pytest.raises(ValueError):
        event_record(TEST_EVENT, channel="fax")
    assert not DomainEvent.objects.exists()


@pytest.mark.django_db
def test_export_resumes_after_the_last_id_seen():
    recorded = [
        event_record(TEST_EVENT, channel="h5", customer_user_id=n, payload={"n": n}) for n in range(7)
    ]
    first = events_after(None, limit=4)
    rest = events_after(first[-1].id, limit=100)
    assert [e.payload["n"] for e in first + rest] == list(range(7))
    assert [e.id for e in first + rest] == [e.id for e in recorded]


@pytest.mark.django_db
def test_payload_is_stored_as_json_with_dates_and_decimals():
    from datetime import date
    from decimal import Decimal

    event = event_record(
        TEST_EVENT, channel="api", payload={"due": date(2026, 11, 30), "amount": Decimal("12.30")}
    )
    event.refresh_from_db()
    assert event.payload == {"due": "2026-11-30", "amount": "12.30"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement", ["UPDATE events_domainevent SET kind = 'x'", "DELETE FROM events_domainevent"]
)
def test_events_cannot_be_rewritten(statement):
    event_record(TEST_EVENT, channel="system")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert DomainEvent.objects.get().kind == "test.happened"
