"""Every write of the Alipay life account channel: the account's configuration and the API call log."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from powerdesk.channels.alipay.keys import KeyInvalid, private_key_pem, public_key_pem
from powerdesk.channels.alipay.models import DEFAULT_GATEWAY_URL, AlipayApiCall, AlipayLifeAccount
from powerdesk.core.exceptions import ApplicationError

_APP_ID = re.compile(r"[0-9]{16,32}")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def gateway_url_check(url: str) -> str:
    """Requests carry our signature and users' ids: https, or http only to a loopback fake."""
    url = (url or "").strip()
    parts = urlsplit(url)
    local = parts.hostname in _LOOPBACK
    if not (parts.scheme == "https" or (parts.scheme == "http" and local)) or not parts.hostname:
        raise ApplicationError(
            "gateway_url_invalid",
            _("开放平台网关应为 https:// 地址（仅本机测试可用 http://127.0.0.1）。"),
            field="gateway_url",
        )
    if parts.query or parts.fragment:
        raise ApplicationError(
            "gateway_url_invalid", _("开放平台网关地址不应包含查询参数。"), field="gateway_url"
        )
    return url


@transaction.atomic
def life_account_save(
    *,
    slug: str,
    app_id: str,
    app_private_key: str | None = None,
    alipay_public_key: str,
    name: str = "",
    gateway_url: str = DEFAULT_GATEWAY_URL,
    greeting: str = "",
    h5_base_url: str = "",
    is_active: bool = True,
) -> AlipayLifeAccount:
    """Create or update the life account ``slug``.

    Keys are accepted as PEM or as the bare base64 Alipay's console shows; both must be RSA keys
    of at least 2048 bits. ``app_private_key`` may be left out when updating, to keep the sealed
    one. A bad value is refused with the field it concerns and nothing is changed.
    """
    account = AlipayLifeAccount.objects.select_for_update().filter(slug=slug).first()
    if account is None:
        account = AlipayLifeAccount(slug=slug)
    app_id = (app_id or "").strip()
    if not _APP_ID.fullmatch(app_id):
        raise ApplicationError("app_id_invalid", _("APPID 应为 16 至 32 位数字。"), field="app_id")
    if app_private_key is None and not account.app_private_key_ciphertext:
        raise ApplicationError("private_key_missing", _("请填写应用私钥。"), field="app_private_key")
    try:
        private_pem = private_key_pem(app_private_key) if app_private_key is not None else None
    except KeyInvalid as exc:
        raise ApplicationError(
            "private_key_invalid", _("应用私钥无效：%(why)s") % {"why": exc}, field="app_private_key"
        ) from None
    try:
        public_pem = public_key_pem(alipay_public_key)
    except KeyInvalid as exc:
        raise ApplicationError(
            "public_key_invalid", _("支付宝公钥无效：%(why)s") % {"why": exc}, field="alipay_public_key"
        ) from None
    account.app_id = app_id
    account.name = name
    account.alipay_public_key = public_pem
    account.gateway_url = gateway_url_check(gateway_url)
    account.greeting = greeting
    account.h5_base_url = h5_base_url
    account.is_active = is_active
    if private_pem is not None:
        account.set_app_private_key(private_pem)
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError as exc:
        raise ApplicationError(
            "app_id_taken", _("该 APPID 已由另一个生活号使用。"), field="app_id", status=409
        ) from exc
    return account


def api_call_record(
    *,
    app_id: str,
    method: str,
    outcome: AlipayApiCall.Outcome,
    http_status: int | None = None,
    code: str = "",
    sub_code: str = "",
    latency_ms: int = 0,
) -> AlipayApiCall:
    """One line per HTTP exchange with Alipay's gateway (never the body)."""
    return AlipayApiCall.objects.create(
        app_id=app_id[:32],
        method=method[:64],
        outcome=outcome,
        http_status=http_status,
        code=code[:16],
        sub_code=sub_code[:64],
        latency_ms=max(0, latency_ms),
    )
