"""Fan-out against the fake WeChat API: one mass/send per chunk under a clientmsgid derived from
the broadcast and chunk, a chunk claimed by one worker at a time, and a send resumed after a
crash mid-chunk delivering every recipient exactly once (counted by the fake)."""

from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from powerdesk.broadcasts.choices import AudienceKind, BroadcastStatus, ChunkStatus, RecipientStatus
from powerdesk.broadcasts.delivery import (
    broadcast_send,
    broadcast_start,
    broadcasts_resume,
    chunk_claim,
)
from powerdesk.broadcasts.models import Broadcast, BroadcastChunk, BroadcastRecipient
from powerdesk.broadcasts.wechat import mass_message, wechat_client
from powerdesk.events.models import DomainEvent

from .conftest import OUTSIDER, draft

MASS_SEND = "/cgi-bin/message/mass/send"


def start(broadcast: Broadcast) -> Broadcast:
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.QUEUED)
    assert broadcast_start(broadcast_id=broadcast.pk) == BroadcastStatus.SENDING
    return Broadcast.objects.select_related("wechat_account").get(pk=broadcast.pk)


def expected_recipients(broadcast: Broadcast) -> set[str]:
    return set(BroadcastRecipient.objects.filter(broadcast=broadcast).values_list("openid", flat=True))


def delivered_once(fake, broadcast: Broadcast) -> None:
    """The fake's view: one job per chunk, every recipient delivered, nobody twice."""
    report = fake.mass(recipients=True)
    jobs = [job for job in report["jobs"] if job["clientmsgid"].startswith(f"pd-bc{broadcast.pk}-")]
    chunks = BroadcastChunk.objects.filter(broadcast=broadcast)
    assert sorted(job["clientmsgid"] for job in jobs) == sorted(c.clientmsgid for c in chunks)
    received = [openid for job in jobs for openid in job["recipients"]]
    assert sorted(received) == sorted(expected_recipients(broadcast))  # no loss, no duplicate
    assert report["duplicate_deliveries"] == 0


@pytest.mark.django_db
def test_every_chunk_goes_out_once_under_its_own_clientmsgid(province_manager, wechat_account, fake_wechat):
    broadcast = start(draft(province_manager, wechat_account, kind=AudienceKind.ALL))

    outcome = broadcast_send(broadcast_id=broadcast.pk)

    assert (outcome.status, outcome.chunks_sent) == (BroadcastStatus.SUBMITTED, 4)
    delivered_once(fake_wechat, broadcast)
    calls = fake_wechat.calls(MASS_SEND)
    assert [c["errcode"] for c in calls] == [0, 0, 0, 0]
    assert sum(len(c["body"]["touser"]) for c in calls) == 15
    assert OUTSIDER in {openid for c in calls for openid in c["body"]["touser"]}
    assert set(BroadcastChunk.objects.filter(broadcast=broadcast).values_list("status", flat=True)) == {
        ChunkStatus.SUBMITTED
    }
    assert not BroadcastRecipient.objects.filter(broadcast=broadcast).exclude(
        status=RecipientStatus.SUBMITTED
    )
    assert DomainEvent.objects.filter(kind="broadcast.started").count() == 1


@pytest.mark.django_db
def test_the_clientmsgid_depends_only_on_the_broadcast_and_the_chunk(province_manager, wechat_account):
    broadcast = start(draft(province_manager, wechat_account, kind=AudienceKind.ALL))
    ids = list(
        BroadcastChunk.objects.filter(broadcast=broadcast).order_by("number").values_list("clientmsgid")
    )
    again = Broadcast.objects.get(pk=broadcast.pk)
    assert [(again.clientmsgid(n),) for n in range(4)] == ids
    assert ids[0] == (f"pd-bc{broadcast.pk}-{broadcast.token}-c0",)
    assert all(len(i[0].encode()) <= 64 for i in ids)
    # A second start (a task delivered twice) neither re-materialises nor renumbers.
    assert broadcast_start(broadcast_id=broadcast.pk) == BroadcastStatus.SENDING
    assert BroadcastChunk.objects.filter(broadcast=broadcast).count() == 4
    # Another broadcast never shares a clientmsgid, even with the same content.
    other = start(draft(province_manager, wechat_account, kind=AudienceKind.ALL))
    assert not set(BroadcastChunk.objects.filter(broadcast=other).values_list("clientmsgid")) & set(ids)


