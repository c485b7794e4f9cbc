"""``newest_bill_with_status`` (one statement, used on every "电费" message) gives the newest bill
exactly the status and outstanding amount ``bills_with_status`` gives it, on any ledger."""

import random
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from powerdesk.billing.choices import LedgerKind
from powerdesk.billing.selectors import account_balance_fen, bills_with_status, newest_bill_with_status
from powerdesk.billing.services import BillData, bill_record_version, ledger_adjust, payment_record
from powerdesk.core.testing import make_account

pytestmark = pytest.mark.django_db


def _bill(month: int, amount_fen: int) -> BillData:
    return BillData(
        period=date(2026, month, 1),
        kwh_total=Decimal("123.45"),
        kwh_sharp=Decimal(0),
        kwh_peak=Decimal("100.00"),
        kwh_flat=Decimal(0),
        kwh_valley=Decimal("23.45"),
        amount_fen=amount_fen,
        issued_on=date(2026, month, 5),
        due_date=date(2026, month, 25),
    )


def _random_ledger(account, rng: random.Random) -> None:
    for month in range(1, rng.randint(1, 9) + 1):
        bill_record_version(account=account, data=_bill(month, rng.randint(1, 30_000)))
        if rng.random() < 0.3:  # a corrected bill (退补): a new version of the same month
            bill_record_version(account=account, data=_bill(month, rng.randint(1, 30_000)))
    for n in range(rng.randint(0, 6)):
        payment_record(
            account=account,
            amount_fen=rng.randint(1, 40_000),
            gateway="sandbox_alipay",
            gateway_txn_id=f"{account.number}-{n}",
            paid_at=datetime(2026, 9, 1, tzinfo=UTC),
            channel="h5",
        )
    for n in range(rng.randint(0, 3)):
        kind = rng.choice([LedgerKind.LATE_FEE, LedgerKind.REVERSAL, LedgerKind.ADJUSTMENT])
        ledger_adjust(
            account=account,
            amount_fen=rng.choice([-1, 1]) * rng.randint(1, 5_000),
            kind=kind,
            reference=f"{account.number}-adj-{n}",
            memo="测试",
        )

    newest_amount = bills_with_status(account)[0].bill.amount_fen
    owed = account_balance_fen(account)
    if (
        newest_amount > 1 and owed > newest_amount and rng.random() < 0.5
    ):  # pay everything but part of the newest bill
        payment_record(
            account=account,
            amount_fen=owed - rng.randint(1, newest_amount - 1),
            gateway="sandbox_alipay",
            gateway_txn_id=f"{account.number}-most",
            paid_at=datetime(2026, 9, 1, tzinfo=UTC),
            channel="h5",
        )


def test_the_newest_bill_reads_as_the_full_fifo_settlement_reads_it(company):
    statuses_seen = set()
    for seed in range(16):
        rng = random.Random(seed)
        account = make_account(number=f"{seed + 1:010d}", unit=company.station_a)
        _random_ledger(account, rng)
        newest_period = bills_with_status(account)[0].bill.period
        for today in (date(2026, 1, 2), newest_period.replace(day=10), date(2027, 1, 1)):
            newest = newest_bill_with_status(account.pk, today=today)
            expected = bills_with_status(account, today=today)[0]
            assert newest is not None
            assert (newest.bill.pk, newest.status, newest.outstanding_fen) == (
                expected.bill.pk,
                expected.status,
                expected.outstanding_fen,
            ), f"seed {seed}, today {today}"
            assert (
                newest.bill.period,
                newest.bill.amount_fen,
                newest.bill.kwh_total,
                newest.bill.due_date,
            ) == (
                expected.bill.period,
                expected.bill.amount_fen,
                expected.bill.kwh_total,
                expected.bill.due_date,
            )
            statuses_seen.add(expected.status)
    # The random ledgers reach every status, so the comparison above covers each branch.
    assert statuses_seen == {"paid", "unpaid", "partial", "overdue"}


def test_an_account_without_bills_has_no_newest_bill(company):
    account = make_account(number="0000000099", unit=company.station_a)
    assert newest_bill_with_status(account.pk) is None


