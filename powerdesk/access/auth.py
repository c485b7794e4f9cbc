"""django-ninja authentication for the three kinds of caller.

* :class:`CustomerTokenAuth` — a customer: ``Authorization: Bearer pdat_…`` from the app, or the
  H5 portal's session (same browser, so the pages can call /api/v1/me/ directly). Session
  callers are held to Django's CSRF check on writes; bearer callers carry no ambient
  credential and need none. ``request.auth`` is the CustomerUser.
* :class:`PartnerTokenAuth` — a partner system's scoped bearer token. ``request.auth`` is the
  ApiClient.
* :data:`staff_session_auth` — a signed-in console user (Django session + CSRF). Permissions
  and supply-unit scope are checked by the selectors and services the operation calls.

Every refusal is an ApplicationError, so it renders as ``{code, message}`` like any other.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie
from ninja.security.base import AuthBase
from ninja.utils import check_csrf

from powerdesk.access.choices import Scope
from powerdesk.access.models import AccessToken
from powerdesk.access.selectors import access_token_get_valid
from powerdesk.core.exceptions import ApplicationError, PermissionDenied
from powerdesk.customers.models import CustomerUser
from powerdesk.events.choices import Channel

# The H5 portal keeps the signed-in customer's id under this session key (powerdesk/portal/auth.py).
PORTAL_SESSION_KEY = "portal_customer_user_id"


def _csrf_enforce(request: HttpRequest) -> None:
    if check_csrf(request) is not None:
        raise ApplicationError("csrf_failed", _("CSRF 校验失败，请刷新页面后重试。"), status=403)


def _bearer_token(request: HttpRequest) -> str | None:
    """The bearer token, None when no Authorization header; a malformed header is refused."""
    header = request.headers.get("Authorization")
    if not header:
        return None
    scheme, _sep, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApplicationError("token_invalid", _("Authorization 请求头应为 “Bearer <访问令牌>”。"), status=401)
    return token.strip()


def customer_channel(request: HttpRequest) -> Channel:
    """The channel a customer API call came through: the app (token) or the H5 pages (session)."""
    return getattr(request, "customer_channel", Channel.APP)


class CustomerTokenAuth(AuthBase):
    """A customer's bearer access token, or the H5 portal session."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __call__(self, request: HttpRequest) -> CustomerUser | None:
        token = _bearer_token(request)
        if token is not None:
            access = access_token_get_valid(token=token)
            if access.customer_user is None:
                raise PermissionDenied("customer_token_required", _("此接口需要客户本人的访问令牌。"))
            request.access_token = access
            request.customer_channel = Channel.APP
            return access.customer_user
        session = getattr(request, "session", None)
        user_id = session.get(PORTAL_SESSION_KEY) if session is not None else None
        if not user_id:
            return None
        customer_user = CustomerUser.objects.filter(pk=user_id, is_active=True).first()
        if customer_user is None:
            return None
        _csrf_enforce(request)
        request.customer_channel = Channel.H5
        return customer_user


class PartnerTokenAuth(AuthBase):
    """A partner's bearer access token holding every scope in ``scopes``."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __init__(self, scopes: tuple[Scope | str, ...] | list[Scope | str] = ()) -> None:
        self.scopes = frozenset(Scope(scope).value for scope in scopes)
        super().__init__()

    def __call__(self, request: HttpRequest) -> Any:
        token = _bearer_token(request)
        if token is None:
            return None
        access: AccessToken = access_token_get_valid(token=token)
        if access.customer_user_id is not None:
            raise PermissionDenied("partner_token_required", _("此接口需要合作方客户端的访问令牌。"))
        missing = sorted(self.scopes - set(access.scopes))
        if missing:
            raise PermissionDenied("insufficient_scope",
                                   _("访问令牌缺少权限范围：%(scopes)s。") % {"scopes": ", ".join(missing)},
                                   extra={"required_scopes": sorted(self.scopes)})
        request.access_token = access
        return access.client


class StaffSessionAuth(APIKeyCookie):
    """A signed-in, active console user (Django session), CSRF-checked on writes."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not getattr(request, "_ninja_csrf_exempt", False):
            _csrf_enforce(request)
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


staff_session_auth = StaffSessionAuth()
