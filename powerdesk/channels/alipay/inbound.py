"""The life account's application gateway, ``/channels/alipay/<slug>/``: verify, parse into an
``InboundMessage``, call ``conversations.engine.handle_inbound``, answer with a signed ``ack``.

* POST only, a form in the charset it declares (``protocol.read_request``), signed by Alipay
  (``protocol.verify_request`` with the account's Alipay public key).
* ``alipay.service.check`` (the console's 验证应用网关) → our public key, signed. A check whose
  signature fails gets the protocol's signed ``VERIFY_FAILED`` answer, with HTTP 403.
* ``alipay.mobile.public.message.notify`` → the engine, then a signed ``ack``. Life accounts
  have no passive replies: the engine stores every reply as deferred and, after commit,
  ``reply_deliver_task`` sends it through ``alipay.open.public.message.custom.send``.
* Anything wrong is a 4xx with an empty body (403 for signature, sign type and AppId; 413 for
  size; 400 for the rest), one ``powerdesk.security`` line naming the ``ErrorCode``, and nothing
  stored. A repeat of a message (same MsgId, or same sender/time/event/key) acts once and gets
  the same ``ack``, byte for byte.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from powerdesk.channels.alipay.models import AlipayLifeAccount
from powerdesk.channels.alipay.protocol import (
    FORBIDDEN,
    MAX_BODY_BYTES,
    SERVICE_CHECK,
    SERVICE_MESSAGE_NOTIFY,
    ErrorCode,
    GatewayRequest,
    LifeMessage,
    ProtocolError,
    ack_xml,
    check_app_id,
    dedup_key,
    gateway_check_xml,
    parse_biz_content,
    read_request,
    signed_response,
    verify_request,
)
from powerdesk.conversations import services as conversation_services
from powerdesk.conversations.choices import MessageKind
from powerdesk.conversations.engine import handle_inbound
from powerdesk.conversations.messages import ChannelContext, InboundMessage, Media, SenderIdentity
from powerdesk.customers.choices import IdentityProvider
from powerdesk.events.choices import Channel

security_log = logging.getLogger("powerdesk.security")

_KINDS = {"text": MessageKind.TEXT, "image": MessageKind.IMAGE, "event": MessageKind.EVENT}
# Alipay's event names → the engine's (docs/conversations.md): follow is WeChat's subscribe.
_EVENTS = {"follow": "subscribe", "unfollow": "unsubscribe"}
# Not worth keeping in the inbox: UserInfo carries the follower's (masked) login and name.
_RAW_LEFT_OUT = {"UserInfo"}


def _refuse(request: HttpRequest, slug: str, code: str, status: int, field: str = "") -> HttpResponse:
    security_log.warning(
        "alipay callback refused",
        extra={
            "account": slug,
            "code": code,
            "field": field,
            "status": status,
            "ip": request.META.get("REMOTE_ADDR", ""),
        },
    )
    return HttpResponse(b"", status=status, content_type="text/plain; charset=utf-8")


def _signed(
    inner: str, account: AlipayLifeAccount, gateway: GatewayRequest, *, status: int = 200
) -> HttpResponse:
    body = signed_response(
        inner, private_key=account.app_private_key, charset=gateway.charset, codec=gateway.codec
    )
    return HttpResponse(body, status=status, content_type=f"text/xml; charset={gateway.charset}")


@csrf_exempt
def callback(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    account = AlipayLifeAccount.objects.filter(slug=slug, is_active=True).first()
    if account is None:
        return _refuse(request, slug, "unknown_account", 404)
    gateway = None
    try:
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
            raise ProtocolError(ErrorCode.BODY_TOO_LARGE, "declared body over the limit")
        gateway = read_request(request.body)
        verify_request(gateway, alipay_public_key=account.alipay_public_key)
        message = parse_biz_content(gateway.biz_content)
        if gateway.service == SERVICE_CHECK:
            return _gateway_check(gateway, message, account)
        if gateway.service != SERVICE_MESSAGE_NOTIFY:
            raise ProtocolError(ErrorCode.SERVICE_UNSUPPORTED, "unknown service", field="service")
        check_app_id(gateway, message, app_id=account.app_id, required=True)
        inbound = inbound_message(message, account=account)
    except ProtocolError as exc:
        status = 413 if exc.code == ErrorCode.BODY_TOO_LARGE else 403 if exc.code in FORBIDDEN else 400
        response = _refuse(request, slug, exc.code, status, exc.field)
        if (
            exc.code == ErrorCode.SIGNATURE_MISMATCH
            and gateway is not None
            and gateway.service == SERVICE_CHECK
        ):
            # The console shows why the check failed; the answer is fixed text, never request data.
            failed = gateway_check_xml(success=False, public_key_base64=account.app_public_key_base64())
            return _signed(failed, account, gateway, status=403)
        return response
    except ValueError:  # a Content-Length that is not a number (the body guard answers first)
        return _refuse(request, slug, "bad_content_length", 400)

    context = ChannelContext(
        site_url=account.h5_base_url or f"{request.scheme}://{request.get_host()}",
        greeting=account.greeting,
        defer_reply=True,  # no passive replies on this channel: the ack, then the API
    )
    handle_inbound(inbound, context=context)
    stored = conversation_services.inbound_find(message=inbound)
    acked_at = stored.created_at if stored is not None else inbound.received_at
    ack = ack_xml(
        to_user_id=message.from_user_id or message.sender,
        app_id=account.app_id,
        create_time_ms=int(acked_at.timestamp() * 1000),
    )
    return _signed(ack, account, gateway)


def _gateway_check(gateway: GatewayRequest, message: LifeMessage, account: AlipayLifeAccount) -> HttpResponse:
    if message.event_type != "verifygw":
        raise ProtocolError(
            ErrorCode.EVENT_UNEXPECTED, "a gateway check is a verifygw event", field="EventType"
        )
    check_app_id(gateway, message, app_id=account.app_id, required=False)
    answer = gateway_check_xml(success=True, public_key_base64=account.app_public_key_base64())
    return _signed(answer, account, gateway)


def inbound_message(
    message: LifeMessage, *, account: AlipayLifeAccount, now: datetime | None = None
) -> InboundMessage:
    """A push in the engine's terms; the sender is (alipay, the life account's APPID, user id)."""
    if not message.sender:
        raise ProtocolError(
            ErrorCode.MISSING_FIELD, "FromAlipayUserId and FromUserId are missing", field="FromUserId"
        )
    if not message.msg_type:
        raise ProtocolError(ErrorCode.MISSING_FIELD, "MsgType is missing", field="MsgType")
    kind = _KINDS.get(message.msg_type, MessageKind.OTHER)
    if kind == MessageKind.EVENT and not message.event_type:
        raise ProtocolError(ErrorCode.MISSING_FIELD, "EventType is missing", field="EventType")
    if message.msg_id == "" and message.create_time is None:
        raise ProtocolError(ErrorCode.MISSING_FIELD, "MsgId and CreateTime are missing", field="CreateTime")
    media = Media(media_id=message.media_id) if kind == MessageKind.IMAGE else None
    raw = {name: value for name, value in message.raw.items() if name not in _RAW_LEFT_OUT}
    return InboundMessage(
        channel=Channel.ALIPAY,
        channel_account=account.slug,
        sender=SenderIdentity(
            provider=IdentityProvider.ALIPAY, app_id=account.app_id, subject=message.sender
        ),
        kind=kind,
        dedup_key=dedup_key(message),
        received_at=now or timezone.now(),
        text=message.content if kind == MessageKind.TEXT else "",
        media=media,
        event=_EVENTS.get(message.event_type, message.event_type) if kind == MessageKind.EVENT else "",
        event_key=message.action_param if kind == MessageKind.EVENT else "",
        raw=raw,
    )
