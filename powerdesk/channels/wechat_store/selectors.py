"""Reads of the Official Account registry on the callback's path (every message)."""

from __future__ import annotations

import functools
import threading
import time

from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.core.process_caches import process_cache
from powerdesk.core.rowsql import select_rows

_crypto_cache: dict[tuple[str, str, str, str], object] = {}
_cache_lock = threading.Lock()  # the crypto and account caches
_CRYPTO_CACHE_MAX = 256

# How long a process trusts an account it read for the callback before reading it again (one
# statement per message otherwise). A change saved in this process (console, admin, command:
# ``WeChatAccount`` post_save/post_delete) applies to the next message at once; one saved by
# another process within this many seconds — as a token changed in WeChat's console reaches
# its servers no faster.
ACCOUNT_RECHECK_SECONDS = 1.0
_accounts: dict[str, tuple[float, WeChatAccount | None]] = {}
_ACCOUNTS_MAX = 256  # unknown slugs are kept too (as None), so probing them cannot grow it unbounded


def account_for_callback(slug: str) -> WeChatAccount | None:
    """The active account ``slug`` (None when there is none), read with one statement written
    once and then kept for ``ACCOUNT_RECHECK_SECONDS``. The instance is shared by the requests
    of this process: read it, never change it."""
    now = time.monotonic()
    kept = _accounts.get(slug)
    if kept is not None and now - kept[0] < ACCOUNT_RECHECK_SECONDS:
        return kept[1]
    rows = select_rows(WeChatAccount, _account_sql(), [slug, True], fields=_account_fields())
    account = rows[0] if rows else None
    with _cache_lock:
        if len(_accounts) >= _ACCOUNTS_MAX:
            _accounts.clear()
        _accounts[slug] = (now, account)
    return account


@process_cache
def account_cache_clear(**_signal) -> None:
    """Read every account afresh at its next callback (connected to WeChatAccount's saves)."""
    with _cache_lock:
        _accounts.clear()


def account_crypto(account: WeChatAccount):
    """``account.crypto()``, kept per process for the sealed key it was opened from: unsealing
    the EncodingAESKey and deriving the cipher is done once per key, not per message. A new
    key, token or AppID is a new cache entry."""
    if not account.encoding_aes_key_ciphertext:
        return None
    cache_key = (
        account.app_id,
        account.token,
        account.encoding_aes_key_key_id,
        account.encoding_aes_key_ciphertext,
    )
    crypto = _crypto_cache.get(cache_key)
    if crypto is None:
        crypto = account.crypto()
        with _cache_lock:
            if len(_crypto_cache) >= _CRYPTO_CACHE_MAX:  # keys are rotated rarely; never grow unbounded
                _crypto_cache.clear()
            _crypto_cache[cache_key] = crypto
    return crypto


@functools.cache
def _account_fields() -> tuple[str, ...]:
    return tuple(f.name for f in WeChatAccount._meta.concrete_fields)


@functools.cache
def _account_sql() -> str:
    columns = ", ".join(f'"{f.column}"' for f in WeChatAccount._meta.concrete_fields)
    table = WeChatAccount._meta.db_table
    return f'SELECT {columns} FROM "{table}" WHERE "slug" = %s AND "is_active" = %s'  # noqa: S608 (names from the model)
