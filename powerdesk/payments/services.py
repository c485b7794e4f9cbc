"""Every write of the payments app: create an order, receive a notification, refund, resolve
a suspense item.

Exactly once: a verified payment notification becomes at most one ``billing.Payment`` because
(1) ``payment_record`` inserts under the unique (gateway, gateway_txn_id) constraint — the final
guard, also against concurrent deliveries — and (2) the order moves ``created → paid`` only by a
conditional UPDATE in the same transaction, so a second *different* transaction for an already
paid order is not credited either. Whatever cannot be credited but proves money moved (unknown
order, wrong amount or account, double payment) becomes a ``SuspenseItem``; the gateway still
gets its success answer, because resending would change nothing and the item is kept for staff.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.billing import services as billing
from powerdesk.billing.models import LedgerEntry, Payment
from powerdesk.billing.reads import account_get_for_customer
from powerdesk.core.exceptions import ApplicationError
from powerdesk.core.ids import uuid7
from powerdesk.customers.models import CustomerUser
from powerdesk.payments.choices import (
    CallOutcome,
    GatewayOperation,
    NotificationOutcome,
    OrderStatus,
    SuspenseReason,
    Verification,
)
from powerdesk.payments.gateways.base import (
    REFUND,
    TRADE_CLOSED,
    TRADE_NOT_CLOSABLE,
    TRADE_NOT_FOUND,
    TRADE_PAID,
    GatewayError,
    MalformedNotification,
    NotificationIgnored,
    PayInstruction,
    SignatureInvalid,
    TradeState,
    VerifiedNotification,
    gateway_get,
)
from powerdesk.payments.models import GatewayCall, GatewayNotification, PaymentOrder, SuspenseItem

log = logging.getLogger(__name__)
T = TypeVar("T")

# Never stored with a notification: they would be credentials if a gateway ever sent them.
_SECRET_HEADERS = {"cookie", "authorization", "proxy-authorization"}


def new_out_trade_no() -> str:
    """ "PD" + 30 hex digits of a UUIDv7: time-ordered, unique, 32 characters (WeChat's limit)."""
    return f"PD{uuid7().hex[:30]}"


def clean_amount_fen(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApplicationError("amount_not_integer_fen", _("金额须为整数分。"), field="amount_fen")
    if value <= 0:
        raise ApplicationError("amount_not_positive", _("金额必须大于零。"), field="amount_fen")
    if value > settings.PAYMENTS_MAX_ORDER_FEN:
        raise ApplicationError(
            "amount_too_large",
            _("单笔缴费不能超过 %(yuan)s 元。") % {"yuan": settings.PAYMENTS_MAX_ORDER_FEN // 100},
            field="amount_fen",
        )
    return value


def _gateway(kind: str):
    try:
        return gateway_get(kind)
    except KeyError:
        raise ApplicationError(
            "gateway_unavailable", _("不支持的支付渠道：%(kind)s。") % {"kind": kind}, field="gateway"
        ) from None


def _recorded_call(order: PaymentOrder, operation: str, reference: str, call: Callable[[], T]) -> T:
    """Run one outbound gateway call and store how it ended (every attempt is recorded)."""
    started = time.perf_counter()
    outcome, http_status, vendor_code, message = CallOutcome.OK, None, "", ""
    try:
        return call()
    except GatewayError as exc:
        outcome = CallOutcome.PERMANENT if exc.permanent else CallOutcome.TRANSIENT
        http_status, vendor_code, message = exc.http_status, exc.vendor_code, str(exc)[:300]
        raise
    finally:
        GatewayCall.objects.create(
            gateway=order.gateway,
            operation=operation,
            order=order,
            reference=reference,
            outcome=outcome,
            http_status=http_status,
            vendor_code=vendor_code,
            message=message,
            duration_ms=int((time.perf_counter() - started) * 1000),
        )


def payment_order_create(
    *,
    customer_user: CustomerUser,
    account_number: str,
    amount_fen: int,
    gateway: str,
    channel: str,
    client_ip: str = "",
    payer_openid: str = "",
) -> tuple[PaymentOrder, PayInstruction]:
    """Open an order for an account bound to ``customer_user`` and register it with the gateway.

    The order row is committed before the gateway hears of it, so a notification can never
    arrive for an order we do not yet know.
    """
    amount_fen = clean_amount_fen(amount_fen)
    adapter = _gateway(gateway)
    account = account_get_for_customer(customer_user=customer_user, number=account_number)
    if payer_openid and not _is_own_openid(customer_user, getattr(adapter, "appid", ""), payer_openid):
        raise ApplicationError(
            "payer_not_recognised",
            _("付款微信身份与当前用户不符，请从公众号菜单重新进入。"),
            field="payer_openid",
            status=403,
        )
    order = PaymentOrder.objects.create(
        out_trade_no=new_out_trade_no(),
        account=account,
        customer_user_id=customer_user.pk,
        amount_fen=amount_fen,
        gateway=gateway,
        channel=channel,
    )
    try:
        instruction = _recorded_call(
            order,
            GatewayOperation.CREATE_ORDER,
            order.out_trade_no,
            lambda: adapter.create_order(order, client_ip=client_ip, payer_openid=payer_openid),
        )
    except GatewayError as exc:
        PaymentOrder.objects.filter(pk=order.pk, status=OrderStatus.CREATED).update(
            status=OrderStatus.FAILED, updated_at=timezone.now()
        )
        raise ApplicationError(
            "gateway_failed",
            _("支付渠道暂时无法下单，请稍后再试。"),
            status=502,
            extra={"retryable": not exc.permanent},
        ) from exc
    return order, instruction


def _is_own_openid(customer_user: CustomerUser, app_id: str, openid: str) -> bool:
    """JSAPI pays as the WeChat user ``openid`` of our AppID: it must be this customer's own."""
    from powerdesk.customers.choices import IdentityProvider
    from powerdesk.customers.models import Identity

    return (
        bool(app_id)
        and Identity.objects.filter(
            customer_user=customer_user,
            provider=IdentityProvider.WECHAT_OPENID,
            app_id=app_id,
            subject=openid,
        ).exists()
    )


# --- notifications ------------------------------------------------------------------------


@dataclass
class _Handled:
    outcome: str
    detail: str = ""
    order: PaymentOrder | None = None
    payment: Payment | None = None
    suspense: SuspenseItem | None = None


class _NotCreditable(Exception):
    """Rolls back a credit attempted for an order that turned out not to be payable."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def notification_receive(
    *, gateway_kind: str, headers: Mapping[str, str], body: bytes, remote_addr: str | None = None
) -> HttpResponse:
    """The one entry point for every gateway notification; returns the gateway's answer.

    The notification is stored (append-only) in the same transaction as its effect, or on its
    own when it is refused or processing fails.
    """
    adapter = gateway_get(gateway_kind)
    stored = {
        "gateway": gateway_kind,
        "remote_addr": remote_addr,
        "headers": {k: v for k, v in headers.items() if k.lower() not in _SECRET_HEADERS},
        "body": body.decode("utf-8", "replace"),
    }
    try:
        verified = adapter.parse_and_verify_notification(headers, body)
    except SignatureInvalid as exc:
        response = adapter.failure_response(_("签名验证失败"), status=401)
        _store(stored, response, Verification.INVALID, NotificationOutcome.SIGNATURE_INVALID, str(exc))
        return response
    except MalformedNotification as exc:
        response = adapter.failure_response(_("通知格式错误"), status=400)
        _store(stored, response, Verification.MALFORMED, NotificationOutcome.MALFORMED, str(exc))
        return response
    except NotificationIgnored as exc:
        response = adapter.success_response()
        _store(
            stored,
            response,
            Verification.VALID,
            NotificationOutcome.IGNORED,
            str(exc),
            out_trade_no=exc.out_trade_no,
            gateway_txn_id=exc.gateway_txn_id,
        )
        return response
    try:
        with transaction.atomic():
            if verified.kind == REFUND:
                handled = _apply_refund(gateway_kind, verified)
            else:
                handled = _apply_payment(gateway_kind, verified)
            response = adapter.success_response()
            _store(
                stored,
                response,
                Verification.VALID,
                handled.outcome,
                handled.detail,
                verified=verified,
                handled=handled,
            )
    except Exception as exc:  # the gateway will resend; nothing was half-done (one transaction)
        log.exception("payment notification processing failed")
        response = adapter.failure_response(_("处理失败，请稍后重发"), status=500)
        _store(
            stored,
            response,
            Verification.VALID,
            NotificationOutcome.ERROR,
            f"{type(exc).__name__}: {exc}",
            verified=verified,
        )
    return response


def _store(
    stored: dict,
    response: HttpResponse,
    verification: str,
    outcome: str,
    detail: str,
    *,
    verified: VerifiedNotification | None = None,
    handled: _Handled | None = None,
    out_trade_no: str = "",
    gateway_txn_id: str = "",
) -> GatewayNotification:
    return GatewayNotification.objects.create(
        **stored,
        verification=verification,
        outcome=outcome,
        detail=detail[:300],
        out_trade_no=(verified.out_trade_no if verified else out_trade_no)[:64],
        gateway_txn_id=(verified.gateway_txn_id if verified else gateway_txn_id)[:64],
        amount_fen=verified.amount_fen if verified else None,
        order=handled.order if handled else None,
        payment=handled.payment if handled else None,
        suspense=handled.suspense if handled else None,
        response_status=response.status_code,
    )


def _suspense(
    kind: str,
    reason: SuspenseReason,
    v: VerifiedNotification,
    *,
    order: PaymentOrder | None,
    message: str,
    amount_fen: int | None = None,
) -> _Handled:
    amount_fen = v.amount_fen if amount_fen is None else amount_fen
    key = f"{kind}:{reason}:{v.gateway_txn_id}:{v.refund_id}:{amount_fen}:{v.out_trade_no}"[:200]
    try:
        with transaction.atomic():
            item = SuspenseItem.objects.create(
                gateway=kind,
                reason=reason,
                message=message[:300],
                out_trade_no=v.out_trade_no[:64],
                gateway_txn_id=v.gateway_txn_id[:64],
                amount_fen=amount_fen,
                order=order,
                payload=_jsonable(v.raw),
                dedupe_key=key,
            )
    except IntegrityError:  # the same refusal reported again: one item for staff
        item = SuspenseItem.objects.get(dedupe_key=key)
    log.warning("payment notification to suspense: %s %s %s", kind, reason, v.gateway_txn_id)
    return _Handled(NotificationOutcome.SUSPENSE, str(reason), order=order, suspense=item)


def _jsonable(raw: dict) -> dict:
    import json

    return json.loads(json.dumps(raw, default=str))


def _apply_payment(kind: str, v: VerifiedNotification) -> _Handled:
    order = (
        PaymentOrder.objects.select_related("account")
        .filter(gateway=kind, out_trade_no=v.out_trade_no)
        .first()
    )
    if order is None:
        return _suspense(
            kind,
            SuspenseReason.UNKNOWN_ORDER,
            v,
            order=None,
            message=_("收到渠道支付通知，但商户订单号 %(no)s 不存在。") % {"no": v.out_trade_no},
        )
    existing = Payment.objects.filter(gateway=kind, gateway_txn_id=v.gateway_txn_id).first()
    if existing is not None:
        if existing.amount_fen == v.amount_fen and existing.account_id == order.account_id:
            return _Handled(NotificationOutcome.DUPLICATE, "already credited", order=order, payment=existing)
        return _suspense(
            kind,
            SuspenseReason.TXN_AMOUNT_CONFLICT,
            v,
            order=order,
            message=_("渠道流水 %(txn)s 已按 %(credited)s 分入账，本次通知金额为 %(amount)s 分。")
            % {"txn": v.gateway_txn_id, "credited": existing.amount_fen, "amount": v.amount_fen},
        )
    if v.amount_fen != order.amount_fen:
        return _suspense(
            kind,
            SuspenseReason.AMOUNT_MISMATCH,
            v,
            order=order,
            message=_("通知金额 %(amount)s 分与订单金额 %(expected)s 分不符，未入账。")
            % {"amount": v.amount_fen, "expected": order.amount_fen},
        )
    if v.account_number and v.account_number != order.account.number:
        return _suspense(
            kind,
            SuspenseReason.ACCOUNT_MISMATCH,
            v,
            order=order,
            message=_("通知回传户号 %(got)s 与订单户号 %(expected)s 不符，未入账。")
            % {"got": v.account_number, "expected": order.account.number},
        )
    try:
        with transaction.atomic():
            payment, created = billing.payment_record(
                account=order.account,
                amount_fen=v.amount_fen,
                gateway=kind,
                gateway_txn_id=v.gateway_txn_id,
                paid_at=v.paid_at,
                channel=order.channel,
                customer_user_id=order.customer_user_id,
            )
            if not created:  # a concurrent delivery of the same transaction won the race
                return _Handled(
                    NotificationOutcome.DUPLICATE, "already credited", order=order, payment=payment
                )
            # The conditional state change: only a still-open order can become paid.
            flipped = PaymentOrder.objects.filter(pk=order.pk, status=OrderStatus.CREATED).update(
                status=OrderStatus.PAID, paid_payment=payment, updated_at=timezone.now()
            )
            if not flipped:
                current = PaymentOrder.objects.get(pk=order.pk).status
                raise _NotCreditable(
                    SuspenseReason.ORDER_ALREADY_PAID
                    if current == OrderStatus.PAID
                    else SuspenseReason.ORDER_NOT_PAYABLE
                )
    except _NotCreditable as refusal:
        message = (
            _("订单 %(no)s 已由另一笔渠道流水支付，本笔 %(amount)s 分为重复支付，需退款。")
            if refusal.reason == SuspenseReason.ORDER_ALREADY_PAID
            else _("订单 %(no)s 已关闭或下单失败，仍收到 %(amount)s 分支付，需核实退款。")
        ) % {"no": order.out_trade_no, "amount": v.amount_fen}
        return _suspense(kind, refusal.reason, v, order=order, message=message)
    except ApplicationError as exc:  # txn_conflict: the txn id is booked with another account/amount
        return _suspense(kind, SuspenseReason.TXN_AMOUNT_CONFLICT, v, order=order, message=exc.message)
    return _Handled(NotificationOutcome.CREDITED, "", order=order, payment=payment)


def _apply_refund(kind: str, v: VerifiedNotification) -> _Handled:
    payment = Payment.objects.filter(gateway=kind, gateway_txn_id=v.gateway_txn_id).first()
    order = PaymentOrder.objects.filter(gateway=kind, out_trade_no=v.out_trade_no).first()
    if payment is None and order is not None and order.paid_payment_id:
        payment = order.paid_payment
    if payment is None:
        return _suspense(
            kind,
            SuspenseReason.REFUND_UNKNOWN_PAYMENT,
            v,
            order=order,
            amount_fen=v.refund_fen or v.refund_total_fen,
            message=_("收到退款通知（退款单号 %(id)s），但找不到原缴费记录。") % {"id": v.refund_id},
        )
    if LedgerEntry.objects.filter(reference=f"refund:{kind}:{v.refund_id}").exists():
        return _Handled(NotificationOutcome.DUPLICATE, "refund already booked", order=order, payment=payment)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    # Alipay reports the running total refunded; book what is not booked yet.
    amount = v.refund_fen if v.refund_fen is not None else (v.refund_total_fen or 0) - payment.refunded_fen
    if amount <= 0:
        return _Handled(
            NotificationOutcome.DUPLICATE, "refund total already booked", order=order, payment=payment
        )
    try:
        with transaction.atomic():
            billing.payment_refund(
                payment=payment, amount_fen=amount, refund_id=v.refund_id, reason=_("渠道退款")
            )
    except IntegrityError:
        return _Handled(NotificationOutcome.DUPLICATE, "refund already booked", order=order, payment=payment)
    except ApplicationError as exc:
        return _suspense(
            kind, SuspenseReason.REFUND_REFUSED, v, order=order, amount_fen=amount, message=exc.message
        )
    return _Handled(NotificationOutcome.REFUNDED, f"{amount} fen", order=order, payment=payment)


# --- refunds and suspense -------------------------------------------------------------------


def payment_order_refund(
    *,
    order: PaymentOrder,
    amount_fen: int,
    refund_id: str = "",
    reason: str = "",
    actor_staff_id: int | None = None,
) -> LedgerEntry:
    """Refund part or all of a paid order through its gateway, then book it on the ledger.

    Idempotent by ``refund_id`` (sent to the gateway as out_request_no / out_refund_no, which
    the gateway also deduplicates); the gateway's later refund notification finds the booking
    and changes nothing.
    """
    amount_fen = clean_amount_fen(amount_fen)
    order = PaymentOrder.objects.select_related("paid_payment").get(pk=order.pk)
    payment = order.paid_payment
    if order.status != OrderStatus.PAID or payment is None:
        raise ApplicationError("order_not_paid", _("订单未支付，不能退款。"), field="out_trade_no")
    refund_id = refund_id or f"RF{uuid7().hex[:30]}"
    existing = LedgerEntry.objects.filter(reference=f"refund:{order.gateway}:{refund_id}").first()
    if existing is not None:
        return existing
    if payment.refunded_fen + amount_fen > payment.amount_fen:
        raise ApplicationError("refund_exceeds_payment", _("退款总额不能超过缴费金额。"), field="amount_fen")
    adapter = _gateway(order.gateway)
    try:
        _recorded_call(
            order,
            GatewayOperation.REFUND,
            refund_id,
            lambda: adapter.refund(order, amount_fen=amount_fen, refund_id=refund_id, reason=reason),
        )
    except GatewayError as exc:
        raise ApplicationError(
            "gateway_refund_failed",
            _("支付渠道退款失败：%(detail)s") % {"detail": exc},
            status=502,
            extra={"retryable": not exc.permanent, "refund_id": refund_id},
        ) from exc
    return billing.payment_refund(
        payment=payment,
        amount_fen=amount_fen,
        refund_id=refund_id,
        reason=reason or _("退款"),
        actor_staff_id=actor_staff_id,
    )


@transaction.atomic
def suspense_resolve(*, item: SuspenseItem, staff_user, note: str) -> SuspenseItem:
    """Close a suspense item with what staff did about it (refunded, credited manually …)."""
    if not note.strip():
        raise ApplicationError("note_required", _("请填写处理说明。"), field="note")
    updated = SuspenseItem.objects.filter(pk=item.pk, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=staff_user, resolution_note=note.strip()
    )
    if not updated:
        raise ApplicationError("already_resolved", _("该待查款项已处理。"), status=409)
    return SuspenseItem.objects.get(pk=item.pk)


# --- asking the gateway about open orders (主动查单) and closing expired ones (关单) ----------


@dataclass
class SweepResult:
    checked: int = 0
    credited: int = 0
    closed: int = 0
    waiting: int = 0
    failed: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def payment_order_check(*, order: PaymentOrder, now=None) -> str:
    """Ask the gateway about one open order and act on the answer; returns what happened:
    ``credited`` / ``duplicate`` / ``suspense`` (paid: booked through the same exactly-once path
    as a notification, so a notification arriving before or after changes nothing), ``closed``
    (closed unpaid at the gateway, or past its time to live and now closed there by us),
    ``waiting`` (still open and within its time), ``not_open`` (no longer ours to check).

    Closing is asked of the gateway first and written here only once the gateway agrees, so an
    order the customer is paying at that moment is re-queried and credited instead (the close is
    refused as "paid"). Raises GatewayError when the gateway cannot be asked (retried next sweep).
    """
    now = now or timezone.now()
    if order.status != OrderStatus.CREATED:
        return "not_open"
    adapter = _gateway(order.gateway)
    state = _recorded_call(
        order, GatewayOperation.QUERY, order.out_trade_no, lambda: adapter.query_order(order)
    )
    expired = now - order.created_at >= timedelta(
        minutes=settings.PAYMENTS_ORDER_TTL_MINUTES + settings.PAYMENTS_ORDER_CLOSE_GRACE_MINUTES
    )
    if state.state != TRADE_PAID and state.state != TRADE_CLOSED and expired:
        closed = _recorded_call(
            order, GatewayOperation.CLOSE, order.out_trade_no, lambda: adapter.close_order(order)
        )
        if closed == TRADE_NOT_CLOSABLE:  # paid meanwhile, most likely: ask again
            state = _recorded_call(
                order, GatewayOperation.QUERY, order.out_trade_no, lambda: adapter.query_order(order)
            )
        else:
            state = TradeState(
                TRADE_CLOSED if closed in (TRADE_CLOSED, TRADE_NOT_FOUND) else closed, raw=state.raw
            )
    if state.state == TRADE_PAID and state.payment is not None:
        return _credit_from_query(order, state.payment)
    if state.state == TRADE_CLOSED:
        flipped = PaymentOrder.objects.filter(pk=order.pk, status=OrderStatus.CREATED).update(
            status=OrderStatus.CLOSED, updated_at=timezone.now()
        )
        return "closed" if flipped else "not_open"
    return "waiting"


def _credit_from_query(order: PaymentOrder, payment: VerifiedNotification) -> str:
    """Book a payment the gateway confirmed when asked; the answer is kept as a notification
    record (``queried``) so the evidence sits beside the notifications of the same order."""
    import json

    stored = {
        "gateway": order.gateway,
        "remote_addr": None,
        "headers": {"x-powerdesk-source": "order-query"},
        "body": json.dumps(_jsonable(payment.raw), ensure_ascii=False),
    }
    with transaction.atomic():
        handled = _apply_payment(order.gateway, payment)
        outcome = (
            NotificationOutcome.QUERIED
            if handled.outcome == NotificationOutcome.CREDITED
            else handled.outcome
        )
        _store(
            stored,
            HttpResponse(status=200),
            Verification.VALID,
            outcome,
            handled.detail or "order query",
            verified=payment,
            handled=handled,
        )
    return {
        NotificationOutcome.CREDITED: "credited",
        NotificationOutcome.DUPLICATE: "duplicate",
    }.get(handled.outcome, "suspense")


def payment_orders_sweep(*, now=None, limit: int = 500) -> SweepResult:
    """Check every order still open ``PAYMENTS_ORDER_QUERY_AFTER_SECONDS`` after creation
    (oldest first, at most ``limit`` per run): credit the paid ones whose notification has not
    come, close the expired unpaid ones. Run by the ``payments.orders_sweep`` periodic job and by
    ``powerdesk payments_sweep``."""
    now = now or timezone.now()
    result = SweepResult()
    cutoff = now - timedelta(seconds=settings.PAYMENTS_ORDER_QUERY_AFTER_SECONDS)
    orders = PaymentOrder.objects.select_related("account").filter(
        status=OrderStatus.CREATED, created_at__lte=cutoff
    )
    for order in orders.order_by("created_at")[:limit]:
        result.checked += 1
        try:
            outcome = payment_order_check(order=order, now=now)
        except (GatewayError, ApplicationError) as exc:
            result.failed += 1
            log.warning("order check failed: %s %s", order.out_trade_no, exc)
            continue
        if outcome in ("credited", "duplicate", "suspense"):
            result.credited += outcome == "credited"
        elif outcome == "closed":
            result.closed += 1
        elif outcome == "waiting":
            result.waiting += 1
    return result
