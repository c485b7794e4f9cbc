"""Sending a broadcast: start (quota, recipients, chunks), the chunk state machine, WeChat's
MASSSENDJOBFINISH reports, and resuming whatever a crash or a lost task left behind.

**No duplicate, no loss.** Every chunk is sent under ``Broadcast.clientmsgid(number)`` — the same
on every attempt. WeChat answers a repeated clientmsgid with the first task's msg_id (45065) and
delivers nothing new, so a chunk whose answer was lost (timeout, a worker killed mid-call) is
simply sent again. A chunk is only sent by the worker holding it: the claim is one conditional
UPDATE (``pending``, or ``sending`` with an expired lease → ``sending`` with a new claim token and
lease), and every later write of that worker names its claim token in the WHERE clause. Nothing is
held open across the HTTP call: the claim commits first, the result is written after.

**Reports.** WeChat pushes MASSSENDJOBFINISH per msg_id (the inbound callback calls
``job_report_record``); it may arrive before the worker has committed that msg_id. Both sides meet
on the ``BroadcastJobReport`` row of (AppID, msg_id) — see its docstring — so the report is applied
exactly once whichever comes first.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.broadcasts import events, tasks
from powerdesk.broadcasts.audience import chunk_plan, materialise_openids, materialise_segment
from powerdesk.broadcasts.choices import (
    AudienceKind,
    BroadcastStatus,
    ChunkStatus,
    MessageKind,
    RecipientStatus,
)
from powerdesk.broadcasts.models import Broadcast, BroadcastChunk, BroadcastJobReport, BroadcastRecipient
from powerdesk.broadcasts.quota import quota_check
from powerdesk.broadcasts.wechat import (
    api_error_text,
    mass_message,
    mpnews_media_ensure,
    report_succeeded,
    wechat_client,
)
from powerdesk.channels.wechat_store.client import WeChatApiClient
from powerdesk.channels.wechat_store.errors import WeChatApiError
from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.core.exceptions import ApplicationError
from powerdesk.events.choices import Channel
from powerdesk.events.services import event_record

log = logging.getLogger(__name__)

# Backoff of a transient failure without WeChat's own retry_after: 2, 4, 8 … seconds, at most 5 min.
_BACKOFF_CAP_SECONDS = 300
_CLAIMABLE_PER_QUERY = 20
_COUNT_MAX = 2_147_483_647
QUEUED_GRACE = timedelta(minutes=1)


def _event(kind, broadcast: Broadcast, *, channel=Channel.SYSTEM, **payload) -> None:
    event_record(
        kind,
        channel=channel,
        payload={"broadcast_id": broadcast.pk, "wechat_account_id": broadcast.wechat_account_id, **payload},
    )


def _fail_broadcast(broadcast: Broadcast, *, code: str, message: str) -> None:
    """A broadcast that could not start: FAILED with the reason, and the finished event."""
    now = timezone.now()
    updated = Broadcast.objects.filter(
        pk=broadcast.pk, status__in=(BroadcastStatus.QUEUED, BroadcastStatus.SCHEDULED)
    ).update(
        status=BroadcastStatus.FAILED,
        last_error_code=code,
        last_error=message[:500],
        finished_at=now,
        updated_at=now,
    )
    if updated:
        _event(events.BROADCAST_FINISHED, broadcast, status=BroadcastStatus.FAILED, error_code=code)


class _TooFewRecipients(Exception):
    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


# --- start ---------------------------------------------------------------------------------------


def _followers_from_wechat(broadcast: Broadcast, client: WeChatApiClient) -> list[str] | None:
    if broadcast.audience_kind == AudienceKind.ALL:
        return list(client.iter_followers())
    if broadcast.audience_kind == AudienceKind.TAG:
        openids, next_openid = [], ""
        while True:
            page = client.tag_members(broadcast.tag_id, next_openid=next_openid)
            openids += page.openids
            if not page.next_openid or not page.openids:
                return openids
            next_openid = page.next_openid
    return None  # a segment comes from our own tables, inside the start's transaction


def broadcast_start(*, broadcast_id: int) -> str:
    """A queued (or due scheduled) broadcast → sending: our quota, the recipient list, the chunks.

    Everything that talks to WeChat (the follower or tag list, the articles' upload) happens
    before the transaction; inside it, the broadcast row is locked and its status checked again
    (a cancel may have won), then the recipients are written in bulk, counted into balanced chunks
    and the broadcast becomes ``sending`` — all or nothing. Returns the resulting status.
    """
    broadcast = Broadcast.objects.select_related("wechat_account", "supply_unit").get(pk=broadcast_id)
    now = timezone.now()
    if broadcast.status == BroadcastStatus.SCHEDULED and broadcast.scheduled_at > now:
        return broadcast.status  # too early (a task run early, or the sweep)
    if broadcast.status not in (BroadcastStatus.QUEUED, BroadcastStatus.SCHEDULED):
        return broadcast.status
    client = wechat_client(broadcast.wechat_account)
    try:
        if broadcast.message_kind == MessageKind.ARTICLES:
            mpnews_media_ensure(broadcast, client)
        openids = _followers_from_wechat(broadcast, client)
    except ApplicationError as exc:
        _fail_broadcast(broadcast, code=exc.code, message=exc.message)
        return BroadcastStatus.FAILED
    except WeChatApiError as exc:
        if exc.permanent:
            _fail_broadcast(broadcast, code=f"wechat.{exc.vendor_code}", message=api_error_text(exc))
            return BroadcastStatus.FAILED
        Broadcast.objects.filter(pk=broadcast.pk).update(
            last_error_code=f"wechat.{exc.vendor_code}", last_error=api_error_text(exc)[:500], updated_at=now
        )
        raise  # the task shows as failed; broadcast_resume starts it again
    return _start_locked(broadcast, openids)


@transaction.atomic
def _start_locked(broadcast: Broadcast, openids: list[str] | None) -> str:
    locked = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
    if locked.status not in (BroadcastStatus.QUEUED, BroadcastStatus.SCHEDULED):
        return locked.status
    if locked.status == BroadcastStatus.SCHEDULED and locked.scheduled_at > timezone.now():
        return locked.status  # rescheduled to later meanwhile
    # One start at a time per account, so two cannot both pass the quota (PostgreSQL row lock;
    # SQLite's BEGIN IMMEDIATE serialises every writer anyway).
    account = WeChatAccount.objects.select_for_update().get(pk=broadcast.wechat_account_id)
    now = timezone.now()
    try:
        quota_check(account=account, at=now, exclude_pk=locked.pk, planned=False)
    except ApplicationError as exc:
        _fail_broadcast(locked, code=exc.code, message=exc.message)
        return BroadcastStatus.FAILED
    size = settings.BROADCAST_CHUNK_SIZE
    try:
        with transaction.atomic():  # a savepoint: too few recipients rolls the rows back
            if openids is None:
                count = materialise_segment(broadcast, size=size)
            else:
                count = materialise_openids(broadcast, openids, size=size)
            if count < 2:
                raise _TooFewRecipients(count)
    except _TooFewRecipients as few:
        _fail_broadcast(
            locked,
            code="broadcast_recipients_too_few",
            message=_("符合条件的收件人只有 %(n)s 人：微信按 OpenID 群发至少需要 2 人。") % {"n": few.count},
        )
        return BroadcastStatus.FAILED
    sizes = (
        BroadcastRecipient.objects.filter(broadcast_id=locked.pk)
        .values_list("chunk_no")
        .annotate(n=Count("id"))
        .order_by("chunk_no")
    )
    chunks = [
        BroadcastChunk(
            broadcast_id=locked.pk, number=number, recipient_count=n, clientmsgid=locked.clientmsgid(number)
        )
        for number, n in sizes
    ]
    assert len(chunks) == chunk_plan(count, size), (len(chunks), count, size)
    BroadcastChunk.objects.bulk_create(chunks)
    locked.status, locked.started_at = BroadcastStatus.SENDING, now
    locked.recipient_count, locked.chunk_count = count, len(chunks)
    locked.last_error_code, locked.last_error = "", ""
    locked.save(
        update_fields=[
            "status",
            "started_at",
            "recipient_count",
            "chunk_count",
            "last_error_code",
            "last_error",
            "updated_at",
        ]
    )
    _event(events.BROADCAST_STARTED, locked, recipient_count=count, chunk_count=len(chunks))
    return BroadcastStatus.SENDING


# --- the chunk state machine ---------------------------------------------------------------------


def _claimable(now: datetime) -> Q:
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return (Q(status=ChunkStatus.PENDING) & due) | Q(status=ChunkStatus.SENDING, lease_until__lt=now)


def chunk_claim(*, broadcast: Broadcast, now: datetime | None = None) -> BroadcastChunk | None:
    """Take the next chunk this worker may send, or None. One conditional UPDATE per try: of two
    workers racing for a chunk exactly one updates a row (PostgreSQL re-checks the WHERE clause
    after waiting for the other's row lock; SQLite serialises writers)."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.BROADCAST_CHUNK_LEASE_SECONDS)
    candidates = (
        BroadcastChunk.objects.filter(_claimable(now), broadcast_id=broadcast.pk)
        .order_by("number")
        .values_list("pk", flat=True)[:_CLAIMABLE_PER_QUERY]
    )
    for pk in list(candidates):
        token = secrets.token_hex(16)
        taken = BroadcastChunk.objects.filter(_claimable(now), pk=pk).update(
            status=ChunkStatus.SENDING,
            claim_token=token,
            lease_until=now + lease,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
        if taken:
            return BroadcastChunk.objects.get(pk=pk)
    return None


def _chunk_openids(chunk: BroadcastChunk) -> list[str]:
    return list(
        BroadcastRecipient.objects.filter(broadcast_id=chunk.broadcast_id, chunk_no=chunk.number)
        .order_by("seq")
        .values_list("openid", flat=True)
    )


def _mine(chunk: BroadcastChunk):
    return BroadcastChunk.objects.filter(
        pk=chunk.pk, status=ChunkStatus.SENDING, claim_token=chunk.claim_token
    )


def _report_row_locked(*, app_id: str, msg_id: str) -> BroadcastJobReport:
    """Insert or find the (AppID, msg_id) row and lock it: the meeting point of worker and callback."""
    BroadcastJobReport.objects.get_or_create(app_id=app_id, msg_id=msg_id)
    return BroadcastJobReport.objects.select_for_update().get(app_id=app_id, msg_id=msg_id)


@transaction.atomic
def _chunk_submitted(broadcast: Broadcast, chunk: BroadcastChunk, *, msg_id: str, msg_data_id: str) -> bool:
    now = timezone.now()
    recorded = _mine(chunk).update(
        status=ChunkStatus.SUBMITTED,
        msg_id=msg_id,
        msg_data_id=msg_data_id,
        submitted_at=now,
        lease_until=None,
        next_attempt_at=None,
        error_code="",
        error_message="",
        updated_at=now,
    )
    if not recorded:  # the lease ran out and another worker took the chunk over: it records it
        return False
    BroadcastRecipient.objects.filter(
        broadcast_id=chunk.broadcast_id, chunk_no=chunk.number, status=RecipientStatus.PENDING
    ).update(status=RecipientStatus.SUBMITTED)
    report = _report_row_locked(app_id=broadcast.wechat_account.app_id, msg_id=msg_id)
    if report.status and report.applied_at is None:
        _report_apply(report, BroadcastChunk.objects.get(pk=chunk.pk))
    return True


def _chunk_failed(chunk: BroadcastChunk, *, code: str, message: str, claimed: bool = True) -> bool:
    now = timezone.now()
    rows = _mine(chunk) if claimed else BroadcastChunk.objects.filter(pk=chunk.pk, status=ChunkStatus.PENDING)
    if not rows.update(
        status=ChunkStatus.FAILED,
        error_code=code[:64],
        error_message=message[:500],
        finished_at=now,
        lease_until=None,
        updated_at=now,
    ):
        return False
    BroadcastRecipient.objects.filter(
        broadcast_id=chunk.broadcast_id, chunk_no=chunk.number, status=RecipientStatus.PENDING
    ).update(status=RecipientStatus.FAILED, reason=code[:64])
    return True


def _backoff(attempts: int) -> int:
    return min(_BACKOFF_CAP_SECONDS, 2 ** max(1, attempts))


@transaction.atomic
def _chunk_refused(broadcast: Broadcast, chunk: BroadcastChunk, exc: WeChatApiError) -> bool:
    """Record a failed send; True when the broadcast should stop sending for now."""
    now = timezone.now()
    code, text = f"wechat.{exc.vendor_code}", api_error_text(exc)
    if exc.quota_exhausted:
        # Not an attempt that failed: the chunk waits for the quota, its attempts unspent.
        _mine(chunk).update(
            status=ChunkStatus.PENDING,
            lease_until=None,
            attempts=F("attempts") - 1,
            error_code=code,
            error_message=text[:500],
            updated_at=now,
        )
        paused = Broadcast.objects.filter(pk=broadcast.pk, status=BroadcastStatus.SENDING).update(
            status=BroadcastStatus.QUOTA_EXHAUSTED,
            last_error_code=code,
            last_error=text[:500],
            updated_at=now,
        )
        if paused:
            _event(events.BROADCAST_PAUSED, broadcast, error_code=code, chunk=chunk.number)
        return True
    if exc.permanent:
        # A refusal of the request itself (media, credentials, content): every other chunk would
        # get it too, so the chunks not yet sent fail with it instead of being tried one by one.
        _chunk_failed(chunk, code=code, message=text)
        for other in BroadcastChunk.objects.filter(broadcast_id=broadcast.pk, status=ChunkStatus.PENDING):
            _chunk_failed(other, code=code, message=_("未发送：%(reason)s") % {"reason": text}, claimed=False)
        Broadcast.objects.filter(pk=broadcast.pk).update(
            last_error_code=code, last_error=text[:500], updated_at=now
        )
        return True
    if chunk.attempts >= settings.BROADCAST_MAX_ATTEMPTS:
        _chunk_failed(
            chunk,
            code=code,
            message=_("已尝试 %(n)s 次仍失败：%(reason)s") % {"n": chunk.attempts, "reason": text},
        )
        return False
    wait = exc.retry_after or _backoff(chunk.attempts)
    _mine(chunk).update(
        status=ChunkStatus.PENDING,
        lease_until=None,
        next_attempt_at=now + timedelta(seconds=wait),
        error_code=code,
        error_message=text[:500],
        updated_at=now,
    )
    Broadcast.objects.filter(pk=broadcast.pk).update(
        last_error_code=code, last_error=text[:500], updated_at=now
    )
    return False


def chunk_send(broadcast: Broadcast, chunk: BroadcastChunk, client: WeChatApiClient, message) -> bool:
    """Send one claimed chunk; True when the broadcast should stop (quota, permanent refusal)."""
    openids = _chunk_openids(chunk)
    try:
        result = client.mass_send_to_openids(openids=openids, message=message, clientmsgid=chunk.clientmsgid)
    except WeChatApiError as exc:
        log.warning(
            "broadcast chunk refused",
            extra={"broadcast_id": broadcast.pk, "chunk": chunk.number, "vendor_code": exc.vendor_code},
        )
        return _chunk_refused(broadcast, chunk, exc)
    except ValueError as exc:  # the client's own checks (list size, clientmsgid): our bug, never retried
        with transaction.atomic():
            _chunk_failed(chunk, code="client.invalid_request", message=str(exc))
        return False
    _chunk_submitted(broadcast, chunk, msg_id=result.msg_id, msg_data_id=result.msg_data_id)
    return False


# --- progress ------------------------------------------------------------------------------------


def broadcast_progress_update(*, broadcast_id: int) -> str:
    """sending → submitted once every chunk was taken (or failed); sending/submitted → finished
    (or failed, when no chunk got through) once every chunk is final. Conditional updates: the
    finished event is recorded once however many workers and callbacks get here."""
    counts = dict(
        BroadcastChunk.objects.filter(broadcast_id=broadcast_id)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    open_chunks = counts.get(ChunkStatus.PENDING, 0) + counts.get(ChunkStatus.SENDING, 0)
    now = timezone.now()
    with transaction.atomic():
        broadcast = Broadcast.objects.select_related("wechat_account").get(pk=broadcast_id)
        if open_chunks or broadcast.status not in (BroadcastStatus.SENDING, BroadcastStatus.SUBMITTED):
            return broadcast.status
        if counts.get(ChunkStatus.SUBMITTED, 0):
            Broadcast.objects.filter(pk=broadcast_id, status=BroadcastStatus.SENDING).update(
                status=BroadcastStatus.SUBMITTED, submitted_at=now, updated_at=now
            )
            return BroadcastStatus.SUBMITTED
        final = BroadcastStatus.FINISHED if counts.get(ChunkStatus.FINISHED, 0) else BroadcastStatus.FAILED
        done = Broadcast.objects.filter(
            pk=broadcast_id, status__in=(BroadcastStatus.SENDING, BroadcastStatus.SUBMITTED)
        ).update(status=final, submitted_at=broadcast.submitted_at or now, finished_at=now, updated_at=now)
        if done:
            totals = BroadcastChunk.objects.filter(broadcast_id=broadcast_id).aggregate(
                sent=Sum("sent_count"), errors=Sum("error_count"), total=Sum("total_count")
            )
            _event(
                events.BROADCAST_FINISHED,
                broadcast,
                status=final,
                chunks_finished=counts.get(ChunkStatus.FINISHED, 0),
                chunks_failed=counts.get(ChunkStatus.FAILED, 0),
                sent_count=totals["sent"] or 0,
                error_count=totals["errors"] or 0,
                total_count=totals["total"] or 0,
            )
        return final


@dataclass
class SendOutcome:
    status: str
    chunks_sent: int = 0
    retry_at: datetime | None = None


def broadcast_send(*, broadcast_id: int, max_chunks: int | None = None) -> SendOutcome:
    """Send every chunk this worker can claim, then update the broadcast's progress.

    Safe to run in several workers at once and after any crash: each chunk is claimed by one
    worker, and a chunk resent after a lost answer goes out under the same clientmsgid. Chunks
    waiting for a retry time are left for a task deferred to that time (or broadcast_resume).
    """
    broadcast = Broadcast.objects.select_related("wechat_account").get(pk=broadcast_id)
    if broadcast.status != BroadcastStatus.SENDING:
        return SendOutcome(broadcast.status)
    client = wechat_client(broadcast.wechat_account)
    try:
        message = mass_message(broadcast, client)
    except (ApplicationError, WeChatApiError) as exc:
        # The articles could not be (re)uploaded: nothing can go out until someone edits them.
        transient = isinstance(exc, WeChatApiError) and not exc.permanent
        if transient:
            raise
        code = exc.code if isinstance(exc, ApplicationError) else f"wechat.{exc.vendor_code}"
        text = exc.message if isinstance(exc, ApplicationError) else api_error_text(exc)
        with transaction.atomic():
            for chunk in BroadcastChunk.objects.filter(broadcast_id=broadcast.pk, status=ChunkStatus.PENDING):
                _chunk_failed(chunk, code=code, message=text, claimed=False)
        return SendOutcome(broadcast_progress_update(broadcast_id=broadcast.pk))
    sent = 0
    while max_chunks is None or sent < max_chunks:
        chunk = chunk_claim(broadcast=broadcast)
        if chunk is None:
            break
        stop = chunk_send(broadcast, chunk, client, message)
        sent += 1
        if stop:
            break
    status = broadcast_progress_update(broadcast_id=broadcast.pk)
    retry_at = None
    if status == BroadcastStatus.SENDING:
        retry_at = BroadcastChunk.objects.filter(
            broadcast_id=broadcast.pk, status=ChunkStatus.PENDING, next_attempt_at__isnull=False
        ).aggregate(at=Min("next_attempt_at"))["at"]
        if retry_at is not None and max_chunks is None:
            with transaction.atomic():
                tasks.broadcast_send_dispatch(broadcast_id=broadcast.pk, run_after=retry_at)
    return SendOutcome(status, sent, retry_at)


# --- WeChat's reports ----------------------------------------------------------------------------


def _report_apply(report: BroadcastJobReport, chunk: BroadcastChunk) -> None:
    """Finish (or fail) a submitted chunk with WeChat's report; the report row is locked."""
    now = timezone.now()
    succeeded = report_succeeded(report.status)
    updated = BroadcastChunk.objects.filter(pk=chunk.pk, status=ChunkStatus.SUBMITTED).update(
        status=ChunkStatus.FINISHED if succeeded else ChunkStatus.FAILED,
        report_status=report.status[:32],
        total_count=report.total_count,
        filter_count=report.filter_count,
        sent_count=report.sent_count,
        error_count=report.error_count,
        error_code="" if succeeded else f"report.{report.status}"[:64],
        finished_at=now,
        updated_at=now,
    )
    if updated:
        recipients = BroadcastRecipient.objects.filter(
            broadcast_id=chunk.broadcast_id, chunk_no=chunk.number, status=RecipientStatus.SUBMITTED
        )
        if succeeded:
            recipients.update(status=RecipientStatus.SENT)
        else:
            recipients.update(status=RecipientStatus.FAILED, reason=report.status[:64])
    BroadcastJobReport.objects.filter(pk=report.pk).update(applied_at=now)
    transaction.on_commit(lambda: broadcast_progress_update(broadcast_id=chunk.broadcast_id))


@transaction.atomic
def job_report_record(
    *,
    app_id: str,
    msg_id: str,
    status: str,
    total_count: int = 0,
    filter_count: int = 0,
    sent_count: int = 0,
    error_count: int = 0,
) -> str:
    """Take WeChat's MASSSENDJOBFINISH for ``msg_id`` (idempotent). Returns ``applied``,
    ``duplicate`` (seen before), ``waiting`` (no chunk has recorded this msg_id yet: the worker
    will apply it) or ``ignored`` (not a report: empty msg_id or status)."""
    msg_id, status = (msg_id or "").strip(), (status or "").strip()
    if not msg_id or not status:
        return "ignored"
    report = _report_row_locked(app_id=app_id, msg_id=msg_id[:32])
    if report.status:
        return "duplicate"
    report.status = status[:32]
    # WeChat's counts fit easily; a signed push with absurd ones must not overflow the columns.
    report.total_count, report.filter_count = min(total_count, _COUNT_MAX), min(filter_count, _COUNT_MAX)
    report.sent_count, report.error_count = min(sent_count, _COUNT_MAX), min(error_count, _COUNT_MAX)
    report.received_at = timezone.now()
    report.save(
        update_fields=["status", "total_count", "filter_count", "sent_count", "error_count", "received_at"]
    )
    chunk = (
        BroadcastChunk.objects.filter(msg_id=report.msg_id, broadcast__wechat_account__app_id=app_id)
        .exclude(status=ChunkStatus.SENDING)
        .first()
    )
    if chunk is None:
        return "waiting"
    _report_apply(report, chunk)
    return "applied"


# --- resuming ------------------------------------------------------------------------------------


def _poll_stale_submitted(now: datetime) -> int:
    """Ask mass/get about chunks submitted long ago whose report never came (a callback URL that
    was down, a push WeChat gave up on). Returns how many were settled."""
    settled = 0
    stale = BroadcastChunk.objects.filter(
        status=ChunkStatus.SUBMITTED,
        submitted_at__lt=now - timedelta(minutes=settings.BROADCAST_REPORT_WAIT_MINUTES),
    ).select_related("broadcast__wechat_account")
    clients: dict[int, WeChatApiClient] = {}
    for chunk in stale:
        account = chunk.broadcast.wechat_account
        client = clients.setdefault(account.pk, wechat_client(account))
        try:
            state = client.mass_status(chunk.msg_id)
        except WeChatApiError as exc:
            log.warning("mass/get failed", extra={"chunk": chunk.clientmsgid, "vendor_code": exc.vendor_code})
            continue
        if state in ("SEND_SUCCESS", "SEND_FAIL", "DELETE"):
            with transaction.atomic():
                report = _report_row_locked(app_id=account.app_id, msg_id=chunk.msg_id)
                if report.applied_at is None:
                    report.status = report.status or ("send fail" if state == "SEND_FAIL" else "send success")
                    report.received_at = report.received_at or timezone.now()
                    report.save(update_fields=["status", "received_at"])
                    _report_apply(report, chunk)
                    settled += 1
    return settled


@dataclass
class ResumeReport:
    started: list[int] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)
    chunks_sent: int = 0
    reports_polled: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def broadcasts_resume(
    *, broadcast_id: int | None = None, include_paused: bool = False, now: datetime | None = None
) -> ResumeReport:
    """Pick up everything left unfinished, in this process:

    1. scheduled broadcasts that are due, and queued ones whose start task got lost → start;
    2. sending broadcasts with a claimable chunk (pending and due, or a lease that ran out — the
       chunk of a worker that died) → send; with ``include_paused``, quota-paused ones too;
    3. chunks submitted long ago without WeChat's report → mass/get.
    """
    now = now or timezone.now()
    report = ResumeReport()
    mine = Broadcast.objects.all() if broadcast_id is None else Broadcast.objects.filter(pk=broadcast_id)
    # A queued broadcast has its own start task; only one queued for a minute lost it.
    due = mine.filter(
        Q(status=BroadcastStatus.QUEUED, updated_at__lt=now - QUEUED_GRACE)
        | Q(status=BroadcastStatus.SCHEDULED, scheduled_at__lte=now)
    ).order_by("pk")
    for pk in list(due.values_list("pk", flat=True)):
        try:
            status = broadcast_start(broadcast_id=pk)
        except WeChatApiError as exc:
            log.warning(
                "broadcast start failed, will retry", extra={"broadcast_id": pk, "code": exc.vendor_code}
            )
            continue
        if status == BroadcastStatus.SENDING:
            report.started.append(pk)
    if include_paused:
        for paused in mine.filter(status=BroadcastStatus.QUOTA_EXHAUSTED).select_related("wechat_account"):
            with transaction.atomic():
                if Broadcast.objects.filter(pk=paused.pk, status=BroadcastStatus.QUOTA_EXHAUSTED).update(
                    status=BroadcastStatus.SENDING, updated_at=now
                ):
                    _event(events.BROADCAST_STARTED, paused, resumed=True)
    sending = mine.filter(status=BroadcastStatus.SENDING).filter(
        pk__in=BroadcastChunk.objects.filter(_claimable(timezone.now())).values("broadcast_id")
    )
    for pk in list(sending.order_by("pk").values_list("pk", flat=True)):
        try:
            outcome = broadcast_send(broadcast_id=pk)
        except WeChatApiError as exc:
            log.warning(
                "broadcast send failed, will retry", extra={"broadcast_id": pk, "code": exc.vendor_code}
            )
            continue
        report.chunks_sent += outcome.chunks_sent
        if pk not in report.started:
            report.resumed.append(pk)
    report.reports_polled = _poll_stale_submitted(now)
    return report
