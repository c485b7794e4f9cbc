"""Sending SMS: one interface, a local outbox for the demo and tests, a gateway in production."""

from __future__ import annotations

import json
import logging
from typing import Protocol

from django.conf import settings
from django.utils import timezone

from powerdesk.channels.base import ChannelError
from powerdesk.channels.sms.models import OutboundSms

log = logging.getLogger(__name__)


class SmsBackend(Protocol):
    name: str

    def deliver(self, message: OutboundSms) -> str:
        """Hand the message over; returns the vendor's message id. Raises ChannelError."""


class OutboxBackend:
    """Writes messages to ``var/sms_outbox.jsonl`` and the database; nothing leaves the machine.

    The console's SMS outbox page reads the table, so a demo user can read their one-time code.
    """

    name = "outbox"

    def deliver(self, message: OutboundSms) -> str:
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
        return f"outbox-{message.pk}"


def get_backend() -> SmsBackend:
    if settings.SMS_BACKEND == "outbox":
        return OutboxBackend()
    raise ChannelError(f"SMS backend {settings.SMS_BACKEND!r} is not available", permanent=True)


def sms_send(*, phone: str, body: str, purpose: str, sensitive: bool = False) -> OutboundSms:
    """Record and deliver one SMS. The attempt is stored whether delivery succeeds or not."""
    backend = get_backend()
    message = OutboundSms.objects.create(
        phone=phone,
        body=f"【{settings.SMS_SIGN_NAME}】{body}",
        purpose=purpose,
        backend=backend.name,
        is_sensitive=sensitive,
    )
    try:
        vendor_id = backend.deliver(message)
    except ChannelError as exc:
        message.status = OutboundSms.Status.FAILED
        message.error = str(exc)[:300]
        message.save(update_fields=["status", "error", "updated_at"])
        log.warning("sms delivery failed", extra={"sms_id": message.pk, "permanent": exc.permanent})
        raise
    message.status = OutboundSms.Status.OUTBOX if backend.name == "outbox" else OutboundSms.Status.SENT
    message.vendor_message_id = vendor_id
    message.save(update_fields=["status", "vendor_message_id", "updated_at"])
    return message
