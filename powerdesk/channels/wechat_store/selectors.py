"""Reads of the Official Account registry on the callback's path (every message)."""

from __future__ import annotations

import functools
import threading

from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.core.rowsql import select_rows

_crypto_cache: dict[tuple[str, str, str, str], object] = {}
_crypto_lock = threading.Lock()
_CRYPTO_CACHE_MAX = 256


def account_for_callback(slug: str) -> WeChatAccount | None:
    """The active account ``slug``, read afresh (one statement written once), so a change of
    token, key or state applies to the very next message."""
    rows = select_rows(WeChatAccount, _account_sql(), [slug, True], fields=_account_fields())
    return rows[0] if rows else None


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
        with _crypto_lock:
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
