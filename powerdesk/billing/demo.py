"""Demo billing data for the generated accounts: meters, 24 months of bills, payments, ledger,
points and the last 90 days of daily readings — deterministic under a seed, bulk-written.

Bills are priced by the **tariff calculator** (``compute_bill``) on the demo catalogue
(``powerdesk.tariffs.demo``, which the generator creates first): each account on its class's
series (``DEMO_SERIES_BY_CLASS``) with the bill's kWh by band, residential yearly tiers with the
kWh of the account's earlier bills in the tier year, large-industry accounts on the two-part
tariff by transformer capacity (an ``AccountTariff`` row each). The usage is the one
``billing.checks`` builds from the stored bill, so ``powerdesk billing_check`` finds the demo
bills ``ok`` — except where the tier year began before the generated history (the residential
bills of the first months, for accounts opened earlier), which the check rightly reports as
``not_computable`` (tier_year_history_missing). The sample import files
(``write_demo_files``) keep a flat demo price per class (``DEMO_PRICE_PER_KWH``).

Like ``demo.generator`` this is a bulk loader, not a workflow: it writes the rows that
``bill_record_version`` and ``payment_record`` would have written (same references, same
content hashes, so a later import of the same bill is "unchanged"), without the events.

``write_demo_files`` writes small meters/bills/readings/payments CSVs in the documented import
format (docs/import-billing.md) for the docs, the tests and trying ``powerdesk import``.
"""

from __future__ import annotations

import calendar
import csv
import gc
import hashlib
import operator
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from random import Random
from zoneinfo import ZoneInfo

from django.db import connections, transaction

from powerdesk.billing.choices import LedgerKind, PointsReason
from powerdesk.billing.importers import IMPORT_GATEWAY, IMPORTED_MARK
from powerdesk.billing.models import (
    AccountTariff,
    Bill,
    DailyReading,
    LedgerEntry,
    Meter,
    Payment,
    PointsEntry,
)
from powerdesk.billing.posting import export_file_name
from powerdesk.billing.services import ONLINE_CHANNELS, POINTS_PER_YUAN_ONLINE
from powerdesk.core.exceptions import ApplicationError
from powerdesk.core.ids import uuid7
from powerdesk.customers.choices import AccountStatus, ConsumptionLevel, TariffClass
from powerdesk.customers.models import Account
from powerdesk.demo.bulk import BulkInserter
from powerdesk.events.choices import Channel
from powerdesk.tariffs.calculator import PeriodUsage, TariffSnapshot, compute_bill
from powerdesk.tariffs.choices import ChargeBasis
from powerdesk.tariffs.demo import DEMO_SERIES_BY_CLASS
from powerdesk.tariffs.models import Tariff
from powerdesk.tariffs.selectors import snapshot

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
MONTHS = 24
READING_DAYS = 90
CHUNK = 2000
SHOWCASE_NUMBER = "0000000001"
SMART_SHARE = 0.9
# Flat demo prices, yuan per kWh: only for the sample import files (demo bills use the calculator).
DEMO_PRICE_PER_KWH = {
    TariffClass.RESIDENTIAL: Decimal("0.538"),
    TariffClass.GENERAL_COMMERCIAL: Decimal("0.7256"),
    TariffClass.LARGE_INDUSTRY: Decimal("0.6412"),
    TariffClass.AGRICULTURAL: Decimal("0.4849"),
}
# Typical monthly kWh by class and consumption level (low, medium, high).
_MONTHLY_KWH = {
    TariffClass.RESIDENTIAL: (90, 190, 420),
    TariffClass.GENERAL_COMMERCIAL: (600, 2200, 7500),
    TariffClass.LARGE_INDUSTRY: (40_000, 90_000, 240_000),
    TariffClass.AGRICULTURAL: (150, 600, 2500),
}
_LEVEL_INDEX = {ConsumptionLevel.LOW: 0, ConsumptionLevel.MEDIUM: 1, ConsumptionLevel.HIGH: 2}
# Seasonal factor by month: summer air conditioning, winter heating; irrigation for agriculture.
_SEASON = (1.25, 1.15, 0.9, 0.85, 0.9, 1.1, 1.45, 1.5, 1.05, 0.85, 0.9, 1.15)
_SEASON_AGRI = (0.5, 0.5, 0.8, 1.2, 1.4, 1.6, 1.8, 1.6, 1.2, 0.8, 0.5, 0.5)
# Share of kWh by band (尖, 峰, 平, 谷): residential 峰谷 two bands; business four; agriculture flat.
_BAND_SHARES = {
    TariffClass.RESIDENTIAL: (0.0, 0.58, 0.0, 0.42),
    TariffClass.GENERAL_COMMERCIAL: (0.12, 0.43, 0.25, 0.20),
    TariffClass.LARGE_INDUSTRY: (0.10, 0.35, 0.25, 0.30),
    TariffClass.AGRICULTURAL: (0.0, 0.0, 1.0, 0.0),
}
_BIGGEST = {shares: max(range(4), key=lambda i, s=shares: s[i]) for shares in _BAND_SHARES.values()}
# How accounts pay: (name, gateway, channel, weight). 营业厅 and 银行代扣 are collected by the
# billing system itself (gateway sg186); the online ones come through our gateways.
PAYMENT_METHODS = (
    ("支付宝", "alipay", Channel.ALIPAY, 30),
    ("微信", "wechat_pay", Channel.WECHAT, 35),
    ("营业厅", IMPORT_GATEWAY, Channel.OUTLET, 15),
    ("银行代扣", IMPORT_GATEWAY, Channel.BANK, 20),
)
_METHOD_CUMULATIVE = [sum(m[3] for m in PAYMENT_METHODS[: i + 1]) for i in range(len(PAYMENT_METHODS))]
PAID_SHARE = 0.96  # bills before the last one that are paid
POSTING_LAG_DAYS = 3  # online payments older than this were already posted back (销账)
# Large-industry transformers (kVA): the smallest standard size for the account's load.
TRANSFORMER_KVA = (315, 400, 500, 630, 800, 1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000)
LOAD_FACTOR = 0.4  # average load ÷ transformer capacity
HOURS_PER_MONTH = 730


