"""WeChat OAuth2 web authorisation (网页授权) for the H5 portal: state, pending identity, writes.

The flow (views_wechat_oauth.py is the thin HTTP side, docs/wechat-oauth.md the whole story):

1. ``/h5/wechat/login/?next=/h5/billing/`` issues a ``state`` and sends the browser to the
   Official Account's authorize URL (``snsapi_base``: silent, yields the openid).
2. WeChat returns it to ``/h5/wechat/callback/?code=…&state=…``. The state must be one this
   session was given, unused and younger than ``WECHAT_OAUTH_STATE_SECONDS``; it is spent on
   first sight, whatever happens next. The code is exchanged for the openid.
3. Identity ``(wechat_openid, AppID, openid)`` of an active customer user → signed in (the same
   session key as the phone sign-in), ``customer.signed_in`` on channel wechat, on to ``next``.
   Unknown openid → remembered in the session as a *pending identity*; on the first visit we go
   round once more with ``snsapi_userinfo`` for the nickname, then to the phone sign-in page. When
   the customer verifies their phone by SMS there, the pending identity is attached to them
   (``customer.identity_linked``), so WeChat signs them in directly next time.

Everything kept between requests lives in the server-side session; nothing is written to the
database until a sign-in or a link succeeds, each in one transaction.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.core.exceptions import ApplicationError, NotFound
from powerdesk.customers import events as customer_events
from powerdesk.customers.choices import IdentityProvider
from powerdesk.customers.models import CustomerUser, Identity
from powerdesk.customers.services import identity_attach
from powerdesk.customers.validators import mask_phone
from powerdesk.events.choices import Channel
from powerdesk.events.services import event_record
from powerdesk.portal import events as portal_events

log = logging.getLogger(__name__)

SCOPE_BASE = "snsapi_base"
SCOPE_USERINFO = "snsapi_userinfo"
STATES_KEY = "wechat_oauth_states"
PENDING_KEY = "wechat_oauth_pending"
FAILED_AT_KEY = "wechat_oauth_failed_at"
MAX_STATES = 5  # a few tabs opened at once; older states are dropped
PENDING_SECONDS = 30 * 60  # time to verify the phone after WeChat said who this is
AUTO_RETRY_AFTER_SECONDS = 10 * 60  # after a failed round, send WeChat visitors to the phone page
MAX_NEXT_LENGTH = 2000
WECHAT_BROWSER_MARK = "MicroMessenger"


def _epoch() -> float:
    return time.time()


# --- where to go afterwards: a local path, nothing else ---------------------------------------


def local_path(candidate: str | None) -> str | None:
    """``candidate`` if it is a path on this site (``/h5/…``), else None.

    Stricter than ``safe_next``: no scheme, no host, no ``//`` or ``\\`` (browsers read ``/\\evil``
    as ``//evil``), no control characters — so ``next`` can never send anyone elsewhere.
    """
    if not candidate or len(candidate) > MAX_NEXT_LENGTH:
        return None
    if not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
        return None
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in candidate):
        return None
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return None
    return candidate


def next_or_home(candidate: str | None) -> str:
    return local_path(candidate) or reverse("portal:home")


# --- the Official Account ---------------------------------------------------------------------


def oauth_account(slug: str | None) -> WeChatAccount:
    """The active account whose web authorisation we use; refused when it cannot do OAuth2."""
    account = WeChatAccount.objects.filter(slug=(slug or "")[:32], is_active=True).first() if slug else None
    if account is None:
        raise NotFound("wechat_account_unknown", _("未找到启用网页授权的公众号。"), field="account")
    if not account.app_secret:
        raise ApplicationError(
            "wechat_account_no_secret", _("该公众号未配置 AppSecret，无法使用微信登录。"), field="account"
        )
    return account


def oauth_client(account: WeChatAccount):
    from powerdesk.channels.wechat_store.client import WeChatApiClient

    return WeChatApiClient.from_settings(app_id=account.app_id, app_secret=account.app_secret)


# --- state: random, bound to this session, single use, short-lived ----------------------------


@dataclass(frozen=True)
class OAuthGrant:
    """What a state stood for: which account, where to go, which scope was asked for."""

    account: str
    next_url: str
    scope: str
    issued_at: float


def oauth_state_issue(request: HttpRequest, *, account: WeChatAccount, next_url: str, scope: str) -> str:
    """A fresh state remembered in this session (at most ``MAX_STATES`` at once, oldest dropped)."""
    now = _epoch()
    states = {
        key: value
        for key, value in (request.session.get(STATES_KEY) or {}).items()
        if now - value.get("issued_at", 0) <= settings.WECHAT_OAUTH_STATE_SECONDS
    }
    while len(states) >= MAX_STATES:
        states.pop(min(states, key=lambda key: states[key]["issued_at"]))
    state = secrets.token_urlsafe(32)  # 43 characters, well under WeChat's 128 bytes
    states[state] = {"account": account.slug, "next": next_url, "scope": scope, "issued_at": now}
    request.session[STATES_KEY] = states
    return state


def oauth_state_take(request: HttpRequest, state: str) -> OAuthGrant:
    """Spend ``state``: it must be this session's, unused and fresh. Spent even when refused."""
    states = dict(request.session.get(STATES_KEY) or {})
    found = None
    for key in list(states):
        # Constant-time comparison of every stored state with the one offered.
        if hmac.compare_digest(key.encode(), (state or "").encode("utf-8", "replace")):
            found = states.pop(key)
    request.session[STATES_KEY] = states
    if found is None:
        raise ApplicationError(
            "wechat_state_invalid",
            _("登录请求已失效或已使用（请勿重复提交或从其他页面进入），请重新打开页面。"),
            field="state",
        )
    if _epoch() - found["issued_at"] > settings.WECHAT_OAUTH_STATE_SECONDS:
        raise ApplicationError("wechat_state_expired", _("登录请求已过期，请重新打开页面。"), field="state")
    return OAuthGrant(found["account"], found["next"], found["scope"], found["issued_at"])


