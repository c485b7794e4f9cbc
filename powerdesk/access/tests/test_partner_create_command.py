"""`powerdesk partner_create` and `powerdesk app_client_create`."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from powerdesk.access.models import ApiClient
from powerdesk.access.testing import TOKEN_URL

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_partner_create_prints_a_working_secret_once(client):
    output = _run("partner_create", "示范银行", "--scopes", "accounts:read,events:read")
    client_id = re.search(r"client_id: (\S+)", output).group(1)
    secret = re.search(r"client_secret: (pdpc_\S+)", output).group(1)
    partner = ApiClient.objects.get(client_id=client_id)
    assert partner.name == "示范银行" and partner.kind == "partner"
    assert partner.allowed_scopes == ["accounts:read", "events:read"]
    assert secret not in partner.secret_hash
    response = client.post(TOKEN_URL, {"grant_type": "client_credentials", "client_id": client_id,
                                       "client_secret": secret})
    assert response.status_code == 200
    assert response.json()["scope"] == "accounts:read events:read"


def test_partner_create_refuses_unknown_scopes():
    with pytest.raises(CommandError, match="bills:write"):
        _run("partner_create", "示范银行", "--scopes", "bills:write")
    assert not ApiClient.objects.exists()


def test_app_client_create_prints_the_client_id():
    output = _run("app_client_create", "掌上电力", "--redirect-uri", "cn.example.app:/oauth",
                  "--redirect-uri", "https://app.example.cn/oauth")
    client_id = re.search(r"client_id: (app_\S+)", output).group(1)
    app = ApiClient.objects.get(client_id=client_id)
    assert app.kind == "app" and app.secret_hash == ""
    assert app.redirect_uris == ["cn.example.app:/oauth", "https://app.example.cn/oauth"]


@pytest.mark.parametrize("uri", ["http://app.example.cn/oauth", "javascript:alert(1)", "https://a.cn/cb#x",
                                 "myapp:/oauth", "/relative"])
def test_app_client_create_refuses_unsafe_redirect_uris(uri):
    with pytest.raises(CommandError, match="回调地址"):
        _run("app_client_create", "掌上电力", "--redirect-uri", uri)
    assert not ApiClient.objects.exists()


def test_loopback_http_redirect_is_allowed_for_development():
    _run("app_client_create", "调试 App", "--redirect-uri", "http://127.0.0.1:8765/cb")
    assert ApiClient.objects.get().redirect_uris == ["http://127.0.0.1:8765/cb"]
