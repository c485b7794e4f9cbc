"""Alipay (支付宝开放平台) with RSA2 keys: wap pay, refund, async notification verification.

Signing (https://opendocs.alipay.com/common/02kf5q): every parameter except ``sign`` — and,
for *async notifications* only, also ``sign_type`` — with a non-empty value, sorted by name,
joined as ``k=v`` with ``&`` using the raw (not URL-encoded) values, signed SHA256withRSA
(PKCS#1 v1.5) and base64-encoded. Notifications are verified with Alipay's public key.

A notification is a payment only when ``trade_status`` is TRADE_SUCCESS or TRADE_FINISHED.
One carrying ``refund_fee`` and ``out_biz_no`` reports a refund; Alipay's ``refund_fee`` is the
running total refunded on the trade, so the service books the difference to what is already
booked (idempotent under replays and reordering). ``total_amount`` is a yuan string turned into
exact fen; more than two decimals is refused. We answer the plain text ``success``; anything
else makes Alipay retry (up to 8 times over ~25 h).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone

from powerdesk.payments.gateways import http
from powerdesk.payments.gateways.base import (
    PAYMENT,
    REFUND,
    TRADE_CLOSED,
    TRADE_NOT_CLOSABLE,
    TRADE_NOT_FOUND,
    TRADE_PAID,
    TRADE_WAITING,
    GatewayError,
    MalformedNotification,
    NotificationIgnored,
    PayInstruction,
    RefundAccepted,
    SignatureInvalid,
    TradeState,
    VerifiedNotification,
    fen_to_yuan,
    load_private_key,
    load_public_key,
    notify_url,
    order_deadline,
    yuan_to_fen,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
PAID_STATUSES = {"TRADE_SUCCESS", "TRADE_FINISHED"}
# Alipay's gateway answers code 10000 for success; 20000/20001 are its own outages.
_TRANSIENT_CODES = {"20000", "20001", "ACQ.SYSTEM_ERROR"}


def string_to_sign(params: Mapping[str, str], *, notification: bool = False) -> str:
    excluded = {"sign", "sign_type"} if notification else {"sign"}
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in excluded and params[k] != "")


def rsa2_sign(message: str, private_key_pem: str) -> str:
    signature = load_private_key(private_key_pem).sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def rsa2_verify(message: str, signature: str, public_key_pem: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        load_public_key(public_key_pem).verify(raw, message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def _local_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)


class AlipayGateway:
    kind = "alipay"

    def __init__(
        self,
        *,
        app_id: str,
        gateway_url: str,
        app_private_key: str,
        alipay_public_key: str,
        notify_url: str,
        return_url: str = "",
        timeout: float = 10,
    ) -> None:
        self.app_id = app_id
        self.gateway_url = gateway_url
        self.app_private_key = app_private_key
        self.alipay_public_key = alipay_public_key
        self.notify_url = notify_url
        self.return_url = return_url
        self.timeout = timeout

    @classmethod
    def from_settings(cls) -> AlipayGateway:
        if settings.PAYMENTS_MODE == "sandbox":
            from powerdesk.payments.sandbox_keys import load_or_create

            keys = load_or_create(settings.PAYMENTS_SANDBOX_KEY_FILE)
            app_id, private, public = (
                keys["alipay_app_id"],
                keys["alipay_app_private_key"],
                keys["alipay_platform_public_key"],
            )
            gateway_url = f"{settings.PAYMENTS_SANDBOX_URL.rstrip('/')}/alipay/gateway.do"
        else:
            app_id, private, public = (
                settings.PAYMENTS_ALIPAY_APP_ID,
                settings.PAYMENTS_ALIPAY_APP_PRIVATE_KEY,
                settings.PAYMENTS_ALIPAY_PUBLIC_KEY,
            )
            gateway_url = settings.PAYMENTS_ALIPAY_GATEWAY_URL
        return cls(
            app_id=app_id,
            gateway_url=gateway_url,
            app_private_key=private,
            alipay_public_key=public,
            notify_url=notify_url(cls.kind),
            return_url=settings.PAYMENTS_RETURN_URL,
            timeout=settings.PAYMENTS_HTTP_TIMEOUT_SECONDS,
        )

    # --- requests --------------------------------------------------------------------------

    def signed_params(
        self, method: str, biz_content: dict, *, now: datetime | None = None, **extra: str
    ) -> dict:
        params = {
            "app_id": self.app_id,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": (now or timezone.now()).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
            "version": "1.0",
            "biz_content": json.dumps(biz_content, ensure_ascii=False, separators=(",", ":")),
            **{k: v for k, v in extra.items() if v},
        }
        params["sign"] = rsa2_sign(string_to_sign(params), self.app_private_key)
        return params

    def create_order(self, order, *, client_ip: str = "", payer_openid: str = "") -> PayInstruction:
        """alipay.trade.wap.pay is a page request: the browser carries the signed parameters
        to Alipay's cashier, so nothing is sent from here."""
        params = self.signed_params(
            "alipay.trade.wap.pay",
            {
                "out_trade_no": order.out_trade_no,
                "total_amount": fen_to_yuan(order.amount_fen),
                "subject": f"电费缴纳 户号{order.account.number}",
                "product_code": "QUICK_WAP_WAY",
                # An absolute deadline (not timeout_express, which counts from whenever the
                # cashier is first opened): after it the order sweep may close the order.
                "time_expire": order_deadline(order).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
                # echoed back in the notification; checked against the order's account
                "passback_params": order.account.number,
            },
            notify_url=self.notify_url,
            return_url=self.return_url,
        )
        return PayInstruction(pay_url=f"{self.gateway_url}?{urlencode(params)}")

    def _api(self, method: str, biz_content: dict) -> dict:
        """POST one open-API request; return the verified ``<method>_response`` object."""
        params = self.signed_params(method, biz_content)
        status, _headers, body = http.post(
            self.gateway_url,
            urlencode(params).encode(),
            {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
            timeout=self.timeout,
        )
        if status >= 500:
            raise GatewayError(
                f"Alipay HTTP {status}", permanent=False, vendor_code=str(status), http_status=status
            )
        return self.verified_response(body.decode("utf-8", "replace"), method.replace(".", "_") + "_response")

    @staticmethod
    def _refusal(answer: dict, what: str) -> GatewayError:
        code = str(answer.get("code", ""))
        vendor_code = str(answer.get("sub_code") or code)
        return GatewayError(
            f"Alipay refused {what}: {vendor_code} {answer.get('sub_msg') or answer.get('msg', '')}",
            permanent=not ({code, vendor_code} & _TRANSIENT_CODES),
            vendor_code=vendor_code,
        )

    def refund(self, order, *, amount_fen: int, refund_id: str, reason: str = "") -> RefundAccepted:
        answer = self._api(
            "alipay.trade.refund",
            {
                "out_trade_no": order.out_trade_no,
                "refund_amount": fen_to_yuan(amount_fen),
                "out_request_no": refund_id,
                "refund_reason": reason or "电费退款",
            },
        )
        if str(answer.get("code", "")) != "10000":
            raise self._refusal(answer, "the refund")
        return RefundAccepted(gateway_refund_id=str(answer.get("trade_no", "")), status="SUCCESS")

    def query_order(self, order) -> TradeState:
        """alipay.trade.query. A wap order exists at Alipay only once the customer opened the
        cashier, so ACQ.TRADE_NOT_EXIST is an ordinary answer, not an error."""
        answer = self._api("alipay.trade.query", {"out_trade_no": order.out_trade_no})
        if str(answer.get("code", "")) != "10000":
            if answer.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
                return TradeState(TRADE_NOT_FOUND, raw=answer)
            raise self._refusal(answer, "the query")
        if answer.get("out_trade_no") != order.out_trade_no:
            raise GatewayError("Alipay answered about another order", permanent=True, vendor_code="mismatch")
        status = answer.get("trade_status")
        if status == "WAIT_BUYER_PAY":
            return TradeState(TRADE_WAITING, raw=answer)
        if status == "TRADE_CLOSED":
            return TradeState(TRADE_CLOSED, raw=answer)
        if status not in PAID_STATUSES or not answer.get("trade_no"):
            raise GatewayError(f"Alipay trade_status {status!r}", permanent=True, vendor_code=str(status))
        try:
            amount_fen = yuan_to_fen(str(answer.get("total_amount", "")))
            paid_at = _local_time(str(answer.get("send_pay_date") or ""))
        except ValueError as exc:
            raise GatewayError(f"Alipay query answer unreadable: {exc}", permanent=True) from None
        payment = VerifiedNotification(
            out_trade_no=order.out_trade_no,
            gateway_txn_id=str(answer["trade_no"]),
            amount_fen=amount_fen,
            paid_at=paid_at,
            raw=answer,
            kind=PAYMENT,
        )
        return TradeState(TRADE_PAID, payment=payment, raw=answer)

    def close_order(self, order) -> str:
        answer = self._api("alipay.trade.close", {"out_trade_no": order.out_trade_no})
        if str(answer.get("code", "")) == "10000":
            return TRADE_CLOSED
        sub_code = answer.get("sub_code")
        if sub_code == "ACQ.TRADE_NOT_EXIST":
            return TRADE_NOT_FOUND
        if sub_code == "ACQ.TRADE_STATUS_ERROR":  # paid (or already closed): ask again
            return TRADE_NOT_CLOSABLE
        raise self._refusal(answer, "the close")

    def verified_response(self, text: str, response_key: str) -> dict:
        """A synchronous answer: the signature covers the exact JSON text of ``response_key``."""
        marker = f'"{response_key}":'
        try:
            document = json.loads(text)
            start = text.index(marker) + len(marker)
            end = text.rindex(',"sign"')
        except ValueError:
            raise GatewayError(
                "Alipay answered something that is not a signed response", permanent=False
            ) from None
        signed = text[start:end].strip()
        if not rsa2_verify(signed, str(document.get("sign", "")), self.alipay_public_key):
            raise GatewayError("Alipay response signature invalid", permanent=False, vendor_code="sign")
        return document[response_key]

    # --- notifications ---------------------------------------------------------------------

    def parse_and_verify_notification(self, headers: Mapping[str, str], body: bytes) -> VerifiedNotification:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise MalformedNotification("body is not a UTF-8 form") from None
        params = dict(pairs)
        if len(params) != len(pairs):
            raise SignatureInvalid("a parameter appears twice")
        if params.get("sign_type") != "RSA2" or not params.get("sign"):
            raise SignatureInvalid("missing sign or sign_type other than RSA2")
        if not rsa2_verify(string_to_sign(params, notification=True), params["sign"], self.alipay_public_key):
            raise SignatureInvalid("RSA2 signature does not verify with Alipay's public key")
        if params.get("app_id") != self.app_id:
            raise SignatureInvalid(f"notification for another app_id {params.get('app_id')!r}")
        out_trade_no, trade_no = params.get("out_trade_no", ""), params.get("trade_no", "")
        if not out_trade_no or not trade_no:
            raise MalformedNotification("out_trade_no or trade_no missing")
        try:
            amount_fen = yuan_to_fen(params.get("total_amount", ""))
            when = params.get("gmt_refund") or params.get("gmt_payment") or params.get("notify_time", "")
            occurred_at = _local_time(when)
        except ValueError as exc:
            raise MalformedNotification(str(exc)) from None
        common = {
            "out_trade_no": out_trade_no,
            "gateway_txn_id": trade_no,
            "amount_fen": amount_fen,
            "paid_at": occurred_at,
            "raw": params,
            "account_number": params.get("passback_params", ""),
        }
        if params.get("refund_fee") and params.get("out_biz_no"):
            try:
                refund_total = yuan_to_fen(params["refund_fee"])
            except ValueError as exc:
                raise MalformedNotification(str(exc)) from None
            return VerifiedNotification(
                **common, kind=REFUND, refund_id=params["out_biz_no"], refund_total_fen=refund_total
            )
        if params.get("trade_status") not in PAID_STATUSES:
            raise NotificationIgnored(
                f"trade_status {params.get('trade_status')!r}",
                out_trade_no=out_trade_no,
                gateway_txn_id=trade_no,
            )
        return VerifiedNotification(**common, kind=PAYMENT)

    def success_response(self) -> HttpResponse:
        return HttpResponse("success", content_type="text/plain; charset=utf-8")

    def failure_response(self, message: str, *, status: int = 400) -> HttpResponse:
        # Alipay only looks for the exact body "success"; the status is for our own logs.
        return HttpResponse("failure", status=status, content_type="text/plain; charset=utf-8")
