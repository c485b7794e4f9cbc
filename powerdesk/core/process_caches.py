"""Process-local caches kept on hot paths, and one call that empties them all.

A module that keeps something per process for speed (the keyword matcher, the Official
Account read on every callback) registers how to forget it; the test suite empties them all
around every test, so no test sees another's rows.
"""

from __future__ import annotations

from collections.abc import Callable

_clearers: list[Callable[[], None]] = []


def process_cache(clear: Callable[[], None]) -> Callable[[], None]:
    """Register ``clear`` (usable as a decorator); ``process_caches_clear`` calls it."""
    if clear not in _clearers:
        _clearers.append(clear)
    return clear


def process_caches_clear() -> None:
    for clear in _clearers:
        clear()
