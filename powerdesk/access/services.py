"""Issuing and revoking API credentials: clients, app login codes, customer and partner tokens.

Flows (OAuth 2.0 shaped, RFC 6749 / 7009 / 7636):

* The H5 "authorise app" page signs the customer in and calls :func:`app_login_code_issue`; the
  app exchanges the code (``authorization_code`` grant) for an access + refresh token pair.
* The app may instead sign the customer in by SMS (:func:`sms_code_exchange`).
* A refresh token is single-use: using it returns a new pair in the same *family*. Presenting an
  already-rotated refresh token (or an already-spent login code) means a copy leaked, so the
  whole family is revoked.
* Partners use the ``client_credentials`` grant and get a scoped access token, no refresh token.

A refusal that also revokes (reuse detection) commits the revocation before raising, so the
caller's error does not roll the protection back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.access import events as kinds
from powerdesk.access.choices import ClientKind, RevokeReason, Scope
from powerdesk.access.models import AccessToken, ApiClient, AppLoginCode, RefreshToken
from powerdesk.core.exceptions import ApplicationError, PermissionDenied
from powerdesk.customers.models import CustomerUser
from powerdesk.customers.services import customer_sign_in_with_phone
from powerdesk.events.choices import Channel
from powerdesk.events.services import event_record

security_log = logging.getLogger("powerdesk.security")

# Prefixes, not secrets: they make a leaked credential recognisable.
ACCESS_TOKEN_PREFIX = "pdat_"  # noqa: S105
REFRESH_TOKEN_PREFIX = "pdrt_"  # noqa: S105
LOGIN_CODE_PREFIX = "pdlc_"
CLIENT_SECRET_PREFIX = "pdpc_"  # noqa: S105
# Anything longer than this is not one of ours; refuse before hashing attacker-sized input.
MAX_CREDENTIAL_LENGTH = 200
_PKCE_CHALLENGE_RE = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)
_UNSAFE_SCHEMES = frozenset({"javascript", "data", "file", "vbscript", "blob", "about"})


@dataclass(frozen=True)
class TokenGrant:
    """What the token endpoint returns. ``refresh_token`` is None for partner tokens."""

    access_token: str
    expires_in: int
    refresh_token: str | None = None
    scope: str = ""
    token_type: str = "Bearer"  # noqa: S105  (the OAuth token type, not a secret)


@dataclass(frozen=True)
class NewClient:
    """A freshly registered client and its secret, which is shown this once and never again."""

    client: ApiClient
    secret: str


def token_digest(value: str) -> str:
    """SHA-256 of a token or code: what the database stores and looks up."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _new_credential(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def _client_secret_hash(secret: str, *, salt: str | None = None) -> str:
    # The secret is 256 random bits, so a salted SHA-256 is enough; slow hashing protects
    # low-entropy passwords and would only slow every partner token request.
    salt = salt or secrets.token_hex(16)
    return f"sha256${salt}${hashlib.sha256(f'{salt}${secret}'.encode()).hexdigest()}"


def _client_secret_matches(secret: str, stored: str) -> bool:
    algorithm, _sep, rest = stored.partition("$")
    salt, _sep, _digest = rest.partition("$")
    if algorithm != "sha256" or not salt:
        return False
    return hmac.compare_digest(_client_secret_hash(secret, salt=salt), stored)


def expires_in(expires_at) -> int:
    """Whole seconds until ``expires_at`` (0 once past), as OAuth's ``expires_in`` counts."""
    return max(0, int((expires_at - timezone.now()).total_seconds()))


# --- clients ---------------------------------------------------------------------------------


def scopes_parse(scope: str | list[str] | None) -> list[str]:
    """Space- (OAuth) or comma-separated scopes → sorted unique list; unknown ones refused."""
    if isinstance(scope, str):
        items = scope.replace(",", " ").split()
    else:
        items = [item.strip() for item in scope or [] if item.strip()]
    unknown = sorted(set(items) - set(Scope.values))
    if unknown:
        raise ApplicationError(
            "invalid_scope",
            _("未知的权限范围：%(unknown)s。可用：%(available)s。")
            % {"unknown": ", ".join(unknown), "available": ", ".join(Scope.values)},
            field="scope",
        )
    return sorted(set(items))


