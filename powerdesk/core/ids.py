"""Sortable unique ids (UUIDv7, RFC 9562) for append-only tables exported incrementally by id."""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_last_seq = 0


def uuid7() -> uuid.UUID:
    """A UUIDv7 whose ids from this process are strictly increasing.

    Within one millisecond a 12-bit counter (rand_a) is incremented from a random start, so two
    ids made in the same millisecond still sort in creation order (RFC 9562 §6.2, method 1).
    """
    global _last_ms, _last_seq
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms > _last_ms:
            _last_ms = now_ms
            _last_seq = int.from_bytes(os.urandom(2), "big") & 0x7FF  # leave headroom to count up
        else:
            _last_seq += 1
            if _last_seq > 0xFFF:  # counter exhausted: borrow the next millisecond
                _last_ms += 1
                _last_seq = 0
        ms, seq = _last_ms, _last_seq
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | seq << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)


def uuid7_time_ms(value: uuid.UUID) -> int:
    """Milliseconds since the epoch encoded in a UUIDv7."""
    return value.int >> 80
