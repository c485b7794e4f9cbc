"""The client's address as far as we can trust it.

Behind a reverse proxy REMOTE_ADDR is the proxy. ``X-Forwarded-For`` is believed only as far as
it was written by proxies we trust (``POWERDESK_TRUSTED_PROXIES``): read right to left, every
trusted hop is skipped and the first address that is not a trusted proxy is the client. Anything
further left was written by the client itself and could be anything, so it is never used.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address) -> bool:
    return any(address in network for network in settings.TRUSTED_PROXIES)


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    remote = _address(request.META.get("REMOTE_ADDR", "") or "")
    if remote is None:
        return None
    if not _trusted(remote):
        return str(remote)
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:  # a garbled hop: nothing left of it can be trusted either
            return str(remote)
        if not _trusted(address):
            return str(address)
        remote = address
    return str(remote)
