"""Fast inserts for the demo's big tables: one ``executemany`` (SQLite) or ``COPY`` (PostgreSQL)
per chunk, ids reserved up front.

``bulk_create`` spends ~100 µs per account row in Python (a model instance, then per-field
preparation, in statements of 25 rows on SQLite); at a million customers that is most of the
run. Here a row is a plain dict, only date, datetime and JSON values go through Django's
field preparation, and the driver loops over the rows in C. Ids are reserved before the
insert, so bindings can point at accounts and users without reading anything back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db import connections
from django.db.models import Model

# Types whose Python value the drivers cannot take as-is on every backend.
_PREPARED_TYPES = {"DateField", "DateTimeField", "JSONField"}


class BulkInserter:
    """Insert dict rows into one model's table; keys are field attnames (``account_id``)."""

    def __init__(self, model: type[Model], *, using: str, now: datetime) -> None:
        self.model = model
        self.connection = connections[using]
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.known = set(self.attnames)
        ops = self.connection.ops
        table = ops.quote_name(model._meta.db_table)
        columns = ", ".join(ops.quote_name(f.column) for f in self.fields)
        placeholders = ", ".join(["%s"] * len(self.fields))
        self.sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
        self.copy_sql = f"COPY {table} ({columns}) FROM STDIN"
        self.pk_column = model._meta.pk.column
        self.table = model._meta.db_table
        self.sequence: str | None = None  # PostgreSQL: the id sequence, once looked up
        # Per field: a converter for supplied values, and the prepared value when absent.
        self.converters = []
        self.absent = []
        for field in self.fields:
            if field.get_internal_type() in _PREPARED_TYPES:
                self.converters.append(lambda value, f=field: f.get_db_prep_save(value, self.connection))
            else:
                self.converters.append(None)
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                self.absent.append(field.get_db_prep_save(now, self.connection))
            else:  # the field's default, or "" / None as Django would save it; NOT NULL still applies
                self.absent.append(field.get_db_prep_save(field.get_default(), self.connection))

    def reserve_ids(self, count: int) -> list[int]:
        """Ids the next ``count`` rows may use. Call inside the transaction that inserts them.

        PostgreSQL draws them from the table's sequence (safe beside other writers); SQLite
        continues after the highest id, which the transaction's write lock keeps stable.
        """
        if count == 0:
            return []
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql":
                if self.sequence is None:  # looked up once: per row it costs more than nextval
                    cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [self.table, self.pk_column])
                    self.sequence = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [self.sequence, count]
                )
                return [row[0] for row in cursor.fetchall()]
            quoted = self.connection.ops.quote_name
            cursor.execute(f"SELECT COALESCE(MAX({quoted(self.pk_column)}), 0) FROM {quoted(self.table)}")  # noqa: S608
            start = cursor.fetchone()[0] + 1
            return list(range(start, start + count))

    def insert(self, rows: list[dict]) -> None:
        if not rows:
            return
        params = []
        for row in rows:
            unknown = row.keys() - self.known
            if unknown:
                raise ValueError(f"{self.model.__name__} has no field(s) {sorted(unknown)}")
            values = []
            for attname, convert, absent in zip(self.attnames, self.converters, self.absent, strict=True):
                if attname in row:
                    value = row[attname]
                    values.append(convert(value) if convert else value)
                else:
                    values.append(absent)
            params.append(values)
        if self.connection.vendor == "postgresql":
            self._copy(params)
            return
        with self.connection.cursor() as cursor:
            cursor.executemany(self.sql, params)

    def _copy(self, params: list[list]) -> None:
        """PostgreSQL: COPY is several times faster than even pipelined INSERTs."""
        started = time.monotonic()
        with self.connection.cursor() as cursor, cursor.cursor.copy(self.copy_sql) as copy:
            for values in params:
                copy.write_row(values)
        if self.connection.queries_logged:  # as Django's debug cursor logs what it runs
            self.connection.queries_log.append(
                {"sql": f"{len(params)} rows: {self.copy_sql}", "time": f"{time.monotonic() - started:.3f}"}
            )


