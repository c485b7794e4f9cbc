"""Single-statement inserts and reads for hot paths (the WeChat callback stores several rows per
message), ``insert_select_statement`` for rows that take values from another clause of the same
statement, and ``WriteBatch``, which sends several data-changing statements as one on PostgreSQL.

``Model.objects.create()`` compiles its INSERT afresh on every call, which costs several times
the database round trip itself. ``insert_rows`` builds the statement once per (model, row
count, clause) and reuses it; values still go through each field's ``pre_save`` (``auto_now``,
``auto_now_add``) and ``get_db_prep_save`` (JSON, dates, foreign keys), exactly as ``save()``
prepares them, so a row written here reads back the same as one written by the ORM.

No ``pre_save``/``post_save`` signals are sent (the models used here have no receivers) and
model ``save()`` overrides are bypassed: use it only for plain models, in code whose tests pin
the rows it writes.

``on_conflict``: ``""`` (a conflict raises ``IntegrityError``), ``"nothing"`` (``ON CONFLICT DO
NOTHING``: a row that would violate any unique constraint is skipped; with ``returning_pk`` its
slot is ``None``), or a whole ``ON CONFLICT (…) DO UPDATE SET …`` clause written by the caller
in the dialect PostgreSQL and SQLite (≥ 3.35) share.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache

from django.db import connections
from django.db.models import AutoField, BigAutoField, Field, Model, SmallAutoField, signals
from django.db.models.base import ModelState

_AUTO = (AutoField, BigAutoField, SmallAutoField)


@cache
def _fields(model: type[Model]) -> tuple[Field, ...]:
    return tuple(f for f in model._meta.concrete_fields if not isinstance(f, _AUTO))


@lru_cache(maxsize=256)
def _statement(model: type[Model], rows: int, on_conflict: str, returning_pk: bool, vendor: str, alias: str = "") -> str:
    fields = _fields(model)
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    columns = ", ".join(f'"{f.column}"' for f in fields)
    table = model._meta.db_table
    sql = f'INSERT INTO {_target(table, alias)} ({columns}) VALUES ' + ", ".join([placeholders] * rows)  # noqa: S608 (names from the model)
    if on_conflict == "nothing":
        sql += " ON CONFLICT DO NOTHING"
    elif on_conflict:
        sql += " " + on_conflict
    if returning_pk:
        sql += f' RETURNING "{model._meta.pk.column}"'
    return sql


def _target(table: str, alias: str) -> str:
    """The INSERT's target; ``alias`` names it in an ``ON CONFLICT … DO UPDATE`` clause, which
    then reads shorter than with the table's name each time."""
    return f'"{table}" AS "{alias}"' if alias else f'"{table}"'


def insert_statement(
    objs: Sequence[Model],
    *,
    on_conflict: str = "",
    returning_pk: bool = False,
    alias: str = "",
    using: str = "default",
) -> tuple[str, list]:
    """The INSERT of ``objs`` (instances of one model) and its parameters, without running it —
    for ``WriteBatch.add`` (``insert_rows`` runs it)."""
    model = type(objs[0])
    connection = connections[using]
    fields = _fields(model)
    params: list = []
    for obj in objs:
        if type(obj) is not model:
            raise TypeError(f"insert_rows: {type(obj).__name__} among {model.__name__} rows")
        params.extend(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields)
    return _statement(model, len(objs), on_conflict, returning_pk, connection.vendor, alias), params


