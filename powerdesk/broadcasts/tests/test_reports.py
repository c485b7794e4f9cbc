"""WeChat's MASSSENDJOBFINISH, as the fake pushes it (signed, plaintext mode), through our real
callback view: it finishes its chunk once however often it arrives, also when it arrives before
the worker has recorded the msg_id; failure statuses fail the chunk's recipients with the reason."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from powerdesk.broadcasts.choices import AudienceKind, BroadcastStatus, ChunkStatus, RecipientStatus
from powerdesk.broadcasts.delivery import (
    _chunk_submitted,
    broadcast_send,
    broadcast_start,
    broadcasts_resume,
    chunk_claim,
)
from powerdesk.broadcasts.models import Broadcast, BroadcastChunk, BroadcastJobReport, BroadcastRecipient
from powerdesk.broadcasts.selectors import broadcast_progress
from powerdesk.broadcasts.wechat import mass_message, wechat_client
from powerdesk.channels.wechat_store.fake_server import plaintext_callback_body
from powerdesk.channels.wechat_store.tests.conftest import CallbackSink
from powerdesk.conversations.models import ConversationMessage
from powerdesk.events.models import DomainEvent

from .conftest import CALLBACK_TOKEN, draft

pytestmark = pytest.mark.django_db
CALLBACK = "/channels/wechat/demo/"


@pytest.fixture
def sink(fake_wechat):
    """WeChat's pushes land here; the tests hand them to our callback view as they came."""
    sink = CallbackSink()
    fake_wechat.configure(callback_url=sink.url, callback_token=CALLBACK_TOKEN)
    yield sink
    sink.stop()


def wait_for(sink: CallbackSink, count: int) -> list[dict]:
    deadline = time.monotonic() + 10
    while len(sink.received) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(sink.received) == count
    return list(sink.received)


@pytest.fixture
def post_push(client, django_capture_on_commit_callbacks):
    """POST a push to our callback as WeChat did, running what the view leaves for after commit."""

    def post(push: dict):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                f"{CALLBACK}?{urlencode(push['query'])}", data=push["body"].encode(), content_type="text/xml"
            )

    return post


def job_finished_xml(
    msg_id: str, *, status: str = "send success", total: int = 4, sent: int = 4, errors: int = 0
):
    return (
        "<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName><FromUserName><![CDATA[mphelper]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[MASSSENDJOBFINISH]]></Event>"
        f"<MsgID>{msg_id}</MsgID><Status><![CDATA[{status}]]></Status><TotalCount>{total}</TotalCount>"
        f"<FilterCount>{sent + errors}</FilterCount><SentCount>{sent}</SentCount><ErrorCount>{errors}</ErrorCount></xml>"
    )


def signed_push(xml: str) -> dict:
    query, body = plaintext_callback_body(
        xml, token=CALLBACK_TOKEN, timestamp=str(int(time.time())), nonce="4821907711"
    )
    return {"query": query, "body": body.decode()}


def sent_broadcast(staff, account) -> Broadcast:
    broadcast = draft(staff, account, kind=AudienceKind.ALL)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.QUEUED)
    broadcast_start(broadcast_id=broadcast.pk)
    assert broadcast_send(broadcast_id=broadcast.pk).status == BroadcastStatus.SUBMITTED
    return broadcast


def test_the_pushed_reports_finish_the_chunks_and_the_broadcast(
    post_push, province_manager, wechat_account, fake_wechat, sink
):
    broadcast = sent_broadcast(province_manager, wechat_account)
    pushes = wait_for(sink, 4)

    for push in pushes:
        response = post_push(push)
        assert (response.status_code, response.content) == (200, b"success")

    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.FINISHED and broadcast.finished_at is not None
    chunks = BroadcastChunk.objects.filter(broadcast=broadcast)
    assert {c.status for c in chunks} == {ChunkStatus.FINISHED}
    assert sum(c.sent_count for c in chunks) == 15 and {c.report_status for c in chunks} == {"send success"}
    assert set(BroadcastRecipient.objects.filter(broadcast=broadcast).values_list("status", flat=True)) == {
        RecipientStatus.SENT
    }
    progress = broadcast_progress(broadcast=broadcast)
    assert (progress.sent_count, progress.error_count, progress.recipients_by_status) == (15, 0, {"sent": 15})
    [finished] = DomainEvent.objects.filter(kind="broadcast.finished")
    assert (finished.payload["status"], finished.payload["sent_count"]) == ("finished", 15)
    # The engine's inbox keeps the events like any other (and answers nothing).
    assert ConversationMessage.objects.filter(payload__event="masssendjobfinish").count() == 4


