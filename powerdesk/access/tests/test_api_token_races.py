"""Two requests presenting one refresh token at the same moment (PostgreSQL: real concurrency)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from powerdesk.access.models import AccessToken
from powerdesk.access.services import (
    TokenGrant,
    app_login_code_issue,
    login_code_exchange,
    refresh_token_rotate,
)
from powerdesk.access.testing import app_client_make
from powerdesk.core.exceptions import ApplicationError


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_one_refresh_token_used_twice_at_once_rotates_once_and_revokes_the_family(customer):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections (PostgreSQL)")
    app = app_client_make()
    first = login_code_exchange(code=app_login_code_issue(customer_user=customer, client=app),
                                  client_id=app.client_id)
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def present() -> None:
        try:
            start.wait()
            outcomes.append(refresh_token_rotate(refresh_token=first.refresh_token, client_id=app.client_id))
        except ApplicationError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=present) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == 2
    assert sum(isinstance(outcome, TokenGrant) for outcome in outcomes) == 1
    assert "refresh_token_reused" in outcomes
    assert not AccessToken.objects.filter(revoked_at__isnull=True).exists()
