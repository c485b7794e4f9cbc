"""A local sandbox payment gateway that speaks both wire protocols, for the demo and the tests.

Real HTTP on 127.0.0.1 (stdlib ThreadingHTTPServer in a thread). It checks our requests the way
the gateways do, with its own code (it does not import powerdesk.payments.gateways, so the
adapters are tested against an independent reading of the protocols):

* **as Alipay** — ``GET /alipay/gateway.do?<signed params>`` (alipay.trade.wap.pay): verifies our
  RSA2 signature with our app public key and shows a cashier page "确认支付"; confirming it
  sends an RSA2-signed async notification (form POST, ``trade_status=TRADE_SUCCESS``) to the
  order's notify_url. ``POST /alipay/gateway.do`` alipay.trade.refund answers a signed JSON
  response and then notifies the refund (``refund_fee`` = running total, ``out_biz_no``);
  alipay.trade.query and alipay.trade.close answer as Alipay does (ACQ.TRADE_NOT_EXIST for an
  order whose cashier was never opened, ACQ.TRADE_STATUS_ERROR when closing a paid trade).
* **as WeChat Pay v3** — ``POST /wechatpay/v3/pay/transactions/h5`` and
  ``/wechatpay/v3/refund/domestic/refunds``, ``GET …/v3/pay/transactions/out-trade-no/{no}?mchid=``
  (query) and ``POST …/out-trade-no/{no}/close`` (204; 400 ORDERPAID): verifies the ``WECHATPAY2-SHA256-RSA2048``
  Authorization (merchant serial, 5-minute window, signature), answers with platform-signed
  ``Wechatpay-*`` headers; notifications carry an AEAD_AES_256_GCM-encrypted ``resource``
  (APIv3 key) and are signed over ``timestamp\\nnonce\\nbody\\n`` per delivery attempt.

A closed order cannot be paid at either cashier (TRADE_HAS_CLOSE).

Control API (JSON; no authentication — the server binds to loopback only):

* ``POST /_sandbox/pay`` ``{"gateway", "out_trade_no"}`` — the customer confirms payment;
* ``POST /_sandbox/refund`` ``{"gateway", "out_trade_no", "amount_fen", "out_refund_no"?}`` — a
  refund made in the merchant console (the gateway notifies it);
* ``POST /_sandbox/hold`` ``{"hold": true}`` — keep new notifications instead of sending them;
* ``POST /_sandbox/deliver`` ``{"ids": [...], "repeat": 1, "delay": 0, "tamper": null}`` — send
  these notifications in this order (reorder), each ``repeat`` times, ``delay`` seconds from now,
  ``tamper`` one of ``signature`` (bad signature), ``amount`` (other amount, correctly signed by
  the gateway), ``amount_unsigned`` (other amount, original signature);
* ``POST /_sandbox/dispatch`` — send everything due now (the background sender does this
  every 50 ms unless started with ``dispatcher=False``);
* ``GET /_sandbox/notifications``, ``GET /_sandbox/orders``, ``POST /_sandbox/reset``.

Tests use ``running_sandbox()`` and call ``sandbox.state.dispatch(transport=…)`` from their own
thread, so deliveries reach Django's test client inside the test's database transaction. The
demo runs it standalone (keys from ``POWERDESK_PAYMENTS_SANDBOX_KEY_FILE`` or the var dir)::

    python -m powerdesk.payments.sandbox_server --port 8702
"""

from __future__ import annotations

import argparse
import base64
import functools
import html
import itertools
import json
import os
import secrets
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CST = timezone(timedelta(hours=8))
WECHAT_MAX_SKEW_SECONDS = 300
MAX_BODY = 64 * 1024
RETRY_DELAYS = (1.0, 4.0, 15.0)  # automatic re-sends of a notification not acknowledged

# (url, body, headers) → (status, response text)
Transport = Callable[[str, bytes, dict], tuple[int, str]]


def http_transport(url: str, body: bytes, headers: dict) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read(MAX_BODY).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read(MAX_BODY).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        return 0, f"unreachable: {exc}"


# --- crypto, written for the sandbox (independent of the adapters) ---------------------------


@functools.lru_cache(maxsize=16)
def _private_key(pem: str):
    return serialization.load_pem_private_key(pem.encode(), password=None)


@functools.lru_cache(maxsize=16)
def _public_key(pem: str):
    return serialization.load_pem_public_key(pem.encode())


def _sign(private_pem: str, message: str) -> str:
    key = _private_key(private_pem)
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def _verify(public_pem: str, message: str, signature: str) -> bool:
    key = _public_key(public_pem)
    try:
        key.verify(
            base64.b64decode(signature, validate=True), message.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def _alipay_content(params: dict, *, exclude: tuple[str, ...]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in exclude and v != "")


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _corrupt(signature: str) -> str:
    # Flip one character in the middle: still base64, no longer the signature.
    middle = len(signature) // 2
    return signature[:middle] + ("A" if signature[middle] != "A" else "B") + signature[middle + 1 :]


class _Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class SandboxOrder:
    gateway: str
    out_trade_no: str
    amount_fen: int
    notify_url: str
    account_number: str = ""
    return_url: str = ""
    status: str = "WAIT_BUYER_PAY"
    trade_no: str = ""
    paid_at: datetime | None = None
    refunded_fen: int = 0
    prepay_id: str = ""
    expires_at: datetime | None = None
    payer_openid: str = ""


@dataclass
class SandboxNotification:
    id: int
    gateway: str
    kind: str  # "payment" | "refund"
    out_trade_no: str
    url: str
    payload: dict  # Alipay form fields / WeChat resource (plaintext) and event type
    attempts: list = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "id": self.id,
            "gateway": self.gateway,
            "kind": self.kind,
            "out_trade_no": self.out_trade_no,
            "attempts": [{"status": s, "answer": a[:100], "tamper": t} for s, a, t in self.attempts],
        }


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    notification_id: int = field(compare=False)
    tamper: str | None = field(compare=False, default=None)
    retries_left: int = field(compare=False, default=0)


