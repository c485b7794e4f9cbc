"""What every channel adapter shares."""

from __future__ import annotations


class ChannelError(Exception):
    """A vendor refused or failed. ``permanent`` failures (bad number, blocked user) must not be
    retried; transient ones (timeouts, 5xx, rate limits) may be."""

    def __init__(self, message: str, *, permanent: bool, vendor_code: str = "") -> None:
        super().__init__(message)
        self.permanent = permanent
        self.vendor_code = vendor_code
