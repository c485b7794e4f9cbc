"""Our mass-send quota: broadcasts per Official Account per Beijing calendar day and month.

A broadcast counts once from the moment it starts (``started_at``), however many chunks it takes
and whether or not it later fails: WeChat counts a mass send once it has taken it. When asked to
send or schedule, broadcasts already scheduled or queued for the same day and month count too,
so the refusal comes when the operator plans, not at 3 a.m. when the start fails; the start
checks again, under a lock on the account row, against what has actually started.

WeChat's own limit is separate (a service account reaches each follower at most 4 times a
calendar month); when WeChat refuses with errcode 45028 the broadcast is paused (delivery.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.broadcasts.choices import BroadcastStatus
from powerdesk.broadcasts.models import Broadcast
from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.core.exceptions import ApplicationError


@dataclass(frozen=True)
class QuotaUsage:
    day: date
    day_used: int
    day_limit: int
    month_used: int
    month_limit: int

    @property
    def day_left(self) -> int:
        return max(0, self.day_limit - self.day_used)

    @property
    def month_left(self) -> int:
        return max(0, self.month_limit - self.month_used)


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _windows(at: datetime) -> tuple[date, tuple[datetime, datetime], tuple[datetime, datetime]]:
    day = timezone.localtime(at, ZoneInfo(settings.TIME_ZONE)).date()
    month_start = day.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    return (
        day,
        (_local_midnight(day), _local_midnight(day + timedelta(days=1))),
        (_local_midnight(month_start), _local_midnight(next_month)),
    )


def quota_usage(
    *, account: WeChatAccount, at: datetime, planned: bool = False, exclude_pk: int | None = None
) -> QuotaUsage:
    """Broadcasts of ``account`` counted in the day and month of ``at``; with ``planned``, those
    scheduled for (or queued in) that day and month as well."""
    day, (day_from, day_to), (month_from, month_to) = _windows(at)
    mine = Broadcast.objects.filter(wechat_account=account).exclude(pk=exclude_pk)

    def used(start: datetime, end: datetime) -> int:
        counted = Q(started_at__gte=start, started_at__lt=end)
        if planned:
            counted |= Q(status=BroadcastStatus.SCHEDULED, scheduled_at__gte=start, scheduled_at__lt=end)
            now = timezone.now()
            if start <= now < end:
                counted |= Q(status=BroadcastStatus.QUEUED)
        return mine.filter(counted).count()

    return QuotaUsage(
        day=day,
        day_used=used(day_from, day_to),
        day_limit=settings.BROADCAST_QUOTA_PER_DAY,
        month_used=used(month_from, month_to),
        month_limit=settings.BROADCAST_QUOTA_PER_MONTH,
    )


def quota_check(
    *,
    account: WeChatAccount,
    at: datetime,
    exclude_pk: int | None = None,
    field: str | None = None,
    planned: bool = True,
) -> QuotaUsage:
    """Raise ``ApplicationError`` when one more broadcast on the day of ``at`` would pass a limit."""
    usage = quota_usage(account=account, at=at, planned=planned, exclude_pk=exclude_pk)
    name = account.name or account.slug
    if usage.day_left == 0:
        raise ApplicationError(
            "broadcast_quota_day",
            _(
                "公众号“%(account)s”在 %(day)s 已有 %(used)s 条群发，达到每日上限 %(limit)s 条；"
                "请改在其他日期发送。"
            )
            % {
                "account": name,
                "day": usage.day.isoformat(),
                "used": usage.day_used,
                "limit": usage.day_limit,
            },
            field=field,
            status=409,
        )
    if usage.month_left == 0:
        raise ApplicationError(
            "broadcast_quota_month",
            _("公众号“%(account)s”在 %(month)s 已有 %(used)s 条群发，达到每月上限 %(limit)s 条。")
            % {
                "account": name,
                "month": usage.day.strftime("%Y-%m"),
                "used": usage.month_used,
                "limit": usage.month_limit,
            },
            field=field,
            status=409,
        )
    return usage