class SandboxState:
    """Everything the sandbox knows; thread-safe."""

    def __init__(self, keys: dict, *, base_url: str = "") -> None:
        self.keys = keys
        self.base_url = base_url
        self.hold = False
        self._lock = threading.RLock()
        self._seq = itertools.count(1)
        self._orders: dict[tuple[str, str], SandboxOrder] = {}
        self._notifications: dict[int, SandboxNotification] = {}
        self._queue: list[_Delivery] = []
        self._nonces: set[str] = set()
        self.stopping = threading.Event()

    # --- control ---------------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self._orders.clear()
            self._notifications.clear()
            self._queue.clear()
            self._nonces.clear()
            self.hold = False

    def orders(self) -> list[dict]:
        with self._lock:
            return [
                {
                    "gateway": o.gateway,
                    "out_trade_no": o.out_trade_no,
                    "amount_fen": o.amount_fen,
                    "status": o.status,
                    "trade_no": o.trade_no,
                    "refunded_fen": o.refunded_fen,
                }
                for o in self._orders.values()
            ]

    def notifications(self) -> list[dict]:
        with self._lock:
            return [n.summary() for n in self._notifications.values()]

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def _order(self, gateway: str, out_trade_no: str) -> SandboxOrder:
        order = self._orders.get((gateway, out_trade_no))
        if order is None:
            raise _Refusal(404, "ORDER_NOT_EXIST", f"订单不存在 {out_trade_no}")
        return order

    def pay(self, gateway: str, out_trade_no: str) -> SandboxNotification:
        """The customer confirms at the cashier: the trade succeeds and is notified."""
        with self._lock:
            order = self._order(gateway, out_trade_no)
            if order.status == "WAIT_BUYER_PAY" and order.expires_at and datetime.now(CST) > order.expires_at:
                order.status = "TRADE_CLOSED"  # the gateway closes a trade at its time_expire
            if order.status == "TRADE_CLOSED":
                raise _Refusal(400, "TRADE_HAS_CLOSE", "交易已关闭，不能支付")
            if order.status == "WAIT_BUYER_PAY":
                order.status = "TRADE_SUCCESS"
                order.paid_at = datetime.now(CST).replace(microsecond=0)
                if gateway == "alipay":
                    order.trade_no = f"{order.paid_at:%Y%m%d}2200{secrets.randbelow(10**16):016d}"
                else:
                    order.trade_no = f"42000{secrets.randbelow(10**23):023d}"
            return self._notify(order, "payment", {})

    def refund(
        self, gateway: str, out_trade_no: str, amount_fen: int, out_refund_no: str = ""
    ) -> SandboxNotification:
        with self._lock:
            order = self._order(gateway, out_trade_no)
            if order.status != "TRADE_SUCCESS":
                raise _Refusal(400, "TRADE_STATUS_ERROR", "trade is not paid")
            if amount_fen <= 0 or order.refunded_fen + amount_fen > order.amount_fen:
                raise _Refusal(400, "REFUND_AMT_NOT_EQUAL_TOTAL", "refund exceeds the paid amount")
            order.refunded_fen += amount_fen
            refund = {
                "out_refund_no": out_refund_no or f"SBR{next(self._seq):08d}",
                "refund_fen": amount_fen,
                "refund_total_fen": order.refunded_fen,
                "refund_id": f"50{secrets.randbelow(10**26):026d}",
            }
            return self._notify(order, "refund", refund)

    def _notify(self, order: SandboxOrder, kind: str, refund: dict) -> SandboxNotification:
        notification = SandboxNotification(
            id=next(self._seq),
            gateway=order.gateway,
            kind=kind,
            out_trade_no=order.out_trade_no,
            url=order.notify_url,
            payload=self._payload(order, kind, refund),
        )
        self._notifications[notification.id] = notification
        if not self.hold:
            self._schedule(notification.id, delay=0, tamper=None, retries=len(RETRY_DELAYS))
        return notification

    def deliver(
        self, ids: list[int], *, repeat: int = 1, delay: float = 0.0, tamper: str | None = None
    ) -> int:
        """Schedule the given notifications, in the given order, ``repeat`` times each."""
        if tamper not in (None, "signature", "amount", "amount_unsigned"):
            raise _Refusal(400, "INVALID_PARAMETER", f"unknown tamper {tamper!r}")
        with self._lock:
            for notification_id in ids:
                if notification_id not in self._notifications:
                    raise _Refusal(404, "NOT_FOUND", f"no notification {notification_id}")
            for notification_id in ids:
                for _copy in range(max(1, int(repeat))):
                    self._schedule(notification_id, delay=float(delay), tamper=tamper, retries=0)
            return len(ids) * max(1, int(repeat))

    def _schedule(self, notification_id: int, *, delay: float, tamper: str | None, retries: int) -> None:
        self._queue.append(
            _Delivery(time.monotonic() + delay, next(self._seq), notification_id, tamper, retries)
        )
        self._queue.sort()

    def dispatch(self, transport: Transport = http_transport, *, ignore_delays: bool = False) -> int:
        """Send every delivery that is due (all of them, in due order, with ``ignore_delays``),
        from the calling thread; returns how many were sent."""
        sent = 0
        while True:
            with self._lock:
                if not self._queue or (not ignore_delays and self._queue[0].due > time.monotonic()):
                    return sent
                delivery = self._queue.pop(0)
                notification = self._notifications[delivery.notification_id]
                body, headers = self._wire(notification, delivery.tamper)
            status, answer = transport(notification.url, body, headers)
            sent += 1
            with self._lock:
                notification.attempts.append((status, answer, delivery.tamper))
                if not self._acknowledged(notification.gateway, status, answer) and delivery.retries_left:
                    wait = RETRY_DELAYS[len(RETRY_DELAYS) - delivery.retries_left]
                    self._schedule(
                        notification.id, delay=wait, tamper=delivery.tamper, retries=delivery.retries_left - 1
                    )

    @staticmethod
    def _acknowledged(gateway: str, status: int, answer: str) -> bool:
        if gateway == "alipay":
            return status == 200 and answer.strip() == "success"
        return status in (200, 204)

    # --- notification wire formats ---------------------------------------------------------

    def _payload(self, order: SandboxOrder, kind: str, refund: dict) -> dict:
        now = datetime.now(CST).replace(microsecond=0)
        if order.gateway == "alipay":
            fields = {
                "notify_time": f"{now:%Y-%m-%d %H:%M:%S}",
                "notify_type": "trade_status_sync",
                "notify_id": secrets.token_hex(16),
                "app_id": self.keys["alipay_app_id"],
                "charset": "utf-8",
                "version": "1.0",
                "trade_no": order.trade_no,
                "out_trade_no": order.out_trade_no,
                "trade_status": "TRADE_SUCCESS",
                "total_amount": _yuan(order.amount_fen),
                "receipt_amount": _yuan(order.amount_fen),
                "buyer_pay_amount": _yuan(order.amount_fen),
                "gmt_create": f"{order.paid_at:%Y-%m-%d %H:%M:%S}",
                "gmt_payment": f"{order.paid_at:%Y-%m-%d %H:%M:%S}",
                "subject": "电费缴纳",
                "buyer_logon_id": "138****0000",
                "seller_id": "2088000000000001",
            }
            if order.account_number:
                fields["passback_params"] = order.account_number
            if kind == "refund":
                fields |= {
                    "out_biz_no": refund["out_refund_no"],
                    "refund_fee": _yuan(refund["refund_total_fen"]),
                    "gmt_refund": f"{now:%Y-%m-%d %H:%M:%S}",
                }
                if refund["refund_total_fen"] == order.amount_fen:
                    fields["trade_status"] = "TRADE_CLOSED"
            return fields
        if kind == "refund":
            return {
                "event_type": "REFUND.SUCCESS",
                "resource": {
                    "mchid": self.keys["wechat_mchid"],
                    "out_trade_no": order.out_trade_no,
                    "transaction_id": order.trade_no,
                    "out_refund_no": refund["out_refund_no"],
                    "refund_id": refund["refund_id"],
                    "refund_status": "SUCCESS",
                    "success_time": now.isoformat(),
                    "user_received_account": "支付用户零钱",
                    "amount": {
                        "total": order.amount_fen,
                        "refund": refund["refund_fen"],
                        "payer_total": order.amount_fen,
                        "payer_refund": refund["refund_fen"],
                    },
                },
            }
        return {
            "event_type": "TRANSACTION.SUCCESS",
            "resource": {
                "mchid": self.keys["wechat_mchid"],
                "appid": self.keys["wechat_appid"],
                "out_trade_no": order.out_trade_no,
                "transaction_id": order.trade_no,
                "trade_type": "JSAPI" if order.payer_openid else "MWEB",
                "trade_state": "SUCCESS",
                "trade_state_desc": "支付成功",
                "bank_type": "OTHERS",
                "attach": order.account_number,
                "success_time": order.paid_at.isoformat(),
                "payer": {"openid": order.payer_openid or "oSandbox000000000000000000"},
                "amount": {
                    "total": order.amount_fen,
                    "payer_total": order.amount_fen,
                    "currency": "CNY",
                    "payer_currency": "CNY",
                },
            },
        }

    def _wire(self, notification: SandboxNotification, tamper: str | None) -> tuple[bytes, dict]:
        if notification.gateway == "alipay":
            return self._alipay_wire(dict(notification.payload), tamper)
        return self._wechat_wire(notification, tamper)

    def _alipay_wire(self, fields: dict, tamper: str | None) -> tuple[bytes, dict]:
        if tamper == "amount":
            fields["total_amount"] = _yuan(int(Decimal(fields["total_amount"]) * 100) + 1)
        sign = _sign(
            self.keys["alipay_platform_private_key"], _alipay_content(fields, exclude=("sign", "sign_type"))
        )
        if tamper == "signature":
            sign = _corrupt(sign)
        if tamper == "amount_unsigned":
            fields["total_amount"] = _yuan(int(Decimal(fields["total_amount"]) * 100) + 100)
        body = urlencode({**fields, "sign_type": "RSA2", "sign": sign}).encode()
        return body, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}

    def _wechat_wire(self, notification: SandboxNotification, tamper: str | None) -> tuple[bytes, dict]:
        resource = json.loads(json.dumps(notification.payload["resource"]))
        if tamper == "amount":
            resource["amount"]["total"] += 1
        nonce = secrets.token_hex(6)  # 12 characters, as WeChat's resource nonces
        associated = "transaction" if notification.kind == "payment" else "refund"
        ciphertext = AESGCM(self.keys["wechat_apiv3_key"].encode()).encrypt(
            nonce.encode(), json.dumps(resource, ensure_ascii=False).encode(), associated.encode()
        )
        envelope = {
            "id": f"EV-{notification.id:010d}",
            "create_time": datetime.now(CST).replace(microsecond=0).isoformat(),
            "resource_type": "encrypt-resource",
            "event_type": notification.payload["event_type"],
            "summary": "支付成功" if notification.kind == "payment" else "退款成功",
            "resource": {
                "original_type": associated,
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(ciphertext).decode(),
                "associated_data": associated,
                "nonce": nonce,
            },
        }
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
        headers = self._wechat_signed_headers(body)
        if tamper == "signature":
            headers["Wechatpay-Signature"] = _corrupt(headers["Wechatpay-Signature"])
        if tamper == "amount_unsigned":
            # Change the body after signing (the ciphertext cannot be edited without the key).
            body = body[:-1] + ',"amount":1}'
        return body.encode(), {"Content-Type": "application/json", **headers}

    def _wechat_signed_headers(self, body: str) -> dict:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16).upper()
        return {
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": self.keys["wechat_platform_serial_no"],
            "Wechatpay-Signature": _sign(
                self.keys["wechat_platform_private_key"], f"{timestamp}\n{nonce}\n{body}\n"
            ),
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }

    # --- Alipay open API -------------------------------------------------------------------

    def _alipay_checked(self, params: dict, method: str) -> dict:
        if params.get("sign_type") != "RSA2" or not params.get("sign"):
            raise _Refusal(400, "isv.missing-signature", "缺少签名参数")
        if params.get("app_id") != self.keys["alipay_app_id"]:
            raise _Refusal(400, "isv.invalid-app-id", "无效的AppID参数")
        if not _verify(
            self.keys["alipay_app_public_key"], _alipay_content(params, exclude=("sign",)), params["sign"]
        ):
            raise _Refusal(400, "isv.invalid-signature", "验签出错")
        if params.get("method") != method:
            raise _Refusal(400, "isv.invalid-method", "不存在的方法名")
        try:
            sent = datetime.strptime(params.get("timestamp", ""), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST)
            biz = json.loads(params.get("biz_content", ""))
        except ValueError:
            raise _Refusal(400, "isv.invalid-timestamp", "非法的时间戳或业务参数") from None
        if abs((datetime.now(CST) - sent).total_seconds()) > 600:
            raise _Refusal(400, "isv.invalid-timestamp", "非法的时间戳参数")
        return biz

    def alipay_wap_pay(self, params: dict) -> SandboxOrder:
        biz = self._alipay_checked(params, "alipay.trade.wap.pay")
        try:
            amount = Decimal(biz["total_amount"])
            fen = int(amount * 100)
            if amount <= 0 or amount != Decimal(fen) / 100 or not biz["out_trade_no"]:
                raise ValueError
        except (KeyError, ValueError, ArithmeticError):
            raise _Refusal(400, "ACQ.INVALID_PARAMETER", "参数无效") from None
        expires_at = None
        if biz.get("time_expire"):
            try:
                expires_at = datetime.strptime(biz["time_expire"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST)
            except (TypeError, ValueError):
                raise _Refusal(400, "ACQ.INVALID_PARAMETER", "time_expire 格式错误") from None
        return self._register(
            "alipay",
            biz["out_trade_no"],
            fen,
            params.get("notify_url", ""),
            biz.get("passback_params", ""),
            params.get("return_url", ""),
            expires_at=expires_at,
        )

    def alipay_refund(self, params: dict) -> dict:
        biz = self._alipay_checked(params, "alipay.trade.refund")
        with self._lock:
            order = self._orders.get(("alipay", biz.get("out_trade_no", "")))
            if order is None or order.status != "TRADE_SUCCESS":
                return {
                    "code": "40004",
                    "msg": "Business Failed",
                    "sub_code": "ACQ.TRADE_NOT_EXIST",
                    "sub_msg": "交易不存在",
                }
            fen = int(Decimal(biz["refund_amount"]) * 100)
            try:
                self.refund("alipay", order.out_trade_no, fen, biz.get("out_request_no", ""))
            except _Refusal as refusal:
                return {
                    "code": "40004",
                    "msg": "Business Failed",
                    "sub_code": f"ACQ.{refusal.code}",
                    "sub_msg": refusal.message,
                }
            return {
                "code": "10000",
                "msg": "Success",
                "trade_no": order.trade_no,
                "out_trade_no": order.out_trade_no,
                "fund_change": "Y",
                "refund_fee": _yuan(order.refunded_fen),
            }

    def alipay_api(self, params: dict) -> dict:
        """POST gateway.do: the open-API methods the merchant calls server to server."""
        method = params.get("method", "")
        if method == "alipay.trade.refund":
            return self.alipay_refund(params)
        if method == "alipay.trade.query":
            return self.alipay_query(params)
        if method == "alipay.trade.close":
            return self.alipay_close(params)
        raise _Refusal(400, "isv.invalid-method", "不存在的方法名")

    _NOT_EXIST = {
        "code": "40004",
        "msg": "Business Failed",
        "sub_code": "ACQ.TRADE_NOT_EXIST",
        "sub_msg": "交易不存在",
    }

    def alipay_query(self, params: dict) -> dict:
        biz = self._alipay_checked(params, "alipay.trade.query")
        with self._lock:
            order = self._orders.get(("alipay", str(biz.get("out_trade_no", ""))))
            if order is None:
                return dict(self._NOT_EXIST)
            answer = {
                "code": "10000",
                "msg": "Success",
                "out_trade_no": order.out_trade_no,
                "trade_status": order.status,
                "total_amount": _yuan(order.amount_fen),
            }
            if order.trade_no:
                answer |= {
                    "trade_no": order.trade_no,
                    "buyer_logon_id": "138****0000",
                    "buyer_pay_amount": _yuan(order.amount_fen),
                    "send_pay_date": f"{order.paid_at:%Y-%m-%d %H:%M:%S}",
                }
            return answer

    def alipay_close(self, params: dict) -> dict:
        biz = self._alipay_checked(params, "alipay.trade.close")
        with self._lock:
            order = self._orders.get(("alipay", str(biz.get("out_trade_no", ""))))
            if order is None:
                return dict(self._NOT_EXIST)
            if order.status != "WAIT_BUYER_PAY":
                return {
                    "code": "40004",
                    "msg": "Business Failed",
                    "sub_code": "ACQ.TRADE_STATUS_ERROR",
                    "sub_msg": "交易状态不合法",
                }
            order.status = "TRADE_CLOSED"
            return {"code": "10000", "msg": "Success", "out_trade_no": order.out_trade_no}

    def alipay_signed_response(self, key: str, answer: dict) -> str:
        content = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
        sign = _sign(self.keys["alipay_platform_private_key"], content)
        return f'{{"{key}":{content},"sign":"{sign}"}}'

    def _register(
        self,
        gateway: str,
        out_trade_no: str,
        fen: int,
        notify_url: str,
        account: str,
        return_url: str = "",
        *,
        expires_at: datetime | None = None,
    ) -> SandboxOrder:
        if not notify_url.startswith(("http://", "https://")):
            raise _Refusal(400, "INVALID_NOTIFY_URL", "notify_url 无效")
        with self._lock:
            existing = self._orders.get((gateway, out_trade_no))
            if existing is not None:
                if existing.amount_fen != fen:
                    raise _Refusal(400, "OUT_TRADE_NO_USED", "商户订单号重复，且参数不一致")
                return existing
            order = SandboxOrder(
                gateway,
                out_trade_no,
                fen,
                notify_url,
                account,
                return_url,
                prepay_id=f"wx{secrets.token_hex(15)}",
                expires_at=expires_at,
            )
            self._orders[(gateway, out_trade_no)] = order
            return order

    # --- WeChat Pay v3 API -----------------------------------------------------------------

    def wechat_checked(self, method: str, path: str, headers: dict, body: str) -> dict:
        authorization = headers.get("authorization", "")
        schema, _sep, rest = authorization.partition(" ")
        if schema != "WECHATPAY2-SHA256-RSA2048":
            raise _Refusal(401, "SIGN_ERROR", "Authorization 认证类型错误")
        parts = dict(
            (key.strip(), value.strip().strip('"'))
            for key, _eq, value in (item.partition("=") for item in rest.split(","))
        )
        if parts.get("mchid") != self.keys["wechat_mchid"]:
            raise _Refusal(401, "SIGN_ERROR", "商户号不匹配")
        if parts.get("serial_no") != self.keys["wechat_merchant_serial_no"]:
            raise _Refusal(401, "SIGN_ERROR", "商户证书序列号有误")
        try:
            skew = abs(time.time() - int(parts.get("timestamp", "")))
        except ValueError:
            raise _Refusal(401, "SIGN_ERROR", "时间戳格式错误") from None
        if skew > WECHAT_MAX_SKEW_SECONDS:
            raise _Refusal(401, "SIGN_ERROR", "请求已过期")
        message = f"{method}\n{path}\n{parts['timestamp']}\n{parts.get('nonce_str', '')}\n{body}\n"
        if not _verify(self.keys["wechat_merchant_public_key"], message, parts.get("signature", "")):
            raise _Refusal(401, "SIGN_ERROR", "签名错误")
        with self._lock:
            if parts.get("nonce_str", "") in self._nonces:
                raise _Refusal(401, "SIGN_ERROR", "重复的随机串")
            self._nonces.add(parts.get("nonce_str", ""))
        if method == "GET":
            return {}
        try:
            return json.loads(body)
        except ValueError:
            raise _Refusal(400, "PARAM_ERROR", "请求体不是 JSON") from None

    def wechat_h5(self, payload: dict) -> dict:
        amount = payload.get("amount") or {}
        total = amount.get("total")
        if (
            payload.get("mchid") != self.keys["wechat_mchid"]
            or payload.get("appid") != self.keys["wechat_appid"]
        ):
            raise _Refusal(400, "PARAM_ERROR", "appid 与 mchid 不匹配")
        if not isinstance(total, int) or isinstance(total, bool) or total <= 0:
            raise _Refusal(400, "PARAM_ERROR", "订单金额必须为正整数（分）")
        out_trade_no = str(payload.get("out_trade_no") or "")
        if not 6 <= len(out_trade_no) <= 32:
            raise _Refusal(400, "PARAM_ERROR", "商户订单号长度应为 6-32")
        expires_at = None
        if payload.get("time_expire"):
            try:
                expires_at = datetime.fromisoformat(str(payload["time_expire"]))
            except ValueError:
                raise _Refusal(400, "PARAM_ERROR", "time_expire 不是 RFC 3339 时间") from None
            if expires_at.tzinfo is None:
                raise _Refusal(400, "PARAM_ERROR", "time_expire 缺少时区")
        order = self._register(
            "wechatpay",
            out_trade_no,
            total,
            str(payload.get("notify_url") or ""),
            str(payload.get("attach") or ""),
            expires_at=expires_at,
        )
        return {"h5_url": f"{self.base_url}/wechatpay/cashier/{order.prepay_id}"}

    def wechat_jsapi(self, payload: dict) -> dict:
        """/v3/pay/transactions/jsapi: as H5, plus the payer's openid under our AppID."""
        openid = str((payload.get("payer") or {}).get("openid") or "")
        if not 1 <= len(openid) <= 128:
            raise _Refusal(400, "PARAM_ERROR", "payer.openid 缺失或过长")
        answer = self.wechat_h5({k: v for k, v in payload.items() if k != "payer"})
        order = self.order_by_prepay_id(answer["h5_url"].rsplit("/", 1)[-1])
        order.payer_openid = openid
        return {"prepay_id": order.prepay_id}

    def wechat_bridge_pay(self, params: dict) -> dict:
        """What WeChat's client does for getBrandWCPayRequest: check the page's paySign with the
        merchant's public key, then take the payment (the customer confirmed in the page)."""
        try:
            app_id, timestamp, nonce = params["appId"], params["timeStamp"], params["nonceStr"]
            package, sign_type, pay_sign = params["package"], params["signType"], params["paySign"]
        except (KeyError, TypeError):
            return {"err_msg": "get_brand_wcpay_request:fail", "err_desc": "缺少支付参数"}
        message = f"{app_id}\n{timestamp}\n{nonce}\n{package}\n"
        if (
            app_id != self.keys["wechat_appid"]
            or sign_type != "RSA"
            or not _verify(self.keys["wechat_merchant_public_key"], message, str(pay_sign))
        ):
            return {"err_msg": "get_brand_wcpay_request:fail", "err_desc": "支付验证签名失败"}
        try:
            order = self.order_by_prepay_id(str(package).removeprefix("prepay_id="))
            self.pay("wechatpay", order.out_trade_no)
        except _Refusal as refusal:
            return {"err_msg": "get_brand_wcpay_request:fail", "err_desc": refusal.message}
        return {"err_msg": "get_brand_wcpay_request:ok"}

    def wechat_refund(self, payload: dict) -> dict:
        amount = payload.get("amount") or {}
        with self._lock:
            order = self._order("wechatpay", str(payload.get("out_trade_no") or ""))
            if amount.get("total") != order.amount_fen:
                raise _Refusal(400, "PARAM_ERROR", "订单金额与原订单不一致")
            notification = self.refund(
                "wechatpay",
                order.out_trade_no,
                int(amount.get("refund") or 0),
                str(payload.get("out_refund_no") or ""),
            )
            resource = notification.payload["resource"]
            return {
                "refund_id": resource["refund_id"],
                "out_refund_no": resource["out_refund_no"],
                "transaction_id": order.trade_no,
                "out_trade_no": order.out_trade_no,
                "status": "PROCESSING",
                "amount": {
                    "refund": resource["amount"]["refund"],
                    "total": order.amount_fen,
                    "currency": "CNY",
                },
            }

    _WECHAT_STATES = {"WAIT_BUYER_PAY": "NOTPAY", "TRADE_SUCCESS": "SUCCESS", "TRADE_CLOSED": "CLOSED"}

    def wechat_query(self, out_trade_no: str, mchid: str) -> dict:
        if mchid != self.keys["wechat_mchid"]:
            raise _Refusal(400, "PARAM_ERROR", "mchid 与商户号不匹配")
        with self._lock:
            order = self._order("wechatpay", out_trade_no)
            answer = {
                "appid": self.keys["wechat_appid"],
                "mchid": self.keys["wechat_mchid"],
                "out_trade_no": order.out_trade_no,
                "trade_type": "JSAPI" if order.payer_openid else "MWEB",
                "trade_state": "REFUND" if order.refunded_fen else self._WECHAT_STATES[order.status],
                "trade_state_desc": "",
                "attach": order.account_number,
                "amount": {"total": order.amount_fen, "currency": "CNY"},
            }
            if order.trade_no:
                answer |= {
                    "transaction_id": order.trade_no,
                    "success_time": order.paid_at.isoformat(),
                    "payer": {"openid": order.payer_openid or "oSandbox000000000000000000"},
                }
            return answer

    def wechat_close(self, out_trade_no: str, payload: dict) -> None:
        if payload.get("mchid") != self.keys["wechat_mchid"]:
            raise _Refusal(400, "PARAM_ERROR", "mchid 与商户号不匹配")
        with self._lock:
            order = self._order("wechatpay", out_trade_no)
            if order.status == "TRADE_SUCCESS":
                raise _Refusal(400, "ORDERPAID", "订单已支付")
            order.status = "TRADE_CLOSED"

    def order_by_prepay_id(self, prepay_id: str) -> SandboxOrder:
        with self._lock:
            for order in self._orders.values():
                if order.prepay_id == prepay_id:
                    return order
        raise _Refusal(404, "ORDER_NOT_EXIST", "订单不存在")


_CASHIER = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:26rem;margin:2rem auto;padding:0 1rem;text-align:center}}
.amount{{font-size:2.4rem;margin:1rem 0}}button{{width:100%;padding:.9rem;font-size:1.1rem;border:0;
border-radius:.4rem;background:{color};color:#fff}}</style></head><body>
<h1>{title}（沙箱）</h1><p>商户订单号 {out_trade_no}</p><p class="amount">¥{yuan}</p>{body}</body></html>"""


# Stands in for WeChat's in-app bridge in an ordinary browser (the demo and the browser tests):
# the page includes it only in sandbox mode, and only when the real bridge is absent.
_JSBRIDGE = """(function () {
  if (window.WeixinJSBridge) { return; }
  window.WeixinJSBridge = {
    invoke: function (name, params, callback) {
      if (name !== "getBrandWCPayRequest") { callback({err_msg: name + ":fail"}); return; }
      if (!window.confirm("微信支付（沙箱）：确认支付？")) {
        callback({err_msg: "get_brand_wcpay_request:cancel"}); return;
      }
      fetch("__BASE__/wechatpay/jsbridge/pay", {method: "POST", body: JSON.stringify(params)})
        .then(function (r) { return r.json(); })
        .then(callback, function () { callback({err_msg: "get_brand_wcpay_request:fail"}); });
    }
  };
  document.dispatchEvent(new Event("WeixinJSBridgeReady"));
})();
"""


class _Handler(BaseHTTPRequestHandler):
    server_version = "PowerDeskPaymentSandbox/1"
    state: SandboxState

    def log_message(self, format: str, *args) -> None:
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise _Refusal(413, "BODY_TOO_LARGE", "请求体过大")
        return self.rfile.read(length)

    def _send(self, status: int, body: str, content_type: str, headers: dict | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, document, *, signed: bool = False) -> None:
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        headers = self.state._wechat_signed_headers(body) if signed else None
        self._send(status, body, "application/json; charset=utf-8", headers)

    def _page(self, status: int, title: str, order: SandboxOrder | None, body: str, color="#1677ff") -> None:
        self._send(
            status,
            _CASHIER.format(
                title=html.escape(title),
                color=color,
                body=body,
                out_trade_no=html.escape(order.out_trade_no if order else "-"),
                yuan=_yuan(order.amount_fen) if order else "-",
            ),
            "text/html; charset=utf-8",
        )

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        try:
            if url.path == "/alipay/gateway.do":
                order = self.state.alipay_wap_pay(dict(parse_qsl(url.query, keep_blank_values=True)))
                form = (
                    f'<form method="post" action="/alipay/cashier/pay"><input type="hidden" name="out_trade_no" '
                    f'value="{html.escape(order.out_trade_no)}"><button>确认支付</button></form>'
                )
                return self._page(200, "支付宝收银台", order, form)
            if url.path.startswith("/wechatpay/cashier/"):
                order = self.state.order_by_prepay_id(url.path.rsplit("/", 1)[-1])
                form = (
                    f'<form method="post" action="/wechatpay/cashier/{order.prepay_id}/pay">'
                    f"<button>确认支付</button></form>"
                )
                return self._page(200, "微信支付", order, form, color="#07c160")
            if url.path.startswith("/wechatpay/v3/pay/transactions/out-trade-no/"):
                headers = {k.lower(): v for k, v in self.headers.items()}
                signed_path = url.path + (f"?{url.query}" if url.query else "")
                try:
                    self.state.wechat_checked("GET", signed_path, headers, "")
                    out_trade_no = unquote(url.path.rsplit("/", 1)[-1])
                    answer = self.state.wechat_query(
                        out_trade_no, dict(parse_qsl(url.query)).get("mchid", "")
                    )
                except _Refusal as refusal:
                    return self._json(
                        refusal.status, {"code": refusal.code, "message": refusal.message}, signed=True
                    )
                return self._json(200, answer, signed=True)
            if url.path == "/wechatpay/jsbridge.js":
                return self._send(
                    200,
                    _JSBRIDGE.replace("__BASE__", self.state.base_url),
                    "text/javascript; charset=utf-8",
                    {"Access-Control-Allow-Origin": "*"},
                )
            if url.path == "/_sandbox/notifications":
                return self._json(200, self.state.notifications())
            if url.path == "/_sandbox/orders":
                return self._json(200, self.state.orders())
            if url.path == "/healthz":
                return self._json(200, {"ok": True})
        except _Refusal as refusal:
            return self._page(refusal.status, f"{refusal.code}：{refusal.message}", None, "", color="#999")
        self._json(404, {"code": "NOT_FOUND", "message": self.path})

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        try:
            raw = self._body()
            text = raw.decode("utf-8")
            if url.path == "/alipay/gateway.do":
                params = dict(parse_qsl(text, keep_blank_values=True))
                key = params.get("method", "").replace(".", "_") + "_response"
                try:
                    answer = self.state.alipay_api(params)
                except _Refusal as refusal:
                    answer = {
                        "code": "40002",
                        "msg": "Invalid Arguments",
                        "sub_code": refusal.code,
                        "sub_msg": refusal.message,
                    }
                return self._send(
                    200, self.state.alipay_signed_response(key, answer), "application/json; charset=utf-8"
                )
            if url.path == "/alipay/cashier/pay":
                out_trade_no = dict(parse_qsl(text)).get("out_trade_no", "")
                self.state.pay("alipay", out_trade_no)
                order = self.state._order("alipay", out_trade_no)
                link = (
                    f'<p><a href="{html.escape(order.return_url)}">返回商户</a></p>'
                    if order.return_url
                    else ""
                )
                return self._page(200, "支付成功", order, link)
            if url.path == "/wechatpay/jsbridge/pay":
                # text/plain from the page's fetch (a "simple" cross-origin request: no preflight)
                answer = self.state.wechat_bridge_pay(json.loads(text or "{}"))
                return self._send(
                    200,
                    json.dumps(answer, ensure_ascii=False),
                    "application/json; charset=utf-8",
                    {"Access-Control-Allow-Origin": "*"},
                )
            if url.path.startswith("/wechatpay/cashier/") and url.path.endswith("/pay"):
                order = self.state.order_by_prepay_id(url.path.split("/")[-2])
                self.state.pay("wechatpay", order.out_trade_no)
                return self._page(200, "支付成功", order, "", color="#07c160")
            if url.path.startswith("/wechatpay/v3/"):
                headers = {k.lower(): v for k, v in self.headers.items()}
                payload = self.state.wechat_checked("POST", url.path, headers, text)
                if url.path == "/wechatpay/v3/pay/transactions/h5":
                    return self._json(200, self.state.wechat_h5(payload), signed=True)
                if url.path == "/wechatpay/v3/pay/transactions/jsapi":
                    return self._json(200, self.state.wechat_jsapi(payload), signed=True)
                if url.path == "/wechatpay/v3/refund/domestic/refunds":
                    return self._json(200, self.state.wechat_refund(payload), signed=True)
                prefix = "/wechatpay/v3/pay/transactions/out-trade-no/"
                if url.path.startswith(prefix) and url.path.endswith("/close"):
                    self.state.wechat_close(unquote(url.path[len(prefix) : -len("/close")]), payload)
                    return self._send(204, "", "application/json", self.state._wechat_signed_headers(""))
                raise _Refusal(404, "NOT_FOUND", "接口不存在")
            if url.path.startswith("/_sandbox/"):
                return self._control(url.path.removeprefix("/_sandbox/"), json.loads(text or "{}"))
        except _Refusal as refusal:
            return self._json(refusal.status, {"code": refusal.code, "message": refusal.message})
        except (ValueError, KeyError, TypeError) as exc:
            return self._json(400, {"code": "PARAM_ERROR", "message": str(exc)})
        self._json(404, {"code": "NOT_FOUND", "message": self.path})

    def _control(self, action: str, payload: dict) -> None:
        state = self.state
        if action == "pay":
            notification = state.pay(payload["gateway"], payload["out_trade_no"])
            order = state._order(payload["gateway"], payload["out_trade_no"])
            return self._json(200, {"notification_id": notification.id, "trade_no": order.trade_no})
        if action == "refund":
            notification = state.refund(
                payload["gateway"],
                payload["out_trade_no"],
                int(payload["amount_fen"]),
                str(payload.get("out_refund_no") or ""),
            )
            return self._json(200, {"notification_id": notification.id})
        if action == "hold":
            state.hold = bool(payload.get("hold", True))
            return self._json(200, {"hold": state.hold})
        if action == "deliver":
            scheduled = state.deliver(
                [int(i) for i in payload["ids"]],
                repeat=int(payload.get("repeat", 1)),
                delay=float(payload.get("delay", 0)),
                tamper=payload.get("tamper"),
            )
            return self._json(200, {"scheduled": scheduled})
        if action == "dispatch":
            return self._json(200, {"sent": state.dispatch()})
        if action == "reset":
            state.reset()
            return self._json(200, {"reset": True})
        raise _Refusal(404, "NOT_FOUND", f"unknown control action {action!r}")


@dataclass
class RunningSandbox:
    url: str
    state: SandboxState
    server: ThreadingHTTPServer

    def control(self, action: str, payload: dict | None = None) -> dict:
        """POST to the control API (what a test or the demo would do over HTTP)."""
        request = urllib.request.Request(  # noqa: S310  (loopback)
            f"{self.url}/_sandbox/{action}",
            data=json.dumps(payload or {}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                raise RuntimeError(f"sandbox {action}: {exc.code} {exc.read().decode()}") from None


@contextmanager
def running_sandbox(
    keys: dict, *, port: int = 0, dispatcher: bool = False, transport: Transport = http_transport
) -> Iterator[RunningSandbox]:
    """The sandbox on 127.0.0.1 in a background thread; with ``dispatcher`` a second thread
    sends due notifications through ``transport`` every 50 ms."""
    state = SandboxState(keys)
    handler = type("SandboxHandler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    threads = [threading.Thread(target=server.serve_forever, name="payment-sandbox", daemon=True)]
    if dispatcher:

        def send_due() -> None:
            while not state.stopping.wait(0.05):
                state.dispatch(transport)

        threads.append(threading.Thread(target=send_due, name="payment-sandbox-dispatch", daemon=True))
    for thread in threads:
        thread.start()
    try:
        yield RunningSandbox(state.base_url, state, server)
    finally:
        state.stopping.set()
        server.shutdown()
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="PowerDesk payment sandbox (Alipay + WeChat Pay v3 wire protocols)"
    )
    parser.add_argument("--port", type=int, default=8702)
    parser.add_argument(
        "--key-file",
        type=Path,
        default=Path(os.environ.get("POWERDESK_PAYMENTS_SANDBOX_KEY_FILE", "var/payments_sandbox_keys.json")),
        help="shared sandbox key set (generated if absent; the app reads the same file)",
    )
    args = parser.parse_args(argv)
    from powerdesk.payments.sandbox_keys import load_or_create

    keys = load_or_create(args.key_file)
    with running_sandbox(keys, port=args.port, dispatcher=True) as sandbox:
        print(f"payment sandbox on {sandbox.url} (keys {args.key_file})", flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
