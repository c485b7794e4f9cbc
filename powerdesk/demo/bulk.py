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
                cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                               [self.table, self.pk_column, count])
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

