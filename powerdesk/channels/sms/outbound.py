"""Sending SMS: one interface, a local outbox for the demo and tests, Alibaba Cloud or Tencent
Cloud in production (``POWERDESK_SMS_BACKEND``).

``sms_send`` is the only entry point. It renders an approved template (templates.py), stores
the message, hands it to the configured backend and stores every hand-over as an
``OutboundSmsAttempt``. A transient failure that a second try may cure (``retry_now``) is tried
once more after a short pause; anything else ends the message ``failed`` and the
``ChannelError`` reaches the caller, never swallowed.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from powerdesk.channels.base import ChannelError
from powerdesk.channels.sms import protocol, segments, tencent_protocol
from powerdesk.channels.sms.models import OutboundSms, OutboundSmsAttempt
from powerdesk.channels.sms.templates import template_get

log = logging.getLogger(__name__)

# The first try and one immediate retry; later retries belong to a task, not to a request.
MAX_ATTEMPTS = 2
_MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Delivery:
    """A backend's receipt for one accepted hand-over."""

    vendor_message_id: str
    vendor_request_id: str = ""


class SmsBackend(Protocol):
    name: str

    def deliver(self, message: OutboundSms, *, params: Mapping[str, str]) -> Delivery:
        """Hand the message over once. Raises ChannelError."""


class OutboxBackend:
    """Writes messages to ``var/sms_outbox.jsonl`` and the database; nothing leaves the machine.

    The console's SMS outbox page reads the table, so a demo user can read their one-time code.
    """

    name = "outbox"

    def deliver(self, message: OutboundSms, *, params: Mapping[str, str]) -> Delivery:
        path = settings.VAR_DIR / "sms_outbox.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        line = {
            "id": message.pk,
            "phone": message.phone,
            "body": message.body,
            "at": timezone.now().isoformat(),
        }
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        return Delivery(f"outbox-{message.pk}")


class AliyunSmsBackend:
    """Alibaba Cloud SMS ``SendSms`` over HTTPS (signing and parsing live in protocol.py).

    Our message id travels as ``OutId``, so a delivery receipt or the vendor's console leads
    back to the ``OutboundSms`` row.
    """

    name = "aliyun"

    def __init__(
        self,
        *,
        endpoint: str,
        region_id: str,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        template_codes: Mapping[str, str],
        timeout: float,
    ) -> None:
        self.endpoint = endpoint if endpoint.endswith("/") else f"{endpoint}/"
        self.region_id = region_id
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_name = sign_name
        self.template_codes = dict(template_codes)
        self.timeout = timeout

    @classmethod
    def from_settings(cls) -> AliyunSmsBackend:
        return cls(
            endpoint=settings.SMS_ALIYUN_ENDPOINT,
            region_id=settings.SMS_ALIYUN_REGION_ID,
            access_key_id=settings.SMS_ALIYUN_ACCESS_KEY_ID,
            access_key_secret=settings.SMS_ALIYUN_ACCESS_KEY_SECRET,
            sign_name=settings.SMS_SIGN_NAME,
            template_codes=settings.SMS_ALIYUN_TEMPLATES,
            timeout=settings.SMS_ALIYUN_TIMEOUT_SECONDS,
        )

    def deliver(self, message: OutboundSms, *, params: Mapping[str, str]) -> Delivery:
        template_code = self.template_codes.get(message.template)
        if not template_code:
            raise protocol.AliyunSmsError(
                f"no Aliyun template code for {message.template!r} in POWERDESK_SMS_ALIYUN_TEMPLATES",
                permanent=True,
                vendor_code="config.TEMPLATE_CODE_MISSING",
            )
        request_params = protocol.send_sms_params(
            access_key_id=self.access_key_id,
            region_id=self.region_id,
            sign_name=self.sign_name,
            phone=message.phone,
            template_code=template_code,
            template_params=params,
            out_id=str(message.pk),
            now=timezone.now(),
            nonce=str(uuid.uuid4()),
        )
        query = protocol.signed_query(request_params, secret=self.access_key_secret)
        status, body = self._get(f"{self.endpoint}?{query}")
        accepted = protocol.parse_send_sms_response(status, body)
        return Delivery(accepted.biz_id, accepted.request_id)

    def _get(self, url: str) -> tuple[int, bytes]:
        request = urllib.request.Request(  # noqa: S310  (the scheme is checked in settings)
            url, headers={"Accept": "application/json", "User-Agent": "PowerDesk-SMS/1"}
        )
        return _exchange(request, timeout=self.timeout, error=protocol.AliyunSmsError)


