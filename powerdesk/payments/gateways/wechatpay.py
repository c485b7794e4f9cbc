"""WeChat Pay API v3 (微信支付 APIv3): H5 order, refund, notification verification and decryption.

Requests carry ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",
signature="…",timestamp="…",serial_no="…"`` where the signature is SHA256withRSA with the
merchant key over ``METHOD\\nURL-path?query\\ntimestamp\\nnonce\\nbody\\n``.

Answers and notifications are signed by the platform key over ``timestamp\\nnonce\\nbody\\n``
(headers ``Wechatpay-Timestamp``, ``-Nonce``, ``-Signature``, ``-Serial``). We refuse a serial
that is not the platform certificate we hold, and a timestamp more than
``PAYMENTS_WECHATPAY_MAX_SKEW_SECONDS`` away from now (replay window). The notification's
``resource`` is AEAD_AES_256_GCM-encrypted with the APIv3 key, its ``nonce`` and
``associated_data``; a resource that does not decrypt is treated like a bad signature.
``amount.total`` is already fen. We answer 200 ``{"code":"SUCCESS"}``; failures are 4xx
``{"code":"FAIL","message":…}`` and WeChat retries.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import quote, urlsplit

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.http import JsonResponse

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
    load_private_key,
    load_public_key,
    notify_url,
    order_deadline,
)

AUTH_SCHEMA = "WECHATPAY2-SHA256-RSA2048"


def _sign(message: str, private_key_pem: str) -> str:
    signature = load_private_key(private_key_pem).sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def _verify(message: str, signature: str, public_key_pem: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        load_public_key(public_key_pem).verify(raw, message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def authorization(
    *,
    method: str,
    url_path: str,
    body: str,
    mchid: str,
    serial_no: str,
    private_key: str,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    nonce = nonce or secrets.token_hex(16).upper()
    signature = _sign(f"{method}\n{url_path}\n{timestamp}\n{nonce}\n{body}\n", private_key)
    return (
        f'{AUTH_SCHEMA} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{serial_no}"'
    )


def decrypt_resource(resource: Mapping, apiv3_key: str) -> bytes:
    if resource.get("algorithm") != "AEAD_AES_256_GCM":
        raise SignatureInvalid(f"unsupported resource algorithm {resource.get('algorithm')!r}")
    try:
        return AESGCM(apiv3_key.encode()).decrypt(
            str(resource["nonce"]).encode(),
            base64.b64decode(resource["ciphertext"], validate=True),
            str(resource.get("associated_data", "")).encode(),
        )
    except (InvalidTag, KeyError, ValueError):
        raise SignatureInvalid("resource does not decrypt with the APIv3 key") from None


class WechatPayGateway:
    kind = "wechatpay"

    def __init__(
        self,
        *,
        mchid: str,
        appid: str,
        api_base_url: str,
        merchant_serial_no: str,
        merchant_private_key: str,
        platform_serial_no: str,
        platform_public_key: str,
        apiv3_key: str,
        notify_url: str,
        max_skew_seconds: int = 300,
        timeout: float = 10,
    ) -> None:
        self.mchid = mchid
        self.appid = appid
        self.api_base_url = api_base_url.rstrip("/")
        self.merchant_serial_no = merchant_serial_no
        self.merchant_private_key = merchant_private_key
        self.platform_serial_no = platform_serial_no
        self.platform_public_key = platform_public_key
        self.apiv3_key = apiv3_key
        self.notify_url = notify_url
        self.max_skew_seconds = max_skew_seconds
        self.timeout = timeout

    @classmethod
    def from_settings(cls) -> WechatPayGateway:
        if settings.PAYMENTS_MODE == "sandbox":
            from powerdesk.payments.sandbox_keys import load_or_create

            keys = load_or_create(settings.PAYMENTS_SANDBOX_KEY_FILE)
            config = {
                "mchid": keys["wechat_mchid"],
                "appid": keys["wechat_appid"],
                "api_base_url": f"{settings.PAYMENTS_SANDBOX_URL.rstrip('/')}/wechatpay",
                "merchant_serial_no": keys["wechat_merchant_serial_no"],
                "merchant_private_key": keys["wechat_merchant_private_key"],
                "platform_serial_no": keys["wechat_platform_serial_no"],
                "platform_public_key": keys["wechat_platform_public_key"],
                "apiv3_key": keys["wechat_apiv3_key"],
            }
        else:
            config = {
                "mchid": settings.PAYMENTS_WECHATPAY_MCHID,
                "appid": settings.PAYMENTS_WECHATPAY_APPID,
                "api_base_url": settings.PAYMENTS_WECHATPAY_API_BASE_URL,
                "merchant_serial_no": settings.PAYMENTS_WECHATPAY_MERCHANT_SERIAL_NO,
                "merchant_private_key": settings.PAYMENTS_WECHATPAY_MERCHANT_PRIVATE_KEY,
                "platform_serial_no": settings.PAYMENTS_WECHATPAY_PLATFORM_SERIAL_NO,
                "platform_public_key": settings.PAYMENTS_WECHATPAY_PLATFORM_PUBLIC_KEY,
                "apiv3_key": settings.PAYMENTS_WECHATPAY_APIV3_KEY,
            }
        return cls(
            **config,
            notify_url=notify_url(cls.kind),
            max_skew_seconds=settings.PAYMENTS_WECHATPAY_MAX_SKEW_SECONDS,
            timeout=settings.PAYMENTS_HTTP_TIMEOUT_SECONDS,
        )

    # --- requests --------------------------------------------------------------------------

    def _post(self, path: str, payload: dict) -> dict:
        return self._request("POST", path, payload)

    def _request(self, method: str, path: str, payload: dict | None) -> dict:
        """Send a signed request; return the verified JSON answer ({} for 204 No Content)."""
        body = "" if payload is None else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        url = f"{self.api_base_url}{path}"
        parts = urlsplit(url)
        header = authorization(
            method=method,
            url_path=parts.path + (f"?{parts.query}" if parts.query else ""),
            body=body,
            mchid=self.mchid,
            serial_no=self.merchant_serial_no,
            private_key=self.merchant_private_key,
        )
        status, headers, raw = http.request(
            method,
            url,
            body.encode() if payload is not None else None,
            {
                "Authorization": header,
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": "PowerDesk-Payments/1",
            },
            timeout=self.timeout,
        )
        text = raw.decode("utf-8", "replace")
        try:
            answer = json.loads(text) if text else {}
        except ValueError:
            answer = {}
        if status >= 300:
            code = str(answer.get("code") or status)
            raise GatewayError(
                f"WeChat Pay HTTP {status} {code}: {answer.get('message', '')}",
                # 5xx and SYSTEM_ERROR/FREQUENCY_LIMITED may pass; 4xx business refusals will not.
                permanent=status < 500 and code not in {"SYSTEM_ERROR", "FREQUENCY_LIMITED"},
                vendor_code=code,
                http_status=status,
            )
        try:
            self._verify_signed(headers, text)
        except SignatureInvalid as exc:
            raise GatewayError(
                f"WeChat Pay answer not signed by the platform: {exc}", permanent=False
            ) from None
        return answer

    def create_order(self, order, *, client_ip: str = "", payer_openid: str = "") -> PayInstruction:
        """H5 (MWEB) pay for a phone browser; **JSAPI** when ``payer_openid`` is given — inside
        WeChat's own browser, where H5 pay is refused, with the payer's openid under our AppID
        (from OAuth): the page then calls ``WeixinJSBridge.invoke("getBrandWCPayRequest", params)``."""
        common = {
            "appid": self.appid,
            "mchid": self.mchid,
            "description": f"电费缴纳-户号{order.account.number}",
            "out_trade_no": order.out_trade_no,
            "notify_url": self.notify_url,
            "attach": order.account.number,
            # after this the trade cannot be paid and the order sweep may close the order
            "time_expire": order_deadline(order).isoformat(timespec="seconds"),
            "amount": {"total": order.amount_fen, "currency": "CNY"},
        }
        if payer_openid:
            answer = self._post("/v3/pay/transactions/jsapi", {**common, "payer": {"openid": payer_openid}})
            prepay_id = str(answer.get("prepay_id") or "")
            if not prepay_id:
                raise GatewayError("WeChat Pay answered without prepay_id", permanent=False)
            return PayInstruction(prepay_id=prepay_id, params=self.jsapi_params(prepay_id))
        answer = self._post(
            "/v3/pay/transactions/h5",
            {
                **common,
                "scene_info": {"payer_client_ip": client_ip or "127.0.0.1", "h5_info": {"type": "Wap"}},
            },
        )
        if not answer.get("h5_url"):
            raise GatewayError("WeChat Pay answered without h5_url", permanent=False)
        return PayInstruction(pay_url=answer["h5_url"])

    def jsapi_params(self, prepay_id: str, *, timestamp: int | None = None, nonce: str | None = None) -> dict:
        """The parameters of ``getBrandWCPayRequest``: ``paySign`` is SHA256withRSA with the
        merchant key over ``appId\\ntimeStamp\\nnonceStr\\npackage\\n`` (all strings)."""
        timestamp_text = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or secrets.token_hex(16).upper()
        package = f"prepay_id={prepay_id}"
        return {
            "appId": self.appid,
            "timeStamp": timestamp_text,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": _sign(
                f"{self.appid}\n{timestamp_text}\n{nonce}\n{package}\n", self.merchant_private_key
            ),
        }

    def refund(self, order, *, amount_fen: int, refund_id: str, reason: str = "") -> RefundAccepted:
        answer = self._post(
            "/v3/refund/domestic/refunds",
            {
                "out_trade_no": order.out_trade_no,
                "out_refund_no": refund_id,
                "reason": reason or "电费退款",
                "notify_url": self.notify_url,
                "amount": {"refund": amount_fen, "total": order.amount_fen, "currency": "CNY"},
            },
        )
        status = answer.get("status", "")
        if status not in {"SUCCESS", "PROCESSING"}:
            raise GatewayError(f"WeChat Pay refund status {status!r}", permanent=True, vendor_code=status)
        return RefundAccepted(gateway_refund_id=str(answer.get("refund_id", "")), status=status)

    # --- notifications ---------------------------------------------------------------------

    def _verify_signed(self, headers: Mapping[str, str], body: str) -> None:
        lowered = {k.lower(): v for k, v in headers.items()}
        timestamp = lowered.get("wechatpay-timestamp", "")
        nonce = lowered.get("wechatpay-nonce", "")
        signature = lowered.get("wechatpay-signature", "")
        serial = lowered.get("wechatpay-serial", "")
        if not (timestamp and nonce and signature and serial):
            raise SignatureInvalid("Wechatpay-* signature headers missing")
        if serial != self.platform_serial_no:
            raise SignatureInvalid(f"unknown platform certificate serial {serial!r}")
        try:
            skew = abs(time.time() - int(timestamp))
        except ValueError:
            raise SignatureInvalid("Wechatpay-Timestamp is not an integer") from None
        if skew > self.max_skew_seconds:
            raise SignatureInvalid(f"Wechatpay-Timestamp {skew:.0f} s away from now")
        if not _verify(f"{timestamp}\n{nonce}\n{body}\n", signature, self.platform_public_key):
            raise SignatureInvalid("Wechatpay-Signature does not verify with the platform key")

    def parse_and_verify_notification(self, headers: Mapping[str, str], body: bytes) -> VerifiedNotification:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedNotification("body is not UTF-8") from None
        self._verify_signed(headers, text)
        try:
            envelope = json.loads(text)
            event_type = envelope["event_type"]
            resource = json.loads(decrypt_resource(envelope["resource"], self.apiv3_key))
        except (ValueError, KeyError, TypeError):
            raise MalformedNotification("not a v3 notification envelope") from None
        if not isinstance(resource, dict) or resource.get("mchid") != self.mchid:
            raise SignatureInvalid("notification for another merchant")
        out_trade_no = str(resource.get("out_trade_no") or "")
        txn = str(resource.get("transaction_id") or "")
        amount = resource.get("amount") or {}
        raw = {"envelope": {k: v for k, v in envelope.items() if k != "resource"}, "resource": resource}
        if event_type.startswith("REFUND."):
            if event_type != "REFUND.SUCCESS" or resource.get("refund_status") != "SUCCESS":
                raise NotificationIgnored(event_type, out_trade_no=out_trade_no, gateway_txn_id=txn)
            refund_fen, total = amount.get("refund"), amount.get("total")
            if not (_positive_int(refund_fen) and _positive_int(total)) or not resource.get("out_refund_no"):
                raise MalformedNotification("refund amount or out_refund_no invalid")
            return VerifiedNotification(
                out_trade_no=out_trade_no,
                gateway_txn_id=txn,
                amount_fen=total,
                paid_at=_rfc3339(resource.get("success_time")),
                raw=raw,
                kind=REFUND,
                refund_id=str(resource["out_refund_no"]),
                refund_fen=refund_fen,
            )
        if event_type != "TRANSACTION.SUCCESS" or resource.get("trade_state") != "SUCCESS":
            raise NotificationIgnored(event_type, out_trade_no=out_trade_no, gateway_txn_id=txn)
        return self._payment(resource, raw)

    def _payment(self, resource: Mapping, raw: dict) -> VerifiedNotification:
        """A paid transaction (a notification's resource or a query's answer: same fields)."""
        out_trade_no = str(resource.get("out_trade_no") or "")
        txn = str(resource.get("transaction_id") or "")
        total = (resource.get("amount") or {}).get("total")
        if not _positive_int(total) or not out_trade_no or not txn or resource.get("appid") != self.appid:
            raise MalformedNotification("amount.total, out_trade_no, transaction_id or appid invalid")
        return VerifiedNotification(
            out_trade_no=out_trade_no,
            gateway_txn_id=txn,
            amount_fen=total,
            paid_at=_rfc3339(resource.get("success_time")),
            raw=raw,
            kind=PAYMENT,
            account_number=str(resource.get("attach") or ""),
        )

    # --- order query and close (主动查询、关单) ------------------------------------------------

    def query_order(self, order) -> TradeState:
        path = f"/v3/pay/transactions/out-trade-no/{quote(order.out_trade_no, safe='')}?mchid={self.mchid}"
        try:
            answer = self._request("GET", path, None)
        except GatewayError as exc:
            if exc.vendor_code == "ORDER_NOT_EXIST":
                return TradeState(TRADE_NOT_FOUND)
            raise
        if answer.get("mchid") != self.mchid or answer.get("out_trade_no") != order.out_trade_no:
            raise GatewayError(
                "WeChat Pay answered about another order", permanent=True, vendor_code="mismatch"
            )
        state = answer.get("trade_state")
        if state in ("NOTPAY", "USERPAYING"):
            return TradeState(TRADE_WAITING, raw=answer)
        if state in ("CLOSED", "REVOKED", "PAYERROR"):
            return TradeState(TRADE_CLOSED, raw=answer)
        if state not in ("SUCCESS", "REFUND"):  # REFUND: paid, then (partly) refunded
            raise GatewayError(f"WeChat Pay trade_state {state!r}", permanent=True, vendor_code=str(state))
        try:
            payment = self._payment(answer, {"query": answer})
        except (MalformedNotification, ValueError) as exc:
            raise GatewayError(f"WeChat Pay query answer unreadable: {exc}", permanent=True) from None
        return TradeState(TRADE_PAID, payment=payment, raw=answer)

    def close_order(self, order) -> str:
        path = f"/v3/pay/transactions/out-trade-no/{quote(order.out_trade_no, safe='')}/close"
        try:
            self._request("POST", path, {"mchid": self.mchid})
        except GatewayError as exc:
            if exc.vendor_code == "ORDER_NOT_EXIST":
                return TRADE_NOT_FOUND
            if exc.vendor_code == "ORDERPAID":
                return TRADE_NOT_CLOSABLE
            raise
        return TRADE_CLOSED

    def success_response(self) -> JsonResponse:
        return JsonResponse({"code": "SUCCESS", "message": "成功"}, status=200)

    def failure_response(self, message: str, *, status: int = 400) -> JsonResponse:
        return JsonResponse({"code": "FAIL", "message": message}, status=status)


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _rfc3339(text) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        raise MalformedNotification(f"success_time {text!r} is not RFC 3339") from None
    if moment.tzinfo is None:
        raise MalformedNotification(f"success_time {text!r} has no UTC offset")
    return moment
