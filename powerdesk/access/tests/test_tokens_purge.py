"""Expired tokens are purged a day after expiry; live ones, and rotated refresh tokens still able
to reveal reuse, stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from powerdesk.access.models import AccessToken, AppLoginCode, RefreshToken
from powerdesk.access.services import tokens_purge
from powerdesk.access.testing import TOKEN_URL, app_client_make, app_tokens

pytestmark = pytest.mark.django_db


def test_only_tokens_expired_more_than_a_day_ago_go(client, customer):
    app = app_client_make()
    app_tokens(client, customer, app)  # one live pair and its spent login code
    app_tokens(client, customer, app)
    old = timezone.now() - timedelta(days=2)
    AccessToken.objects.filter(pk=AccessToken.objects.order_by("pk").first().pk).update(expires_at=old)
    RefreshToken.objects.filter(pk=RefreshToken.objects.order_by("pk").first().pk).update(expires_at=old)
    AppLoginCode.objects.filter(pk=AppLoginCode.objects.order_by("pk").first().pk).update(expires_at=old)
    recent = timezone.now() - timedelta(hours=23)  # expired, but not yet a day ago
    AccessToken.objects.filter(pk=AccessToken.objects.order_by("pk").last().pk).update(expires_at=recent)

    assert tokens_purge() == {"access_tokens": 1, "refresh_tokens": 1, "app_login_codes": 1}
    assert (AccessToken.objects.count(), RefreshToken.objects.count(), AppLoginCode.objects.count()) == (
        1,
        1,
        1,
    )
    assert tokens_purge() == {"access_tokens": 0, "refresh_tokens": 0, "app_login_codes": 0}


def test_a_rotated_refresh_token_stays_until_its_own_expiry(client, customer):
    app = app_client_make()
    tokens = app_tokens(client, customer, app)
    response = client.post(
        TOKEN_URL,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": app.client_id},
    )
    assert response.status_code == 200, response.content
    assert RefreshToken.objects.filter(rotated_at__isnull=False).count() == 1

    tokens_purge(now=timezone.now() + timedelta(days=1))

    assert RefreshToken.objects.filter(rotated_at__isnull=False).count() == 1
