"""Portal test helpers: sign a persona in and read the code we texted them."""

from __future__ import annotations

import re

import pytest

from powerdesk.channels.sms.models import OutboundSms
from powerdesk.portal.auth import SESSION_KEY


def sms_code(phone: str) -> str:
    """The one-time code in the newest SMS to ``phone`` (as the customer would read it)."""
    message = OutboundSms.objects.filter(phone=phone).order_by("-id").first()
    assert message is not None, f"no SMS sent to {phone}"
    return re.search(r"验证码 (\d{6})", message.body).group(1)


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def sign_in(client, customer_user) -> None:
    session = client.session
    session[SESSION_KEY] = customer_user.pk
    session.save()


@pytest.fixture
def customer_client(client, customer):
    """The standing customer (13800000000, bound to 户号 0000000001) signed in."""
    sign_in(client, customer)
    return client


@pytest.fixture
def stranger_client(client, stranger):
    """A customer (13700000000) bound to nothing, signed in."""
    sign_in(client, stranger)
    return client
