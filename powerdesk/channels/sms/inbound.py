"""The SMS business hall's webhook, ``POST /channels/sms/inbound/<aliyun|tencent>/``: verify, parse
into ``InboundMessage``s, call ``conversations.engine.handle_inbound`` once per message. Beside
it, ``POST /channels/sms/reports/<aliyun|tencent>/`` takes the gateways' status reports for the
SMS we sent (reports.py, delivery.py), checked the same way.

* The push must carry our HMAC signature and a fresh timestamp (upstream.py); the body is at
  most 64 KiB of strict JSON in the provider's shape. Anything wrong is a 4xx with a JSON body
  naming the error code, the field and why, one ``powerdesk.security`` warning
  ``sms inbound refused``, and **nothing stored** — the whole push is checked before any of it
  is acted on.
* The sender is the phone identity ``("phone", "", <11 digits>)``: the customer who signed in or
  bound with that number. A number we do not know is a stranger (the engine answers bills and
  balances with the binding link only).
* Every reply is deferred (SMS has no passive reply): the engine stores it and, after commit,
  sends it through ``replies.reply_send``. The webhook answers the provider's acknowledgement.
* A push repeated (the gateway retries anything but HTTP 200) is deduplicated per message id:
  nothing is acted on or answered twice.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from powerdesk.channels.sms.delivery import reports_apply
from powerdesk.channels.sms.reports import REPORT_PARSERS
from powerdesk.channels.sms.reports import signed_as as report_signed_as
from powerdesk.channels.sms.upstream import (
    ACKNOWLEDGEMENTS,
    MAX_BODY_BYTES,
    PARSERS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ErrorCode,
    UpstreamError,
    UpstreamSms,
    verify,
)
from powerdesk.conversations.choices import MessageKind
from powerdesk.conversations.engine import handle_inbound
from powerdesk.conversations.messages import ChannelContext, InboundMessage, SenderIdentity
from powerdesk.customers.choices import IdentityProvider
from powerdesk.events.choices import Channel

security_log = logging.getLogger("powerdesk.security")

# The one SMS "account" (keyword rules and dedup keys are per channel account); the provider is
# part of each message's dedup key.
CHANNEL_ACCOUNT = "business_hall"


def _refuse(request: HttpRequest, provider: str, error: UpstreamError) -> HttpResponse:
    security_log.warning(
        "sms inbound refused",
        extra={
            "provider": provider,
            "code": str(error.code),
            "field": error.field,
            "status": error.status,
            "ip": request.META.get("REMOTE_ADDR", ""),
        },
    )
    body = {"error": {"code": str(error.code), "message": error.message, "field": error.field}}
    # The provider's own fields too, non-zero: its console shows a refusal as a refusal.
    if provider == "tencent":
        body |= {"result": error.status, "errmsg": f"{error.code}: {error.message}"}
    else:
        body |= {"code": error.status, "msg": f"{error.code}: {error.message}"}
    return JsonResponse(body, status=error.status, json_dumps_params={"ensure_ascii": False})


def _not_found(provider: str) -> HttpResponse:
    security_log.warning("sms inbound refused", extra={"provider": provider[:16], "code": "unknown_path"})
    return JsonResponse({"error": {"code": "not_found", "message": "no such SMS endpoint"}}, status=404)


def _verified_body(request: HttpRequest, *, signed_for: str) -> bytes:
    """The raw body of a fresh push signed (upstream.py) for ``signed_for``; else UpstreamError."""
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
        raise UpstreamError(ErrorCode.BODY_TOO_LARGE, f"declared body over {MAX_BODY_BYTES} bytes")
    body = request.body
    verify(
        timestamp=request.headers.get(TIMESTAMP_HEADER),
        signature_value=request.headers.get(SIGNATURE_HEADER),
        provider=signed_for,
        body=body,
        secrets=(settings.SMS_INBOUND_SECRET, settings.SMS_INBOUND_SECRET_PREVIOUS),
        now=int(time.time()),
        window_seconds=settings.SMS_INBOUND_WINDOW_SECONDS,
    )
    return body


@csrf_exempt
def upstream(request: HttpRequest, provider: str) -> HttpResponse:
    if provider not in PARSERS or not settings.SMS_INBOUND_ENABLED:
        return _not_found(provider)
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    try:
        messages = PARSERS[provider](_verified_body(request, signed_for=provider))
    except UpstreamError as error:
        return _refuse(request, provider, error)
    context = ChannelContext(
        site_url=settings.SMS_H5_BASE_URL or f"{request.scheme}://{request.get_host()}",
        defer_reply=True,
    )
    for sms in messages:
        handle_inbound(inbound_message(sms), context=context)
    return JsonResponse(ACKNOWLEDGEMENTS[provider], json_dumps_params={"ensure_ascii": False})


@csrf_exempt
def delivery_reports(request: HttpRequest, provider: str) -> HttpResponse:
    """``POST /channels/sms/reports/<aliyun|tencent>/``: the gateway's status reports (reports.py),
    checked like a push of replies (signed for ``<provider>-report``), applied idempotently."""
    if provider not in REPORT_PARSERS or not settings.SMS_INBOUND_ENABLED:
        return _not_found(provider)
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    try:
        reports = REPORT_PARSERS[provider](_verified_body(request, signed_for=report_signed_as(provider)))
    except UpstreamError as error:
        return _refuse(request, provider, error)
    reports_apply(reports)
    return JsonResponse(ACKNOWLEDGEMENTS[provider], json_dumps_params={"ensure_ascii": False})


def inbound_message(sms: UpstreamSms) -> InboundMessage:
    """A gateway's SMS in the engine's terms; the sender is the phone identity."""
    now = timezone.now()
    received_at = min(sms.sent_at, now) if sms.sent_at else now
    return InboundMessage(
        channel=Channel.SMS,
        channel_account=CHANNEL_ACCOUNT,
        sender=SenderIdentity(provider=IdentityProvider.PHONE, app_id="", subject=sms.phone),
        kind=MessageKind.TEXT,
        dedup_key=sms.dedup_key,
        received_at=received_at,
        text=sms.text,
        raw={"provider": sms.provider, **sms.raw},
    )
