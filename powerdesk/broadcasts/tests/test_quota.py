"""Our per-account quotas (per Beijing day and month, refused when planning and again at the
start) and WeChat's own (errcode 45028 pauses the broadcast; resuming sends only what is left)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from powerdesk.broadcasts.choices import AudienceKind, BroadcastStatus, ChunkStatus
from powerdesk.broadcasts.delivery import broadcast_send, broadcast_start
from powerdesk.broadcasts.models import Broadcast, BroadcastChunk
from powerdesk.broadcasts.quota import quota_usage
from powerdesk.broadcasts.services import broadcast_resume, broadcast_schedule, broadcast_send_now
from powerdesk.core.exceptions import ApplicationError
from powerdesk.events.models import DomainEvent

from .conftest import draft
from .test_sending import MASS_SEND, delivered_once

pytestmark = pytest.mark.django_db
BEIJING = ZoneInfo("Asia/Shanghai")


def started_at(broadcast: Broadcast, when: datetime) -> None:
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.FINISHED, started_at=when)


def tomorrow_noon() -> datetime:
    local = timezone.localtime(timezone.now(), BEIJING)
    return (local + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)


def test_the_daily_quota_refuses_a_second_send_today(clerk_a, wechat_account, settings):
    settings.BROADCAST_QUOTA_PER_DAY = 1
    started_at(draft(clerk_a, wechat_account), timezone.now())
    second = draft(clerk_a, wechat_account)

    with pytest.raises(ApplicationError) as refused:
        broadcast_send_now(broadcast=second, actor_staff_id=clerk_a.pk)

    today = timezone.localtime(timezone.now(), BEIJING).date().isoformat()
    assert refused.value.code == "broadcast_quota_day"
    assert refused.value.message == (
        f"公众号“示范供电公司”在 {today} 已有 1 条群发，达到每日上限 1 条；请改在其他日期发送。"
    )
    assert Broadcast.objects.get(pk=second.pk).status == BroadcastStatus.DRAFT


def test_scheduled_broadcasts_count_for_their_day(clerk_a, wechat_account, settings):
    settings.BROADCAST_QUOTA_PER_DAY = 1
    started_at(draft(clerk_a, wechat_account), timezone.now())
    when = tomorrow_noon()
    first = broadcast_schedule(
        broadcast=draft(clerk_a, wechat_account), scheduled_at=when, actor_staff_id=None
    )
    assert first.status == BroadcastStatus.SCHEDULED
    with pytest.raises(ApplicationError) as refused:
        broadcast_schedule(
            broadcast=draft(clerk_a, wechat_account),
            scheduled_at=when + timedelta(hours=2),
            actor_staff_id=None,
        )
    assert (refused.value.code, refused.value.field) == ("broadcast_quota_day", "scheduled_at")
    # Rescheduling the same broadcast does not count it twice.
    assert broadcast_schedule(broadcast=first, scheduled_at=when + timedelta(hours=1), actor_staff_id=None)


def test_the_monthly_quota_counts_the_beijing_calendar_month(clerk_a, wechat_account, settings):
    settings.BROADCAST_QUOTA_PER_DAY = 5
    settings.BROADCAST_QUOTA_PER_MONTH = 2
    now = timezone.localtime(timezone.now(), BEIJING)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    started_at(draft(clerk_a, wechat_account), month_start)  # 00:00 Beijing on the 1st: this month
    started_at(draft(clerk_a, wechat_account), month_start - timedelta(seconds=1))  # last month
    usage = quota_usage(account=wechat_account, at=now)
    assert usage.month_used == 1
    broadcast_send_now(broadcast=draft(clerk_a, wechat_account), actor_staff_id=None)  # queued: counts
    with pytest.raises(ApplicationError) as refused:
        broadcast_send_now(broadcast=draft(clerk_a, wechat_account), actor_staff_id=None)
    assert refused.value.code == "broadcast_quota_month"
    assert "每月上限 2 条" in refused.value.message


def test_the_start_checks_again_against_what_started_meanwhile(clerk_a, wechat_account, settings):
    settings.BROADCAST_QUOTA_PER_DAY = 1
    planned = draft(clerk_a, wechat_account)
    Broadcast.objects.filter(pk=planned.pk).update(status=BroadcastStatus.QUEUED)
    started_at(draft(clerk_a, wechat_account), timezone.now())  # e.g. limits lowered, another went out

    assert broadcast_start(broadcast_id=planned.pk) == BroadcastStatus.FAILED

    planned.refresh_from_db()
    assert planned.last_error_code == "broadcast_quota_day"
    assert planned.started_at is None and not BroadcastChunk.objects.filter(broadcast=planned).exists()


def test_wechat_quota_45028_pauses_and_resume_sends_only_the_rest(
    province_manager, wechat_account, fake_wechat
):
    broadcast = draft(province_manager, wechat_account, kind=AudienceKind.ALL)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.QUEUED)
    broadcast_start(broadcast_id=broadcast.pk)
    fake_wechat.set_quota(2)

    paused = broadcast_send(broadcast_id=broadcast.pk)

    assert (paused.status, paused.chunks_sent) == (BroadcastStatus.QUOTA_EXHAUSTED, 3)
    broadcast.refresh_from_db()
    assert broadcast.last_error_code == "wechat.45028"
    assert "群发配额已用完（错误码 45028）" in broadcast.last_error
    chunks = {c.number: c for c in BroadcastChunk.objects.filter(broadcast=broadcast)}
    assert [chunks[n].status for n in range(4)] == ["submitted", "submitted", "pending", "pending"]
    assert chunks[2].attempts == 0  # waiting for quota is not a failed attempt
    assert DomainEvent.objects.filter(kind="broadcast.paused").count() == 1
    assert broadcast_send(broadcast_id=broadcast.pk).chunks_sent == 0  # paused: nothing goes out

    fake_wechat.set_quota(None)
    broadcast_resume(broadcast=broadcast, actor_staff_id=province_manager.pk)
    resumed = broadcast_send(broadcast_id=broadcast.pk)

    assert (resumed.status, resumed.chunks_sent) == (BroadcastStatus.SUBMITTED, 2)
    assert [c["errcode"] for c in fake_wechat.calls(MASS_SEND)] == [0, 0, 45028, 0, 0]
    delivered_once(fake_wechat, broadcast)
    assert set(BroadcastChunk.objects.filter(broadcast=broadcast).values_list("status", flat=True)) == {
        ChunkStatus.SUBMITTED
    }


def test_resume_refuses_a_broadcast_that_is_not_paused(clerk_a, wechat_account):
    with pytest.raises(ApplicationError) as refused:
        broadcast_resume(broadcast=draft(clerk_a, wechat_account), actor_staff_id=None)
    assert refused.value.code == "broadcast_state_invalid"
    assert "草稿" in refused.value.message
