"""WeChat API calls per endpoint and per local day: p50/p95 by nearest rank, error rates."""

from datetime import date
from decimal import Decimal

import pytest

from powerdesk.channel_stats.selectors import (
    ApiCallDay,
    EndpointCalls,
    StatsPeriod,
    api_calls,
    percent,
    percentile,
)
from powerdesk.channel_stats.tests.builders import api_call

MARCH = StatsPeriod(date(2026, 3, 1), date(2026, 3, 3))
TOKEN = "/cgi-bin/stable_token"
SEND = "/cgi-bin/message/custom/send"


@pytest.mark.parametrize(
    ("histogram", "fraction", "expected"),
    [
        ([], 0.5, None),
        ([(7, 1)], 0.95, 7),
        ([(10, 1), (20, 1), (30, 1), (40, 1)], 0.5, 20),  # rank ceil(2.0) = 2
        ([(10, 1), (20, 1), (30, 1), (40, 1), (50, 1)], 0.5, 30),  # rank ceil(2.5) = 3
        ([(10, 19), (900, 1)], 0.95, 10),  # rank 19 of 20
        ([(10, 18), (900, 2)], 0.95, 900),  # rank 19 of 20 is the first slow one
        ([(40, 1), (10, 3), (0, 0)], 0.5, 10),  # unsorted, zero counts ignored
    ],
)
def test_percentile_by_nearest_rank(histogram, fraction, expected):
    assert percentile(histogram, fraction) == expected


def test_percent_rounds_half_up_to_one_decimal():
    assert percent(1, 8) == Decimal("12.5")
    assert percent(1, 3) == Decimal("33.3")
    assert percent(2, 3) == Decimal("66.7")
    assert percent(0, 0) is None


def test_calls_per_endpoint_and_per_local_day(demo):
    # stable_token: 20 calls on 1 March, 19 fast and one slow failure
    for n in range(19):
        api_call(at=f"2026-03-01 00:00:{n:02d}", endpoint=TOKEN, latency_ms=30 + n)  # 30 … 48 ms
    api_call(at="2026-03-01 23:59:59", endpoint=TOKEN, latency_ms=5000, outcome="network_error")
    # custom/send: 4 calls on 3 March, one refused by WeChat
    for latency in (100, 200, 300):
        api_call(at="2026-03-03 12:00:00", endpoint=SEND, latency_ms=latency)
    api_call(at="2026-03-03 12:00:01", endpoint=SEND, latency_ms=80, outcome="vendor_error")
    # not counted: before and after the period, another AppID
    api_call(at="2026-02-28 23:59:59", endpoint=TOKEN, latency_ms=1)
    api_call(at="2026-03-04 00:00:00", endpoint=TOKEN, latency_ms=1)
    api_call(at="2026-03-02 10:00:00", endpoint=TOKEN, latency_ms=1, app_id="wx0000000000000002")

    endpoints, days = api_calls(account=demo, period=MARCH)

    assert endpoints == [
        # 20 calls: p50 = 10th value (39 ms), p95 = 19th value (48 ms), 1 of 20 failed
        EndpointCalls(
            TOKEN, calls=20, errors=1, error_rate=Decimal("5.0"), p50_ms=39, p95_ms=48, max_ms=5000
        ),
        # 4 calls sorted 80, 100, 200, 300: p50 = 2nd, p95 = 4th
        EndpointCalls(
            SEND, calls=4, errors=1, error_rate=Decimal("25.0"), p50_ms=100, p95_ms=300, max_ms=300
        ),
    ]
    assert days == [
        ApiCallDay(date(2026, 3, 1), calls=20, errors=1, error_rate=Decimal("5.0"), p95_ms=48),
        ApiCallDay(date(2026, 3, 2), calls=0, errors=0, error_rate=None, p95_ms=None),
        ApiCallDay(date(2026, 3, 3), calls=4, errors=1, error_rate=Decimal("25.0"), p95_ms=300),
    ]