def test_repeated_pushes_change_nothing(post_push, province_manager, wechat_account, fake_wechat, sink):
    broadcast = sent_broadcast(province_manager, wechat_account)
    pushes = wait_for(sink, 4)
    for push in pushes:
        post_push(push)
    before = list(BroadcastChunk.objects.filter(broadcast=broadcast).values().order_by("number"))

    for push in pushes + pushes:  # WeChat retries, and a late duplicate
        assert post_push(push).status_code == 200
    for push in pushes:  # the same report pushed anew (another nonce and timestamp)
        assert post_push(signed_push(push["body"])).status_code == 200

    assert list(BroadcastChunk.objects.filter(broadcast=broadcast).values().order_by("number")) == before
    assert BroadcastJobReport.objects.count() == 4
    assert DomainEvent.objects.filter(kind="broadcast.finished").count() == 1


def test_a_report_before_the_msg_id_is_recorded_is_applied_by_the_worker(
    post_push, province_manager, wechat_account, fake_wechat
):
    broadcast = draft(province_manager, wechat_account, kind=AudienceKind.ALL)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.QUEUED)
    broadcast_start(broadcast_id=broadcast.pk)
    broadcast = Broadcast.objects.select_related("wechat_account").get(pk=broadcast.pk)
    chunk = chunk_claim(broadcast=broadcast)
    client_api = wechat_client(wechat_account)
    openids = list(
        BroadcastRecipient.objects.filter(broadcast=broadcast, chunk_no=0).values_list("openid", flat=True)
    )
    result = client_api.mass_send_to_openids(
        openids=openids, message=mass_message(broadcast, client_api), clientmsgid=chunk.clientmsgid
    )

    response = post_push(signed_push(job_finished_xml(result.msg_id, total=len(openids), sent=len(openids))))
    assert response.status_code == 200
    report = BroadcastJobReport.objects.get(msg_id=result.msg_id)
    assert (report.status, report.applied_at) == ("send success", None)
    assert BroadcastChunk.objects.get(pk=chunk.pk).status == ChunkStatus.SENDING

    assert _chunk_submitted(broadcast, chunk, msg_id=result.msg_id, msg_data_id="") is True

    chunk.refresh_from_db()
    assert (chunk.status, chunk.sent_count) == (ChunkStatus.FINISHED, len(openids))
    assert BroadcastJobReport.objects.get(msg_id=result.msg_id).applied_at is not None
    assert set(
        BroadcastRecipient.objects.filter(broadcast=broadcast, chunk_no=0).values_list("status", flat=True)
    ) == {RecipientStatus.SENT}


def test_a_failure_status_fails_the_chunk_with_the_reason(
    post_push, province_manager, wechat_account, fake_wechat
):
    broadcast = sent_broadcast(province_manager, wechat_account)
    chunks = list(BroadcastChunk.objects.filter(broadcast=broadcast).order_by("number"))
    post_push(signed_push(job_finished_xml(chunks[0].msg_id, status="err(10001)", sent=0, errors=4)))
    for chunk in chunks[1:]:
        post_push(signed_push(job_finished_xml(chunk.msg_id, total=chunk.recipient_count)))

    failed = BroadcastChunk.objects.get(pk=chunks[0].pk)
    assert (failed.status, failed.error_code, failed.error_count) == (
        ChunkStatus.FAILED,
        "report.err(10001)",
        4,
    )
    assert set(
        BroadcastRecipient.objects.filter(broadcast=broadcast, chunk_no=0).values_list("status", "reason")
    ) == {(RecipientStatus.FAILED, "err(10001)")}
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.FINISHED  # three chunks got through
    progress = broadcast_progress(broadcast=broadcast)
    assert progress.recipients_by_status == {
        "failed": failed.recipient_count,
        "sent": 15 - failed.recipient_count,
    }


def test_a_report_that_never_came_is_asked_for_with_mass_get(
    province_manager, wechat_account, fake_wechat, settings, django_capture_on_commit_callbacks
):
    broadcast = sent_broadcast(province_manager, wechat_account)
    assert broadcasts_resume().reports_polled == 0  # submitted just now: still waiting
    BroadcastChunk.objects.filter(broadcast=broadcast).update(
        submitted_at=timezone.now() - timedelta(minutes=settings.BROADCAST_REPORT_WAIT_MINUTES + 1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert broadcasts_resume().reports_polled == 4

    assert len(fake_wechat.calls("/cgi-bin/message/mass/get")) == 4
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.FINISHED


def test_a_report_for_a_mass_send_made_elsewhere_is_kept_and_ignored(post_push, wechat_account):
    response = post_push(signed_push(job_finished_xml("1000000999")))
    assert response.status_code == 200
    report = BroadcastJobReport.objects.get(msg_id="1000000999")
    assert (report.status, report.applied_at) == ("send success", None)