def _exchange(
    request: urllib.request.Request, *, timeout: float, error: type[ChannelError]
) -> tuple[int, bytes]:
    """One HTTP exchange with a gateway: (status, body), or ``error`` for the network failing."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read(_MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, exc.read(_MAX_RESPONSE_BYTES)
        finally:
            exc.close()
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise _timeout(error, timeout) from exc
        # Refused, unresolvable, TLS handshake: the request never reached the gateway.
        raise error(
            f"gateway unreachable: {exc.reason}",
            permanent=False,
            vendor_code="network.unreachable",
            retry_now=True,
        ) from exc
    except TimeoutError as exc:
        raise _timeout(error, timeout) from exc
    except (OSError, http.client.HTTPException) as exc:
        # Reset or closed mid-answer: the gateway may have taken the message.
        raise error(
            f"connection lost during SendSms: {exc!r}", permanent=False, vendor_code="network.error"
        ) from exc


def _timeout(error: type[ChannelError], timeout: float) -> ChannelError:
    # Not retried at once: the gateway may have accepted the message before we gave up.
    return error(f"no SendSms answer within {timeout} s", permanent=False, vendor_code="network.timeout")


class TencentSmsBackend:
    """Tencent Cloud SMS ``SendSms`` (2021-01-11) over HTTPS, TC3-signed (tencent_protocol.py).

    Our message id travels as ``SessionContext``; the template's variables go as
    ``TemplateParamSet`` in the order they appear in the text (Tencent numbers them {1}, {2} …).
    """

    name = "tencent"

    def __init__(
        self,
        *,
        endpoint: str,
        region: str,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        template_ids: Mapping[str, str],
        timeout: float,
    ) -> None:
        self.endpoint = endpoint if endpoint.endswith("/") else f"{endpoint}/"
        self.host = urlsplit(self.endpoint).netloc
        self.region = region
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.template_ids = dict(template_ids)
        self.timeout = timeout

    @classmethod
    def from_settings(cls) -> TencentSmsBackend:
        return cls(
            endpoint=settings.SMS_TENCENT_ENDPOINT,
            region=settings.SMS_TENCENT_REGION,
            secret_id=settings.SMS_TENCENT_SECRET_ID,
            secret_key=settings.SMS_TENCENT_SECRET_KEY,
            sdk_app_id=settings.SMS_TENCENT_SDK_APP_ID,
            sign_name=settings.SMS_SIGN_NAME,
            template_ids=settings.SMS_TENCENT_TEMPLATES,
            timeout=settings.SMS_TENCENT_TIMEOUT_SECONDS,
        )

    def deliver(self, message: OutboundSms, *, params: Mapping[str, str]) -> Delivery:
        template_id = self.template_ids.get(message.template)
        if not template_id:
            raise tencent_protocol.TencentSmsError(
                f"no Tencent TemplateId for {message.template!r} in POWERDESK_SMS_TENCENT_TEMPLATES",
                permanent=True,
                vendor_code="config.TEMPLATE_ID_MISSING",
            )
        ordered = template_get(message.template).positional_variables
        signed = tencent_protocol.send_sms_request(
            host=self.host,
            secret_id=self.secret_id,
            secret_key=self.secret_key,
            region=self.region,
            sdk_app_id=self.sdk_app_id,
            sign_name=self.sign_name,
            phone=message.phone,
            template_id=template_id,
            template_params=[params[name] for name in ordered],
            session_context=str(message.pk),
            timestamp=int(timezone.now().timestamp()),
        )
        request = urllib.request.Request(  # noqa: S310  (the scheme is checked in settings)
            self.endpoint,
            data=signed.body,
            method="POST",
            headers=signed.headers | {"Accept": "application/json", "User-Agent": "PowerDesk-SMS/1"},
        )
        status, body = _exchange(request, timeout=self.timeout, error=tencent_protocol.TencentSmsError)
        accepted = tencent_protocol.parse_send_sms_response(status, body)
        return Delivery(accepted.serial_no, accepted.request_id)


def get_backend() -> SmsBackend:
    if settings.SMS_BACKEND == "outbox":
        return OutboxBackend()
    if settings.SMS_BACKEND == "aliyun":
        return AliyunSmsBackend.from_settings()
    if settings.SMS_BACKEND == "tencent":
        return TencentSmsBackend.from_settings()
    raise ChannelError(f"SMS backend {settings.SMS_BACKEND!r} is not available", permanent=True)


def sms_send(
    *, phone: str, template: str, params: Mapping[str, object], purpose: str, sensitive: bool = False
) -> OutboundSms:
    """Record and deliver one SMS from an approved template; every attempt is stored.

    ``template`` is our key in templates.py, ``params`` its variables. Raises ``ValueError``
    for an unknown template or wrong variables (a bug: nothing is stored), and ``ChannelError``
    when delivery fails (the message is stored ``failed`` with the vendor's error). A caller
    that wraps this in a transaction and lets the error propagate rolls the record back too.
    """
    sms_template = template_get(template)
    cleaned = sms_template.clean_params(params)
    backend = get_backend()
    body = f"【{settings.SMS_SIGN_NAME}】{sms_template.render(cleaned)}"
    message = OutboundSms.objects.create(
        phone=phone,
        body=body,
        segments=segments.part_count(body),
        template=sms_template.key,
        purpose=purpose,
        backend=backend.name,
        is_sensitive=sensitive,
    )
    for number in range(1, MAX_ATTEMPTS + 1):
        started = time.monotonic()
        try:
            delivery = backend.deliver(message, params=cleaned)
        except Exception as exc:
            _attempt_record(message, number=number, backend=backend.name, started=started, failure=exc)
            if number < MAX_ATTEMPTS and getattr(exc, "retry_now", False):
                log.info(
                    "sms delivery retrying",
                    extra={"sms_id": message.pk, "attempt": number, "vendor_code": _code_of(exc)},
                )
                time.sleep(settings.SMS_RETRY_BACKOFF_MS / 1000)
                continue
            message.status = OutboundSms.Status.FAILED
            message.error_code = _code_of(exc)
            message.error = str(exc)[:300]
            message.save(update_fields=["status", "error_code", "error", "updated_at"])
            log.warning(
                "sms delivery failed",
                extra={
                    "sms_id": message.pk,
                    "attempts": number,
                    "vendor_code": message.error_code,
                    "permanent": getattr(exc, "permanent", None),
                },
            )
            raise
        _attempt_record(message, number=number, backend=backend.name, started=started, delivery=delivery)
        message.status = OutboundSms.Status.OUTBOX if backend.name == "outbox" else OutboundSms.Status.SENT
        message.vendor_message_id = delivery.vendor_message_id
        message.save(update_fields=["status", "vendor_message_id", "updated_at"])
        return message
    raise AssertionError("unreachable: the last attempt returns or raises")


def _code_of(exc: Exception) -> str:
    if isinstance(exc, ChannelError):
        return exc.vendor_code or "vendor"
    return f"internal.{type(exc).__name__}"


def _attempt_record(
    message: OutboundSms,
    *,
    number: int,
    backend: str,
    started: float,
    delivery: Delivery | None = None,
    failure: Exception | None = None,
) -> OutboundSmsAttempt:
    attempt = OutboundSmsAttempt(
        message=message,
        number=number,
        backend=backend,
        duration_ms=round((time.monotonic() - started) * 1000),
    )
    if delivery is not None:
        attempt.outcome = OutboundSmsAttempt.Outcome.ACCEPTED
        attempt.vendor_message_id = delivery.vendor_message_id
        attempt.vendor_request_id = delivery.vendor_request_id
    else:
        attempt.outcome = OutboundSmsAttempt.Outcome.FAILED
        attempt.error_code = _code_of(failure)
        attempt.error = str(failure)[:300]
        attempt.permanent = bool(getattr(failure, "permanent", False))
        attempt.vendor_request_id = getattr(failure, "request_id", "")
    attempt.save()
    return attempt
