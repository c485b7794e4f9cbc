"""One small HTTP client for the gateway adapters (stdlib urllib; bodies capped)."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping

from powerdesk.payments.gateways.base import GatewayError

MAX_RESPONSE_BYTES = 256 * 1024


def post(url: str, body: bytes, headers: Mapping[str, str], *, timeout: float) -> tuple[int, dict, bytes]:
    return request("POST", url, body, headers, timeout=timeout)


def request(
    method: str, url: str, body: bytes | None, headers: Mapping[str, str], *, timeout: float
) -> tuple[int, dict, bytes]:
    """Send and return (status, headers, body) for any HTTP answer; a network failure or
    timeout is a transient GatewayError (the gateway may have acted: callers retry with the
    same idempotency key — out_trade_no or the refund number)."""
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise GatewayError(f"refusing to send payment data to {url!r}", permanent=True, vendor_code="config")
    prepared = urllib.request.Request(url, data=body, method=method, headers=dict(headers))  # noqa: S310
    try:
        with urllib.request.urlopen(prepared, timeout=timeout) as response:  # noqa: S310
            return response.status, dict(response.headers.items()), response.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, dict(exc.headers.items()), exc.read(MAX_RESPONSE_BYTES)
        finally:
            exc.close()
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise GatewayError(f"gateway unreachable: {exc}", permanent=False, vendor_code="network") from exc