def redirect_uri_clean(uri: str) -> str:
    """A redirect URI an app may register (RFC 8252): https; http only to the loopback address;
    or an app's private-use scheme in reverse-domain form (``cn.example.app:/callback``)."""
    uri = (uri or "").strip()
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    loopback = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    acceptable = (
        (scheme == "https" and parts.hostname)
        or (scheme == "http" and loopback)
        or ("." in scheme and scheme not in _UNSAFE_SCHEMES)
    )
    if not acceptable or parts.fragment or len(uri) > 300:
        raise ApplicationError(
            "invalid_redirect_uri",
            _(
                "回调地址 %(uri)s 不可登记：应为 https 地址、本机 http "
                "地址或 App 的反向域名自定义协议，且不含 #片段。"
            )
            % {"uri": uri[:100]},
            field="redirect_uris",
        )
    return uri


@transaction.atomic
def api_client_create(
    *,
    name: str,
    kind: ClientKind | str,
    scopes: str | list[str] | None = None,
    redirect_uris: list[str] | None = None,
) -> NewClient:
    """Register a client. Partners get a secret (returned once) and allowed scopes; the app
    is a public client: no secret, no scopes (its tokens act as the signed-in customer), and
    the redirect URIs the H5 authorise page may send its login codes to."""
    kind = ClientKind(kind)
    name = (name or "").strip()
    if not name:
        raise ApplicationError("name_required", _("请填写客户端名称。"), field="name")
    allowed = scopes_parse(scopes)
    uris = list(dict.fromkeys(redirect_uri_clean(uri) for uri in redirect_uris or []))
    secret = ""
    if kind == ClientKind.PARTNER:
        secret = _new_credential(CLIENT_SECRET_PREFIX)
        if uris:
            raise ApplicationError(
                "invalid_redirect_uri", _("合作方客户端不使用回调地址。"), field="redirect_uris"
            )
    elif allowed:
        raise ApplicationError(
            "invalid_scope", _("客户 App 的令牌代表客户本人，不设权限范围。"), field="scope"
        )
    client = ApiClient.objects.create(
        name=name[:100],
        kind=kind,
        client_id=f"{kind}_{secrets.token_hex(10)}",
        secret_hash=_client_secret_hash(secret) if secret else "",
        allowed_scopes=allowed,
        redirect_uris=uris,
    )
    return NewClient(client, secret)


def _client_for_grant(client_id: str, kind: ClientKind) -> ApiClient:
    client = ApiClient.objects.filter(client_id=(client_id or "").strip()[:64], is_active=True).first()
    if client is None:
        raise ApplicationError("invalid_client", _("客户端不存在或已停用。"), field="client_id", status=401)
    if client.kind != kind:
        raise ApplicationError("unauthorized_client", _("该客户端无权使用此授权方式。"), field="grant_type")
    return client


def client_authenticate(*, client_id: str, client_secret: str) -> ApiClient:
    """A partner client by id and secret. Unknown id and wrong secret get the same answer."""
    client = ApiClient.objects.filter(client_id=(client_id or "").strip()[:64], is_active=True).first()
    stored = client.secret_hash if client and client.secret_hash else _client_secret_hash("")
    matches = _client_secret_matches((client_secret or "")[:MAX_CREDENTIAL_LENGTH], stored)
    if client is None or not client.secret_hash or not matches:
        security_log.info("api client authentication failed", extra={"client_id": (client_id or "")[:64]})
        raise ApplicationError("invalid_client", _("client_id 或 client_secret 不正确。"), status=401)
    return client


# --- customer tokens -------------------------------------------------------------------------


def _customer_require_active(customer_user: CustomerUser) -> None:
    if not customer_user.is_active:
        raise PermissionDenied("customer_disabled", _("该客户账户已停用。"))


