"""Single-row reads and writes for the engine's hot paths, without the ORM's query building.

Every step transition locks a row, writes its status and an activity event, and many write
an outbox row. The ORM builds and compiles each query anew, which costs several times what
PostgreSQL spends running it; here each statement's text is built once and reused. Values
go through each field's own `pre_save`/`get_db_prep_save` and database converters, as the
ORM would send and read them. No signals are sent (nothing listens to these models').
The scoped managers do not see these statements: `update` and `get` add the practice filter
of a tenant-owned model themselves, and SQL handed to `fetch` and `fetch_joined` adds its
own, both through `sodium.sql.scoped`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Model

from sodium.sql import Table, is_tenant_owned, scoped, scoped_sql

M = TypeVar("M", bound=Model)

_STATEMENTS: dict[tuple[type[Model], str, str], tuple[str, list]] = {}


def _statement(model: type[Model], unique: str) -> tuple[str, list]:
    db = connections[DEFAULT_DB_ALIAS]
    key = (model, unique, db.vendor)
    if key not in _STATEMENTS:
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        quote = db.ops.quote_name
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


def insert(obj: Model, *, unique: str = "", then: tuple[str, list] | None = None) -> bool:
    """Insert `obj` as a new row and set its pk; return True.

    With `unique` (the name of a field with a unique constraint), insert nothing and return
    False when a row with the same value already exists. `then` (PostgreSQL only) is a
    statement and its parameters run in the same statement, on the inserted row only: it
    reads the new row's pk as `new.<pk column>` from `FROM new` (a data-modifying WITH).
    """
    db = connections[DEFAULT_DB_ALIAS]
    sql, fields = _statement(type(obj), unique)
    params = [f.get_db_prep_save(f.pre_save(obj, True), db) for f in fields]
    if then is not None:
        sql = f"WITH new AS ({sql}), then_ AS ({then[0]}) SELECT * FROM new"
        params += then[1]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = db.alias
    return True


_UPDATES: dict[tuple[type[Model], tuple[str, ...], str], tuple[str, list, bool]] = {}


def update(obj: Model, fields: list[str]) -> None:
    """Write `fields` of an existing row, like `obj.save(update_fields=fields)`.

    A tenant-owned row is written only inside its own practice (`obj.practice_id`): an
    object whose pk is another practice's row writes nothing. Raises DatabaseError when no
    row was written, as `save(update_fields=…)` does.
    """
    db = connections[DEFAULT_DB_ALIAS]
    model = type(obj)
    key = (model, tuple(fields), db.vendor)
    if key not in _UPDATES:
        t = Table(model)
        targets = [model._meta.get_field(name) for name in fields]
        sets = ", ".join(f"{getattr(t, f.name)} = %s" for f in targets)
        sql = f"UPDATE {t} SET {sets} WHERE {t.pk} = %s"
        tenant_owned = is_tenant_owned(model)
        _UPDATES[key] = (scoped_sql(sql, t) if tenant_owned else sql, targets, tenant_owned)
    sql, targets, tenant_owned = _UPDATES[key]
    params = [*(f.get_db_prep_save(f.pre_save(obj, False), db) for f in targets), obj.pk]
    if tenant_owned:  # the practice filter's parameter (scoped_sql)
        if obj.practice_id is None:
            raise ValueError(f"A {model.__name__} without a practice cannot be written here.")
        params.append(obj.practice_id)
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        if cursor.rowcount == 0:
            raise DatabaseError(f"Writing {model.__name__} {obj.pk} affected no row.")


_READERS: dict[tuple[type[Model], str, str], tuple[int, list]] = {}


def _read_plan(model: type[Model], columns: list[str]) -> tuple[int, list]:
    db = connections[DEFAULT_DB_ALIAS]
    # For each field in the model's order: its column's position and its converters.
    plan = []
    for field in model._meta.concrete_fields:
        expr = field.get_col(model._meta.db_table)
        convs = [*db.ops.get_db_converters(expr), *expr.get_db_converters(db)]
        plan.append((columns.index(field.column), [(c, expr) for c in convs]))
    return len(columns), plan


def fetch(model: type[M], sql: str, params: list) -> list[M]:
    """Run `SELECT * FROM <model's table> …` and return model instances.

    What `Model.objects.raw()` does, minus its per-call column resolution; values go through
    the same database converters the ORM applies (dates on SQLite, JSON everywhere).
    """
    db = connections[DEFAULT_DB_ALIAS]
    key = (model, sql, db.vendor)
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
        # A statement returns the same columns each time; reading the description costs more
        # than the rest of the fetch, so it is read again only when the column count changes
        # (a migration ran while this process was up).
        width = len(found[0]) if found else None
        if key not in _READERS or (width is not None and width != _READERS[key][0]):
            _READERS[key] = _read_plan(model, [col[0] for col in cursor.description])
    plan = _READERS[key][1]
    names = [f.attname for f in model._meta.concrete_fields]
    return [model.from_db(db.alias, names, _values(row, 0, plan, db)) for row in found]


def _values(row: tuple, start: int, plan: list, db) -> list:
    # The row's values for one model, in its fields' order, converted as the ORM would.
    values = []
    for position, convs in plan:
        value = row[start + position]
        for convert, expr in convs:
            value = convert(value, expr, db)
        values.append(value)
    return values


def get(model: type[M], pk: int | None, *, practice_id: int | None = None) -> M | None:
    """Return the row of `model` with primary key `pk`, or None (also for a None pk).

    A tenant-owned model is read inside `practice_id` only (required for one): another
    practice's pk answers None.
    """
    if pk is None:
        return None
    t = Table(model)
    sql, params = f"SELECT * FROM {t} WHERE {t.pk} = %s", [pk]
    if is_tenant_owned(model):
        if practice_id is None:
            raise TypeError(f"Reading a {model.__name__} needs its practice_id.")
        sql, params = scoped(sql, params, practice_id, t)
    found = fetch(model, sql, params)
    return found[0] if found else None


@dataclass(frozen=True)
class Joined:
    """A SELECT of one model with some of its to-one relations, built once (see `joined`)."""

    sql: str  # SELECT … FROM … JOIN … (the caller adds WHERE and the rest)
    parts: tuple[tuple[str, type[Model]], ...]  # ("", base), ("task", Task), ("task__client", …)


def joined(model: type[Model], related: Sequence[str]) -> Joined:
    """Build `SELECT` of `model` joined to its to-one relations `related` ("task",
    "task__practice"…; a parent before its children), like select_related. The base table's
    alias is `t0`. Nullable relations are LEFT JOINed and come back as None when empty."""
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    aliases, parts, columns = {"": "t0"}, [("", model)], []
    joins = [f"FROM {quote(model._meta.db_table)} t0"]
    models_by_path: dict[str, type[Model]] = {"": model}
    outer: set[str] = set()
    for i, path in enumerate(related, start=1):
        parent_path, _, name = path.rpartition("__")
        field = models_by_path[parent_path]._meta.get_field(name)
        target = field.related_model
        aliases[path], models_by_path[path] = f"t{i}", target
        # Below an outer join every join is outer too, or an empty parent drops the row.
        if field.null or parent_path in outer:
            outer.add(path)
        kind = "LEFT JOIN" if path in outer else "JOIN"
        joins.append(
            f"{kind} {quote(target._meta.db_table)} t{i} ON t{i}.{quote(target._meta.pk.column)}"
            f" = {aliases[parent_path]}.{quote(field.column)}"
        )
        parts.append((path, target))
    for path, part in parts:
        columns += [f"{aliases[path]}.{quote(f.column)}" for f in part._meta.concrete_fields]
    return Joined(f"SELECT {', '.join(columns)} {' '.join(joins)}", tuple(parts))


def _converters(model: type[Model]) -> list:
    db = connections[DEFAULT_DB_ALIAS]
    key = (model, "", db.vendor)
    if key not in _READERS:
        _READERS[key] = _read_plan(model, [f.column for f in model._meta.concrete_fields])
    return _READERS[key][1]


def fetch_joined(query: Joined, where: str, params: list) -> list[Model]:
    """Run `query` with `where` appended and return base instances with their relations set."""
    db = connections[DEFAULT_DB_ALIAS]
    with db.cursor() as cursor:
        cursor.execute(f"{query.sql} {where}", params)
        found = cursor.fetchall()
    out = []
    for row in found:
        start, built = 0, {}
        for path, part in query.parts:
            fields = part._meta.concrete_fields
            values = _values(row, start, _converters(part), db)
            start += len(fields)
            pk_index = fields.index(part._meta.pk)
            obj = None
            if values[pk_index] is not None:
                obj = part.from_db(db.alias, [f.attname for f in fields], values)
            if path:
                parent_path, _, name = path.rpartition("__")
                if built[parent_path] is not None:
                    setattr(built[parent_path], name, obj)
            built[path] = obj
        out.append(built[""])
    return out