@pytest.mark.django_db
def test_a_crash_after_wechat_took_the_chunk_resumes_without_duplicate_or_loss(
    province_manager, wechat_account, fake_wechat
):
    broadcast = start(draft(province_manager, wechat_account, kind=AudienceKind.ALL))
    # Worker 1 claims chunk 0 and its request reaches WeChat; then the process dies (SIGKILL)
    # before it records anything.
    chunk = chunk_claim(broadcast=broadcast)
    openids = list(
        BroadcastRecipient.objects.filter(broadcast=broadcast, chunk_no=chunk.number).values_list(
            "openid", flat=True
        )
    )
    client = wechat_client(wechat_account)
    taken = client.mass_send_to_openids(
        openids=openids, message=mass_message(broadcast, client), clientmsgid=chunk.clientmsgid
    )
    chunk.refresh_from_db()
    assert (chunk.status, chunk.msg_id) == (ChunkStatus.SENDING, "")
    # Before its lease runs out nobody may take the chunk over.
    assert broadcasts_resume().chunks_sent == 3
    assert BroadcastChunk.objects.get(pk=chunk.pk).status == ChunkStatus.SENDING
    # The lease runs out; broadcast_resume sends chunk 0 again under the same clientmsgid.
    BroadcastChunk.objects.filter(pk=chunk.pk).update(lease_until=timezone.now() - timedelta(seconds=1))

    resumed = broadcasts_resume()

    assert (resumed.resumed, resumed.chunks_sent) == ([broadcast.pk], 1)
    chunk.refresh_from_db()
    assert (chunk.status, chunk.msg_id, chunk.attempts) == (ChunkStatus.SUBMITTED, taken.msg_id, 2)
    assert [c["errcode"] for c in fake_wechat.calls(MASS_SEND)] == [0, 0, 0, 0, 45065]
    delivered_once(fake_wechat, broadcast)
    assert Broadcast.objects.get(pk=broadcast.pk).status == BroadcastStatus.SUBMITTED


@pytest.mark.django_db
def test_a_timed_out_chunk_is_retried_under_the_same_clientmsgid(
    province_manager, wechat_account, fake_wechat, settings
):
    settings.WECHAT_API_TIMEOUT_SECONDS = 1
    broadcast = start(draft(province_manager, wechat_account, kind=AudienceKind.ALL))
    wechat_client(wechat_account).access_token()  # fetched before the slow call
    fake_wechat.fail_next(delay=1.6, path=MASS_SEND)  # WeChat takes chunk 0, answers too late

    first = broadcast_send(broadcast_id=broadcast.pk)

    assert (first.status, first.chunks_sent) == (BroadcastStatus.SENDING, 4)
    chunk0 = BroadcastChunk.objects.get(broadcast=broadcast, number=0)
    assert (chunk0.status, chunk0.error_code) == (ChunkStatus.PENDING, "wechat.network.timeout")
    assert first.retry_at is not None and chunk0.next_attempt_at == first.retry_at
    BroadcastChunk.objects.filter(pk=chunk0.pk).update(next_attempt_at=timezone.now())  # time passes

    second = broadcast_send(broadcast_id=broadcast.pk)

    assert (second.status, second.chunks_sent) == (BroadcastStatus.SUBMITTED, 1)
    assert [c["errcode"] for c in fake_wechat.calls(MASS_SEND)][-1] == 45065
    delivered_once(fake_wechat, broadcast)