def _customer_tokens_issue(
    *, client: ApiClient, customer_user: CustomerUser, family: uuid.UUID, grant_type: str
) -> TokenGrant:
    """Write a new access + refresh pair. Runs inside the caller's transaction."""
    now = timezone.now()
    access_token = _new_credential(ACCESS_TOKEN_PREFIX)
    refresh_token = _new_credential(REFRESH_TOKEN_PREFIX)
    AccessToken.objects.create(
        token_hash=token_digest(access_token),
        client=client,
        customer_user=customer_user,
        family=family,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.ACCESS_TOKEN_SECONDS),
    )
    RefreshToken.objects.create(
        token_hash=token_digest(refresh_token),
        client=client,
        customer_user=customer_user,
        family=family,
        created_at=now,
        expires_at=now + timedelta(days=settings.REFRESH_TOKEN_DAYS),
    )
    event_record(
        kinds.TOKEN_ISSUED,
        channel=Channel.APP,
        customer_user_id=customer_user.pk,
        payload={"client_id": client.client_id, "grant_type": grant_type},
    )
    return TokenGrant(
        access_token=access_token, refresh_token=refresh_token, expires_in=settings.ACCESS_TOKEN_SECONDS
    )


def _family_revoke(family: uuid.UUID, *, reason: RevokeReason) -> None:
    """Revoke every refresh and access token of one sign-in, in its own committed transaction."""
    now = timezone.now()
    with transaction.atomic():
        refresh = RefreshToken.objects.filter(family=family).select_related("client").first()
        for model in (RefreshToken, AccessToken):
            model.objects.filter(family=family, revoked_at__isnull=True).update(
                revoked_at=now, revoke_reason=reason
            )
        if refresh is not None:
            event_record(
                kinds.TOKENS_REVOKED,
                channel=Channel.APP,
                customer_user_id=refresh.customer_user_id,
                payload={"client_id": refresh.client.client_id, "reason": reason},
            )
    if reason != RevokeReason.CLIENT:
        security_log.warning("token family revoked", extra={"family": str(family), "reason": reason})


def app_login_code_issue(
    *, customer_user: CustomerUser, client: ApiClient | str, code_challenge: str = ""
) -> str:
    """A single-use code the app exchanges for tokens, valid APP_LOGIN_CODE_SECONDS.

    ``client`` is the app's :class:`ApiClient` or its ``client_id`` string (an active client of
    kind "app"). ``code_challenge`` is the optional PKCE S256 challenge (43 base64url
    characters); when given, the exchange must present the matching ``code_verifier``.
    """
    if not isinstance(client, ApiClient):
        client = _client_for_grant(client, ClientKind.APP)
    elif not client.is_active or client.kind != ClientKind.APP:
        raise ApplicationError("unauthorized_client", _("该客户端无权使用此授权方式。"), field="client_id")
    _customer_require_active(customer_user)
    code_challenge = (code_challenge or "").strip()
    if code_challenge and not _PKCE_CHALLENGE_RE.fullmatch(code_challenge):
        raise ApplicationError(
            "invalid_code_challenge",
            _("code_challenge 应为 43 位 base64url（S256）。"),
            field="code_challenge",
        )
    code = _new_credential(LOGIN_CODE_PREFIX)
    now = timezone.now()
    AppLoginCode.objects.create(
        code_hash=token_digest(code),
        client=client,
        customer_user=customer_user,
        code_challenge=code_challenge,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.APP_LOGIN_CODE_SECONDS),
    )
    return code


def _pkce_matches(code_verifier: str, code_challenge: str) -> bool:
    digest = hashlib.sha256((code_verifier or "").encode("ascii", "replace")).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return hmac.compare_digest(computed, code_challenge)


