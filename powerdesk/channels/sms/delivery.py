"""Apply status reports (reports.py) to the messages we sent: ``reports_apply``.

A report names a message by the gateway's id and the number (Alibaba Cloud gives one BizId to
every number of a batch). Applying one is idempotent — the gateway pushes again whatever it did
not see answered with HTTP 200 — and order-proof: a report older than the one already recorded
changes nothing, so a late retry cannot turn "未送达" back into "已送达" or the reverse. A report
for a message we do not know (sent by another system on the same account, or long deleted) is
counted and logged, not stored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from powerdesk.channels.sms.models import OutboundSms
from powerdesk.channels.sms.reports import DeliveryReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportsApplied:
    changed: int  # messages whose delivery status the push set or replaced
    unchanged: int  # already recorded (a repeated push) or older than what was
    unknown: int  # no message of ours with that id and number


@transaction.atomic
def reports_apply(reports: Iterable[DeliveryReport]) -> ReportsApplied:
    changed = unchanged = unknown = 0
    # Rows are locked in one order whatever the push's order: two pushes naming the same
    # messages (a batch and its retry, racing) then wait for each other instead of deadlocking.
    for report in sorted(reports, key=lambda r: (r.provider, r.vendor_message_id, r.phone, r.reported_at)):
        message = (
            OutboundSms.objects.select_for_update()
            .filter(backend=report.provider, vendor_message_id=report.vendor_message_id, phone=report.phone)
            .order_by("-id")
            .first()
        )
        if message is None:
            unknown += 1
            log.info(
                "sms status report for no message of ours",
                extra={"provider": report.provider, "vendor_message_id": report.vendor_message_id},
            )
            continue
        delivery = OutboundSms.Delivery.DELIVERED if report.delivered else OutboundSms.Delivery.UNDELIVERED
        state = (delivery, report.code, report.note, report.reported_at)
        if message.reported_at is not None and (
            report.reported_at < message.reported_at
            or state == (message.delivery, message.delivery_code, message.delivery_note, message.reported_at)
        ):
            unchanged += 1
            continue
        message.delivery, message.delivery_code, message.delivery_note, message.reported_at = state
        message.save(
            update_fields=["delivery", "delivery_code", "delivery_note", "reported_at", "updated_at"]
        )
        changed += 1
    return ReportsApplied(changed=changed, unchanged=unchanged, unknown=unknown)
