"""POST /api/v1/auth/revoke: an access token alone, or a refresh token with its whole sign-in."""

from __future__ import annotations

import pytest

from powerdesk.access.models import AccessToken, RefreshToken
from powerdesk.access.testing import ME_URL, REVOKE_URL, TOKEN_URL, app_client_make, app_tokens, bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(db):
    return app_client_make()


def test_revoked_access_token_no_longer_authenticates(client, customer, app):
    tokens = app_tokens(client, customer, app)
    response = client.post(REVOKE_URL, {"token": tokens["access_token"]})
    assert response.status_code == 200 and response.json() == {"revoked": True}
    me = client.get(ME_URL, **bearer(tokens["access_token"]))
    assert me.status_code == 401
    assert me.json()["code"] == "token_revoked"
    # The refresh token still works: the app logged one token out, not the sign-in.
    refreshed = client.post(TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                        "client_id": app.client_id})
    assert refreshed.status_code == 200


def test_revoking_a_refresh_token_signs_the_app_out(client, customer, app):
    tokens = app_tokens(client, customer, app)
    assert client.post(REVOKE_URL, {"token": tokens["refresh_token"]}, content_type="application/json").status_code == 200
    assert client.get(ME_URL, **bearer(tokens["access_token"])).json()["code"] == "token_revoked"
    refreshed = client.post(TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                        "client_id": app.client_id})
    assert refreshed.status_code == 400 and refreshed.json()["code"] == "refresh_token_revoked"
    assert RefreshToken.objects.get().revoke_reason == "client"


def test_revoking_an_unknown_token_answers_the_same(client, customer, app):
    tokens = app_tokens(client, customer, app)
    for token in ("pdat_never-issued", "pdrt_never-issued", "something else"):
        response = client.post(REVOKE_URL, {"token": token})
        assert response.status_code == 200 and response.json() == {"revoked": True}
    assert client.get(ME_URL, **bearer(tokens["access_token"])).status_code == 200


def test_revoking_twice_is_harmless(client, customer, app):
    tokens = app_tokens(client, customer, app)
    client.post(REVOKE_URL, {"token": tokens["access_token"]})
    assert client.post(REVOKE_URL, {"token": tokens["access_token"]}).status_code == 200
    assert AccessToken.objects.filter(revoked_at__isnull=False).count() == 1


def test_revoke_needs_a_token(client):
    response = client.post(REVOKE_URL, {}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["field"] == "token"
