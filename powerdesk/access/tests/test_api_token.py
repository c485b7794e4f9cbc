"""POST /api/v1/auth/token: login codes, refresh rotation with reuse detection, partner credentials."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from powerdesk.access.models import AccessToken, AppLoginCode, RefreshToken
from powerdesk.access.services import app_login_code_issue
from powerdesk.access.testing import ME_URL, TOKEN_URL, app_client_make, app_tokens, bearer, partner_make
from powerdesk.events.models import DomainEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(db):
    return app_client_make()


def _form(client, data: dict, **extra):
    return client.post(TOKEN_URL, urlencode(data), content_type="application/x-www-form-urlencoded", **extra)


def _exchange(client, code: str, app, **extra_fields):
    return _form(client, {"grant_type": "authorization_code", "code": code, "client_id": app.client_id,
                          **extra_fields})


def _refresh(client, refresh_token: str, app):
    return _form(client, {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": app.client_id})


# --- authorization_code ----------------------------------------------------------------------

def test_login_code_exchanges_for_a_bearer_pair_that_reads_the_customers_profile(client, customer, app):
    code = app_login_code_issue(customer_user=customer, client=app)
    response = _exchange(client, code, app)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"].startswith("pdat_") and body["refresh_token"].startswith("pdrt_")
    assert "scope" not in body
    assert response["Cache-Control"] == "no-store"
    me = client.get(ME_URL, **bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["phone_masked"] == "138****0000"


def test_only_hashes_of_tokens_are_stored(client, customer, app):
    body = app_tokens(client, customer, app)
    access = AccessToken.objects.get()
    refresh = RefreshToken.objects.get()
    assert access.token_hash == hashlib.sha256(body["access_token"].encode()).hexdigest()
    assert refresh.token_hash == hashlib.sha256(body["refresh_token"].encode()).hexdigest()
    stored = json.dumps(list(AccessToken.objects.values()) + list(RefreshToken.objects.values()), default=str)
    assert body["access_token"] not in stored and body["refresh_token"] not in stored


def test_token_issue_is_recorded_as_an_event(client, customer, app):
    app_tokens(client, customer, app)
    event = DomainEvent.objects.get(kind="access.token_issued")
    assert event.channel == "app"
    assert event.customer_user_id == customer.pk
    assert event.payload == {"client_id": app.client_id, "grant_type": "authorization_code"}


def test_token_endpoint_accepts_json_as_well_as_forms(client, customer, app):
    code = app_login_code_issue(customer_user=customer, client=app)
    response = client.post(TOKEN_URL, {"grant_type": "authorization_code", "code": code, "client_id": app.client_id},
                           content_type="application/json")
    assert response.status_code == 200
    assert response.json()["access_token"].startswith("pdat_")


def test_login_code_accepts_the_client_by_id_string(client, customer, app):
    code = app_login_code_issue(customer_user=customer, client=app.client_id)
    assert _exchange(client, code, app).status_code == 200


def test_a_spent_login_code_presented_again_revokes_the_tokens_it_issued(client, customer, app):
    code = app_login_code_issue(customer_user=customer, client=app)
    first = _exchange(client, code, app).json()
    again = _exchange(client, code, app)
    assert again.status_code == 400
    assert again.json()["code"] == "login_code_used"
    me = client.get(ME_URL, **bearer(first["access_token"]))
    assert me.status_code == 401 and me.json()["code"] == "token_revoked"
    assert _refresh(client, first["refresh_token"], app).json()["code"] == "refresh_token_revoked"


def test_expired_login_code_is_refused(client, customer, app):
    code = app_login_code_issue(customer_user=customer, client=app)
    AppLoginCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _exchange(client, code, app)
    assert response.status_code == 400
    assert response.json() == {"code": "login_code_expired", "message": "登录码已过期，请重新登录。", "field": "code"}


def test_login_code_lives_app_login_code_seconds(customer, app, settings):
    settings.APP_LOGIN_CODE_SECONDS = 90
    app_login_code_issue(customer_user=customer, client=app)
    login = AppLoginCode.objects.get()
    assert login.expires_at - login.created_at == timedelta(seconds=90)


def test_unknown_login_code_is_refused(client, app):
    response = _exchange(client, "pdlc_not-a-code", app)
    assert response.status_code == 400
    assert response.json()["code"] == "login_code_invalid"


def test_login_code_issued_to_another_app_is_refused(client, customer, app):
    other = app_client_make("另一个 App")
    code = app_login_code_issue(customer_user=customer, client=other)
    assert _exchange(client, code, app).json()["code"] == "login_code_invalid"
    assert _exchange(client, code, other).status_code == 200


def test_unknown_client_is_refused(client, customer, app):
    code = app_login_code_issue(customer_user=customer, client=app)
    response = _form(client, {"grant_type": "authorization_code", "code": code, "client_id": "app_nope"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_client"
    assert _exchange(client, code, app).status_code == 200  # the refused attempt did not spend the code


def test_deactivated_app_client_is_refused(client, customer, app):
    code = app_login_code_issue(customer_user=customer, client=app)
    app.is_active = False
    app.save()
    assert _exchange(client, code, app).json()["code"] == "invalid_client"


def test_pkce_verifier_must_match_the_challenge(client, customer, app):
    verifier = "v" * 43 + "-pkce-verifier"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    code = app_login_code_issue(customer_user=customer, client=app, code_challenge=challenge)
    wrong = _exchange(client, code, app, code_verifier="w" * 43)
    assert wrong.status_code == 400 and wrong.json()["code"] == "code_verifier_invalid"
    missing = _exchange(client, code, app)
    assert missing.json()["code"] == "code_verifier_invalid"
    assert _exchange(client, code, app, code_verifier=verifier).status_code == 200


def test_login_codes_are_for_app_clients_only(customer):
    from powerdesk.core.exceptions import ApplicationError

    partner = partner_make().client
    with pytest.raises(ApplicationError) as refused:
        app_login_code_issue(customer_user=customer, client=partner)
    assert refused.value.code == "unauthorized_client"


# --- refresh_token ---------------------------------------------------------------------------

def test_refresh_rotates_and_the_old_refresh_token_dies(client, customer, app):
    first = app_tokens(client, customer, app)
    rotated = _refresh(client, first["refresh_token"], app)
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert client.get(ME_URL, **bearer(second["access_token"])).status_code == 200
    assert RefreshToken.objects.filter(rotated_at__isnull=False).count() == 1
    assert DomainEvent.objects.filter(kind="access.token_issued", payload__grant_type="refresh_token").count() == 1


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(client, customer, app):
    first = app_tokens(client, customer, app)
    second = _refresh(client, first["refresh_token"], app).json()
    reuse = _refresh(client, first["refresh_token"], app)
    assert reuse.status_code == 400
    assert reuse.json()["code"] == "refresh_token_reused"
    # Both the attacker's and the legitimate holder's tokens are dead now.
    assert client.get(ME_URL, **bearer(second["access_token"])).json()["code"] == "token_revoked"
    assert _refresh(client, second["refresh_token"], app).json()["code"] == "refresh_token_revoked"
    assert not AccessToken.objects.filter(revoked_at__isnull=True).exists()
    assert DomainEvent.objects.get(kind="access.tokens_revoked").payload["reason"] == "refresh_reuse"


def test_refresh_reuse_leaves_other_sign_ins_alone(client, customer, app):
    phone_one = app_tokens(client, customer, app)
    phone_two = app_tokens(client, customer, app)
    _refresh(client, phone_one["refresh_token"], app)
    _refresh(client, phone_one["refresh_token"], app)
    assert client.get(ME_URL, **bearer(phone_two["access_token"])).status_code == 200


def test_expired_refresh_token_is_refused(client, customer, app):
    first = app_tokens(client, customer, app)
    RefreshToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _refresh(client, first["refresh_token"], app)
    assert response.status_code == 400 and response.json()["code"] == "refresh_token_expired"


def test_refresh_token_lives_refresh_token_days(client, customer, app, settings):
    settings.REFRESH_TOKEN_DAYS = 7
    app_tokens(client, customer, app)
    refresh = RefreshToken.objects.get()
    assert refresh.expires_at - refresh.created_at == timedelta(days=7)


def test_refresh_token_of_another_client_is_refused(client, customer, app):
    first = app_tokens(client, customer, app)
    other = app_client_make("另一个 App")
    assert _refresh(client, first["refresh_token"], other).json()["code"] == "refresh_token_invalid"
    assert _refresh(client, first["refresh_token"], app).status_code == 200


def test_unknown_refresh_token_is_refused(client, app):
    response = _refresh(client, "pdrt_nothing-like-it", app)
    assert response.status_code == 400 and response.json()["field"] == "refresh_token"


# --- client_credentials ----------------------------------------------------------------------

def _partner_token(client, partner, scope="", secret=None):
    return _form(client, {"grant_type": "client_credentials", "client_id": partner.client.client_id,
                          "client_secret": partner.secret if secret is None else secret, "scope": scope})


def test_partner_gets_the_scopes_it_asks_for_within_its_allowance(client):
    partner = partner_make(scopes=["accounts:read", "events:read"])
    response = _partner_token(client, partner, scope="events:read")
    assert response.status_code == 200
    body = response.json()
    assert body["scope"] == "events:read"
    assert "refresh_token" not in body
    assert AccessToken.objects.get().scopes == ["events:read"]
    event = DomainEvent.objects.get(kind="access.token_issued")
    assert event.channel == "api" and event.payload["scopes"] == ["events:read"]


def test_partner_asking_no_scope_gets_all_it_is_allowed(client):
    partner = partner_make(scopes=["accounts:read", "events:read"])
    assert _partner_token(client, partner).json()["scope"] == "accounts:read events:read"


def test_partner_asking_beyond_its_allowance_is_refused(client):
    partner = partner_make(scopes=["accounts:read"])
    response = _partner_token(client, partner, scope="accounts:read customers:read")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_scope"
    assert not AccessToken.objects.exists()


def test_partner_asking_an_unknown_scope_is_refused(client):
    response = _partner_token(client, partner_make(), scope="bills:write")
    assert response.status_code == 400 and response.json()["code"] == "invalid_scope"


def test_wrong_client_secret_is_refused(client):
    partner = partner_make()
    response = _partner_token(client, partner, secret=partner.secret[:-1] + "x")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_client"


def test_unknown_partner_gets_the_same_answer_as_a_wrong_secret(client):
    partner = partner_make()
    wrong_secret = _partner_token(client, partner, secret="pdpc_wrong").json()
    response = _form(client, {"grant_type": "client_credentials", "client_id": "partner_nope",
                              "client_secret": partner.secret})
    assert response.status_code == 401
    assert response.json() == wrong_secret


def test_partner_may_authenticate_with_http_basic(client):
    partner = partner_make()
    basic = base64.b64encode(f"{partner.client.client_id}:{partner.secret}".encode()).decode()
    response = _form(client, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 200


def test_grants_are_tied_to_the_kind_of_client(client, customer, app):
    partner = partner_make()
    code = app_login_code_issue(customer_user=customer, client=app)
    as_partner = _form(client, {"grant_type": "authorization_code", "code": code,
                                "client_id": partner.client.client_id})
    assert as_partner.status_code == 400 and as_partner.json()["code"] == "unauthorized_client"
    app_credentials = _form(client, {"grant_type": "client_credentials", "client_id": app.client_id,
                                     "client_secret": ""})
    assert app_credentials.status_code == 401 and app_credentials.json()["code"] == "invalid_client"


# --- malformed requests ----------------------------------------------------------------------

def test_unsupported_grant_type_is_named(client):
    response = _form(client, {"grant_type": "password", "client_id": "x"})
    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_grant_type"


def test_missing_grant_type_is_an_invalid_request(client):
    response = _form(client, {"client_id": "x"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request" and response.json()["field"] == "grant_type"


def test_malformed_json_body_is_refused(client):
    response = client.post(TOKEN_URL, '{"grant_type": "refresh_token",', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def test_json_body_that_is_not_an_object_is_refused(client):
    response = client.post(TOKEN_URL, "[1, 2]", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "malformed_json"


def test_non_utf8_body_is_refused(client):
    response = client.post(TOKEN_URL, "grant_type=刷新".encode("gbk"),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.json()["code"] == "body_not_utf8"


def test_oversized_body_is_refused(client, settings):
    settings.MAX_REQUEST_BODY_BYTES = 1024
    response = client.post(TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": "x" * 2000},
                           content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


def test_other_media_types_are_refused(client):
    response = client.post(TOKEN_URL, "<grant/>", content_type="application/xml")
    assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"