@pytest.mark.django_db
def test_a_claimed_chunk_is_not_claimed_again_until_its_lease_ends(province_manager, wechat_account):
    broadcast = start(draft(province_manager, wechat_account, kind=AudienceKind.ALL))
    first = chunk_claim(broadcast=broadcast)
    second = chunk_claim(broadcast=broadcast)
    assert (first.number, second.number) == (0, 1)
    assert first.claim_token != second.claim_token
    later = timezone.now() + timedelta(seconds=121)
    taken_over = chunk_claim(broadcast=broadcast, now=later)
    assert taken_over.number == 0 and taken_over.claim_token != first.claim_token
    # The first worker, back from a long call, cannot record over the new owner.
    from powerdesk.broadcasts.delivery import _chunk_submitted

    assert _chunk_submitted(broadcast, first, msg_id="1", msg_data_id="") is False
    assert BroadcastChunk.objects.get(pk=first.pk).status == ChunkStatus.SENDING


@pytest.mark.django_db
def test_a_permanent_refusal_fails_the_chunks_not_yet_sent(province_manager, wechat_account, fake_wechat):
    broadcast = start(draft(province_manager, wechat_account, kind=AudienceKind.ALL))
    fake_wechat.fail_next(errcode=48001, path=MASS_SEND)

    outcome = broadcast_send(broadcast_id=broadcast.pk)

    assert outcome.status == BroadcastStatus.FAILED
    assert len(fake_wechat.calls(MASS_SEND)) == 1
    chunks = BroadcastChunk.objects.filter(broadcast=broadcast)
    assert set(chunks.values_list("status", "error_code")) == {(ChunkStatus.FAILED, "wechat.48001")}
    assert set(BroadcastRecipient.objects.filter(broadcast=broadcast).values_list("status", "reason")) == {
        (RecipientStatus.FAILED, "wechat.48001")
    }
    broadcast.refresh_from_db()
    assert "48001" in broadcast.last_error
    assert DomainEvent.objects.filter(kind="broadcast.finished", payload__status="failed").count() == 1


@pytest.mark.django_db
def test_a_chunk_failing_transiently_too_often_is_given_up(
    province_manager, wechat_account, fake_wechat, settings
):
    settings.BROADCAST_MAX_ATTEMPTS = 2
    broadcast = start(draft(province_manager, wechat_account, kind=AudienceKind.ALL))
    fake_wechat.fail_next(errcode=-1, path=MASS_SEND)
    broadcast_send(broadcast_id=broadcast.pk)  # chunk 0 busy, chunks 1–3 go
    BroadcastChunk.objects.filter(broadcast=broadcast, number=0).update(next_attempt_at=timezone.now())
    fake_wechat.fail_next(errcode=-1, path=MASS_SEND)
    outcome = broadcast_send(broadcast_id=broadcast.pk)  # busy again: 2 attempts → failed
    chunk0 = BroadcastChunk.objects.get(broadcast=broadcast, number=0)
    assert (chunk0.status, chunk0.attempts, chunk0.error_code) == (ChunkStatus.FAILED, 2, "wechat.-1")
    assert "已尝试 2 次" in chunk0.error_message
    assert outcome.status == BroadcastStatus.SUBMITTED  # the other three wait for their reports


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="needs concurrent writers (PostgreSQL run)")
def test_four_workers_at_once_send_each_chunk_once(province_manager, wechat_account, fake_wechat, settings):
    settings.BROADCAST_CHUNK_SIZE = 4
    broadcast = start(draft(province_manager, wechat_account, kind=AudienceKind.ALL))
    barrier, outcomes = threading.Barrier(4), []

    def worker():
        try:
            barrier.wait()
            outcomes.append(broadcast_send(broadcast_id=broadcast.pk))
        except Exception as exc:  # asserted below
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(o.chunks_sent for o in outcomes) == 4
    calls = fake_wechat.calls(MASS_SEND)
    assert len(calls) == 4 and {c["errcode"] for c in calls} == {0}
    assert len({c["body"]["clientmsgid"] for c in calls}) == 4
    delivered_once(fake_wechat, broadcast)
