"""The client address: REMOTE_ADDR, or X-Forwarded-For only as far as trusted proxies wrote it."""

import ipaddress

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from powerdesk.core.env import env_networks
from powerdesk.core.http import client_ip


def _request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.fixture
def proxies(settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(_request("203.0.113.9", "1.2.3.4")) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_last_untrusted_hop_is_the_client(proxies):
    # the client claims 6.6.6.6; our proxy 10.0.0.2 saw 198.51.100.7 and forwarded to 10.0.0.1
    assert client_ip(_request("10.0.0.1", "6.6.6.6, 198.51.100.7, 10.0.0.2")) == "198.51.100.7"


def test_a_request_not_from_a_proxy_cannot_forge_its_address(proxies):
    assert client_ip(_request("198.51.100.7", "10.0.0.5")) == "198.51.100.7"


def test_a_garbled_hop_stops_the_walk_at_the_last_trusted_address(proxies):
    assert client_ip(_request("10.0.0.1", "198.51.100.7, not-an-ip")) == "10.0.0.1"


def test_only_proxies_in_the_chain_gives_the_outermost_proxy(proxies):
    assert client_ip(_request("10.0.0.1", "10.0.0.3")) == "10.0.0.3"


def test_no_request_or_no_remote_address():
    assert client_ip(None) is None
    assert client_ip(_request("")) is None


def test_trusted_proxies_setting_is_parsed_strictly(monkeypatch):
    monkeypatch.setenv("POWERDESK_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.5")
    assert [str(n) for n in env_networks("POWERDESK_TRUSTED_PROXIES", [])] == ["10.0.0.0/8", "192.168.1.5/32"]
    monkeypatch.setenv("POWERDESK_TRUSTED_PROXIES", "10.0.0.0/8,proxy.local")
    with pytest.raises(ImproperlyConfigured, match=r"'proxy\.local' is not an IP address"):
        env_networks("POWERDESK_TRUSTED_PROXIES", [])