@lru_cache(maxsize=256)
def _select_statement(
    model: type[Model],
    source: str,
    expressions: tuple[tuple[str, str], ...],
    on_conflict: str,
    returning_pk: bool,
    alias: str,
) -> tuple[str, tuple[bool, ...]]:
    fields = _fields(model)
    by_attname = dict(expressions)
    unknown = set(by_attname) - {f.attname for f in fields}
    if unknown:
        raise ValueError(f"insert_select_statement: {model.__name__} has no field {sorted(unknown)}")
    items = [by_attname.get(f.attname, "%s") for f in fields]
    if any(item.count("%s") > 1 for item in items):
        raise ValueError("insert_select_statement: an expression takes its field's value once at most")
    columns = ", ".join(f'"{f.column}"' for f in fields)
    target = _target(model._meta.db_table, alias)
    sql = f'INSERT INTO {target} ({columns}) SELECT {", ".join(items)} FROM {source}'  # noqa: S608 (names from the model, expressions from the caller's code)
    if on_conflict:
        sql += " " + on_conflict
    if returning_pk:
        sql += f' RETURNING "{model._meta.pk.column}"'
    return sql, tuple(item.count("%s") == 1 for item in items)


def insert_select_statement(
    obj: Model,
    *,
    source: str,
    expressions: dict[str, str],
    on_conflict: str = "",
    returning_pk: bool = False,
    alias: str = "",
    using: str = "default",
) -> tuple[str, list]:
    """``INSERT INTO … SELECT … FROM source`` for one unsaved instance: one row per row of
    ``source`` (none when it is empty — a ``WITH`` clause's ``RETURNING`` rows, say), with the
    instance's values except where ``expressions`` (attname → SQL) says otherwise. An
    expression holding one ``%s`` receives the field's own value there (``CAST(%s AS jsonb) ||
    …``); one without takes nothing from the instance (``inbound."id"``).

    PostgreSQL types the parameters from the target columns, as for ``VALUES``. For
    ``WriteBatch``-style single statements; SQLite has no data-changing ``WITH`` clauses."""
    model = type(obj)
    connection = connections[using]
    sql, takes_value = _select_statement(
        model, source, tuple(sorted(expressions.items())), on_conflict, returning_pk, alias
    )
    params = [
        f.get_db_prep_save(f.pre_save(obj, True), connection)
        for f, takes in zip(_fields(model), takes_value, strict=True)
        if takes
    ]
    return sql, params


def insert_rows(
    objs: Sequence[Model],
    *,
    on_conflict: str = "",
    returning_pk: bool = False,
    alias: str = "",
    using: str = "default",
) -> list[int | None] | None:
    """INSERT ``objs`` (instances of one model, not yet saved) in one statement.

    With ``returning_pk`` each instance's ``pk`` is set and the list of keys is returned (``None``
    for a row ``ON CONFLICT DO NOTHING`` skipped — only for a single row, since the database
    returns the inserted rows without saying which were skipped).
    """
    if not objs:
        return [] if returning_pk else None
    if returning_pk and on_conflict == "nothing" and len(objs) > 1:
        raise ValueError("returning_pk with ON CONFLICT DO NOTHING needs one row at a time")
    sql, params = insert_statement(
        objs, on_conflict=on_conflict, returning_pk=returning_pk, alias=alias, using=using
    )
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        if not returning_pk:
            return None
        keys = [row[0] for row in cursor.fetchall()]
    if len(keys) < len(objs):  # the one row was skipped
        return [None]
    for obj, key in zip(objs, keys, strict=True):
        obj.pk = key
        obj._state.adding = False
        obj._state.db = using
    return keys


class WriteBatch:
    """Data-changing statements (INSERT, UPDATE, DELETE; none returning rows) run together.

    On PostgreSQL they go as **one** statement, each but the last in a ``WITH`` clause of its
    own: PostgreSQL runs every such clause exactly once, to completion, whether or not anything
    reads it — one parse, one round trip and one driver call instead of one each. All of them see
    the database as it was before the statement, so none may depend on another's effect (or
    change a row another changes). Elsewhere (SQLite) they run one after another, in order.

    Services take ``batch=`` and add their statement instead of running it; the caller runs the
    batch inside its transaction (the engine writes the events, the sender's thread and the
    keyword hit of a message whose answer writes this way: conversations.services
    ``reply_and_rest_record``; other messages go as one statement, ``exchange_record``).
    """

    def __init__(self, using: str = "default") -> None:
        self.using = using
        self.statements: list[tuple[str, Sequence]] = []

    def add(self, sql: str, params: Sequence) -> None:
        if " RETURNING " in sql:  # statements here are written with upper-case keywords
            raise ValueError("WriteBatch statements return nothing")
        self.statements.append((sql, params))

    def run(self) -> None:
        statements, self.statements = self.statements, []
        if not statements:
            return
        connection = connections[self.using]
        with connection.cursor() as cursor:
            if connection.vendor != "postgresql" or len(statements) == 1:
                for sql, params in statements:
                    cursor.execute(sql, params)
                return
            *first, (last_sql, _params) = statements
            sql = "WITH " + ", ".join(f"w{index} AS ({s})" for index, (s, _p) in enumerate(first)) + " " + last_sql
            cursor.execute(sql, [value for _s, params in statements for value in params])


