"""The OpenAPI document renders and describes every operation."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_openapi_document_renders(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/v1/auth/token", "/api/v1/auth/revoke", "/api/v1/auth/sms-code", "/api/v1/auth/sms-sign-in",
                 "/api/v1/me/", "/api/v1/me/accounts", "/api/v1/me/accounts/{account_number}",
                 "/api/v1/me/accounts/bind", "/api/v1/staff/customers", "/api/v1/staff/accounts/{number}"):
        assert path in paths, path
    token_body = paths["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    assert set(token_body) == {"application/x-www-form-urlencoded", "application/json"}


def test_api_docs_page_renders(client):
    assert client.get("/api/v1/docs").status_code == 200
