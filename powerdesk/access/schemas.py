"""Request and response bodies of /api/v1/auth/."""

from __future__ import annotations

from ninja import Schema
from pydantic import Field


class TokenIn(Schema):
    """The token request (form-encoded as OAuth 2.0 clients send it, or JSON). Which fields are
    needed depends on ``grant_type``."""

    grant_type: str = Field(..., max_length=32,
                            description="authorization_code | refresh_token | client_credentials")
    client_id: str = Field("", max_length=64)
    code: str = Field("", max_length=200, description="authorization_code: the app login code")
    code_verifier: str = Field("", max_length=128, description="authorization_code: PKCE verifier")
    refresh_token: str = Field("", max_length=200, description="refresh_token")
    client_secret: str = Field("", max_length=200, description="client_credentials")
    scope: str = Field("", max_length=200, description="client_credentials: space-separated scopes")


class TokenOut(Schema):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105  (the OAuth token type, not a secret)
    expires_in: int
    refresh_token: str | None = None
    scope: str | None = None


class RevokeIn(Schema):
    token: str = Field(..., max_length=1000)
    token_type_hint: str = Field("", max_length=32)


class RevokeOut(Schema):
    revoked: bool = True


class SmsCodeIn(Schema):
    phone: str = Field(..., max_length=32)


class SmsCodeOut(Schema):
    phone_masked: str
    expires_in: int


class SmsSignInIn(Schema):
    phone: str = Field(..., max_length=32)
    code: str = Field(..., max_length=16)
    client_id: str = Field(..., max_length=64)


class TokenInfoOut(Schema):
    client_id: str
    name: str
    scopes: list[str]
    expires_in: int
