"""Helpers for API tests: register clients, get a customer signed in to the app, read texted codes.

Everything goes through the real services and endpoints; nothing of ours is mocked.
"""

from __future__ import annotations

import re

from powerdesk.access.choices import ClientKind, Scope
from powerdesk.access.models import ApiClient
from powerdesk.access.services import NewClient, api_client_create, app_login_code_issue
from powerdesk.channels.sms.models import OutboundSms

TOKEN_URL = "/api/v1/auth/token"  # noqa: S105  (a URL)
REVOKE_URL = "/api/v1/auth/revoke"
ME_URL = "/api/v1/me/"


APP_REDIRECT_URI = "cn.example.powerdesk:/oauth/callback"


def app_client_make(name: str = "示范供电 App", redirect_uris=(APP_REDIRECT_URI,)) -> ApiClient:
    return api_client_create(name=name, kind=ClientKind.APP, redirect_uris=list(redirect_uris)).client


def partner_make(scopes=(Scope.ACCOUNTS_READ, Scope.EVENTS_READ), name: str = "示范合作方") -> NewClient:
    return api_client_create(name=name, kind=ClientKind.PARTNER, scopes=list(scopes))


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def app_tokens(http, customer_user, app: ApiClient) -> dict:
    """Sign ``customer_user`` in to the app the way the H5 authorise page does; the token body."""
    code = app_login_code_issue(customer_user=customer_user, client=app)
    response = http.post(TOKEN_URL, {"grant_type": "authorization_code", "code": code, "client_id": app.client_id})
    assert response.status_code == 200, response.content
    return response.json()


def sms_code(phone: str) -> str:
    """The one-time code in the newest SMS to ``phone``, as the customer would read it."""
    message = OutboundSms.objects.filter(phone=phone).order_by("-id").first()
    assert message is not None, f"no SMS sent to {phone}"
    return re.search(r"验证码 (\d{6})", message.body).group(1)


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


class BearerCaller:
    """A Django test client speaking JSON with one customer's or partner's access token."""

    def __init__(self, http, access_token: str) -> None:
        self.http = http
        self.access_token = access_token

    def get(self, path: str, **extra):
        return self.http.get(path, **bearer(self.access_token), **extra)

    def post(self, path: str, data=None, **extra):
        extra.setdefault("content_type", "application/json")
        return self.http.post(path, data if data is not None else {}, **bearer(self.access_token), **extra)

    def delete(self, path: str, **extra):
        return self.http.delete(path, **bearer(self.access_token), **extra)


def customer_caller(http, customer_user) -> BearerCaller:
    """``customer_user`` signed in to the app (through the real token endpoint)."""
    return BearerCaller(http, app_tokens(http, customer_user, app_client_make())["access_token"])
