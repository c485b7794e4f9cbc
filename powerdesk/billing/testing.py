"""A billing history for tests and screenshots, written through the real services.

``make_billing_history(account)`` gives an account 26 monthly bills up to last month (one of
them corrected once, 退补), payments for all but the newest bill, the points those payments
earn, and 90 days of daily readings on one meter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from powerdesk.billing.models import Bill, DailyReading, Meter
from powerdesk.billing.reads import months_back
from powerdesk.billing.services import BillData, bill_record_version, payment_record
from powerdesk.customers.models import Account
from powerdesk.events.choices import Channel

HISTORY_MONTHS = 26
CORRECTION_FEN = 1234  # the corrected month is re-billed 12.34 yuan higher


@dataclass(frozen=True)
class BillingHistory:
    latest_period: date  # last month: the newest bill, unpaid
    corrected_period: date  # two months before last: version 2, +12.34 yuan
    first_period: date


def _bill_data(period: date, index: int, extra_fen: int = 0) -> BillData:
    # A seasonal shape: more in summer and winter, in whole kWh split over the four bands.
    base = 180 + (index % 12) * 15 + (60 if period.month in (1, 7, 8, 12) else 0)
    sharp, peak, valley = Decimal(base // 10), Decimal(base * 4 // 10), Decimal(base * 3 // 10)
    flat = Decimal(base) - sharp - peak - valley
    issued = months_back(period, -1).replace(day=5)
    return BillData(
        period=period,
        kwh_total=Decimal(base),
        kwh_sharp=sharp,
        kwh_peak=peak,
        kwh_flat=flat,
        kwh_valley=valley,
        amount_fen=base * 56 + 37 + extra_fen,  # ~0.56 yuan/kWh, with odd fen on purpose
        issued_on=issued,
        due_date=issued.replace(day=25),
        source_ref=f"YX{period:%Y%m}{index:03d}",
    )


def make_billing_history(account: Account, *, today: date | None = None, days: int = 90) -> BillingHistory:
    today = today or timezone.localdate()
    this_month = today.replace(day=1)
    periods = [months_back(this_month, back) for back in range(HISTORY_MONTHS, 0, -1)]
    zone = timezone.get_current_timezone()
    for index, period in enumerate(periods):
        data = _bill_data(period, index)
        bill_record_version(account=account, data=data)
        if period != periods[-1]:
            payment_record(
                account=account,
                amount_fen=data.amount_fen,
                gateway="alipay",
                gateway_txn_id=f"T{account.number}{period:%Y%m}",
                paid_at=datetime.combine(data.issued_on + timedelta(days=3), time(10, 30), tzinfo=zone),
                channel=Channel.ALIPAY,
            )
    corrected = periods[-3]
    bill_record_version(
        account=account, data=_bill_data(corrected, len(periods) - 3, extra_fen=CORRECTION_FEN)
    )
    meter = Meter.objects.create(account=account, number=f"M{account.number}", installed_on=date(2015, 3, 1))
    register = Decimal("10000.00")
    readings = []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back - 1)
        kwh = Decimal(6 + (day.toordinal() % 7)) + Decimal("0.25")
        register += kwh
        readings.append(
            DailyReading(
                meter=meter,
                reading_date=day,
                register_total=register,
                kwh_total=kwh,
                kwh_peak=kwh - Decimal("3.25"),
                kwh_valley=Decimal("3.25"),
            )
        )
    DailyReading.objects.bulk_create(readings)
    return BillingHistory(latest_period=periods[-1], corrected_period=corrected, first_period=periods[0])


def current_bill(account: Account, period: date) -> Bill:
    return Bill.objects.get(account=account, period=period, is_current=True)


def make_binding(customer_user, account: Account, *, valid_from: datetime, valid_until=None, ended: bool = False):
    """A family member's binding of ``account`` (optionally time-limited or already ended), for
    tests of what a customer's bound accounts are."""
    from powerdesk.customers.models import Binding

    return Binding.objects.create(
        customer_user=customer_user,
        account=account,
        role="family",
        verified_by="sms_otp",
        channel="wechat",
        valid_from=valid_from,
        valid_until=valid_until,
        ended_at=timezone.now() if ended else None,
        end_reason="unbound" if ended else "",
    )
