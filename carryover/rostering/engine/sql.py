"""Set-based writes whose query count does not depend on how many rows they carry.

Each helper sends all its rows as ONE JSON parameter and lets the database unpack it
(`json_array_elements` on PostgreSQL, `json_each` on SQLite): one INSERT or UPDATE per
call whatever the size, no 999-variable batches, no per-row round trips. Values are
plain JSON scalars; datetimes are written in the form each backend stores.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models

Row = Sequence[Any]


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if _is_postgres():
            return value.isoformat()
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def _dump(rows: Sequence[Row]) -> str:
    return json.dumps(rows, default=_json_default, separators=(",", ":"))


def _pg_type(field: models.Field[Any, Any]) -> str:
    db_type = field.db_type(connection)
    if field.is_relation or db_type in ("bigserial", "serial"):
        return "bigint"
    return str(db_type)


def _fields(model: type[models.Model], names: Sequence[str]) -> list[models.Field[Any, Any]]:
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    return [by_attname[name] for name in names]


def _unpack(fields: Sequence[models.Field[Any, Any]], first: int = 0) -> tuple[str, str]:
    """(select list, FROM clause) turning the JSON parameter into rows of columns."""
    if _is_postgres():
        columns = ", ".join(f"(e->>{first + i})::{_pg_type(f)}" for i, f in enumerate(fields))
        return columns, "json_array_elements(%s::json) AS x(e)"
    columns = ", ".join(f"json_extract(value, '$[{first + i}]')" for i in range(len(fields)))
    return columns, "json_each(%s)"


def _constant(value: Any, field: models.Field[Any, Any]) -> tuple[str, Any]:
    if isinstance(value, dt.datetime) and not _is_postgres():
        value = connection.ops.adapt_datetimefield_value(value)
    if _is_postgres():
        return f"%s::{_pg_type(field)}", value
    return "%s", value


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Row],
    constants: dict[str, Any] | None = None,
) -> int:
    """INSERT every row (values in `columns` order, by attname) in one statement.

    `constants` gives one value for a column in every row; every other column gets
    its field default, so a field added to the model later needs no change here.
    """
    if not rows:
        return 0
    quote = connection.ops.quote_name
    fields = _fields(model, columns)
    select, source = _unpack(fields)
    given = {*columns, *(constants or {})}
    fixed = dict(constants or {})
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname in given:
            continue
        fixed[field.attname] = field.get_default()
    fixed_fields = _fields(model, list(fixed))
    fixed_sql: list[str] = []
    params: list[Any] = []
    for field in fixed_fields:
        placeholder, value = _constant(fixed[field.attname], field)
        fixed_sql.append(placeholder)
        params.append(value)
    all_columns = ", ".join(quote(f.column) for f in [*fields, *fixed_fields])
    all_values = ", ".join([select, *fixed_sql])
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({all_columns}) "  # noqa: S608
        f"SELECT {all_values} FROM {source}"
    )
    # The JSON rows parameter sits in the FROM clause, after the constants.
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, _dump(rows)])
        return int(cursor.rowcount)


def update_rows(model: type[models.Model], columns: Sequence[str], rows: Sequence[Row]) -> int:
    """UPDATE rows by primary key in one statement; each row is (pk, *values in `columns`)."""
    if not rows:
        return 0
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk = model._meta.pk
    assert pk is not None
    fields = _fields(model, columns)
    if _is_postgres():
        sets = ", ".join(
            f"{quote(f.column)} = (x.e->>{i + 1})::{_pg_type(f)}" for i, f in enumerate(fields)
        )
        sql = (
            f"UPDATE {table} SET {sets} FROM json_array_elements(%s::json) AS x(e) "  # noqa: S608
            f"WHERE {table}.{quote(pk.column)} = (x.e->>0)::bigint"
        )
    else:
        inner = ", ".join(f"json_extract(value, '$[{i + 1}]') AS c{i}" for i in range(len(fields)))
        sets = ", ".join(f"{quote(f.column)} = x.c{i}" for i, f in enumerate(fields))
        sql = (
            f"UPDATE {table} SET {sets} FROM (SELECT json_extract(value, '$[0]') AS pk, "  # noqa: S608
            f"{inner} FROM json_each(%s)) AS x WHERE {table}.{quote(pk.column)} = x.pk"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_dump(rows)])
        return int(cursor.rowcount)


def json_values_subquery(values: Sequence[Any], kind: str = "bigint") -> tuple[str, list[str]]:
    """A subquery yielding `values` as one column, for `pk__in=RawSQL(...)`: one parameter."""
    if _is_postgres():
        sql = f"SELECT (value)::{kind} FROM json_array_elements_text(%s::json)"  # noqa: S608
        return sql, [_dump(values)]
    return "SELECT value FROM json_each(%s)", [_dump(values)]