# --- rows already in database text ----------------------------------------------------------------

COPY_NULL = "\\N"


def copy_escape(text: str) -> str:
    """``text`` as a value of PostgreSQL's COPY text format (backslash, tab, newline, CR escaped)."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _same(text: str) -> str:
    return text


class TextRows:
    """Insert tuples whose values are already what the database takes as text, in ``attnames``
    order: one ``COPY … FROM STDIN`` of tab-joined lines (PostgreSQL) or one ``executemany``
    (SQLite). Nothing per value goes through Django's field preparation, so the caller builds
    each row with one f-string or tuple and the rest runs in C.

    Callers write NULL as ``self.null``, booleans as ``self.true``/``self.false``, dates as ISO
    text, datetimes with ``self.datetime(value)``, integers and decimals as ``str``, UUIDs as 32
    hex digits, JSON as its text, and pass free text through ``self.escape`` (COPY escaping on
    PostgreSQL, nothing on SQLite).
    """

    def __init__(self, model: type[Model], attnames: list[str], *, using: str) -> None:
        self.connection = connections[using]
        self.postgres = self.connection.vendor == "postgresql"
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [name for name in attnames if name not in fields]
        if unknown:
            raise ValueError(f"{model.__name__} has no field(s) {unknown}")
        self.fields = [fields[name] for name in attnames]
        ops = self.connection.ops
        table = ops.quote_name(model._meta.db_table)
        columns = ", ".join(ops.quote_name(f.column) for f in self.fields)
        self.copy_sql = f"COPY {table} ({columns}) FROM STDIN"
        self.insert_sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(self.fields))})"  # noqa: S608
        self.null = COPY_NULL if self.postgres else None
        self.escape = copy_escape if self.postgres else _same
        self.true, self.false = "1", "0"  # PostgreSQL's boolean input and SQLite's storage alike

    def datetime(self, value: datetime) -> str:
        """An aware datetime as this backend stores it (SQLite: Django's naive UTC text)."""
        if self.postgres:
            return value.isoformat()
        return str(self.connection.ops.adapt_datetimefield_value(value))

    def insert(self, rows: list[tuple], *, meanwhile: Callable[[], None] | None = None) -> None:
        """Insert ``rows``. ``meanwhile`` (optional) is called once the data is sent and before
        waiting for the database to finish with it: on PostgreSQL the server inserts the rows
        (and maintains the indexes) while the caller does other Python work."""
        if rows:
            with self.stream(meanwhile=meanwhile) as write:
                write(rows)
        elif meanwhile is not None:
            meanwhile()

    @contextmanager
    def stream(
        self, *, meanwhile: Callable[[], None] | None = None
    ) -> Iterator[Callable[[list[tuple]], None]]:
        """One ``COPY`` (PostgreSQL) fed in parts: ``with rows.stream() as write: write(part)…``.

        Each ``write`` hands its rows to the server, which works on them while the caller builds
        the next part. On SQLite each part is one ``executemany``. ``meanwhile`` as in ``insert``.
        """
        started, count = time.monotonic(), 0
        with self.connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(self.copy_sql) as copy:

                    def write(rows: list[tuple]) -> None:
                        nonlocal count
                        if rows:
                            count += len(rows)
                            copy.write("\n".join(["\t".join(row) for row in rows]) + "\n")

                    yield write
                    if meanwhile is not None:
                        meanwhile()
            else:

                def write(rows: list[tuple]) -> None:
                    nonlocal count
                    if rows:
                        count += len(rows)
                        cursor.executemany(self.insert_sql, rows)

                yield write
                if meanwhile is not None:
                    meanwhile()
        if self.connection.queries_logged:
            self.connection.queries_log.append(
                {"sql": f"{count} rows: {self.copy_sql}", "time": f"{time.monotonic() - started:.3f}"}
            )
