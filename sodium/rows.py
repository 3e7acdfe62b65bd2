"""Single-row inserts for the engine's hot paths, without the ORM's per-call query building.

Every transition writes an activity event and many write an outbox row. `Model.save()` builds
and compiles its INSERT anew each time, which costs far more CPU than the database spends
running it; here the statement text is built once per model and reused. Values go through
each field's own `pre_save`/`get_db_prep_save`, exactly as `save()` would send them.
No signals are sent (nothing in the project listens to these models' signals).
"""

from __future__ import annotations

from typing import TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)

_STATEMENTS: dict[tuple[type[Model], str, str], tuple[str, list]] = {}


def _statement(model: type[Model], unique: str) -> tuple[str, list]:
    key = (model, unique, connection.vendor)
    if key not in _STATEMENTS:
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        if unique:
            # PostgreSQL and SQLite (3.24+) both skip the row when the unique value exists;
            # PostgreSQL first waits for a concurrent insert of that value to commit or roll back.
            sql += f" ON CONFLICT ({quote(meta.get_field(unique).column)}) DO NOTHING"
        sql += f" RETURNING {quote(meta.pk.column)}"
        _STATEMENTS[key] = (sql, fields)
    return _STATEMENTS[key]


def insert(obj: Model, *, unique: str = "") -> bool:
    """Insert `obj` as a new row and set its pk; return True.

    With `unique` (the name of a field with a unique constraint), insert nothing and return
    False when a row with the same value already exists.
    """
    sql, fields = _statement(type(obj), unique)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return True


_UPDATES: dict[tuple[type[Model], tuple[str, ...], str], tuple[str, list]] = {}


def update(obj: Model, fields: list[str]) -> None:
    """Write `fields` of an existing row, like `obj.save(update_fields=fields)`."""
    key = (type(obj), tuple(fields), connection.vendor)
    if key not in _UPDATES:
        meta = obj._meta
        quote = connection.ops.quote_name
        targets = [meta.get_field(name) for name in fields]
        sets = ", ".join(f"{quote(f.column)} = %s" for f in targets)
        _UPDATES[key] = (
            f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s",
            targets,
        )
    sql, targets = _UPDATES[key]
    params = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in targets]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, obj.pk])


_READERS: dict[tuple[type[Model], tuple[str, ...], str], list] = {}


def fetch(model: type[M], sql: str, params: list) -> list[M]:
    """Run `SELECT * FROM <model's table> …` and return model instances.

    What `Model.objects.raw()` does, minus its per-call column resolution; values go through
    the same database converters the ORM applies (dates on SQLite, JSON everywhere).
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = tuple(col[0] for col in cursor.description)
        found = cursor.fetchall()
    key = (model, columns, connection.vendor)
    if key not in _READERS:
        # For each field in the model's order: its column's position and its converters.
        plan = []
        for field in model._meta.concrete_fields:
            expr = field.get_col(model._meta.db_table)
            convs = [*connection.ops.get_db_converters(expr), *expr.get_db_converters(connection)]
            plan.append((columns.index(field.column), [(c, expr) for c in convs]))
        _READERS[key] = plan
    plan = _READERS[key]
    names = [f.attname for f in model._meta.concrete_fields]
    out = []
    for row in found:
        values = []
        for position, convs in plan:
            value = row[position]
            for convert, expr in convs:
                value = convert(value, expr, connection)
            values.append(value)
        out.append(model.from_db(connection.alias, names, values))
    return out
