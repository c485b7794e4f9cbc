"""Strict environment parsing: a bad value stops start-up naming the variable."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from powerdesk.core import env


def test_booleans(monkeypatch):
    for raw, expected in [("1", True), ("TRUE", True), ("off", False), ("", False)]:
        monkeypatch.setenv("PD_X", raw)
        assert env.env_bool("PD_X") is expected
    monkeypatch.setenv("PD_X", "maybe")
    with pytest.raises(ImproperlyConfigured, match="PD_X"):
        env.env_bool("PD_X")


def test_integers_with_bounds(monkeypatch):
    monkeypatch.setenv("PD_N", "12")
    assert env.env_int("PD_N", 1, minimum=10) == 12
    monkeypatch.setenv("PD_N", "abc")
    with pytest.raises(ImproperlyConfigured, match="expected an integer"):
        env.env_int("PD_N", 1)
    monkeypatch.setenv("PD_N", "5")
    with pytest.raises(ImproperlyConfigured, match="≥ 10"):
        env.env_int("PD_N", 1, minimum=10)


def test_choice(monkeypatch):
    monkeypatch.setenv("PD_C", "b")
    assert env.env_choice("PD_C", "a", {"a", "b"}) == "b"
    monkeypatch.setenv("PD_C", "z")
    with pytest.raises(ImproperlyConfigured, match="PD_C"):
        env.env_choice("PD_C", "a", {"a", "b"})


def test_secret_is_generated_once_into_a_private_file(tmp_path, monkeypatch):
    monkeypatch.delenv("PD_SECRET", raising=False)
    path = tmp_path / "var" / "secret"
    first = env.secret_from_env_or_file("PD_SECRET", path)
    assert env.secret_from_env_or_file("PD_SECRET", path) == first
    assert len(first) >= 40 and path.stat().st_mode & 0o077 == 0
    monkeypatch.setenv("PD_SECRET", "from-env")
    assert env.secret_from_env_or_file("PD_SECRET", path) == "from-env"


def test_settings_module_fails_clearly_on_a_bad_value():
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "powerdesk.settings",
            "POWERDESK_OTP_TTL_SECONDS": "soon",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "POWERDESK_OTP_TTL_SECONDS='soon': expected an integer" in result.stderr
