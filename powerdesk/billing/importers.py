"""Import meters, bills, daily readings and payments from the billing system (SG186-style).

Columns are documented in docs/import-billing.md. The pattern is that of
``powerdesk.customers.importer``: rows stream from ``read_rows`` (CSV UTF-8/GBK or Parquet),
are checked one by one (a rejection names the row, the column and the reason), and the
accepted ones are written a batch at a time in one transaction per batch — ids reserved up
front and rows inserted with ``demo.bulk.BulkInserter`` (``COPY`` on PostgreSQL,
``executemany`` on SQLite); never a ``save()`` per row. Bills, the biggest files, go further
(``BillRow``, ``bills_record_versions``): each row is parsed once into the text the database
and the content hash take, and bills, ledger entries and events are written with
``demo.bulk.TextRows`` — one text ``COPY`` per table and batch, no per-value field preparation.

Every import is idempotent: a row equal to what is stored is counted ``unchanged`` and not
written. Bills follow the versioning rule of ``services.bill_record_version`` exactly (see
``_write_bills``): same content → unchanged; different content → a new version, the old one
stops being current and the ledger gets the difference (退补); a first version posts
``bill_issued``. Payments are keyed by (gateway, gateway_txn_id) like ``payment_record``, so
re-importing a payments file never credits twice.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.billing import events as kinds
from powerdesk.billing.choices import BillSource, LedgerKind, PointsReason
from powerdesk.billing.models import (
    Bill,
    DailyReading,
    LedgerEntry,
    Meter,
    MonthlyUsage,
    Payment,
    PointsEntry,
)
from powerdesk.billing.services import (
    ONLINE_CHANNELS,
    POINTS_PER_YUAN_ONLINE,
    BillData,
)
from powerdesk.core import metrics
from powerdesk.core.ids import uuid7
from powerdesk.core.imports.readers import read_rows
from powerdesk.core.imports.report import ImportResult
from powerdesk.customers.models import Account
from powerdesk.demo.bulk import BulkInserter, TextRows
from powerdesk.events.choices import Channel
from powerdesk.events.models import DomainEvent

BATCH_SIZE = 5000
PROGRESS_EVERY = 10_000
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# Payments imported from the billing system itself: the default gateway name, and the marker
# put in ``posted_in_file`` so that posting back (销账) never sends them back to where they came from.
IMPORT_GATEWAY = "sg186"
IMPORTED_MARK = "imported"
BAND_TOLERANCE = Decimal("0.01")
_CENT = Decimal("0.01")
_MAX_KWH = Decimal("999999999999.99")  # max_digits=14, decimal_places=2
_MAX_MULTIPLIER = Decimal("99999999.99")
_ACCOUNT_NUMBER = re.compile(r"^\d{10}$")
_BANDS = ("kwh_sharp", "kwh_peak", "kwh_flat", "kwh_valley")
_BOOLEANS = {
    "1": True,
    "true": True,
    "是": True,
    "y": True,
    "0": False,
    "false": False,
    "否": False,
    "n": False,
}
# Channel names the billing system writes, besides our own codes and labels.
_CHANNEL_NAMES = {
    **{c.value: c for c in Channel},
    **{str(c.label): c for c in Channel},
    "支付宝": Channel.ALIPAY,
    "微信": Channel.WECHAT,
    "微信支付": Channel.WECHAT,
    "营业厅": Channel.OUTLET,
    "柜台": Channel.OUTLET,
    "坐收": Channel.OUTLET,
    "代扣": Channel.BANK,
    "银行": Channel.BANK,
}

BILL_COLUMNS = ["account_number", "period", "kwh_total", "issued_on", "due_date"]
READING_COLUMNS = ["meter_number", "reading_date", "register_total", "kwh_total"]
METER_COLUMNS = ["meter_number", "account_number"]
PAYMENT_COLUMNS = ["account_number", "gateway_txn_id", "paid_at"]


class RowError(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.reason = column, reason


# --- the streaming loop shared by every kind -----------------------------------------------------


def _stream(
    path: Path,
    *,
    required: list[str],
    encoding: str | None,
    progress: Callable[[int], None] | None,
    clean: Callable[[dict[str, str]], dict],
    key: Callable[[dict], object],
    describe_key: Callable[[dict], str],
    write: Callable[..., None],
    batch_size: int,
    require_one_of: tuple[str, ...] = (),
    key_text: Callable[[dict], str] | None = None,
    read_ahead: bool = False,
) -> ImportResult:
    """Read, check and de-duplicate the rows of ``path``; ``write(batch, result)`` each full batch.

    With ``read_ahead``, ``write(batch, result, read_ahead)`` may call ``read_ahead()`` while
    the database works on the batch (after sending a COPY's data, before waiting for it): each
    call reads and checks part of the next batch, so Python and the server work at the same time.
    """
    columns, rows = read_rows(path, required=required, encoding=encoding)
    if require_one_of and not any(c in columns for c in require_one_of):
        from powerdesk.core.exceptions import ApplicationError

        raise ApplicationError(
            "missing_columns",
            f"{path.name}: 缺少必需的列：{' 或 '.join(require_one_of)}",
            extra={"missing": list(require_one_of)},
        )
    result = ImportResult(source=path)
    batches = _Batches(
        rows,
        result,
        clean=clean,
        key=key,
        describe_key=describe_key,
        describe=key_text or _key_text,
        batch_size=batch_size,
        progress=progress,
    )
    while batch := batches.next():
        if read_ahead:
            write(batch, result, batches.read_ahead)
        else:
            write(batch, result)
    if progress:
        progress(result.read)
    result.rejections.sort(key=lambda r: r.row)  # batch-time rejections come after row-time ones
    result.write_report()
    return result


class _Batches:
    """The accepted rows of a file, a batch at a time (``next``); ``read_ahead`` reads part of
    the following batch early. A file error met while reading ahead (bad encoding, malformed
    CSV) is raised by the next ``next()``, once the batch being written has committed — as if
    the rows had been read in order."""

    READ_AHEAD_PARTS = 3  # calls to read_ahead per batch (one per COPY of a bills batch)

    def __init__(self, rows, result, *, clean, key, describe_key, describe, batch_size, progress) -> None:
        self.rows, self.result = iter(rows), result
        self.clean, self.key, self.describe_key, self.describe = clean, key, describe_key, describe
        self.batch_size, self.progress = batch_size, progress
        self.first_seen: dict = {}
        self.pending: list[tuple[int, object]] = []
        self.exhausted = False
        self.error: Exception | None = None

    def next(self) -> list[tuple[int, object]]:
        """The next full batch (the last one may be shorter); empty at the end of the file."""
        if self.error is not None:
            raise self.error
        self._read(None)
        batch, self.pending = self.pending, []
        return batch

    def read_ahead(self) -> None:
        if self.error is None:
            try:
                self._read(self.batch_size // self.READ_AHEAD_PARTS + 1)
            except Exception as exc:  # kept for next(), once the batch being written commits
                self.error = exc

    def _read(self, limit: int | None) -> None:
        result, pending, first_seen = self.result, self.pending, self.first_seen
        rows, clean, key, progress = self.rows, self.clean, self.key, self.progress
        while not self.exhausted and len(pending) < self.batch_size and (limit is None or limit > 0):
            row = next(rows, None)
            if row is None:
                self.exhausted = True
                break
            if limit is not None:
                limit -= 1
            result.read += 1
            try:
                if "__error__" in row.values:
                    raise RowError("*", row.values["__error__"])
                cleaned = clean(row.values)
            except RowError as exc:
                result.reject(row.number, exc.column, exc.reason)
            else:
                k = key(cleaned)
                seen = first_seen.get(k)
                if seen is not None:
                    result.reject(
                        row.number,
                        self.describe_key(cleaned),
                        f"{self.describe(cleaned)} 在文件中重复，首次出现在第 {seen} 行",
                    )
                else:
                    first_seen[k] = row.number
                    pending.append((row.number, cleaned))
            if progress and result.read % PROGRESS_EVERY == 0:
                progress(result.read)


def _key_text(cleaned: dict) -> str:
    return cleaned.get("_key_text", "主键")


# --- field parsers -------------------------------------------------------------------------------


def _required(values: dict[str, str], column: str) -> str:
    raw = values.get(column, "") or ""
    if not raw:
        raise RowError(column, "必填，不能为空")
    return raw


def _account_number(raw: str, column: str = "account_number") -> str:
    if not _ACCOUNT_NUMBER.match(raw):
        raise RowError(column, f"户号 {raw!r} 应为 10 位数字")
    return raw


def _kwh(raw: str, column: str, *, default: Decimal | None = None) -> Decimal:
    if raw == "":
        if default is None:
            raise RowError(column, "必填，不能为空")
        return default
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        raise RowError(column, f"{raw!r} 不是数字") from None
    if not value.is_finite():
        raise RowError(column, f"{raw!r} 不是有限的数字")
    if value < 0:
        raise RowError(column, f"{raw} 为负数")
    if value != value.quantize(_CENT):
        raise RowError(column, f"{raw} 超过两位小数")
    if value > _MAX_KWH:
        raise RowError(column, f"{raw} 超出范围")
    return value.quantize(_CENT)


def _fen(values: dict[str, str], *, positive: bool) -> int:
    """Integer fen from ``amount_fen`` (whole fen) or ``amount_yuan`` (at most 2 decimals)."""
    if values.get("amount_fen", ""):
        column, raw, scale = "amount_fen", values["amount_fen"], 1
    elif values.get("amount_yuan", ""):
        column, raw, scale = "amount_yuan", values["amount_yuan"], 100
    else:
        column = "amount_fen" if "amount_fen" in values else "amount_yuan"
        raise RowError(column, "必填，不能为空")
    try:
        value = Decimal(raw.replace(",", "")) * scale
    except InvalidOperation:
        raise RowError(column, f"{raw!r} 不是数字") from None
    if not value.is_finite():
        raise RowError(column, f"{raw!r} 不是有限的数字")
    if value != value.to_integral_value():
        raise RowError(
            column, f"{raw} 含不足一分的金额" + ("（元最多两位小数）" if scale == 100 else "（应为整数分）")
        )
    if value < 0:
        raise RowError(column, f"{raw} 为负数")
    if positive and value == 0:
        raise RowError(column, "金额必须大于零")
    if value > 9_000_000_000_000_000:
        raise RowError(column, f"{raw} 超出范围")
    return int(value)


def _date(raw: str, column: str, *, required: bool = True) -> date | None:
    if not raw:
        if required:
            raise RowError(column, "必填，不能为空")
        return None
    text = raw.replace("/", "-")
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RowError(column, f"{raw!r} 不是有效日期（YYYY-MM-DD）") from None


def _period(raw: str) -> date:
    text = raw.replace("/", "-")
    match = re.fullmatch(r"(\d{4})-?(\d{2})(?:-(\d{2}))?", text)
    if not match:
        raise RowError("period", f"{raw!r} 不是有效的电费年月（YYYY-MM）")
    year, month, day = int(match[1]), int(match[2]), int(match[3] or 1)
    if day != 1:
        raise RowError("period", f"{raw} 须为当月 1 日或只写年月")
    try:
        return date(year, month, 1)
    except ValueError:
        raise RowError("period", f"{raw!r} 不是有效的电费年月（YYYY-MM）") from None


def _datetime(raw: str, column: str) -> datetime:
    if not raw:
        raise RowError(column, "必填，不能为空")
    text = raw.replace("/", "-")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise RowError(column, f"{raw!r} 不是有效时间（YYYY-MM-DD HH:MM:SS，北京时间）") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(UTC)


def _bands(values: dict[str, str], total: Decimal) -> tuple[Decimal, ...]:
    bands = tuple(_kwh(values.get(name, "") or "", name, default=Decimal("0.00")) for name in _BANDS)
    if any(bands) and abs(sum(bands) - total) > BAND_TOLERANCE:
        raise RowError(
            "kwh_total", f"分时电量之和 {sum(bands)} 与总电量 {total} 相差超过 {BAND_TOLERANCE} kWh"
        )
    return bands


def _accounts_by_number(numbers: Iterable[str]) -> dict[str, int]:
    return dict(Account.objects.filter(number__in=set(numbers)).values_list("number", "id"))


def _rejecting_unknown(batch, result, lookup: dict, field: str, column: str, what: str):
    """Rows whose ``field`` is not in ``lookup`` are rejected; yields (row, clean, id) for the rest."""
    for number, clean in batch:
        pk = lookup.get(clean[field])
        if pk is None:
            result.reject(number, column, f"{what} {clean[field]} 不存在")
            continue
        yield number, clean, pk


class _Inserter(BulkInserter):
    """``BulkInserter`` that also prepares UUID values (SQLite stores them as hex text)."""

    def __init__(self, model, *, using: str, now: datetime) -> None:
        super().__init__(model, using=using, now=now)
        for index, field in enumerate(self.fields):
            if field.get_internal_type() == "UUIDField":
                self.converters[index] = lambda value, f=field: f.get_db_prep_save(value, self.connection)


_INSERTERS: dict[tuple[str, type], _Inserter] = {}


def _inserter(model, now: datetime) -> _Inserter:
    """One inserter per connection and model (its field preparation is worth keeping); every
    row passes its own ``created_at``/``updated_at``, so the ``now`` it was built with is unused."""
    key = (connection.alias, model)
    inserter = _INSERTERS.get(key)
    if inserter is None or inserter.connection is not connections[connection.alias]:
        inserter = _INSERTERS[key] = _Inserter(model, using=connection.alias, now=now)
    return inserter


def _insert(model, rows: list[dict], now: datetime, *, reserve: bool = True) -> None:
    if not rows:
        return
    inserter = _inserter(model, now)
    if reserve:
        for row, pk in zip(rows, inserter.reserve_ids(len(rows)), strict=True):
            row["id"] = pk
    inserter.insert(rows)


def _events(rows: list[dict], now: datetime) -> None:
    """Bulk-append events as ``events.services.event_record`` would, one per business fact."""
    if not rows:
        return
    for row in rows:
        row["id"] = uuid7()
        row.setdefault("occurred_at", now)
        metrics.DOMAIN_EVENTS.labels(row["kind"], row["channel"]).inc()
    _insert(DomainEvent, rows, now, reserve=False)


# --- meters --------------------------------------------------------------------------------------


def import_meters(
    path: Path,
    *,
    encoding: str | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """电能表: one row per meter; a meter already stored with other values is updated."""
    return _stream(
        path,
        required=METER_COLUMNS,
        encoding=encoding,
        progress=progress,
        clean=_clean_meter,
        key=lambda c: c["number"],
        describe_key=lambda c: "meter_number",
        write=_write_meters,
        batch_size=batch_size,
    )


def _clean_meter(values: dict[str, str]) -> dict:
    number = _required(values, "meter_number")
    if len(number) > 32:
        raise RowError("meter_number", "表号超过 32 个字符")
    account = _account_number(_required(values, "account_number"))
    raw = values.get("multiplier", "") or "1"
    try:
        multiplier = Decimal(raw)
    except InvalidOperation:
        raise RowError("multiplier", f"{raw!r} 不是数字") from None
    if not multiplier.is_finite() or multiplier <= 0 or multiplier > _MAX_MULTIPLIER:
        raise RowError("multiplier", f"倍率 {raw} 应大于零")
    if multiplier != multiplier.quantize(_CENT):
        raise RowError("multiplier", f"倍率 {raw} 超过两位小数")
    smart = _BOOLEANS.get((values.get("is_smart", "") or "1").lower())
    if smart is None:
        raise RowError("is_smart", "智能表标志应为 1/0、是/否 或 true/false")
    installed = _date(values.get("installed_on", "") or "", "installed_on", required=False)
    removed = _date(values.get("removed_on", "") or "", "removed_on", required=False)
    if installed and removed and removed < installed:
        raise RowError("removed_on", "拆表日期早于装表日期")
    return {
        "number": number,
        "account": account,
        "multiplier": multiplier.quantize(_CENT),
        "is_smart": smart,
        "installed_on": installed,
        "removed_on": removed,
        "_key_text": f"表号 {number}",
    }


_METER_FIELDS = ("account_id", "multiplier", "is_smart", "installed_on", "removed_on")


@transaction.atomic
def _write_meters(batch: list[tuple[int, dict]], result: ImportResult) -> None:
    now = timezone.now()
    accounts = _accounts_by_number(c["account"] for _n, c in batch)
    existing = {
        m.number: m
        for m in Meter.objects.select_for_update().filter(number__in=[c["number"] for _n, c in batch])
    }
    to_create, to_update = [], []
    for _number, clean, account_id in _rejecting_unknown(
        batch, result, accounts, "account", "account_number", "户号"
    ):
        values = {
            "account_id": account_id,
            "multiplier": clean["multiplier"],
            "is_smart": clean["is_smart"],
            "installed_on": clean["installed_on"],
            "removed_on": clean["removed_on"],
        }
        meter = existing.get(clean["number"])
        if meter is None:
            to_create.append({"number": clean["number"], **values, "created_at": now, "updated_at": now})
            continue
        if all(getattr(meter, f) == v for f, v in values.items()):
            result.unchanged += 1
            continue
        for field, value in values.items():
            setattr(meter, field, value)
        meter.updated_at = now
        to_update.append(meter)
    _insert(Meter, to_create, now)
    if to_update:
        Meter.objects.bulk_update(to_update, [*_METER_FIELDS, "updated_at"], batch_size=1000)
    result.created += len(to_create)
    result.updated += len(to_update)


# --- bills ---------------------------------------------------------------------------------------


def import_bills(
    path: Path,
    *,
    encoding: str | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    events: bool = True,
) -> ImportResult:
    """电费账单: one row per account and month; versioned exactly like ``bill_record_version``.

    Months that gained or changed bills are queued for a bulk check against the tariff
    calculator (billing/tasks.py) once the import has committed.
    """
    from powerdesk.billing.tasks import bill_checks_dispatch_periods

    changed_periods: set[date] = set()

    def write(batch: list[tuple[int, BillRow]], result: ImportResult, read_ahead) -> None:
        before = result.created + result.updated
        _write_bills(batch, result, events=events, meanwhile=read_ahead)
        if result.created + result.updated > before:
            changed_periods.update(row.period for _n, row in batch)

    result = _stream(
        path,
        required=BILL_COLUMNS,
        require_one_of=("amount_fen", "amount_yuan"),
        encoding=encoding,
        progress=progress,
        clean=_clean_bill,
        # A str (10-digit 户号 + ISO month), not a tuple: millions of tuples kept in the
        # duplicate index would be scanned by every cyclic-GC pass (a third of the parse time).
        key=lambda row: row.account + row.period_text,
        describe_key=lambda row: "period",
        key_text=lambda row: f"户号 {row.account} {row.month} 的账单",
        write=write,
        batch_size=batch_size,
        read_ahead=True,
    )
    bill_checks_dispatch_periods(periods=changed_periods)
    return result


class BillRow:
    """One accepted bills row, already in the text the database and the content hash take.

    ``kwh`` holds (total, 尖, 峰, 平, 谷) as ``str`` of the Decimal quantized to 0.01 — exactly
    what ``BillData`` would hold — and ``content_hash`` equals ``BillData.content_hash()`` of the
    same values (``bill_data()`` builds that BillData; a test pins the two together).
    """

    __slots__ = (
        "account",
        "amount_fen",
        "content_hash",
        "due_text",
        "issued_text",
        "kwh",
        "month",
        "period",
        "period_text",
        "source_ref",
    )

    def __init__(
        self, account, period, period_text, month, kwh, amount_fen, issued_text, due_text, source_ref
    ):
        self.account = account
        self.period = period
        self.period_text = period_text
        self.month = month
        self.kwh = kwh
        self.amount_fen = amount_fen
        self.issued_text = issued_text
        self.due_text = due_text
        self.source_ref = source_ref
        self.content_hash = bill_content_hash(period_text, kwh, amount_fen, issued_text, due_text, source_ref)

    def bill_data(self) -> BillData:
        return BillData(
            period=self.period,
            kwh_total=Decimal(self.kwh[0]),
            kwh_sharp=Decimal(self.kwh[1]),
            kwh_peak=Decimal(self.kwh[2]),
            kwh_flat=Decimal(self.kwh[3]),
            kwh_valley=Decimal(self.kwh[4]),
            amount_fen=self.amount_fen,
            issued_on=date.fromisoformat(self.issued_text),
            due_date=date.fromisoformat(self.due_text),
            source_ref=self.source_ref,
        )


def bill_content_hash(
    period_text: str, kwh: tuple[str, ...], amount_fen: int, issued_text: str, due_text: str, source_ref: str
) -> str:
    """``BillData.content_hash()`` from the values' text: the same canonical JSON (sorted keys,
    ``json.dumps`` separators and ASCII escaping), written with one f-string."""
    if source_ref.isascii() and source_ref.isprintable() and '"' not in source_ref and "\\" not in source_ref:
        ref = source_ref
    else:  # what json.dumps makes of it (\uXXXX for non-ASCII, escaped quotes and controls)
        ref = json.dumps(source_ref)[1:-1]
    canonical = (
        f'{{"amount_fen": {amount_fen}, "due_date": "{due_text}", "issued_on": "{issued_text}", '
        f'"kwh": ["{kwh[0]}", "{kwh[1]}", "{kwh[2]}", "{kwh[3]}", "{kwh[4]}"], '
        f'"period": "{period_text}", "source_ref": "{ref}"}}'
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


# Parsed dates and periods by their raw text: a bills file repeats a few dozen of them.
_DATES: dict[str, tuple[date, str]] = {}
_PERIODS: dict[str, tuple[date, str, str]] = {}
_CACHE_LIMIT = 10_000


def _date_text(raw: str, column: str) -> tuple[date, str]:
    hit = _DATES.get(raw)
    if hit is None:
        value = _date(raw, column)  # raises RowError (also when empty)
        if len(_DATES) >= _CACHE_LIMIT:
            _DATES.clear()
        hit = _DATES[raw] = (value, value.isoformat())
    return hit


def _period_text(raw: str) -> tuple[date, str, str]:
    hit = _PERIODS.get(raw)
    if hit is None:
        value = _period(raw)
        if len(_PERIODS) >= _CACHE_LIMIT:
            _PERIODS.clear()
        hit = _PERIODS[raw] = (value, value.isoformat(), f"{value:%Y-%m}")
    return hit


def _kwh_text(raw: str, column: str, *, required: bool = False) -> tuple[int, str]:
    """(kWh in hundredths, ``str`` of the Decimal quantized to 0.01) — what ``_kwh`` accepts.

    Plain ``123`` / ``123.4`` / ``123.45`` (at most 12 integer digits) are read without a
    Decimal; anything else (thousands separators, exponents, errors) goes through ``_kwh``.
    """
    if not raw:
        if required:
            raise RowError(column, "必填，不能为空")
        return 0, "0.00"
    if raw.isascii():
        head, dot, tail = raw.partition(".")
        if head.isdigit() and len(head) <= 12 and (not dot or (tail.isdigit() and len(tail) <= 2)):
            whole = head.lstrip("0") or "0"
            fraction = tail.ljust(2, "0") if dot else "00"
            return int(whole + fraction), f"{whole}.{fraction}"
    value = _kwh(raw, column, default=None if required else Decimal("0.00"))
    return int(value.scaleb(2)), str(value)


def _amount_fen(values: dict[str, str]) -> int:
    raw = values.get("amount_fen", "")
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw)
    return _fen(values, positive=False)


def _clean_bill(values: dict[str, str]) -> BillRow:
    account = _account_number(_required(values, "account_number"))
    period, period_text, month = _period_text(_required(values, "period"))
    total_cents, total = _kwh_text(values.get("kwh_total", "") or "", "kwh_total", required=True)
    sharp = _kwh_text(values.get("kwh_sharp", "") or "", "kwh_sharp")
    peak = _kwh_text(values.get("kwh_peak", "") or "", "kwh_peak")
    flat = _kwh_text(values.get("kwh_flat", "") or "", "kwh_flat")
    valley = _kwh_text(values.get("kwh_valley", "") or "", "kwh_valley")
    bands = sharp[0] + peak[0] + flat[0] + valley[0]
    if (sharp[0] or peak[0] or flat[0] or valley[0]) and abs(bands - total_cents) > 1:
        _bands(values, Decimal(total))  # raises with the reason (sums as Decimals)
    amount = _amount_fen(values)
    issued_on, issued_text = _date_text(values.get("issued_on", "") or "", "issued_on")
    due_date, due_text = _date_text(values.get("due_date", "") or "", "due_date")
    if due_date < issued_on:
        raise RowError("due_date", f"缴费截止日 {due_date} 早于出账日期 {issued_on}")
    source_ref = values.get("source_ref", "") or ""
    if len(source_ref) > 64:
        raise RowError("source_ref", "营销系统账单号超过 64 个字符")
    return BillRow(
        account,
        period,
        period_text,
        month,
        (total, sharp[1], peak[1], flat[1], valley[1]),
        amount,
        issued_text,
        due_text,
        source_ref,
    )


_BILL_COLUMNS = [
    "id",
    "account_id",
    "period",
    "version",
    "is_current",
    "source",
    "source_ref",
    "kwh_total",
    "kwh_sharp",
    "kwh_peak",
    "kwh_flat",
    "kwh_valley",
    "amount_fen",
    "difference_fen",
    "issued_on",
    "due_date",
    "previous_id",
    "content_hash",
    "created_at",
    "updated_at",
]
_LEDGER_COLUMNS = [
    "id",
    "account_id",
    "kind",
    "amount_fen",
    "reference",
    "bill_id",
    "payment_id",
    "occurred_at",
    "memo",
    "actor_staff_id",
]
_EVENT_COLUMNS = [
    "id",
    "kind",
    "channel",
    "occurred_at",
    "customer_user_id",
    "account_id",
    "actor_staff_id",
    "payload",
]
_TEXT_ROWS: dict[str, tuple] = {}


def _bill_writers() -> tuple[TextRows, TextRows, TextRows]:
    """Writers of bill, ledger and event rows for the current connection (kept per alias)."""
    writers = _TEXT_ROWS.get(connection.alias)
    if writers is None or writers[0].connection is not connections[connection.alias]:
        writers = _TEXT_ROWS[connection.alias] = (
            TextRows(Bill, _BILL_COLUMNS, using=connection.alias),
            TextRows(LedgerEntry, _LEDGER_COLUMNS, using=connection.alias),
            TextRows(DomainEvent, _EVENT_COLUMNS, using=connection.alias),
        )
    return writers


def uuid7_hex_block(count: int) -> list[str]:
    """``count`` UUIDv7s as 32 hex digits: one ``uuid7()`` with a counter in its low 32 bits.

    They keep the version and variant bits, sort after every id this process made before and
    before every later one (the ``uuid7`` they come from has a (millisecond, sequence) slot of
    its own), and cost a format instead of a lock and two ``os.urandom`` calls each.
    """
    if count >= 1 << 32:
        raise ValueError("at most 2**32 ids per block")
    base = uuid7().int & ~0xFFFFFFFF
    return [f"{base + n:032x}" for n in range(count)]


STREAM_PART = 1000  # bills per COPY write: the server inserts one part while the next is built


def bills_record_versions(
    items: list[tuple[int, BillRow]],
    *,
    source: str = BillSource.IMPORT,
    events: bool = True,
    now: datetime | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> tuple[int, int, int]:
    """The batched equivalent of ``bill_record_version`` for many (account id, row).

    At most one item per (account, period). Call inside a transaction. Returns
    (created first versions, new versions of existing bills, unchanged). Rows are written as
    text: one ``COPY`` per table on PostgreSQL (bills sent in parts as they are built), one
    ``executemany`` per part on SQLite. ``meanwhile`` is called after each table's rows are
    sent and before waiting for the server to insert them (the import reads ahead then).
    """
    now = now or timezone.now()
    periods = {row.period for _a, row in items}
    current: dict[tuple[int, date], tuple[int, int, int, str]] = {}
    for pk, account_id, period, version, amount, content_hash in (
        Bill.objects.select_for_update()
        .filter(account_id__in={a for a, _r in items}, period__in=periods, is_current=True)
        .values_list("id", "account_id", "period", "version", "amount_fen", "content_hash")
        .iterator(chunk_size=5000)
    ):
        current[(account_id, period)] = (pk, version, amount, content_hash)
    changed = []
    unchanged = 0
    for account_id, row in items:
        old = current.get((account_id, row.period))
        if old is not None and old[3] == row.content_hash:
            unchanged += 1
        else:
            changed.append((account_id, row, old))
    if not changed:
        return 0, 0, unchanged

    # One current version per (account, month) is a unique constraint: supersede first.
    superseded = [old[0] for _a, _r, old in changed if old is not None]
    for start in range(0, len(superseded), 5000):
        Bill.objects.filter(pk__in=superseded[start : start + 5000]).update(is_current=False, updated_at=now)
    bill_writer, ledger_writer, event_writer = _bill_writers()
    null, escape, true = bill_writer.null, bill_writer.escape, bill_writer.true
    now_text = bill_writer.datetime(now)
    memo_issued, memo_corrected = _("%(month)s 电费"), _("%(month)s 电费退补")
    memos: dict[tuple[str, str], str] = {}
    imported, corrected_kind = kinds.BILL_IMPORTED.name, kinds.BILL_CORRECTED.name
    system = Channel.SYSTEM.value
    issued_kind, correction_kind = LedgerKind.BILL_ISSUED.value, LedgerKind.BILL_CORRECTION.value
    ids = _inserter(Bill, now).reserve_ids(len(changed))
    ledger, event_rows = [], []
    created = corrected = 0
    with bill_writer.stream(meanwhile=meanwhile) as write:
        part = []
        for (account_id, row, old), pk in zip(changed, ids, strict=True):
            month, amount = row.month, row.amount_fen
            account_text, pk_text = str(account_id), str(pk)
            if old is None:
                version, difference, previous = 1, amount, null
            else:
                version, difference, previous = old[1] + 1, amount - old[2], str(old[0])
            kwh = row.kwh
            part.append(
                (
                    pk_text,
                    account_text,
                    row.period_text,
                    str(version),
                    true,
                    source,
                    escape(row.source_ref),
                    kwh[0],
                    kwh[1],
                    kwh[2],
                    kwh[3],
                    kwh[4],
                    str(amount),
                    str(difference) if old else "0",
                    row.issued_text,
                    row.due_text,
                    previous,
                    row.content_hash,
                    now_text,
                    now_text,
                )
            )
            if len(part) >= STREAM_PART:
                write(part)
                part = []
            if old is None:
                created += 1
                kind, memo_template, posted = issued_kind, memo_issued, amount
                if events:
                    event_rows.append(
                        (imported, account_text, f'{{"period": "{month}", "amount_fen": {amount}}}')
                    )
            else:
                corrected += 1
                kind, memo_template, posted = correction_kind, memo_corrected, difference
                if events:
                    event_rows.append(
                        (
                            corrected_kind,
                            account_text,
                            f'{{"period": "{month}", "version": {version}, "difference_fen": {difference}}}',
                        )
                    )
                if not difference:
                    continue
            memo = memos.get((kind, month))
            if memo is None:
                memo = memos[(kind, month)] = escape((memo_template % {"month": month})[:200])
            ledger.append(
                (
                    escape(f"bill:{row.account}:{month}:v{version}"),
                    account_text,
                    kind,
                    str(posted),
                    pk_text,
                    memo,
                )
            )
        write(part)
    ledger_writer.insert(
        [
            (uid, account, kind, amount, reference, bill, null, now_text, memo, null)
            for uid, (reference, account, kind, amount, bill, memo) in zip(
                uuid7_hex_block(len(ledger)), ledger, strict=True
            )
        ],
        meanwhile=meanwhile,
    )
    event_writer.insert(
        [
            (uid, kind, system, now_text, null, account, null, payload)
            for uid, (kind, account, payload) in zip(
                uuid7_hex_block(len(event_rows)), event_rows, strict=True
            )
        ],
        meanwhile=meanwhile,
    )
    for kind, count in Counter(kind for kind, _a, _p in event_rows).items():
        metrics.DOMAIN_EVENTS.labels(kind, system).inc(count)
    return created, corrected, unchanged


def _write_bills(
    batch: list[tuple[int, BillRow]],
    result: ImportResult,
    *,
    events: bool,
    meanwhile: Callable[[], None] | None = None,
) -> None:
    with transaction.atomic():
        accounts = _accounts_by_number(row.account for _n, row in batch)
        items = []
        for number, row in batch:
            account_id = accounts.get(row.account)
            if account_id is None:
                result.reject(number, "account_number", f"户号 {row.account} 不存在")
            else:
                items.append((account_id, row))
        created, corrected, unchanged = bills_record_versions(items, events=events, meanwhile=meanwhile)
    result.created += created
    result.updated += corrected
    result.unchanged += unchanged


# --- daily readings ------------------------------------------------------------------------------


def import_readings(
    path: Path,
    *,
    encoding: str | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """日冻结读数: one row per meter and day; a corrected reading replaces the stored one."""
    return _stream(
        path,
        required=READING_COLUMNS,
        encoding=encoding,
        progress=progress,
        clean=_clean_reading,
        key=lambda c: (c["meter"], c["reading_date"]),
        describe_key=lambda c: "reading_date",
        write=_write_readings,
        batch_size=batch_size,
    )


def _clean_reading(values: dict[str, str]) -> dict:
    meter = _required(values, "meter_number")
    reading_date = _date(values.get("reading_date", "") or "", "reading_date")
    register = _kwh(values.get("register_total", "") or "", "register_total")
    total = _kwh(values.get("kwh_total", "") or "", "kwh_total")
    sharp, peak, flat, valley = _bands(values, total)
    return {
        "meter": meter,
        "reading_date": reading_date,
        "register_total": register,
        "kwh_total": total,
        "kwh_sharp": sharp,
        "kwh_peak": peak,
        "kwh_flat": flat,
        "kwh_valley": valley,
        "_key_text": f"表号 {meter} {reading_date} 的读数",
    }


_READING_FIELDS = ("register_total", "kwh_total", "kwh_sharp", "kwh_peak", "kwh_flat", "kwh_valley")


@transaction.atomic
def _write_readings(batch: list[tuple[int, dict]], result: ImportResult) -> None:
    now = timezone.now()
    meters = dict(
        Meter.objects.filter(number__in={c["meter"] for _n, c in batch}).values_list("number", "id")
    )
    accepted = list(_rejecting_unknown(batch, result, meters, "meter", "meter_number", "表号"))
    existing = {
        (r.meter_id, r.reading_date): r
        for r in DailyReading.objects.select_for_update().filter(
            meter_id__in={pk for _n, _c, pk in accepted},
            reading_date__in={c["reading_date"] for _n, c, _p in accepted},
        )
    }
    # Months already moved to the lake (retention.py) are closed: their sums are kept and the
    # lake is the record, so a reading for them is refused rather than silently re-added.
    archived = set(
        MonthlyUsage.objects.filter(
            meter_id__in={pk for _n, _c, pk in accepted},
            period__in={c["reading_date"].replace(day=1) for _n, c, _p in accepted},
        ).values_list("meter_id", "period")
    )
    to_create, to_update = [], []
    for number, clean, meter_id in accepted:
        if (meter_id, clean["reading_date"].replace(day=1)) in archived:
            result.reject(
                number,
                "reading_date",
                f"{clean['_key_text']}所在月份已归档到数据湖（{clean['reading_date']:%Y-%m}），不再导入数据库",
            )
            continue
        stored = existing.get((meter_id, clean["reading_date"]))
        if stored is None:
            row = {f: clean[f] for f in _READING_FIELDS}
            to_create.append(
                {
                    "meter_id": meter_id,
                    "reading_date": clean["reading_date"],
                    **row,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            continue
        if all(getattr(stored, f) == clean[f] for f in _READING_FIELDS):
            result.unchanged += 1
            continue
        for field in _READING_FIELDS:
            setattr(stored, field, clean[field])
        stored.updated_at = now
        to_update.append(stored)
    _insert(DailyReading, to_create, now)
    if to_update:
        DailyReading.objects.bulk_update(to_update, [*_READING_FIELDS, "updated_at"], batch_size=1000)
    result.created += len(to_create)
    result.updated += len(to_update)


# --- payments ------------------------------------------------------------------------------------


def import_payments(
    path: Path,
    *,
    encoding: str | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    events: bool = True,
) -> ImportResult:
    """缴费记录 known to the billing system; credited once per (gateway, gateway_txn_id)."""
    return _stream(
        path,
        required=PAYMENT_COLUMNS,
        require_one_of=("amount_fen", "amount_yuan"),
        encoding=encoding,
        progress=progress,
        clean=_clean_payment,
        key=lambda c: (c["gateway"], c["txn"]),
        describe_key=lambda c: "gateway_txn_id",
        write=lambda batch, result: _write_payments(batch, result, events=events, mark=f"{IMPORTED_MARK}"),
        batch_size=batch_size,
    )


def _clean_payment(values: dict[str, str]) -> dict:
    account = _account_number(_required(values, "account_number"))
    amount = _fen(values, positive=True)
    gateway = values.get("gateway", "") or IMPORT_GATEWAY
    if len(gateway) > 32:
        raise RowError("gateway", "收款渠道超过 32 个字符")
    txn = _required(values, "gateway_txn_id")
    if len(txn) > 64:
        raise RowError("gateway_txn_id", "渠道流水号超过 64 个字符")
    paid_at = _datetime(values.get("paid_at", "") or "", "paid_at")
    raw_channel = values.get("channel", "") or ""
    channel = _CHANNEL_NAMES.get(raw_channel.lower() if raw_channel.isascii() else raw_channel, None)
    if raw_channel and channel is None:
        raise RowError("channel", f"业务渠道 {raw_channel!r} 无效")
    return {
        "account": account,
        "amount_fen": amount,
        "gateway": gateway,
        "txn": txn,
        "paid_at": paid_at,
        "channel": channel or Channel.OUTLET,
        "_key_text": f"渠道流水 {gateway}:{txn}",
    }


def _write_payments(batch: list[tuple[int, dict]], result: ImportResult, *, events: bool, mark: str) -> None:
    with transaction.atomic():
        accounts = _accounts_by_number(c["account"] for _n, c in batch)
        accepted = list(_rejecting_unknown(batch, result, accounts, "account", "account_number", "户号"))
        created, unchanged = payments_record(accepted, result, events=events, posted_in_file=mark)
    result.created += created
    result.unchanged += unchanged


def payments_record(
    accepted: list[tuple[int, dict, int]],
    result: ImportResult | None,
    *,
    events: bool = True,
    posted_in_file: str = "",
    now: datetime | None = None,
) -> tuple[int, int]:
    """The batched equivalent of ``payment_record``: payment, ledger credit, online points and
    event per new (gateway, txn); an existing one with the same account and amount is unchanged,
    with another account or amount it is a conflict (rejected, never a second credit)."""
    now = now or timezone.now()
    existing: dict[tuple[str, str], tuple[int, int]] = {}
    by_gateway: dict[str, list[str]] = {}
    for _n, clean, _a in accepted:
        by_gateway.setdefault(clean["gateway"], []).append(clean["txn"])
    for gateway, txns in by_gateway.items():
        for txn, account_id, amount in Payment.objects.filter(
            gateway=gateway, gateway_txn_id__in=txns
        ).values_list("gateway_txn_id", "account_id", "amount_fen"):
            existing[(gateway, txn)] = (account_id, amount)
    payments, unchanged = [], 0
    for number, clean, account_id in accepted:
        stored = existing.get((clean["gateway"], clean["txn"]))
        if stored is None:
            payments.append((clean, account_id))
        elif stored == (account_id, clean["amount_fen"]):
            unchanged += 1
        elif result is not None:
            result.reject(number, "gateway_txn_id", "该渠道流水号已以不同户号或金额入账")
    rows = [
        {
            "account_id": account_id,
            "amount_fen": clean["amount_fen"],
            "gateway": clean["gateway"],
            "gateway_txn_id": clean["txn"],
            "channel": Channel(clean["channel"]).value,
            "paid_at": clean["paid_at"],
            "posted_in_file": posted_in_file,
            "created_at": now,
            "updated_at": now,
        }
        for clean, account_id in payments
    ]
    _insert(Payment, rows, now)
    ledger, points, event_rows = [], [], []
    for row in rows:
        gateway, txn, amount = row["gateway"], row["gateway_txn_id"], row["amount_fen"]
        ledger.append(
            {
                "id": uuid7(),
                "account_id": row["account_id"],
                "kind": LedgerKind.PAYMENT,
                "amount_fen": -amount,
                "reference": f"payment:{gateway}:{txn}",
                "bill_id": None,
                "payment_id": row["id"],
                "occurred_at": row["paid_at"],
                "memo": _("缴费"),
                "actor_staff_id": None,
            }
        )
        if row["channel"] in ONLINE_CHANNELS and amount >= 100:
            points.append(
                {
                    "id": uuid7(),
                    "account_id": row["account_id"],
                    "points": (amount // 100) * POINTS_PER_YUAN_ONLINE,
                    "reason": PointsReason.ONLINE_PAYMENT,
                    "reference": f"points:payment:{gateway}:{txn}",
                    "occurred_at": row["paid_at"],
                }
            )
        if events:
            event_rows.append(
                {
                    "kind": kinds.PAYMENT_RECEIVED.name,
                    "channel": row["channel"],
                    "account_id": row["account_id"],
                    "payload": {"amount_fen": amount, "gateway": gateway, "txn": txn},
                }
            )
    _insert(LedgerEntry, ledger, now, reserve=False)
    _insert(PointsEntry, points, now, reserve=False)
    _events(event_rows, now)
    return len(rows), unchanged


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a local (Asia/Shanghai) calendar day, in UTC."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=LOCAL_TZ)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)
