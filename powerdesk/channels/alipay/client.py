"""A client for Alipay's open API gateway (``https://openapi.alipay.com/gateway.do``), as a life
account uses it: RSA2-signed requests, RSA2-verified answers, every call logged.

A request is a form POST of the common parameters (``app_id``, ``method``, ``format=JSON``,
``charset=utf-8``, ``sign_type=RSA2``, ``timestamp`` in Beijing time, ``version=1.0``) and the
JSON ``biz_content``, signed over every parameter but ``sign`` (``string_to_sign`` of the payment
adapter, reused). The answer is ``{"<method with _>_response": {...}, "sign": "..."}`` where the
signature covers the exact JSON text of the response object; ``code`` 10000 is success.

Failures raise ``AlipayApiError`` (a ``ChannelError``):

* transient (``permanent=False``): no answer (timeout, refused connection), HTTP 5xx or 429, an answer
  whose signature does not verify or that is not Alipay's JSON, code 20000 (服务不可用) and any
  ``isp.*`` sub-code (Alipay's own faults);
* permanent: every other code — 20001 (授权权限不足), 40001 (缺少必选参数), 40002 (非法参数, e.g.
  ``isv.invalid-signature``), 40004 (业务处理失败, e.g. the user does not follow the account),
  40006 (权限不足) — and any other HTTP error status.

An error answer Alipay did not sign is still believed (it can only stop a send, which anyone on
the path could do anyway); a *success* must be signed.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.utils import timezone

from powerdesk.channels.alipay.keys import rsa2_sign, rsa2_verify
from powerdesk.channels.alipay.models import AlipayApiCall, AlipayLifeAccount
from powerdesk.channels.alipay.services import api_call_record
from powerdesk.channels.base import ChannelError
from powerdesk.payments.gateways.alipay import string_to_sign

SHANGHAI = ZoneInfo("Asia/Shanghai")
SUCCESS_CODE = "10000"
MAX_RESPONSE_BYTES = 256 * 1024
CUSTOM_SEND = "alipay.open.public.message.custom.send"
_TRANSIENT_CODES = {"20000"}

Outcome = AlipayApiCall.Outcome


class AlipayApiError(ChannelError):
    """Alipay refused a call or could not be reached; ``code``/``sub_code`` are Alipay's."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        code: str = "",
        sub_code: str = "",
        http_status: int | None = None,
    ) -> None:
        super().__init__(message, permanent=permanent, vendor_code=sub_code or code)
        self.code = code
        self.sub_code = sub_code
        self.http_status = http_status


def response_key(method: str) -> str:
    return method.replace(".", "_") + "_response"


def signed_json_value(text: str, key: str) -> str | None:
    """The exact text of the JSON value of top-level ``key`` in ``text`` (what Alipay signed):
    from the ``{`` after ``"key":`` to its matching ``}``, skipping braces inside strings."""
    marker = f'"{key}"'
    start = text.find(marker)
    if start < 0:
        return None
    start = text.find("{", start + len(marker))
    if start < 0:
        return None
    depth, in_string, escaped = 0, False, False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[start : index + 1]
    return None


