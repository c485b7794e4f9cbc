"""Checking a presented bearer token: the read every authenticated API request starts with."""

from __future__ import annotations

import hmac

from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.access.models import AccessToken
from powerdesk.access.services import ACCESS_TOKEN_PREFIX, MAX_CREDENTIAL_LENGTH, token_digest
from powerdesk.core.exceptions import ApplicationError


def _refuse(code: str, message: str) -> ApplicationError:
    return ApplicationError(code, message, status=401)


def access_token_get_valid(*, token: str) -> AccessToken:
    """The live access token for ``token``, with its client and customer user loaded.

    Raises a 401 ApplicationError saying precisely why not: ``token_invalid``,
    ``token_revoked``, ``token_expired``, ``client_disabled`` or ``customer_disabled``.
    """
    token = (token or "").strip()
    row = None
    if token.startswith(ACCESS_TOKEN_PREFIX) and len(token) <= MAX_CREDENTIAL_LENGTH:
        digest = token_digest(token)
        row = AccessToken.objects.select_related("client", "customer_user").filter(token_hash=digest).first()
        if row is not None and not hmac.compare_digest(row.token_hash, digest):
            row = None
    if row is None:
        raise _refuse("token_invalid", _("访问令牌无效。"))
    if row.revoked_at is not None:
        raise _refuse("token_revoked", _("访问令牌已吊销，请重新登录。"))
    if row.expires_at <= timezone.now():
        raise _refuse("token_expired", _("访问令牌已过期，请使用刷新令牌换取新令牌。"))
    if not row.client.is_active:
        raise _refuse("client_disabled", _("该客户端已停用。"))
    if row.customer_user is not None and not row.customer_user.is_active:
        raise _refuse("customer_disabled", _("该客户账户已停用。"))
    return row