def authorize_url(request: HttpRequest, *, account: WeChatAccount, next_url: str, scope: str) -> str:
    """Where to send the browser: the account's authorize URL with a new state."""
    state = oauth_state_issue(request, account=account, next_url=next_url, scope=scope)
    redirect_uri = request.build_absolute_uri(reverse("portal:wechat_callback"))
    return oauth_client(account).oauth_authorize_url(redirect_uri=redirect_uri, scope=scope, state=state)


def oauth_failed_mark(request: HttpRequest) -> None:
    request.session[FAILED_AT_KEY] = _epoch()


# --- the identity WeChat vouched for but nobody owns yet --------------------------------------


@dataclass(frozen=True)
class PendingIdentity:
    account: str
    app_id: str
    openid: str
    nickname: str


def pending_identity_set(
    request: HttpRequest, *, account: WeChatAccount, openid: str, nickname: str = ""
) -> None:
    request.session[PENDING_KEY] = {
        "account": account.slug,
        "app_id": account.app_id,
        "openid": openid,
        "nickname": nickname[:64],
        "at": _epoch(),
    }


def pending_identity(request: HttpRequest) -> PendingIdentity | None:
    """The pending WeChat identity of this session, while it is fresh."""
    data = request.session.get(PENDING_KEY)
    if not data or _epoch() - data.get("at", 0) > PENDING_SECONDS:
        return None
    return PendingIdentity(data["account"], data["app_id"], data["openid"], data.get("nickname", ""))


def pending_identity_clear(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)


# --- writes -----------------------------------------------------------------------------------


def _wechat_identity(app_id: str, openid: str) -> Identity | None:
    return (
        Identity.objects.select_related("customer_user")
        .filter(provider=IdentityProvider.WECHAT_OPENID, app_id=app_id, subject=openid)
        .first()
    )


