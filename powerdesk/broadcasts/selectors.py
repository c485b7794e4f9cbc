"""Reads for the console (and any API later): scoped lists, one broadcast, its progress, the
audience estimate of the compose form."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.broadcasts.audience import (
    AudienceChoice,
    Segment,
    audience_clean,
    segment_count,
)
from powerdesk.broadcasts.choices import AudienceKind, BindingFilter, ChunkStatus, RecipientStatus
from powerdesk.broadcasts.models import Broadcast, BroadcastChunk, BroadcastRecipient
from powerdesk.broadcasts.quota import QuotaUsage, quota_usage
from powerdesk.broadcasts.wechat import api_error_text, wechat_client
from powerdesk.channels.wechat_store.errors import WeChatApiError
from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.core.exceptions import ApplicationError, NotFound
from powerdesk.organisation.models import SupplyUnit
from powerdesk.staff.scoping import scope_to_staff


def broadcast_list(*, staff, status: str = "", wechat_account_id: int | None = None) -> QuerySet[Broadcast]:
    """Broadcasts of the staff member's unit and the units below it, newest first."""
    broadcasts = scope_to_staff(Broadcast.objects.all(), staff).select_related(
        "wechat_account", "supply_unit"
    )
    if status:
        broadcasts = broadcasts.filter(status=status)
    if wechat_account_id:
        broadcasts = broadcasts.filter(wechat_account_id=wechat_account_id)
    return broadcasts.order_by("-created_at", "-id")


def broadcast_get(*, staff, broadcast_id: int) -> Broadcast:
    """One broadcast in scope; out of scope answers exactly like missing."""
    broadcast = (
        scope_to_staff(Broadcast.objects.all(), staff)
        .select_related("wechat_account", "supply_unit")
        .filter(pk=broadcast_id)
        .first()
    )
    if broadcast is None:
        raise NotFound("broadcast_not_found", _("群发消息不存在或不在您的管辖范围内。"))
    return broadcast


def accounts_for_broadcast() -> QuerySet[WeChatAccount]:
    return WeChatAccount.objects.filter(is_active=True).order_by("name", "slug")


def units_for_staff(staff) -> QuerySet[SupplyUnit]:
    """The supply units a segment may be narrowed to: the staff member's own and those below."""
    unit = getattr(staff, "supply_unit", None)
    if unit is None:
        return SupplyUnit.objects.none()
    return SupplyUnit.objects.filter(path__startswith=unit.path).order_by("path")


@dataclass(frozen=True)
class AudienceEstimate:
    count: int
    source: str  # "registry" (our tables) or "wechat" (WeChat's follower/tag figures)
    tag_name: str = ""


def audience_estimate(*, staff, wechat_account: WeChatAccount, audience: AudienceChoice) -> AudienceEstimate:
    """How many the audience reaches now — the same check as composing, then one count: a query
    on our tables, or one call to WeChat (user/get's total, tags/get's count)."""
    cleaned = audience_clean(staff=staff, audience=audience)
    if cleaned.kind == AudienceKind.SEGMENT:
        data = cleaned.segment
        if data.get("binding") == BindingFilter.UNBOUND:
            segment = Segment(binding=BindingFilter.UNBOUND, tariff_classes=(), unit_path="")
        else:
            unit = SupplyUnit.objects.get(pk=data["supply_unit_id"])
            segment = Segment(BindingFilter.BOUND, tuple(data["tariff_classes"]), unit.path)
        return AudienceEstimate(segment_count(app_id=wechat_account.app_id, segment=segment), "registry")
    client = wechat_client(wechat_account)
    try:
        if cleaned.kind == AudienceKind.ALL:
            return AudienceEstimate(client.followers().total, "wechat")
        for tag in client.tags():
            if tag.get("id") == cleaned.tag_id:
                return AudienceEstimate(int(tag.get("count", 0)), "wechat", str(tag.get("name", "")))
    except WeChatApiError as exc:
        raise ApplicationError("broadcast_estimate_failed", api_error_text(exc), status=502) from exc
    raise ApplicationError(
        "broadcast_tag_unknown",
        _("公众号中没有 ID 为 %(tag)s 的标签。") % {"tag": cleaned.tag_id},
        field="tag_id",
    )


@dataclass(frozen=True)
class Progress:
    chunks_by_status: dict[str, int]
    recipients_by_status: dict[str, int]
    sent_count: int
    error_count: int
    filtered_count: int
    reported_chunks: int

    @property
    def chunks_done(self) -> int:
        return self.chunks_by_status.get(ChunkStatus.FINISHED, 0) + self.chunks_by_status.get(
            ChunkStatus.FAILED, 0
        )


def broadcast_progress(*, broadcast: Broadcast) -> Progress:
    """Counts from the chunks (at most ~100 rows for a million recipients), not the recipients:
    every recipient of a chunk shares its chunk's status."""
    chunks = BroadcastChunk.objects.filter(broadcast_id=broadcast.pk)
    by_status = dict(chunks.values_list("status").annotate(n=Count("id")).order_by())
    recipients = dict(chunks.values_list("status").annotate(n=Sum("recipient_count")).order_by())
    to_recipient = {
        ChunkStatus.PENDING: RecipientStatus.PENDING,
        ChunkStatus.SENDING: RecipientStatus.PENDING,
        ChunkStatus.SUBMITTED: RecipientStatus.SUBMITTED,
        ChunkStatus.FINISHED: RecipientStatus.SENT,
        ChunkStatus.FAILED: RecipientStatus.FAILED,
    }
    recipients_by_status: dict[str, int] = {}
    for status, n in recipients.items():
        key = to_recipient[ChunkStatus(status)]
        recipients_by_status[key] = recipients_by_status.get(key, 0) + (n or 0)
    totals = chunks.filter(report_status__gt="").aggregate(
        sent=Sum("sent_count"),
        errors=Sum("error_count"),
        total=Sum("total_count"),
        kept=Sum("filter_count"),
        n=Count("id"),
    )
    return Progress(
        chunks_by_status={str(k): v for k, v in by_status.items()},
        recipients_by_status=recipients_by_status,
        sent_count=totals["sent"] or 0,
        error_count=totals["errors"] or 0,
        filtered_count=(totals["total"] or 0) - (totals["kept"] or 0),
        reported_chunks=totals["n"] or 0,
    )


def broadcast_chunks(*, broadcast: Broadcast) -> QuerySet[BroadcastChunk]:
    return BroadcastChunk.objects.filter(broadcast_id=broadcast.pk).order_by("number")


def recipient_lookup(*, broadcast: Broadcast, openid: str) -> BroadcastRecipient | None:
    """One recipient by openid (the unique index on broadcast and openid)."""
    return BroadcastRecipient.objects.filter(broadcast_id=broadcast.pk, openid=openid.strip()).first()


def broadcast_quota(*, broadcast: Broadcast) -> QuotaUsage:
    return quota_usage(
        account=broadcast.wechat_account, at=broadcast.scheduled_at or timezone.now(), planned=True
    )