def login_code_exchange(*, code: str, client_id: str, code_verifier: str = "") -> TokenGrant:
    """``authorization_code`` grant: spend an app login code for a token pair."""
    client = _client_for_grant(client_id, ClientKind.APP)
    code = (code or "").strip()
    login = None
    if code.startswith(LOGIN_CODE_PREFIX) and len(code) <= MAX_CREDENTIAL_LENGTH:
        login = (
            AppLoginCode.objects.select_related("customer_user").filter(code_hash=token_digest(code)).first()
        )
    if login is None or login.client_id != client.pk:
        raise ApplicationError("login_code_invalid", _("登录码无效。"), field="code")
    if login.used_at is not None:
        _family_revoke(login.family, reason=RevokeReason.CODE_REUSE)
        raise ApplicationError(
            "login_code_used", _("登录码已使用；以它签发的令牌已全部吊销，请重新登录。"), field="code"
        )
    if login.expires_at <= timezone.now():
        raise ApplicationError("login_code_expired", _("登录码已过期，请重新登录。"), field="code")
    if login.code_challenge and not _pkce_matches(code_verifier, login.code_challenge):
        raise ApplicationError(
            "code_verifier_invalid", _("code_verifier 与 code_challenge 不匹配。"), field="code_verifier"
        )
    _customer_require_active(login.customer_user)
    family = uuid.uuid4()
    with transaction.atomic():
        # Conditional update: of two concurrent exchanges of one code, one wins.
        spent = AppLoginCode.objects.filter(pk=login.pk, used_at__isnull=True).update(
            used_at=timezone.now(), family=family
        )
        if spent:
            return _customer_tokens_issue(
                client=client,
                customer_user=login.customer_user,
                family=family,
                grant_type="authorization_code",
            )
    # Lost a race with another exchange of the same code: a copy is in other hands, as above.
    login.refresh_from_db(fields=["family"])
    _family_revoke(login.family, reason=RevokeReason.CODE_REUSE)
    raise ApplicationError(
        "login_code_used", _("登录码已使用；以它签发的令牌已全部吊销，请重新登录。"), field="code"
    )


def sms_code_exchange(*, phone: str, code: str, client_id: str) -> TokenGrant:
    """Sign a customer in with an SMS code from the app and issue a token pair.

    The client is checked first, so a request from an unknown client never spends the code.
    """
    client = _client_for_grant(client_id, ClientKind.APP)
    customer_user = customer_sign_in_with_phone(phone=phone, code=code, channel=Channel.APP)
    _customer_require_active(customer_user)
    with transaction.atomic():
        return _customer_tokens_issue(
            client=client, customer_user=customer_user, family=uuid.uuid4(), grant_type="sms_code"
        )


def _refresh_reused() -> ApplicationError:
    return ApplicationError(
        "refresh_token_reused",
        _("刷新令牌已被使用过；为安全起见，该登录已全部失效，请重新登录。"),
        field="refresh_token",
    )


def refresh_token_rotate(*, refresh_token: str, client_id: str) -> TokenGrant:
    """``refresh_token`` grant: rotate. A token already rotated revokes its whole family."""
    client = _client_for_grant(client_id, ClientKind.APP)
    refresh_token = (refresh_token or "").strip()
    row = None
    if refresh_token.startswith(REFRESH_TOKEN_PREFIX) and len(refresh_token) <= MAX_CREDENTIAL_LENGTH:
        row = (
            RefreshToken.objects.select_related("customer_user")
            .filter(token_hash=token_digest(refresh_token))
            .first()
        )
    if row is None or row.client_id != client.pk:
        raise ApplicationError("refresh_token_invalid", _("刷新令牌无效。"), field="refresh_token")
    if row.revoked_at is not None:
        raise ApplicationError(
            "refresh_token_revoked", _("刷新令牌已吊销，请重新登录。"), field="refresh_token"
        )
    if row.rotated_at is not None:
        _family_revoke(row.family, reason=RevokeReason.REFRESH_REUSE)
        raise _refresh_reused()
    if row.expires_at <= timezone.now():
        raise ApplicationError(
            "refresh_token_expired", _("刷新令牌已过期，请重新登录。"), field="refresh_token"
        )
    _customer_require_active(row.customer_user)
    with transaction.atomic():
        rotated = RefreshToken.objects.filter(
            pk=row.pk, rotated_at__isnull=True, revoked_at__isnull=True
        ).update(rotated_at=timezone.now())
        if rotated:
            return _customer_tokens_issue(
                client=client, customer_user=row.customer_user, family=row.family, grant_type="refresh_token"
            )
    # Lost a race with another use of the same token: that is reuse as well.
    _family_revoke(row.family, reason=RevokeReason.REFRESH_REUSE)
    raise _refresh_reused()


