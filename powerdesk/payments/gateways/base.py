"""What every payment gateway adapter offers, and the registry that finds one by kind.

Domain code asks ``gateway_get(kind)`` and never imports an adapter module, nor branches on
the gateway's name. Adapters raise:

* ``SignatureInvalid`` — a notification that is not provably from the gateway (bad or missing
  signature, wrong certificate serial, stale timestamp, undecryptable resource, other merchant);
* ``MalformedNotification`` — signed, but not something we understand (a bad amount …);
* ``NotificationIgnored`` — genuine, but not a completed payment (e.g. WAIT_BUYER_PAY);
* ``GatewayError`` (a ``ChannelError``) — an outbound call (create order, refund) failed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Protocol

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.http import HttpResponse
from django.utils.module_loading import import_string

from powerdesk.channels.base import ChannelError

if TYPE_CHECKING:
    from powerdesk.payments.models import PaymentOrder

PAYMENT = "payment"
REFUND = "refund"


class SignatureInvalid(Exception):
    """The notification cannot be attributed to the gateway; it is refused."""


class MalformedNotification(Exception):
    """Signed by the gateway but not understandable; refused so that a person looks."""


class NotificationIgnored(Exception):
    """Genuine, but reports nothing to credit (a trade still waiting or closed unpaid)."""

    def __init__(self, message: str, *, out_trade_no: str = "", gateway_txn_id: str = "") -> None:
        super().__init__(message)
        self.out_trade_no = out_trade_no
        self.gateway_txn_id = gateway_txn_id


class GatewayError(ChannelError):
    """An outbound call to a gateway failed (``permanent`` as for every channel)."""

    def __init__(
        self, message: str, *, permanent: bool, vendor_code: str = "", http_status: int | None = None
    ):
        super().__init__(message, permanent=permanent, vendor_code=vendor_code)
        self.http_status = http_status


@dataclass(frozen=True)
class VerifiedNotification:
    """A notification whose origin has been proven, reduced to what crediting needs.

    ``kind`` is PAYMENT or REFUND. For a refund, ``refund_id`` is the merchant refund number
    and ``refund_fen`` its amount (``refund_total_fen`` when the gateway reports the running total
    instead, as Alipay does).
    """

    out_trade_no: str
    gateway_txn_id: str
    amount_fen: int
    paid_at: datetime
    raw: dict
    kind: str = PAYMENT
    account_number: str = ""  # echoed back from the order (passback_params / attach), if present
    refund_id: str = ""
    refund_fen: int | None = None
    refund_total_fen: int | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PayInstruction:
    """What the client needs to pay: a URL to open, or parameters for an in-app payment."""

    pay_url: str = ""
    params: dict = field(default_factory=dict)
    prepay_id: str = ""


# What a gateway says when asked about one of our orders (主动查询), and how a close went.
TRADE_PAID = "paid"  # paid: ``TradeState.payment`` is the verified payment, as in a notification
TRADE_WAITING = "waiting"  # opened, not (yet) paid
TRADE_CLOSED = "closed"  # closed unpaid (or closed after a full refund)
TRADE_NOT_FOUND = "not_found"  # the gateway never saw it (the customer never reached its cashier)
TRADE_NOT_CLOSABLE = "not_closable"  # close refused because of the trade's state: ask again


@dataclass(frozen=True)
class TradeState:
    state: str
    payment: VerifiedNotification | None = None
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RefundAccepted:
    gateway_refund_id: str
    status: str  # "SUCCESS" or "PROCESSING"


class Gateway(Protocol):
    kind: str

    def create_order(
        self, order: PaymentOrder, *, client_ip: str = "", payer_openid: str = ""
    ) -> PayInstruction:
        """Register the order with the gateway; raises GatewayError. ``payer_openid``: pay inside
        WeChat's browser (WeChat Pay JSAPI); other gateways ignore it."""

    def parse_and_verify_notification(self, headers: Mapping[str, str], body: bytes) -> VerifiedNotification:
        """Prove the notification's origin and parse it; raises SignatureInvalid & co."""

    def success_response(self) -> HttpResponse:
        """The answer that tells the gateway to stop re-sending."""

    def failure_response(self, message: str, *, status: int = 400) -> HttpResponse:
        """The answer that tells the gateway to try again later."""

    def refund(
        self, order: PaymentOrder, *, amount_fen: int, refund_id: str, reason: str = ""
    ) -> RefundAccepted:
        """Ask the gateway to refund; raises GatewayError."""

    def query_order(self, order: PaymentOrder) -> TradeState:
        """Ask the gateway for the order's state (signed answer verified); raises GatewayError."""

    def close_order(self, order: PaymentOrder) -> str:
        """Close an unpaid order at the gateway: TRADE_CLOSED, TRADE_NOT_FOUND or
        TRADE_NOT_CLOSABLE (e.g. paid meanwhile); raises GatewayError."""


# kind → dotted path of the adapter class (constructed with ``from_settings()``).
GATEWAYS = {
    "alipay": "powerdesk.payments.gateways.alipay.AlipayGateway",
    "wechatpay": "powerdesk.payments.gateways.wechatpay.WechatPayGateway",
}


def gateway_get(kind: str) -> Gateway:
    if kind not in GATEWAYS or kind not in settings.PAYMENTS_GATEWAYS:
        raise KeyError(kind)
    return import_string(GATEWAYS[kind]).from_settings()


def order_deadline(order: PaymentOrder) -> datetime:
    """The moment after which the gateway must refuse to take payment for ``order`` (sent as
    its ``time_expire``); the order sweep closes the order some minutes after it."""
    from datetime import timedelta

    from django.utils import timezone

    created = order.created_at or timezone.now()
    return created + timedelta(minutes=settings.PAYMENTS_ORDER_TTL_MINUTES)


def notify_url(kind: str) -> str:
    return f"{settings.PAYMENTS_NOTIFY_BASE_URL.rstrip('/')}/payments/notify/{kind}/"


# --- helpers shared by the adapters ---------------------------------------------------------

_YUAN = re.compile(r"(0|[1-9]\d{0,11})(\.\d{1,2})?")


def yuan_to_fen(text: str) -> int:
    """ "12.30" → 1230 exactly; anything that is not a plain non-negative amount with at most
    two decimals (fractional fen, exponents, signs, spaces) raises ValueError."""
    if not isinstance(text, str) or not _YUAN.fullmatch(text):
        raise ValueError(f"not a yuan amount with at most 2 decimals: {text!r}")
    try:
        return int(Decimal(text) * 100)
    except InvalidOperation:  # pragma: no cover  (the pattern already guarantees a number)
        raise ValueError(text) from None


def fen_to_yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


@functools.lru_cache(maxsize=32)
def load_private_key(pem: str):
    return serialization.load_pem_private_key(pem.encode(), password=None)


@functools.lru_cache(maxsize=32)
def load_public_key(pem: str):
    """A PEM public key, or the public key of a PEM certificate."""
    data = pem.encode()
    if b"CERTIFICATE" in data:
        from cryptography import x509

        return x509.load_pem_x509_certificate(data).public_key()
    return serialization.load_pem_public_key(data)