@lru_cache(maxsize=256)
def _converters(model: type[Model], names: tuple[str, ...], vendor: str, using: str):
    """Per column: the field's attname and the converters the ORM would apply to its value
    (SQLite hands dates and decimals back as text, PostgreSQL as Python values)."""
    connection = connections[using]
    plan = []
    for name in names:
        field = model._meta.get_field(name)
        column = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        plan.append((field.attname, tuple(found), column))
    # Model.from_db wants the values in the model's field order.
    position = {f.attname: index for index, f in enumerate(model._meta.concrete_fields)}
    order = tuple(sorted(range(len(plan)), key=lambda index: position[plan[index][0]]))
    return tuple(plan), order, tuple(plan[index][0] for index in order)


def select_rows(
    model: type[Model], sql: str, params: Sequence, *, fields: Sequence[str], using: str = "default"
):
    """Instances of ``model`` from ``sql``, whose columns are ``fields`` (field names, in order)
    and then any extra values, which go on each instance as attributes named after their
    column aliases. Fields not selected are deferred (they load if read), as with ``.only()``.

    What ``Model.objects.raw()`` does, without working out the column mapping and converters
    again on every call; the statement is the caller's, values always parameters."""
    connection = connections[using]
    plan, order, attnames = _converters(model, tuple(fields), connection.vendor, using)
    count = len(plan)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        extra_names = [column[0] for column in cursor.description[count:]]
        rows = cursor.fetchall()
    build = _builder(model)
    instances = []
    for row in rows:
        values = list(row[:count])
        for index, (_attname, converters, column) in enumerate(plan):
            for converter in converters:
                values[index] = converter(values[index], column, connection)
        instance = build(model, using, attnames, [values[index] for index in order])
        for name, value in zip(extra_names, row[count:], strict=True):
            setattr(instance, name, value)
        instances.append(instance)
    return instances


def loaded_instance(model: type[Model], attnames: Sequence[str], values: Sequence, *, using: str = "default"):
    """An instance of ``model`` as read from the database with only ``attnames`` loaded (the
    other fields load if read) — for rows a statement returned beside another model's."""
    return _builder(model)(model, using, tuple(attnames), list(values))


def _builder(model: type[Model]):
    """``from_db`` when someone listens to the model's pre/post_init signals, else the direct way."""
    if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        return _built_from_db
    return _built_directly


def _built_from_db(model: type[Model], using: str, attnames: tuple[str, ...], values: list) -> Model:
    return model.from_db(using, attnames, values)


def _built_directly(model: type[Model], using: str, attnames: tuple[str, ...], values: list) -> Model:
    """What ``from_db`` gives for these fields, without ``Model.__init__``: its job for a row
    read from the database is to put each loaded value in the instance's ``__dict__`` (a field
    left out stays deferred and loads when read, as with ``.only()``) and to send
    ``pre_init``/``post_init`` — used only for models nobody listens to those for. In the
    callback's profile ``Model.__init__`` (its general case, for partly loaded rows) was a third
    of ``select_rows``' time; an in-process A/B of the two ways was within its ±5–10 % noise."""
    instance = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = using
    instance._state = state
    instance.__dict__.update(zip(attnames, values, strict=True))
    return instance