class AlipayOpenApiClient:
    """Signs with our private key, verifies with Alipay's public key, logs every exchange."""

    def __init__(
        self,
        *,
        app_id: str,
        app_private_key: str,
        alipay_public_key: str,
        gateway_url: str,
        timeout: float = 5,
    ) -> None:
        self.app_id = app_id
        self.app_private_key = app_private_key
        self.alipay_public_key = alipay_public_key
        self.gateway_url = gateway_url
        self.timeout = timeout

    @classmethod
    def for_account(cls, account: AlipayLifeAccount, *, timeout: float = 5) -> AlipayOpenApiClient:
        return cls(
            app_id=account.app_id,
            app_private_key=account.app_private_key,
            alipay_public_key=account.alipay_public_key,
            gateway_url=account.gateway_url,
            timeout=timeout,
        )

    # --- requests ----------------------------------------------------------------------------

    def signed_params(self, method: str, biz_content: dict[str, Any], *, now: datetime | None = None) -> dict:
        params = {
            "app_id": self.app_id,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": (now or timezone.now()).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
            "version": "1.0",
            "biz_content": json.dumps(biz_content, ensure_ascii=False, separators=(",", ":")),
        }
        params["sign"] = rsa2_sign(string_to_sign(params), self.app_private_key)
        return params

    def call(self, method: str, biz_content: dict[str, Any]) -> dict[str, Any]:
        """POST one signed request; the verified response object, or ``AlipayApiError``."""
        body = urlencode(self.signed_params(method, biz_content)).encode("ascii")
        request = urllib.request.Request(  # noqa: S310  (an https URL, or a loopback fake: services.gateway_url_check)
            self.gateway_url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
        )
        started = time.monotonic()

        def log(outcome: Outcome, status: int | None, code: str = "", sub_code: str = "") -> None:
            api_call_record(
                app_id=self.app_id,
                method=method,
                outcome=outcome,
                http_status=status,
                code=code,
                sub_code=sub_code,
                latency_ms=int((time.monotonic() - started) * 1000),
            )

        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status, raw = response.status, response.read(MAX_RESPONSE_BYTES)
        except urllib.error.HTTPError as exc:
            exc.close()
            log(Outcome.HTTP_ERROR, exc.code)
            raise AlipayApiError(
                f"Alipay answered HTTP {exc.code}",
                permanent=exc.code < 500 and exc.code != 429,
                http_status=exc.code,
            ) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            log(Outcome.NETWORK_ERROR, None)
            raise AlipayApiError(f"Alipay unreachable: {exc}", permanent=False) from None
        return self._verified(method, status, raw, log)

    def _verified(self, method: str, status: int, raw: bytes, log) -> dict[str, Any]:
        text = raw.decode("utf-8", "replace")
        key = response_key(method)
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        answer = None
        if isinstance(document, dict):
            answer = document.get(key) or document.get("error_response")
        if not isinstance(answer, dict):
            log(Outcome.BAD_RESPONSE, status)
            raise AlipayApiError("Alipay answered something that is not its JSON", permanent=False)
        code, sub_code = str(answer.get("code", "")), str(answer.get("sub_code", ""))
        signed = signed_json_value(text, key if key in document else "error_response")
        signature = str(document.get("sign", ""))
        verified = bool(signed and signature and rsa2_verify(signed, signature, self.alipay_public_key))
        if code == SUCCESS_CODE:
            if not verified:
                log(Outcome.BAD_RESPONSE, status, code, sub_code)
                raise AlipayApiError(
                    "Alipay's answer is not signed by Alipay's public key", permanent=False, code=code
                )
            log(Outcome.OK, status, code)
            return answer
        log(Outcome.VENDOR_ERROR, status, code, sub_code)
        transient = code in _TRANSIENT_CODES or sub_code.startswith("isp.")
        raise AlipayApiError(
            f"Alipay refused {method}: {code} {sub_code} {answer.get('sub_msg') or answer.get('msg', '')}".strip()
            + ("" if verified else " (unsigned answer)"),
            permanent=not transient,
            code=code,
            sub_code=sub_code,
            http_status=status,
        )

    # --- life account messages ---------------------------------------------------------------

    def message_custom_send(
        self,
        *,
        to_user_id: str,
        text: str | None = None,
        articles: list[dict[str, str]] | None = None,
        chat: bool = True,
        event_type: str = "",
    ) -> str:
        """异步单发消息 to one follower: a text (``text``) or image-text (``articles``: title, desc,
        url, image_url, action_name) message; ``chat`` shows it in the conversation (咨询反馈)
        rather than on the account's home page. Returns Alipay's ``msg_id`` (may be empty)."""
        if (text is None) == (articles is None):
            raise ValueError("give text or articles")
        biz: dict[str, Any] = {"to_user_id": to_user_id, "chat": "1" if chat else "0"}
        if text is not None:
            biz |= {"msg_type": "text", "text": {"content": text}}
        else:
            biz |= {"msg_type": "image-text", "articles": articles}
        if event_type:
            biz["event_type"] = event_type
        answer = self.call(CUSTOM_SEND, biz)
        return str(answer.get("msg_id", ""))
