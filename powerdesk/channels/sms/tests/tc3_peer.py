"""TC3-HMAC-SHA256 written here from the documentation's Python demo, apart from our
tencent_protocol.py and the fake's own check, and a raw HTTP poster for hand-built requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from urllib.parse import urlsplit


def their_authorization(*, secret_id, secret_key, timestamp, host, action, payload, date=None, service="sms"):
    date = date or datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    ct = "application/json; charset=utf-8"
    canonical_headers = f"content-type:{ct}\nhost:{host}\nx-tc-action:{action.lower()}\n"
    signed_headers = "content-type;host;x-tc-action"
    canonical_request = "\n".join(
        ["POST", "/", "", canonical_headers, signed_headers, hashlib.sha256(payload).hexdigest()]
    )
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        ["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )

    def sign(key, msg):
        return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()

    secret_signing = sign(sign(sign(("TC3" + secret_key).encode(), date), service), "tc3_request")
    signature = hmac.new(secret_signing, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"


def send_sms_payload(
    fake, *, phone="+8613900000001", template_id="1000001", params=("登录", "654321", "5"), **extra
):
    body = {
        "PhoneNumberSet": [phone],
        "SmsSdkAppId": fake.sdk_app_id,
        "TemplateId": template_id,
        "SignName": "示范供电",
        "TemplateParamSet": list(params),
        "SessionContext": "raw-1",
        **extra,
    }
    return json.dumps(body, ensure_ascii=False).encode()


def post_signed(
    fake, payload: bytes, *, timestamp=None, secret_key=None, secret_id=None, headers=None, **sign
):
    """POST ``payload`` to the fake, signed by ``their_authorization``; (status, JSON)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    host = urlsplit(fake.url).netloc
    request_headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Host": host,
        "X-TC-Action": "SendSms",
        "X-TC-Version": "2021-01-11",
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Region": "ap-guangzhou",
    }
    request_headers["Authorization"] = their_authorization(
        secret_id=secret_id or fake.secret_id,
        secret_key=secret_key or fake.secret_key,
        timestamp=timestamp,
        host=host,
        action="SendSms",
        payload=payload,
        **sign,
    )
    request_headers |= headers or {}
    request = urllib.request.Request(fake.url, data=payload, method="POST", headers=request_headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())
