"""``powerdesk broadcast_resume``: due scheduled broadcasts start, a queued one whose task got
lost starts, a freshly queued one is left to its own task, paused ones only when asked."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from powerdesk.broadcasts.choices import AudienceKind, BroadcastStatus
from powerdesk.broadcasts.delivery import broadcast_send, broadcast_start
from powerdesk.broadcasts.models import Broadcast, BroadcastChunk

from .conftest import draft
from .test_sending import MASS_SEND, delivered_once

pytestmark = pytest.mark.django_db


def resume(*args: str) -> dict:
    out = io.StringIO()
    call_command("broadcast_resume", *args, stdout=out)
    return json.loads(out.getvalue())


def test_due_and_lost_broadcasts_start_fresh_ones_wait(clerk_a, wechat_account, fake_wechat):
    now = timezone.now()
    due = draft(clerk_a, wechat_account, text="定时：今晚检修。")
    Broadcast.objects.filter(pk=due.pk).update(
        status=BroadcastStatus.SCHEDULED, scheduled_at=now - timedelta(seconds=5)
    )
    later = draft(clerk_a, wechat_account, text="定时：下周检修。")
    Broadcast.objects.filter(pk=later.pk).update(
        status=BroadcastStatus.SCHEDULED, scheduled_at=now + timedelta(hours=1)
    )
    lost = draft(clerk_a, wechat_account, text="立即：停电通知。")
    Broadcast.objects.filter(pk=lost.pk).update(
        status=BroadcastStatus.QUEUED, updated_at=now - timedelta(minutes=5)
    )
    fresh = draft(clerk_a, wechat_account, text="立即：恢复送电。")
    Broadcast.objects.filter(pk=fresh.pk).update(status=BroadcastStatus.QUEUED)

    summary = resume()

    assert sorted(summary["started"]) == sorted([due.pk, lost.pk])
    statuses = dict(Broadcast.objects.values_list("pk", "status"))
    assert statuses[due.pk] == statuses[lost.pk] == BroadcastStatus.SUBMITTED
    assert (statuses[later.pk], statuses[fresh.pk]) == (BroadcastStatus.SCHEDULED, BroadcastStatus.QUEUED)
    for broadcast in (due, lost):
        delivered_once(fake_wechat, broadcast)
    assert resume() == {"started": [], "resumed": [], "chunks_sent": 0, "reports_polled": 0}  # idempotent


def test_paused_broadcasts_resume_only_when_asked(province_manager, wechat_account, fake_wechat):
    broadcast = draft(province_manager, wechat_account, kind=AudienceKind.ALL)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.QUEUED)
    broadcast_start(broadcast_id=broadcast.pk)
    fake_wechat.set_quota(1)
    assert broadcast_send(broadcast_id=broadcast.pk).status == BroadcastStatus.QUOTA_EXHAUSTED
    fake_wechat.set_quota(None)

    assert resume()["chunks_sent"] == 0
    assert Broadcast.objects.get(pk=broadcast.pk).status == BroadcastStatus.QUOTA_EXHAUSTED

    summary = resume("--include-paused", "--broadcast", str(broadcast.pk))

    assert (summary["resumed"], summary["chunks_sent"]) == ([broadcast.pk], 3)
    assert Broadcast.objects.get(pk=broadcast.pk).status == BroadcastStatus.SUBMITTED
    assert [c["errcode"] for c in fake_wechat.calls(MASS_SEND)] == [0, 45028, 0, 0, 0]
    assert BroadcastChunk.objects.filter(broadcast=broadcast, status="submitted").count() == 4
    delivered_once(fake_wechat, broadcast)
