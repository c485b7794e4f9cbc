"""Who may call: customer bearer tokens, the H5 portal session (CSRF-checked), partner tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from powerdesk.access.auth import PORTAL_SESSION_KEY, CustomerTokenAuth, PartnerTokenAuth, staff_session_auth
from powerdesk.access.choices import Scope
from powerdesk.access.models import AccessToken
from powerdesk.access.testing import ME_URL, TOKEN_URL, app_client_make, app_tokens, bearer, partner_make
from powerdesk.core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db

TOKEN_INFO_URL = "/api/v1/auth/token-info"


@pytest.fixture
def app(db):
    return app_client_make()


def _partner_token(client, partner, scope=""):
    response = client.post(TOKEN_URL, {"grant_type": "client_credentials", "client_id": partner.client.client_id,
                                       "client_secret": partner.secret, "scope": scope})
    return response.json()["access_token"]


def _portal_session(client, customer_user):
    session = client.session
    session[PORTAL_SESSION_KEY] = customer_user.pk
    session.save()


# --- customer bearer tokens ------------------------------------------------------------------

def test_no_credentials_is_unauthenticated(client):
    response = client.get(ME_URL)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_expired_access_token_is_refused(client, customer, app):
    tokens = app_tokens(client, customer, app)
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(ME_URL, **bearer(tokens["access_token"]))
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


def test_unknown_access_token_is_refused(client):
    response = client.get(ME_URL, **bearer("pdat_" + "A" * 43))
    assert response.status_code == 401 and response.json()["code"] == "token_invalid"


def test_refresh_token_is_not_an_access_token(client, customer, app):
    tokens = app_tokens(client, customer, app)
    assert client.get(ME_URL, **bearer(tokens["refresh_token"])).json()["code"] == "token_invalid"


def test_malformed_authorization_header_is_refused(client):
    for header in ("Token abc", "Bearer", "Bearer "):
        response = client.get(ME_URL, HTTP_AUTHORIZATION=header)
        assert response.status_code == 401 and response.json()["code"] == "token_invalid", header


def test_access_token_stops_working_when_its_client_is_disabled(client, customer, app):
    tokens = app_tokens(client, customer, app)
    app.is_active = False
    app.save()
    assert client.get(ME_URL, **bearer(tokens["access_token"])).json()["code"] == "client_disabled"


def test_access_token_stops_working_when_the_customer_is_disabled(client, customer, app):
    tokens = app_tokens(client, customer, app)
    customer.is_active = False
    customer.save()
    assert client.get(ME_URL, **bearer(tokens["access_token"])).json()["code"] == "customer_disabled"


def test_partner_token_cannot_act_as_a_customer(client):
    token = _partner_token(client, partner_make())
    response = client.get(ME_URL, **bearer(token))
    assert response.status_code == 403 and response.json()["code"] == "customer_token_required"


# --- the H5 portal session -------------------------------------------------------------------

def test_portal_session_reads_me_without_a_token(client, customer):
    _portal_session(client, customer)
    response = client.get(ME_URL)
    assert response.status_code == 200
    assert response.json()["accounts_bound"] == 1


def test_portal_session_writes_need_the_csrf_token(customer):
    browser = Client(enforce_csrf_checks=True)
    _portal_session(browser, customer)
    refused = browser.post(f"{ME_URL}email/code", content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    csrf = "k" * 32  # what a page's {% csrf_token %} would have put in the cookie
    browser.cookies["csrftoken"] = csrf
    allowed = browser.post(f"{ME_URL}email/code", content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert allowed.status_code == 200


def test_bearer_writes_need_no_csrf_token(customer, app):
    browser = Client(enforce_csrf_checks=True)
    tokens = app_tokens(browser, customer, app)
    response = browser.post(f"{ME_URL}email/code", content_type="application/json", **bearer(tokens["access_token"]))
    assert response.status_code == 200


def test_portal_session_of_a_disabled_customer_is_unauthenticated(client, customer):
    _portal_session(client, customer)
    customer.is_active = False
    customer.save()
    assert client.get(ME_URL).status_code == 401


# --- partner tokens --------------------------------------------------------------------------

def test_partner_token_describes_itself(client):
    partner = partner_make(scopes=["accounts:read", "events:read"])
    response = client.get(TOKEN_INFO_URL, **bearer(_partner_token(client, partner, "events:read")))
    assert response.status_code == 200
    body = response.json()
    assert body["client_id"] == partner.client.client_id and body["scopes"] == ["events:read"]
    assert 3590 < body["expires_in"] <= 3600


def test_customer_token_is_not_a_partner_token(client, customer, app):
    tokens = app_tokens(client, customer, app)
    response = client.get(TOKEN_INFO_URL, **bearer(tokens["access_token"]))
    assert response.status_code == 403 and response.json()["code"] == "partner_token_required"


def test_partner_auth_requires_every_named_scope(client):
    partner = partner_make(scopes=["accounts:read", "events:read"])
    token = _partner_token(client, partner, "accounts:read")
    request = RequestFactory().get("/api/v1/partner/thing", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert PartnerTokenAuth(scopes=[Scope.ACCOUNTS_READ])(request) == partner.client
    with pytest.raises(ApplicationError) as refused:
        PartnerTokenAuth(scopes=[Scope.ACCOUNTS_READ, Scope.EVENTS_READ])(request)
    assert refused.value.status == 403 and refused.value.code == "insufficient_scope"


def test_auth_classes_ignore_requests_without_credentials():
    request = RequestFactory().get("/api/v1/me/")
    request.session = {}
    assert CustomerTokenAuth()(request) is None
    assert PartnerTokenAuth()(request) is None


# --- staff sessions --------------------------------------------------------------------------

def test_staff_session_auth_checks_csrf_on_writes(agent_a):
    factory = RequestFactory()
    read = factory.get("/api/v1/staff/customers")
    read.user = agent_a
    assert staff_session_auth(read) == agent_a
    write = factory.post("/api/v1/staff/customers")
    write.user = agent_a
    with pytest.raises(ApplicationError) as refused:
        staff_session_auth(write)
    assert refused.value.status == 403 and refused.value.code == "csrf_failed"


def test_staff_session_auth_refuses_a_deactivated_staff_member(agent_a):
    agent_a.is_active = False
    request = RequestFactory().get("/api/v1/staff/customers")
    request.user = agent_a
    assert staff_session_auth(request) is None
