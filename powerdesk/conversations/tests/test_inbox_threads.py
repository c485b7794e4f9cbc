"""The inbox thread of a follower, kept by the engine's own writes: unread messages, "needs a
person" when the engine could not answer or the follower asked for one, the customer-service
window opened by messages, clicks and subscriptions only."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from powerdesk.conversations.choices import ConversationStatus, Direction
from powerdesk.conversations.models import Conversation, ConversationMessage

from .conftest import SHOWCASE_OPENID, STRANGER_OPENID, arrive

pytestmark = pytest.mark.django_db


def thread(openid=SHOWCASE_OPENID) -> Conversation:
    return Conversation.objects.get(sender_subject=openid)


def test_a_message_the_engine_cannot_answer_opens_an_unread_thread_needing_a_person(demo_account, showcase):
    customer, _history = showcase
    at = timezone.now() - timedelta(minutes=3)
    arrive("请问明天几点来抄表？", at=at)
    found = thread()
    reply = ConversationMessage.objects.get(direction=Direction.OUTBOUND)
    assert reply.intent == "fallback"
    assert (found.unread_count, found.needs_reply, found.status) == (1, True, ConversationStatus.OPEN)
    # the list shows what the follower said, not the automatic answer
    assert found.last_interaction_at == at and found.last_message.text == "请问明天几点来抄表？"
    assert found.customer_user == customer and found.sender_app_id == demo_account.app_id


def test_a_message_answered_by_a_keyword_is_unread_but_needs_no_person(demo_account):
    arrive("电费", openid=STRANGER_OPENID)
    found = thread(STRANGER_OPENID)
    assert (found.unread_count, found.needs_reply) == (1, False)
    assert found.customer_user is None


def test_a_click_on_human_service_asks_for_a_person_and_opens_the_window(demo_account):
    at = timezone.now() - timedelta(hours=1)
    arrive(kind="event", event="click", event_key="HUMAN_SERVICE", at=at)
    found = thread()
    assert (found.unread_count, found.needs_reply, found.last_interaction_at) == (0, True, at)


@pytest.mark.parametrize(
    ("event", "opens"),
    [("subscribe", True), ("scan", True), ("click", True), ("unsubscribe", False), ("view", False),
     ("location", False)],
)  # fmt: skip
def test_which_events_open_the_customer_service_window(demo_account, event, opens):
    at = timezone.now() - timedelta(hours=2)
    arrive(kind="event", event=event, event_key="HELP" if event == "click" else "", at=at)
    found = thread()
    assert found.last_interaction_at == (at if opens else None)
    assert found.unread_count == 0


def test_job_finished_reports_from_wechat_itself_make_no_thread(demo_account):
    arrive(kind="event", event="masssendjobfinish", openid="mphelper")
    arrive(kind="event", event="templatesendjobfinish", openid="mphelper")
    assert ConversationMessage.objects.filter(direction=Direction.INBOUND).count() == 2
    assert not Conversation.objects.exists()


def test_a_retried_message_counts_once(demo_account):
    for _ in range(3):
        arrive("你好呀", key="msgid:555")
    assert thread().unread_count == 1


def test_a_closed_thread_reopens_only_when_the_follower_needs_a_person(demo_account):
    arrive("人工")
    Conversation.objects.update(status=ConversationStatus.CLOSED, needs_reply=False)
    arrive("电费")  # answered automatically: stays closed
    assert (thread().status, thread().needs_reply) == (ConversationStatus.CLOSED, False)
    arrive("还是有问题想咨询一下")  # the fallback: a person is needed again
    assert (thread().status, thread().needs_reply, thread().unread_count) == (
        ConversationStatus.OPEN,
        True,
        3,
    )


def test_the_newest_message_stays_last_whatever_order_they_are_stored_in(demo_account):
    now = timezone.now()
    arrive("晚到的新消息", at=now - timedelta(minutes=1))
    arrive("早发的旧消息", at=now - timedelta(minutes=30))
    found = thread()
    assert found.last_interaction_at == now - timedelta(minutes=1)
    assert found.last_message.text == "晚到的新消息"  # though the older one was stored after it


def test_the_migration_builds_threads_from_messages_stored_before_the_inbox(demo_account):
    from importlib import import_module

    migration = import_module("powerdesk.conversations.migrations.0003_inbox_threads")
    at = timezone.now() - timedelta(hours=5)
    arrive("你好", at=at)
    arrive(kind="event", event="subscribe", openid=STRANGER_OPENID, at=at)
    arrive(kind="event", event="masssendjobfinish", openid="mphelper")
    Conversation.objects.all().delete()
    migration.threads_from_existing_messages(apps, None)
    threads = {row.sender_subject: row for row in Conversation.objects.all()}
    assert set(threads) == {SHOWCASE_OPENID, STRANGER_OPENID}
    assert threads[SHOWCASE_OPENID].last_interaction_at == at
    assert threads[SHOWCASE_OPENID].last_message.text == "你好"
    assert threads[STRANGER_OPENID].last_interaction_at == at
    assert not any(row.needs_reply or row.unread_count for row in threads.values())
