"""Concurrent duplicate requests on a real PostgreSQL server: one binding, one spent code."""

import os
import re
import threading

import pytest
from django.db import connection

from powerdesk.channels.sms.models import OutboundSms
from powerdesk.core.exceptions import ApplicationError
from powerdesk.customers import services
from powerdesk.customers.models import Binding

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL"), reason="needs concurrent writers (PostgreSQL run)"
    ),
]


def run_concurrently(func, n: int) -> list:
    barrier = threading.Barrier(n)
    outcomes: list = []

    def worker():
        try:
            barrier.wait()
            outcomes.append(func())
        except ApplicationError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_the_same_code_submitted_eight_times_at_once_binds_once(settings, stranger, account_a):
    settings.OTP_RESEND_INTERVAL_SECONDS = 0
    services.binding_code_request(customer_user=stranger, account_number="0000000001")
    code = re.search(r"验证码 (\d{6})", OutboundSms.objects.get().body).group(1)
    outcomes = run_concurrently(
        lambda: services.binding_create_with_code(
            customer_user=stranger, account_number="0000000001", code=code, channel="h5"
        ),
        8,
    )
    assert Binding.objects.filter(customer_user=stranger, account=account_a).count() == 1
    successes = [o for o in outcomes if isinstance(o, Binding)]
    assert len(successes) == 1
    assert set(o for o in outcomes if isinstance(o, str)) <= {"otp_used", "already_bound"}
