"""Shared fixtures: one sandbox key set per session, the sandbox server, a notify transport
that hands the sandbox's deliveries to Django's test client (inside the test's transaction)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from powerdesk.payments import sandbox_keys
from powerdesk.payments.sandbox_server import running_sandbox


@pytest.fixture(scope="session")
def sandbox_key_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("payments") / "sandbox_keys.json"
    sandbox_keys.load_or_create(path)
    return path


@pytest.fixture(scope="session")
def keys(sandbox_key_file) -> dict:
    return json.loads(sandbox_key_file.read_text())


@pytest.fixture(autouse=True)
def _payments_settings(settings, sandbox_key_file):
    settings.PAYMENTS_MODE = "sandbox"
    settings.PAYMENTS_GATEWAYS = ["alipay", "wechatpay"]
    settings.PAYMENTS_SANDBOX_KEY_FILE = sandbox_key_file
    settings.PAYMENTS_NOTIFY_BASE_URL = "http://testserver"


@pytest.fixture
def sandbox(keys, settings):
    with running_sandbox(keys) as running:
        settings.PAYMENTS_SANDBOX_URL = running.url
        yield running


def client_transport(client: Client):
    """Deliver a sandbox notification through Django's test client (same thread, same DB)."""

    def send(url: str, body: bytes, headers: dict) -> tuple[int, str]:
        path = url.removeprefix("http://testserver")
        extra = {
            f"HTTP_{k.upper().replace('-', '_')}": v
            for k, v in headers.items()
            if k.lower() != "content-type"
        }
        response = client.post(path, data=body, content_type=headers.get("Content-Type", ""), **extra)
        return response.status_code, response.content.decode()

    return send


@pytest.fixture
def notify(client):
    return client_transport(client)
