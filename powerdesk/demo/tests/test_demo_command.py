"""``powerdesk demo --generate-only``: generates once, skips after, regenerates on request."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from powerdesk.customers.models import Account
from powerdesk.demo.logins import PASSWORD_ENV
from powerdesk.staff.models import StaffUser


@pytest.fixture(autouse=True)
def _fast_passwords(settings, monkeypatch):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setenv(PASSWORD_ENV, "Demo-Password-2026")


def demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", "--generate-only", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_generates_then_skips_then_regenerates_with_another_size():
    first = demo("--customers", "40", "--seed", "1")
    assert "示范数据已生成：40 户" in first and Account.objects.count() == 40
    assert "Demo-Password-2026" in first and "admin" in first
    assert "跳过生成" in demo("--customers", "60")
    assert Account.objects.count() == 40
    assert "示范数据已生成：60 户" in demo("--customers", "60", "--regenerate")
    assert Account.objects.count() == 60


@pytest.mark.django_db
def test_every_start_makes_the_printed_password_work_again():
    demo("--customers", "10")
    admin = StaffUser.objects.get(username="admin")
    admin.set_password("Changed-In-Console-1")
    admin.save()
    demo("--customers", "10")
    admin.refresh_from_db()
    assert admin.check_password("Demo-Password-2026")