# --- partner tokens --------------------------------------------------------------------------


@transaction.atomic
def partner_token_issue(
    *, client_id: str, client_secret: str, scope: str | list[str] | None = None
) -> TokenGrant:
    """``client_credentials`` grant. Asking for no scope grants all the client's allowed scopes;
    asking for one it is not allowed is refused rather than silently narrowed."""
    client = client_authenticate(client_id=client_id, client_secret=client_secret)
    if client.kind != ClientKind.PARTNER:
        raise ApplicationError("unauthorized_client", _("该客户端无权使用此授权方式。"), field="grant_type")
    requested = scopes_parse(scope)
    not_allowed = sorted(set(requested) - set(client.allowed_scopes))
    if not_allowed:
        raise ApplicationError(
            "invalid_scope",
            _("该客户端未获授权的权限范围：%(scopes)s。") % {"scopes": ", ".join(not_allowed)},
            field="scope",
        )
    granted = requested or sorted(client.allowed_scopes)
    access_token = _new_credential(ACCESS_TOKEN_PREFIX)
    now = timezone.now()
    AccessToken.objects.create(
        token_hash=token_digest(access_token),
        client=client,
        scopes=granted,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.ACCESS_TOKEN_SECONDS),
    )
    event_record(
        kinds.TOKEN_ISSUED,
        channel=Channel.API,
        payload={"client_id": client.client_id, "grant_type": "client_credentials", "scopes": granted},
    )
    return TokenGrant(
        access_token=access_token, expires_in=settings.ACCESS_TOKEN_SECONDS, scope=" ".join(granted)
    )


# --- revocation ------------------------------------------------------------------------------


def token_revoke(*, token: str) -> None:
    """Revoke an access token (just it) or a refresh token (its whole family).

    Unknown, expired or already revoked tokens are accepted silently (RFC 7009 §2.2): the
    answer must not tell a caller whether a string was ever a valid token.
    """
    token = (token or "").strip()
    if len(token) > MAX_CREDENTIAL_LENGTH:
        return
    if token.startswith(REFRESH_TOKEN_PREFIX):
        row = RefreshToken.objects.filter(token_hash=token_digest(token), revoked_at__isnull=True).first()
        if row is not None:
            _family_revoke(row.family, reason=RevokeReason.CLIENT)
    elif token.startswith(ACCESS_TOKEN_PREFIX):
        row = (
            AccessToken.objects.select_related("client")
            .filter(token_hash=token_digest(token), revoked_at__isnull=True)
            .first()
        )
        if row is None:
            return
        with transaction.atomic():
            AccessToken.objects.filter(pk=row.pk, revoked_at__isnull=True).update(
                revoked_at=timezone.now(), revoke_reason=RevokeReason.CLIENT
            )
            event_record(
                kinds.TOKENS_REVOKED,
                channel=Channel.APP if row.customer_user_id else Channel.API,
                customer_user_id=row.customer_user_id,
                payload={"client_id": row.client.client_id, "reason": RevokeReason.CLIENT},
            )


# --- housekeeping -----------------------------------------------------------------------------

# Kept a day past expiry so a late request still gets "expired", not "unknown", in the logs.
PURGE_AFTER_EXPIRY = timedelta(days=1)


def tokens_purge(*, now=None) -> dict[str, int]:
    """Delete tokens and app login codes expired for more than a day (they can never be used
    again). Rotated refresh tokens are kept until their own expiry: presenting one before then
    must still be recognised as reuse and revoke its family."""
    cutoff = (now or timezone.now()) - PURGE_AFTER_EXPIRY
    return {
        "access_tokens": AccessToken.objects.filter(expires_at__lt=cutoff).delete()[0],
        "refresh_tokens": RefreshToken.objects.filter(expires_at__lt=cutoff).delete()[0],
        "app_login_codes": AppLoginCode.objects.filter(expires_at__lt=cutoff).delete()[0],
    }