@dataclass
class BillingReport:
    meters: int = 0
    bills: int = 0
    payments: int = 0
    ledger_entries: int = 0
    points_entries: int = 0
    readings: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def months_back(reference: date, count: int) -> list[date]:
    """The ``count`` billing months ending with ``reference``'s month, oldest first."""
    year, month = reference.year, reference.month
    periods = []
    for _ in range(count):
        periods.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return periods[::-1]


def demo_amount_fen(tariff: str, kwh: Decimal) -> int:
    """Flat demo price × kWh, in fen, ROUND_HALF_UP (replaced by the tariff calculator later)."""
    return int(
        (kwh * DEMO_PRICE_PER_KWH[TariffClass(tariff)] * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    )


def _split(total_cents: int, shares: tuple[float, ...]) -> list[int]:
    """kWh cents by band, summing exactly to the total (the rounding goes to the biggest band)."""
    parts = [int(total_cents * s) for s in shares]
    parts[_BIGGEST[shares]] += total_cents - sum(parts)
    return parts


def _next_month(period: date) -> date:
    return date(period.year + period.month // 12, period.month % 12 + 1, 1)


def transformer_kva(monthly_kwh: float) -> int:
    """The smallest standard transformer for a large-industry account's typical month."""
    needed = monthly_kwh / HOURS_PER_MONTH / LOAD_FACTOR
    return next((kva for kva in TRANSFORMER_KVA if kva >= needed), TRANSFORMER_KVA[-1])


class DemoPricer:
    """Prices demo bills with the tariff calculator, as ``billing.checks`` recomputes them.

    Snapshots of each class's demo series are read once (``using``) and the versions in force
    per (class, month) kept, so a bill costs one ``compute_bill`` and no query. The usage is
    what the check builds from a stored bill: a single-price tariff gets the total as ``flat``,
    a time-of-use one the non-zero bands; yearly tiers the kWh before the month in its tier year;
    two-part tariffs the transformer capacity (charge basis ``capacity``).
    """

    def __init__(self, periods: list[date], *, using: str = "default") -> None:
        series = set(DEMO_SERIES_BY_CLASS.values())
        snapshots: dict[str, list[TariffSnapshot]] = {name: [] for name in series}
        for tariff in (
            Tariff.objects.using(using)
            .filter(series__in=series)
            .prefetch_related("tiers", "band_prices", "windows")
            .order_by("series", "valid_from", "code")
        ):
            snapshots[tariff.series].append(snapshot(tariff))
        # (class, month) → (versions in force, month end, single price, tier-year start month or None)
        self.plans: dict[tuple[str, date], tuple[list[TariffSnapshot], date, bool, int | None]] = {}
        for tariff_class, name in DEMO_SERIES_BY_CLASS.items():
            for period in periods:
                end = _next_month(period)
                versions = [v for v in snapshots[name] if v.overlaps(period, end)]
                if not versions:
                    raise ApplicationError(
                        "demo_tariffs_missing",
                        f"电价目录中没有 {name} 在 {period:%Y-%m} 执行的版本；请先运行 demo_tariffs()。",
                    )
                yearly = versions[0].tier_year_start_month if versions[0].has_yearly_tiers else None
                self.plans[(tariff_class, period)] = (
                    versions,
                    end,
                    all(v.is_single_price for v in versions),
                    yearly,
                )

    def tier_year_start_month(self, tariff_class: str, period: date) -> int | None:
        """The month the tier year starts in when the class's tariff has yearly tiers."""
        return self.plans[(tariff_class, period)][3]

    def amount_fen(
        self,
        tariff_class: str,
        period: date,
        total_cents: int,
        bands_cents: list[int],
        *,
        prior_cents: int | None = None,
        kva: int | None = None,
    ) -> int:
        versions, end, single_price, yearly = self.plans[(tariff_class, period)]
        if single_price or not any(bands_cents):
            kwh = {"flat": _kwh_decimal(total_cents)} if total_cents else {}
        else:
            kwh = {band: _kwh_decimal(c) for band, c in zip(_BAND_NAMES, bands_cents, strict=True) if c}
        extra = {}
        if kva is not None:
            extra = {"charge_basis": ChargeBasis.CAPACITY.value, "transformer_kva": Decimal(kva)}
        usage = _CleanUsage(
            period_start=period,
            period_end=end,
            kwh_by_band=kwh,
            prior_kwh_in_tier_year=None if yearly is None else _kwh_decimal(prior_cents or 0),
            **extra,
        )
        return compute_bill(versions, usage).total_fen


_BAND_NAMES = ("sharp", "peak", "flat", "valley")
_BILL_ISSUED, _PAYMENT = LedgerKind.BILL_ISSUED.value, LedgerKind.PAYMENT.value


class _CleanUsage(PeriodUsage):
    """A ``PeriodUsage`` made here from whole hundredths of kWh, which is already what
    ``__post_init__`` would make of it (non-negative Decimals of known bands, plain dates, a
    valid charge basis); its checks — with a dozen translated labels each — would cost more
    than the calculation, 240,000 times for 10,000 customers. The demo tests recompute sample
    bills through ``billing.checks``, which builds validated usages."""

    def __post_init__(self) -> None:
        pass


def _kwh_decimal(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


class _Prepared:
    """Values as the database takes them in text (SQLite ``executemany`` and PostgreSQL text
    ``COPY`` alike), made here once instead of per value through the model fields."""

    def __init__(self, vendor: str) -> None:
        self.sqlite = vendor == "sqlite"
        self._dates: dict[date, str] = {}
        self._months: dict[date, tuple] = {}
        self._references: dict[date, tuple[datetime, date]] = {}
        self._uuid_base = 0
        self._uuid_next = 0

    def d(self, value: date) -> str:
        cached = self._dates.get(value)
        if cached is None:
            cached = self._dates[value] = value.isoformat()
        return cached

    def month(self, period: date) -> tuple[str, str, str, str, datetime, str]:
        """What every bill of ``period`` shares: period and due date text, ``YYYY-MM``,
        ``YYYYMM``, the issue moment (06:00 local on the 1st) and its database text."""
        cached = self._months.get(period)
        if cached is None:
            issued_at = datetime.combine(period, datetime.min.time(), tzinfo=LOCAL_TZ) + timedelta(hours=6)
            cached = self._months[period] = (
                self.d(period),
                self.d(period + timedelta(days=24)),
                f"{period:%Y-%m}",
                f"{period:%Y%m}",
                issued_at,
                self.dt(issued_at),
            )
        return cached

    def dt(self, value: datetime) -> str:
        value = value.astimezone(UTC)
        if self.sqlite:  # Django's SQLite format: naive UTC text
            return value.replace(tzinfo=None).isoformat(" ")
        return value.isoformat(" ")

    def uuid(self) -> str:
        """UUIDv7 text: a fresh ``uuid7`` per 2³² ids with a counter in its low bits (unique,
        increasing, and far cheaper than one ``uuid7()`` per row)."""
        if self._uuid_next & 0xFFFFFFFF == 0:
            self._uuid_base = self._uuid_next = uuid7().int & ~0xFFFFFFFF
        value = self._uuid_next
        self._uuid_next += 1
        return f"{value:032x}"

    def reference_bounds(self, reference: date) -> tuple[datetime, date]:
        """Start of the reference day (local) and the last day whose payments were posted back."""
        cached = self._references.get(reference)
        if cached is None:
            start = datetime.combine(reference, datetime.min.time(), tzinfo=LOCAL_TZ)
            cached = self._references[reference] = (
                start,
                reference - timedelta(days=POSTING_LAG_DAYS),
            )
        return cached

    @staticmethod
    def kwh(cents: int) -> str:
        return f"{cents // 100}.{cents % 100:02d}"


def _bill_hash(number_ref: str, period: str, kwh: list[str], amount: int, issued: str, due: str) -> str:
    """``BillData.content_hash`` without building the BillData (same canonical JSON; a test pins it)."""
    canonical = (
        f'{{"amount_fen": {amount}, "due_date": "{due}", "issued_on": "{issued}", '
        f'"kwh": ["{kwh[0]}", "{kwh[1]}", "{kwh[2]}", "{kwh[3]}", "{kwh[4]}"], '
        f'"period": "{period}", "source_ref": "{number_ref}"}}'
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _insert(connection, model, rows: list[dict]) -> None:
    """One ``executemany`` (SQLite) or ``COPY`` (PostgreSQL) of prepared rows."""
    if not rows:
        return
    fields = model._meta.concrete_fields
    getter = operator.itemgetter(*[f.attname for f in fields])
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(getter(row))
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608
                [getter(row) for row in rows],
            )


def generate_demo_billing(
    *,
    seed: int,
    reference_date: date,
    using: str = "default",
    months: int = MONTHS,
    reading_days: int = READING_DAYS,
    progress: Callable[[int, int], None] | None = None,
) -> BillingReport:
    """Billing data for every account in the database (run after the accounts are generated).

    Each account gets one meter (smart for ~90 %), ``months`` monthly bills ending with
    ``reference_date``'s month (from when it opened), payments for most bills through a mix
    of 支付宝/微信/营业厅/银行代扣, and daily readings of its smart meter for the ``reading_days``
    days before ``reference_date``. The showcase account has every month, all paid but the last.
    """
    started = time.perf_counter()
    gc_was_enabled = gc.isenabled()
    gc.disable()  # millions of short-lived dicts: collection passes would dominate the run
    try:
        return _generate(seed, reference_date, using, months, reading_days, progress, started)
    finally:
        if gc_was_enabled:
            gc.enable()


def _generate(seed, reference_date, using, months, reading_days, progress, started) -> BillingReport:
    report = BillingReport()
    connection = connections[using]
    prep = _Prepared(connection.vendor)
    now = datetime.now(tz=UTC)
    now_db = prep.dt(now)
    inserters = {
        m: BulkInserter(m, using=using, now=now) for m in (Meter, AccountTariff, Bill, Payment, DailyReading)
    }
    periods = months_back(reference_date, months)
    pricer = DemoPricer(periods, using=using)
    total = Account.objects.using(using).count()
    accounts = (
        Account.objects.using(using)
        .order_by("id")
        .values_list("id", "number", "tariff_class", "status", "consumption_level", "opened_on")
    )
    last_id, done = 0, 0
    timings = {"pricing": 0.0, "build": 0.0, "insert": 0.0}
    if connection.vendor == "sqlite":  # keep the growing indexes in memory while loading
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -262144")
    while True:
        chunk = list(accounts.filter(id__gt=last_id)[:CHUNK])
        if not chunk:
            break
        last_id = chunk[-1][0]
        lap = time.perf_counter()
        rows = _Chunk(prep, now_db, pricer)
        for account in chunk:
            # One generator per account, seeded by seed and 户号: the same account gets the
            # same data whatever else the database holds.
            rows.account(Random(f"{seed}:{account[1]}"), account, periods, reference_date, reading_days)
        timings["build"] += time.perf_counter() - lap - rows.pricing_seconds
        timings["pricing"] += rows.pricing_seconds
        lap = time.perf_counter()
        with transaction.atomic(using=using):
            for model, values in (
                (Meter, rows.meters),
                (AccountTariff, rows.account_tariffs),
                (Bill, rows.bills),
                (Payment, rows.payments),
                (LedgerEntry, rows.ledger),
                (PointsEntry, rows.points),
                (DailyReading, rows.readings),
            ):
                if model in inserters:
                    ids = inserters[model].reserve_ids(len(values))
                    for row, pk in zip(values, ids, strict=True):
                        row["id"] = pk
                    if model is Meter:
                        for reading in rows.readings:
                            reading["meter_id"] = reading["meter_id"]["id"]
                    elif model is Bill:
                        for entry in rows.ledger:
                            if entry["bill_id"] is not None:
                                entry["bill_id"] = entry["bill_id"]["id"]
                    elif model is Payment:
                        for entry in rows.ledger:
                            if entry["payment_id"] is not None:
                                entry["payment_id"] = entry["payment_id"]["id"]
                _insert(connection, model, values)
        timings["insert"] += time.perf_counter() - lap
        report.meters += len(rows.meters)
        report.bills += len(rows.bills)
        report.payments += len(rows.payments)
        report.ledger_entries += len(rows.ledger)
        report.points_entries += len(rows.points)
        report.readings += len(rows.readings)
        done += len(chunk)
        if progress:
            progress(done, total)
    report.seconds = round(time.perf_counter() - started, 3)
    report.timings = {k: round(v, 3) for k, v in timings.items()}
    return report


class _Chunk:
    """Rows of one chunk of accounts; foreign keys point at the parent row dicts until ids exist."""

    def __init__(self, prep: _Prepared, now_db, pricer: DemoPricer) -> None:
        self.prep, self.now, self.pricer = prep, now_db, pricer
        self.pricing_seconds = 0.0
        self.meters: list[dict] = []
        self.account_tariffs: list[dict] = []
        self.bills: list[dict] = []
        self.payments: list[dict] = []
        self.ledger: list[dict] = []
        self.points: list[dict] = []
        self.readings: list[dict] = []

    def account(
        self, rng: Random, account: tuple, periods: list[date], reference: date, reading_days: int
    ) -> None:
        account_id, number, tariff, status, level, opened_on = account
        prep, now = self.prep, self.now
        showcase = number == SHOWCASE_NUMBER
        tariff = TariffClass(tariff)
        smart = showcase or rng.random() < SMART_SHARE
        multiplier = rng.choice((50, 100, 200)) if tariff == TariffClass.LARGE_INDUSTRY else 1
        installed = opened_on or date(2015, 1, 1)
        meter = {
            "number": f"3301{number}{rng.randrange(100):02d}",
            "account_id": account_id,
            "multiplier": multiplier,
            "is_smart": smart,
            "installed_on": prep.d(installed),
            "removed_on": None,
            "created_at": now,
            "updated_at": now,
        }
        self.meters.append(meter)
        base = _MONTHLY_KWH[tariff][_LEVEL_INDEX.get(level, 1)] * rng.uniform(0.6, 1.4)
        season = _SEASON_AGRI if tariff == TariffClass.AGRICULTURAL else _SEASON
        shares = _BAND_SHARES[tariff]
        r = rng.random()
        method = PAYMENT_METHODS[
            next(i for i, c in enumerate(_METHOD_CUMULATIVE) if r * _METHOD_CUMULATIVE[-1] < c)
        ]
        if showcase:
            method = PAYMENT_METHODS[1]  # 微信
        closed = status == AccountStatus.CLOSED
        kva = None
        if tariff == TariffClass.LARGE_INDUSTRY:  # two-part tariff, basic charge by capacity
            kva = transformer_kva(base)
            self.account_tariffs.append(
                {
                    "account_id": account_id,
                    "series": DEMO_SERIES_BY_CLASS[tariff],
                    "tou_series": "",
                    "charge_basis": ChargeBasis.CAPACITY.value,
                    "transformer_kva": f"{kva}.00",
                    "max_demand_source": "",
                    "contract_demand_kw": None,
                    "valid_from": prep.d(installed),
                    "created_at": now,
                    "updated_at": now,
                }
            )
        # Yearly tiers: kWh of this account's bills so far in the tier year, counted from the
        # month it opened (as the bill check counts them).
        counted_from = opened_on.replace(day=1) if opened_on else None
        tier_year, tier_kwh = None, 0
        month_kwh = {}
        pricer, pricing = self.pricer, 0.0
        for index, period in enumerate(periods):
            if opened_on and period < opened_on.replace(day=1) and not showcase:
                continue
            if closed and index >= len(periods) - 3:  # closed recently: no more bills
                break
            kwh_cents = max(100, int(base * season[period.month - 1] * rng.uniform(0.85, 1.15) * 100))
            month_kwh[period] = kwh_cents
            bands = _split(kwh_cents, shares)
            lap = time.perf_counter()
            start_month = pricer.tier_year_start_month(tariff, period)
            prior = None
            if start_month is not None:
                year = period.year if period.month >= start_month else period.year - 1
                if year != tier_year:
                    tier_year, tier_kwh = year, 0
                prior = tier_kwh
                if counted_from is None or period >= counted_from:
                    tier_kwh += kwh_cents
            amount = pricer.amount_fen(tariff, period, kwh_cents, bands, prior_cents=prior, kva=kva)
            pricing += time.perf_counter() - lap
            self._bill(
                rng,
                account_id,
                number,
                period,
                kwh_cents,
                bands,
                amount,
                method,
                last=index == len(periods) - 1,
                showcase=showcase,
                reference=reference,
            )
        self.pricing_seconds += pricing
        if smart and not closed:
            self._readings(rng, meter, month_kwh, base, season, shares, reference, reading_days)

    def _bill(
        self, rng, account_id, number, period, kwh_cents, bands, amount, method, *, last, showcase, reference
    ):
        prep, now = self.prep, self.now
        period_text, due_text, month, yyyymm, issued_at, issued_at_text = prep.month(period)
        issued_text = period_text  # issued on the 1st
        kwh = prep.kwh
        kwh_text = [kwh(kwh_cents), kwh(bands[0]), kwh(bands[1]), kwh(bands[2]), kwh(bands[3])]
        source_ref = f"SG{number}{yyyymm}"
        bill = {
            "account_id": account_id,
            "period": period_text,
            "version": 1,
            "is_current": True,
            "source": "import",
            "source_ref": source_ref,
            "kwh_total": kwh_text[0],
            "kwh_sharp": kwh_text[1],
            "kwh_peak": kwh_text[2],
            "kwh_flat": kwh_text[3],
            "kwh_valley": kwh_text[4],
            "amount_fen": amount,
            "difference_fen": 0,
            "issued_on": issued_text,
            "due_date": due_text,
            "previous_id": None,
            "content_hash": _bill_hash(source_ref, period_text, kwh_text, amount, issued_text, due_text),
            "created_at": now,
            "updated_at": now,
        }
        self.bills.append(bill)
        self.ledger.append(
            {
                "id": prep.uuid(),
                "account_id": account_id,
                "kind": _BILL_ISSUED,
                "amount_fen": amount,
                "reference": f"bill:{number}:{month}:v1",
                "bill_id": bill,
                "payment_id": None,
                "occurred_at": issued_at_text,
                "memo": f"{month} 电费",
                "actor_staff_id": None,
            }
        )
        name, gateway, channel, _weight = method
        if not showcase and rng.random() < 0.2:  # now and then another way than usual
            name, gateway, channel, _weight = rng.choice(PAYMENT_METHODS)
        withhold = name == "银行代扣"
        if last:
            if showcase or not withhold:
                return  # the current month's bill is still open (银行代扣 is taken on the day)
        elif not showcase and rng.random() >= PAID_SHARE:
            return  # arrears
        if withhold:
            paid_at = issued_at + timedelta(minutes=rng.randrange(60))
        else:
            paid_at = issued_at + timedelta(
                days=rng.randrange(1, 30), hours=rng.randrange(1, 16), seconds=rng.randrange(3600)
            )
        reference_start, posting_cutoff = prep.reference_bounds(reference)
        if not last and paid_at >= reference_start:  # nothing is paid after the reference day began
            paid_at = reference_start - timedelta(minutes=rng.randrange(1, 600))
        paid_day = paid_at.date()
        if gateway == IMPORT_GATEWAY:
            txn = f"SG{number}{yyyymm}01"
            posted = IMPORTED_MARK
        else:
            txn = f"{paid_day:%Y%m%d}{'20' if gateway == 'alipay' else '42'}{account_id:012d}{yyyymm}"
            posted = export_file_name(paid_day) if paid_day < posting_cutoff else ""
        payment = {
            "account_id": account_id,
            "amount_fen": amount,
            "gateway": gateway,
            "gateway_txn_id": txn,
            "channel": channel.value,
            "paid_at": prep.dt(paid_at),
            "status": "succeeded",
            "refunded_fen": 0,
            "customer_user_id": None,
            "posted_in_file": posted,
            "created_at": now,
            "updated_at": now,
        }
        self.payments.append(payment)
        self.ledger.append(
            {
                "id": prep.uuid(),
                "account_id": account_id,
                "kind": _PAYMENT,
                "amount_fen": -amount,
                "reference": f"payment:{gateway}:{txn}",
                "bill_id": None,
                "payment_id": payment,
                "occurred_at": payment["paid_at"],
                "memo": "缴费",
                "actor_staff_id": None,
            }
        )
        if channel in ONLINE_CHANNELS and amount >= 100:
            self.points.append(
                {
                    "id": prep.uuid(),
                    "account_id": account_id,
                    "points": (amount // 100) * POINTS_PER_YUAN_ONLINE,
                    "reason": PointsReason.ONLINE_PAYMENT.value,
                    "reference": f"points:payment:{gateway}:{txn}",
                    "occurred_at": payment["paid_at"],
                }
            )

    def _readings(self, rng, meter, month_kwh, base, season, shares, reference, days):
        now, kwh, uniform = self.now, self.prep.kwh, rng.uniform
        register = rng.randrange(1000, 60000) * 100  # cents of kWh
        for day_text, period, days_in_month in _reading_days(reference, days, self.prep):
            month_total = month_kwh.get(period) or int(base * season[period.month - 1] * 100)
            cents = int(month_total / days_in_month * uniform(0.6, 1.4))
            register += cents
            bands = _split(cents, shares)
            self.readings.append(
                {
                    "meter_id": meter,
                    "reading_date": day_text,
                    "register_total": kwh(register),
                    "kwh_total": kwh(cents),
                    "kwh_sharp": kwh(bands[0]),
                    "kwh_peak": kwh(bands[1]),
                    "kwh_flat": kwh(bands[2]),
                    "kwh_valley": kwh(bands[3]),
                    "created_at": now,
                    "updated_at": now,
                }
            )


_READING_DAYS: dict[tuple[date, int], list[tuple[str, date, int]]] = {}


def _reading_days(reference: date, days: int, prep: _Prepared) -> list[tuple[str, date, int]]:
    """(date text, its month, days in that month) for the ``days`` days before ``reference``."""
    key = (reference, days)
    if key not in _READING_DAYS:
        first = reference - timedelta(days=days)
        _READING_DAYS[key] = [
            (prep.d(day), day.replace(day=1), calendar.monthrange(day.year, day.month)[1])
            for day in (first + timedelta(days=offset) for offset in range(days))
        ]
    return _READING_DAYS[key]


# --- sample import files ---------------------------------------------------------------------------

SAMPLE_COLUMNS = {
    "meters": ["meter_number", "account_number", "multiplier", "is_smart", "installed_on"],
    "bills": [
        "account_number",
        "period",
        "kwh_total",
        "kwh_sharp",
        "kwh_peak",
        "kwh_flat",
        "kwh_valley",
        "amount_fen",
        "issued_on",
        "due_date",
        "source_ref",
    ],
    "readings": [
        "meter_number",
        "reading_date",
        "register_total",
        "kwh_total",
        "kwh_sharp",
        "kwh_peak",
        "kwh_flat",
        "kwh_valley",
    ],
    "payments": ["account_number", "amount_fen", "gateway", "gateway_txn_id", "channel", "paid_at"],
}


def write_demo_files(
    out: Path,
    *,
    accounts: list[tuple[str, str]],
    seed: int,
    reference_date: date,
    months: int = 12,
    reading_days: int = 30,
) -> dict[str, Path]:
    """Small sample import files (meters, bills, readings, payments) for ``accounts``
    [(户号, tariff class)], in the format of docs/import-billing.md. Returns kind → path."""
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[list]] = {kind: [] for kind in SAMPLE_COLUMNS}
    periods = months_back(reference_date, months)
    for number, tariff in accounts:
        rng = Random(f"{seed}:files:{number}")
        tariff = TariffClass(tariff)
        meter = f"3301{number}00"
        rows["meters"].append([meter, number, "1", "1", "2015-03-01"])
        base = _MONTHLY_KWH[tariff][1] * rng.uniform(0.7, 1.3)
        shares = _BAND_SHARES[tariff]
        for index, period in enumerate(periods):
            cents = int(base * _SEASON[period.month - 1] * rng.uniform(0.85, 1.15) * 100)
            bands = _split(cents, shares)
            kwh = Decimal(cents).scaleb(-2)
            amount = demo_amount_fen(tariff, kwh)
            rows["bills"].append(
                [
                    number,
                    f"{period:%Y-%m}",
                    f"{kwh}",
                    *[f"{Decimal(b).scaleb(-2)}" for b in bands],
                    amount,
                    f"{period}",
                    f"{period + timedelta(days=24)}",
                    f"SG{number}{period:%Y%m}",
                ]
            )
            if index < len(periods) - 1:
                paid = datetime.combine(period, datetime.min.time()) + timedelta(
                    days=rng.randrange(1, 20), hours=9, minutes=rng.randrange(600)
                )
                rows["payments"].append(
                    [
                        number,
                        amount,
                        IMPORT_GATEWAY,
                        f"SG{number}{period:%Y%m}01",
                        rng.choice(("营业厅", "银行代扣")),
                        paid.strftime("%Y-%m-%d %H:%M:%S"),
                    ]
                )
        register = rng.randrange(1000, 9000) * 100
        for offset in range(reading_days):
            day = reference_date - timedelta(days=reading_days - offset)
            cents = int(base / 30 * rng.uniform(0.6, 1.4) * 100)
            register += cents
            bands = _split(cents, shares)
            rows["readings"].append(
                [
                    meter,
                    f"{day}",
                    f"{Decimal(register).scaleb(-2)}",
                    f"{Decimal(cents).scaleb(-2)}",
                    *[f"{Decimal(b).scaleb(-2)}" for b in bands],
                ]
            )
    paths = {}
    for kind, columns in SAMPLE_COLUMNS.items():
        path = paths[kind] = out / f"{kind}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            writer.writerows(rows[kind])
    return paths


def demo_billing_flush(*, using: str = "default") -> None:
    """Empty the append-only ledger and points tables, for ``demo_data_flush`` (regenerating the
    demo). Runs in the caller's transaction. Their UPDATE/DELETE triggers stay in force for
    everything else: SQLite gets its DELETE trigger dropped and re-created around the delete;
    PostgreSQL empties them with TRUNCATE, which the triggers leave to privileges."""
    connection = connections[using]
    tables = [LedgerEntry._meta.db_table, PointsEntry._meta.db_table]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED; TRUNCATE refuses to run
            # while this transaction still has their checks pending, so fire them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("TRUNCATE " + ", ".join(quote(t) for t in tables))
            return
        for table in tables:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s AND name LIKE %s",
                [table, "%no_delete"],
            )
            triggers = cursor.fetchall()
            for name, _sql in triggers:
                cursor.execute(f"DROP TRIGGER {quote(name)}")
            cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608
            for _name, sql in triggers:
                cursor.execute(sql)
