"""The shared access_token: read without a lock, refreshed by exactly one worker at a time.

Why a lock at all: WeChat keeps one valid token per AppID. Two workers that each fetch a token
at the same moment are harmless with ``stable_token`` in normal mode (both get the same token),
but a *forced* refresh invalidates the previous token at once — if every worker that sees
``40001`` forces a refresh, they invalidate each other's tokens in a loop (the failure known from
wechatpy, WeRoBot, WxJava and EasyWeChat deployments with several processes). So:

* a token is read from ``AccessTokenCache`` without a lock while it is fresh;
* refreshing happens inside a transaction holding the row: ``SELECT … FOR UPDATE`` on
  PostgreSQL; on SQLite the settings' ``BEGIN IMMEDIATE`` takes the database write lock, which
  serialises just the same. Whoever gets the lock second re-reads the row and, finding a token
  newer than the one it holds, uses it instead of fetching;
* a worker whose token WeChat has just refused (40001/42001/40014) and which, under the lock,
  still finds that very token in the row, asks ``stable_token`` in normal mode first — after an
  expiry or a revocation WeChat hands out the new token that way — and forces a refresh only if
  WeChat returns the refused token again. Forced refreshes are limited to 20 a day, and each one
  revokes the token every other worker holds.

The HTTP call to ``stable_token`` happens while the lock is held (bounded by the client's
timeout): the point is that nobody else fetches meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from powerdesk.channels.base import ChannelError
from powerdesk.channels.wechat_store.models import AccessTokenCache

# Refresh when less than this is left (WeChat itself renews a stable token 5 minutes early).
REFRESH_MARGIN_SECONDS = 300
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class IssuedToken:
    """What ``stable_token`` answered."""

    token: str
    expires_in: int


@dataclass(frozen=True)
class CachedToken:
    token: str
    expires_at: datetime
    refreshed_at: datetime | None

    def fresh(self, *, now: datetime, margin_seconds: int = REFRESH_MARGIN_SECONDS) -> bool:
        """Usable without refreshing: more than the margin left — or, for a token issued with a
        short life (WeChat may hand out one with minutes left), more than half its life."""
        if not self.token:
            return False
        margin = timedelta(seconds=margin_seconds)
        if self.refreshed_at is not None:
            margin = min(margin, (self.expires_at - self.refreshed_at) / 2)
        return self.expires_at - now > margin


def token_read(app_id: str) -> CachedToken | None:
    """The cached token, without locking (it may be stale: check ``fresh``)."""
    row = (
        AccessTokenCache.objects.filter(app_id=app_id)
        .values_list("token", "expires_at", "refreshed_at")
        .first()
    )
    return CachedToken(*row) if row else None


def token_obtain(
    *,
    app_id: str,
    fetch: Callable[[bool], IssuedToken],
    stale_token: str = "",
    margin_seconds: int = REFRESH_MARGIN_SECONDS,
) -> CachedToken:
    """A fresh token for ``app_id``, fetching one through ``fetch(force_refresh)`` only if no
    other worker has done so meanwhile.

    ``stale_token``: a token WeChat has just refused (40001/42001/40014). If another worker has
    replaced it already, the newer token is returned without any request; otherwise a new one is
    fetched, with ``force_refresh`` only if normal mode returns the refused token again.
    """
    cached = token_read(app_id)
    now = timezone.now()
    if cached and cached.fresh(now=now, margin_seconds=margin_seconds) and cached.token != stale_token:
        return cached
    refused: ChannelError | None = None
    with transaction.atomic():
        # The row must exist to be locked; concurrent inserts of it collapse into one.
        AccessTokenCache.objects.bulk_create(
            [AccessTokenCache(app_id=app_id, token="", expires_at=_NEVER)], ignore_conflicts=True
        )
        row = AccessTokenCache.objects.select_for_update().get(app_id=app_id)
        current = CachedToken(row.token, row.expires_at, row.refreshed_at)
        now = timezone.now()
        if current.fresh(now=now, margin_seconds=margin_seconds) and current.token != stale_token:
            return current  # another worker refreshed while we waited for the lock
        try:
            started = timezone.now()
            issued = fetch(False)
            if stale_token and issued.token == stale_token:
                # WeChat still hands out the token it just refused: only a forced refresh helps.
                started = timezone.now()
                issued = fetch(True)
        except ChannelError as exc:
            # Commit rather than roll back, so that the failed attempt's call log row stays.
            refused = exc
        else:
            # Counted from before the request, so our idea of the expiry is never later than WeChat's.
            row.token = issued.token
            row.refreshed_at = started
            row.expires_at = started + timedelta(seconds=issued.expires_in)
            row.save(update_fields=["token", "refreshed_at", "expires_at", "updated_at"])
    if refused is not None:
        raise refused
    return CachedToken(row.token, row.expires_at, row.refreshed_at)


def token_forget(app_id: str) -> None:
    """Drop the cached token (after the AppSecret was changed, for instance)."""
    AccessTokenCache.objects.filter(app_id=app_id).update(token="", expires_at=_NEVER, refreshed_at=None)
