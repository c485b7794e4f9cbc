"""Background work of the statistics app (django-tasks; ``powerdesk worker`` runs it)."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from powerdesk.channel_stats.services import datacube_fetch
from powerdesk.channels.wechat_store.models import WeChatAccount


@task()
def datacube_fetch_task(account_id: int, days: int) -> dict:
    """Fetch and store WeChat's figures of one Official Account for the last ``days`` days."""
    account = WeChatAccount.objects.filter(pk=account_id).first()
    if account is None:
        return {"status": "missing"}
    return {"status": "ok", **datacube_fetch(account=account, days=days).as_dict()}


def datacube_fetch_dispatch(*, account_id: int, days: int) -> None:
    """Enqueue a fetch once the surrounding transaction has committed."""
    transaction.on_commit(lambda: datacube_fetch_task.enqueue(account_id, days))


@task()
def datacube_fetch_all_task(days: int = 7) -> dict:
    """The daily job: every active Official Account with an AppSecret, the last ``days`` days
    (re-fetching days already stored updates them: WeChat revises recent figures). One account
    failing does not stop the others; its error is in the result."""
    from powerdesk.channels.base import ChannelError
    from powerdesk.core.exceptions import ApplicationError

    results = {}
    for account in WeChatAccount.objects.filter(is_active=True).order_by("slug"):
        if not account.app_secret_ciphertext:
            continue
        try:
            results[account.slug] = {"ok": True, **datacube_fetch(account=account, days=days).as_dict()}
        except (ApplicationError, ChannelError) as exc:
            results[account.slug] = {"ok": False, "error": str(getattr(exc, "message", exc))}
    return results