@transaction.atomic
def customer_sign_in_with_wechat(*, account: WeChatAccount, openid: str) -> CustomerUser | None:
    """The customer user owning this openid, signed in (``customer.signed_in`` on channel wechat);
    None when nobody owns it yet. An owner who was deactivated is refused."""
    identity = _wechat_identity(account.app_id, openid)
    if identity is None:
        return None
    if not identity.customer_user.is_active:
        raise ApplicationError(
            "customer_inactive", _("与该微信关联的账号已停用，请联系客服 95598。"), status=403
        )
    identity.last_seen_at = timezone.now()
    identity.save(update_fields=["last_seen_at", "updated_at"])
    event_record(
        customer_events.CUSTOMER_SIGNED_IN,
        channel=Channel.WECHAT,
        customer_user_id=identity.customer_user_id,
        payload={"method": "wechat_oauth", "account": account.slug},
    )
    return identity.customer_user


@transaction.atomic
def wechat_identity_link(
    *, customer_user: CustomerUser, account_slug: str, app_id: str, openid: str, nickname: str = ""
) -> Identity:
    """Attach a WeChat identity to a customer who has just verified their phone by SMS.

    Idempotent for the same owner; ``identity_taken`` when another customer owns it. A nickname
    from ``snsapi_userinfo`` becomes the 称呼 only while that is still the masked phone.
    """
    existing = _wechat_identity(app_id, openid)
    if existing is not None and existing.customer_user_id == customer_user.pk:
        return existing
    identity = identity_attach(
        customer_user=customer_user, provider=IdentityProvider.WECHAT_OPENID, app_id=app_id, subject=openid
    )
    identity.last_seen_at = timezone.now()
    identity.save(update_fields=["last_seen_at", "updated_at"])
    if nickname and customer_user.display_name in ("", mask_phone(customer_user.phone or "")):
        customer_user.display_name = nickname[:100]
        customer_user.save(update_fields=["display_name", "updated_at"])
    event_record(
        portal_events.CUSTOMER_IDENTITY_LINKED,
        channel=Channel.WECHAT,
        customer_user_id=customer_user.pk,
        payload={
            "provider": IdentityProvider.WECHAT_OPENID,
            "account": account_slug,
            "verified_by": "sms_otp",
        },
    )
    return identity


def pending_identity_link(request: HttpRequest, customer_user: CustomerUser) -> str | None:
    """After an SMS-verified sign-in: attach this session's pending WeChat identity, if any.

    Returns the message to show (success or the reason it was not attached), or None.
    """
    pending = pending_identity(request)
    pending_identity_clear(request)
    if pending is None:
        return None
    try:
        wechat_identity_link(
            customer_user=customer_user,
            account_slug=pending.account,
            app_id=pending.app_id,
            openid=pending.openid,
            nickname=pending.nickname,
        )
    except ApplicationError as exc:
        return exc.message
    return _("已关联您的微信，下次在微信中打开将自动登录。")


# --- inside WeChat's browser ------------------------------------------------------------------


def is_wechat_browser(request: HttpRequest) -> bool:
    return WECHAT_BROWSER_MARK in request.headers.get("User-Agent", "")


def wechat_auto_sign_in_url(request: HttpRequest) -> str | None:
    """For a visitor who is not signed in: the WeChat sign-in URL when they should go through
    OAuth2 first (inside WeChat, auto sign-in on, the account ready, no pending identity and no
    failed round in the last minutes), else None — they go to the phone sign-in page."""
    if not (settings.WECHAT_OAUTH_AUTO and settings.WECHAT_OAUTH_ACCOUNT and is_wechat_browser(request)):
        return None
    if request.method != "GET" or pending_identity(request) is not None:
        return None
    if _epoch() - request.session.get(FAILED_AT_KEY, 0) < AUTO_RETRY_AFTER_SECONDS:
        return None
    if not WeChatAccount.objects.filter(slug=settings.WECHAT_OAUTH_ACCOUNT, is_active=True).exists():
        log.warning("wechat oauth account missing", extra={"account": settings.WECHAT_OAUTH_ACCOUNT})
        return None
    return f"{reverse('portal:wechat_login')}?{urlencode({'next': request.get_full_path()})}"
