"""Authorise the customer app: a signed-in customer agrees, the app gets a one-time login code
at a redirect URI it registered — and nowhere else."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.urls import reverse

from powerdesk.access.models import ApiClient, AppLoginCode
from powerdesk.access.testing import app_client_make, partner_make

AUTHORIZE = reverse("portal:authorize")
CALLBACK = "https://app.example.com/oauth/callback"
needs_redirect_uris = pytest.mark.skipif(
    not hasattr(ApiClient, "redirect_uris"),
    reason="ApiClient has no registered redirect URI list yet (access app)",
)


def _url(**params) -> str:
    return f"{AUTHORIZE}?{urlencode(params)}"


@pytest.fixture
def app(db) -> ApiClient:
    client = app_client_make()
    if hasattr(ApiClient, "redirect_uris"):
        client.redirect_uris = [CALLBACK]
        client.save()
    return client


def test_anonymous_customer_signs_in_first_and_comes_back(client, app):
    url = _url(client_id=app.client_id, redirect_uri=CALLBACK, state="s1")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/h5/login/?{urlencode({'next': url})}"


def test_unknown_client_is_refused(customer_client):
    response = customer_client.get(_url(client_id="app_nope", redirect_uri=CALLBACK))
    assert response.status_code == 404
    assert "应用不存在或已停用。" in response.content.decode()


def test_partner_client_cannot_use_the_customer_login(customer_client):
    partner = partner_make().client
    response = customer_client.get(_url(client_id=partner.client_id, redirect_uri=CALLBACK))
    assert response.status_code == 404


def test_unregistered_redirect_uri_is_refused_and_gets_no_code(customer_client, app):
    url = _url(client_id=app.client_id, redirect_uri="https://evil.example/cb", state="s1")
    response = customer_client.get(url)
    assert response.status_code == 400
    assert "回调地址未在该应用登记，已拒绝授权。" in response.content.decode()
    response = customer_client.post(AUTHORIZE, {"client_id": app.client_id, "redirect_uri": "https://evil.example/cb",
                                                "action": "allow"})
    assert response.status_code == 400
    assert not AppLoginCode.objects.exists()


def test_missing_redirect_uri_is_refused(customer_client, app):
    response = customer_client.post(AUTHORIZE, {"client_id": app.client_id, "action": "allow"})
    assert response.status_code == 400
    assert not AppLoginCode.objects.exists()


@needs_redirect_uris
def test_consent_page_names_the_app(customer_client, app):
    html = customer_client.get(_url(client_id=app.client_id, redirect_uri=CALLBACK, state="s1")).content.decode()
    assert app.name in html and "同意" in html
    assert "当前登录：138****0000" in html
    assert 'name="state" value="s1"' in html


@needs_redirect_uris
def test_agreeing_redirects_with_a_login_code_the_app_can_exchange(customer_client, customer, app):
    response = customer_client.post(AUTHORIZE, {"client_id": app.client_id, "redirect_uri": CALLBACK,
                                                "state": "s1", "action": "allow"})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["s1"] and query["code"][0].startswith("pdlc_")
    token = customer_client.post("/api/v1/auth/token", {"grant_type": "authorization_code",
                                                         "code": query["code"][0], "client_id": app.client_id})
    assert token.status_code == 200, token.content
    assert AppLoginCode.objects.get().customer_user == customer


@needs_redirect_uris
def test_declining_redirects_with_access_denied_and_no_code(customer_client, app):
    response = customer_client.post(AUTHORIZE, {"client_id": app.client_id, "redirect_uri": CALLBACK,
                                                "state": "s1", "action": "deny"})
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query == {"error": ["access_denied"], "state": ["s1"]}
    assert not AppLoginCode.objects.exists()


def test_authorize_needs_get_or_post(customer_client, app):
    assert customer_client.put(AUTHORIZE).status_code == 405
