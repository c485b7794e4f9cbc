"""The other side of the webhook, written apart from upstream.py: pushes shaped like Alibaba
Cloud's SmsUp and Tencent Cloud's reply callback, signed the way docs/sms-business-hall.md says."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone

from .conftest import INBOUND_SECRET

BEIJING = timezone(timedelta(hours=8))
_sequence = iter(range(10**9, 2 * 10**9))


def aliyun_record(phone: str, content: str, *, sequence_id=None, **extra) -> dict:
    """One SmsUp message as the documentation shows it."""
    return {
        "phone_number": phone,
        "send_time": datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
        "content": content,
        "sign_name": "示范供电",
        "dest_code": "1234",
        "sequence_id": next(_sequence) if sequence_id is None else sequence_id,
        **extra,
    }


def aliyun_body(*records: dict) -> bytes:
    return json.dumps(list(records), ensure_ascii=False).encode()


def tencent_body(phone: str, text: str, *, when: int | None = None, **extra) -> bytes:
    record = {
        "extend": "",
        "mobile": phone,
        "nationcode": "86",
        "sign": "示范供电",
        "text": text,
        "time": int(time.time()) if when is None else when,
        **extra,
    }
    return json.dumps(record, ensure_ascii=False).encode()


def signed_headers(
    provider: str, body: bytes, *, secret: str = INBOUND_SECRET, at: int | None = None
) -> dict:
    """Django test-client headers: X-PowerDesk-Timestamp and -Signature, HMAC-SHA256 over
    ``"<timestamp>.<provider>." + body``."""
    stamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(
        secret.encode(), stamp.encode() + b"." + provider.encode() + b"." + body, hashlib.sha256
    )
    return {"HTTP_X_POWERDESK_TIMESTAMP": stamp, "HTTP_X_POWERDESK_SIGNATURE": "v1=" + digest.hexdigest()}


def push(client, provider: str, body: bytes, **signing):
    return client.post(
        f"/channels/sms/inbound/{provider}/",
        data=body,
        content_type="application/json",
        **signed_headers(provider, body, **signing),
    )