def test_a_customers_accounts_and_newest_bills_read_as_one_statement_gives_what_the_parts_give(
    company, django_assert_num_queries
):
    """``customer_newest_bills`` (what "电费" reads) = ``customer_accounts_brief`` with
    ``newest_bill_with_status`` for the first ``bills_for`` accounts, in one statement: bindings
    in order, ended/expired/other people's left out, accounts without bills, random ledgers."""
    from datetime import timedelta

    from django.utils import timezone

    from powerdesk.billing.reads import customer_accounts_brief
    from powerdesk.billing.selectors import customer_newest_bills
    from powerdesk.billing.testing import make_binding
    from powerdesk.customers.models import CustomerUser

    now = timezone.now()
    user = CustomerUser.objects.create(phone="13900000011", display_name="王五")
    other = CustomerUser.objects.create(phone="13900000012", display_name="赵六")
    accounts = [make_account(number=f"{n + 20:010d}", unit=company.station_a) for n in range(7)]
    for seed, account in enumerate(accounts[:5]):  # accounts[5] and [6] have no bills
        _random_ledger(account, random.Random(100 + seed))

    def bind(customer, account, *, days_ago, valid_until=None, ended=False):
        make_binding(customer, account, valid_from=now - timedelta(days=days_ago), valid_until=valid_until, ended=ended)

    bind(user, accounts[3], days_ago=5)
    bind(user, accounts[5], days_ago=4)  # no bills
    bind(user, accounts[0], days_ago=3)
    bind(user, accounts[1], days_ago=3, ended=True)
    bind(user, accounts[2], days_ago=9, valid_until=now - timedelta(hours=1))
    bind(user, accounts[4], days_ago=2)
    bind(other, accounts[6], days_ago=1)
    today = date(2026, 9, 20)
    for bills_for in (5, 2, 0):
        with django_assert_num_queries(1):
            rows = customer_newest_bills(customer_user_id=user.pk, bills_for=bills_for, today=today)
        brief = customer_accounts_brief(customer_user_id=user.pk)
        assert [(r.account.pk, r.account.number, r.account.holder_name) for r in rows] == [
            (a.pk, a.number, a.holder_name) for a in brief
        ]
        for position, row in enumerate(rows):
            expected = newest_bill_with_status(row.account.pk, today=today) if position < bills_for else None
            got = row.newest
            assert (got is None) == (expected is None), (bills_for, position)
            if got is not None:
                assert (got.bill.pk, got.status, got.outstanding_fen, got.bill.kwh_total, got.bill.due_date) == (
                    expected.bill.pk,
                    expected.status,
                    expected.outstanding_fen,
                    expected.bill.kwh_total,
                    expected.bill.due_date,
                )
    assert [r.account.number for r in rows] == ["0000000023", "0000000025", "0000000020", "0000000024"]
    assert customer_newest_bills(customer_user_id=other.pk, bills_for=5)[0].newest is None  # no bills


def test_a_senders_accounts_and_bills_read_with_the_sender_give_what_the_two_reads_give(
    company, django_assert_num_queries
):
    """``sender_newest_bills`` (a follower's "电费") = the identity's active customer user +
    ``customer_newest_bills`` for them, in one statement; strangers, inactive users and users
    without bindings read as such."""
    from datetime import timedelta

    from django.utils import timezone

    from powerdesk.billing.selectors import customer_newest_bills, sender_newest_bills
    from powerdesk.billing.testing import make_binding
    from powerdesk.customers.models import CustomerUser, Identity

    now = timezone.now()
    today = date(2026, 9, 20)
    bound = CustomerUser.objects.create(phone="13900000021", display_name="钱七")
    unbound = CustomerUser.objects.create(phone="13900000022", display_name="孙八")
    inactive = CustomerUser.objects.create(phone="13900000023", display_name="周九", is_active=False)
    accounts = [make_account(number=f"{n + 40:010d}", unit=company.station_a) for n in range(3)]
    for seed, account in enumerate(accounts[:2]):
        _random_ledger(account, random.Random(300 + seed))
    for days_ago, account in ((4, accounts[1]), (3, accounts[2]), (2, accounts[0])):
        make_binding(bound, account, valid_from=now - timedelta(days=days_ago))
    make_binding(inactive, accounts[0], valid_from=now - timedelta(days=1))
    for user, subject in ((bound, "o_bound"), (unbound, "o_unbound"), (inactive, "o_inactive")):
        Identity.objects.create(customer_user=user, provider="wechat_openid", app_id="wx1", subject=subject)

    def read(subject, app_id="wx1"):
        with django_assert_num_queries(1):
            return sender_newest_bills(
                provider="wechat_openid", app_id=app_id, subject=subject, bills_for=2, today=today
            )

    def brief(rows):
        return [
            (r.account.pk, r.newest and (r.newest.bill.pk, r.newest.status, r.newest.outstanding_fen))
            for r in rows
        ]

    found = read("o_bound")
    assert found.customer_user_id == bound.pk
    assert brief(found.accounts) == brief(customer_newest_bills(customer_user_id=bound.pk, bills_for=2, today=today))
    assert [r.account.number for r in found.accounts] == ["0000000041", "0000000042", "0000000040"]
    assert found.accounts[2].newest is None  # beyond bills_for
    assert (read("o_unbound").customer_user_id, read("o_unbound").accounts) == (unbound.pk, [])
    assert (read("o_inactive").customer_user_id, read("o_inactive").accounts) == (None, [])
    assert (read("o_bound", app_id="wx2").customer_user_id, read("o_nobody").accounts) == (None, [])
