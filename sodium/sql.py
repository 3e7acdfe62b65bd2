"""Names and the practice filter for the few hand-written SQL statements.

The engine's hot paths (locking and unblocking steps, attaching templates, claiming an
outbox row) write their SQL out, because building a query with the ORM costs more than
PostgreSQL spends running it. Their table and column names still come from the models
(`Table`, `table`, `columns`), so no statement spells a table or a column, and a renamed
field breaks no string. The scoped managers do not see these statements, so each one that
reads or writes tenant rows adds the practice filter itself, always through `scoped`:

    s = Table(Step, "s")
    where, params = scoped(f"WHERE {s.task} = %s", [task_id], practice_id, s)
    f"SELECT {s.id} FROM {s} {where}"   # … WHERE s."task_id" = %s AND s."practice_id" = %s

`tests/sodium/test_sql_scoping.py` runs every such statement for two practices.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

# (model, field name or "") -> quoted name. The default database, and so its quoting, is the
# same for the life of a process; the lookup is cached because statements are built on every
# transition and reaching the connection costs more than the rest of building one.
_NAMES: dict[tuple[type[Model], str], str] = {}


def _quote(name: str) -> str:
    return connections[DEFAULT_DB_ALIAS].ops.quote_name(name)


def table(model: type[Model]) -> str:
    """Return the model's table name (`db_table`), quoted for the database."""
    try:
        return _NAMES[(model, "")]
    except KeyError:
        quoted = _NAMES[(model, "")] = _quote(model._meta.db_table)
        return quoted


def column(model: type[Model], name: str) -> str:
    """Return the column of the model's field `name`, quoted (`task` → `"task_id"`).

    `pk` names the primary key. Raises FieldDoesNotExist for a name the model lacks.
    """
    try:
        return _NAMES[(model, name)]
    except KeyError:
        meta = model._meta
        field = meta.pk if name == "pk" else meta.get_field(name)
        quoted = _NAMES[(model, name)] = _quote(field.column)
        return quoted


def columns(model: type[Model], names: Sequence[str]) -> str:
    """Return the columns of `names`, quoted and comma-separated (an INSERT's column list)."""
    return ", ".join(column(model, name) for name in names)


class Table:
    """A model's table in one statement, under an alias.

    `str(t)` is the table with its alias for FROM and JOIN (`"<db_table>" s`); any other
    attribute is that field's column under the alias (`t.task` → `s."task_id"`). Without an
    alias (UPDATE statements) columns come unqualified.
    """

    __slots__ = ("_model", "_alias")

    def __init__(self, model: type[Model], alias: str = "") -> None:
        self._model = model
        self._alias = alias

    def __str__(self) -> str:
        name = table(self._model)
        return f"{name} {self._alias}" if self._alias else name

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        quoted = column(self._model, name)
        return f"{self._alias}.{quoted}" if self._alias else quoted


_TENANT_OWNED: dict[type[Model], bool] = {}


def is_tenant_owned(model: type[Model]) -> bool:
    """Return whether the model's rows belong to a practice (it has a `practice` field)."""
    if model not in _TENANT_OWNED:
        _TENANT_OWNED[model] = any(f.name == "practice" for f in model._meta.concrete_fields)
    return _TENANT_OWNED[model]


def scoped_sql(sql: str, *tables: Table) -> str:
    """Return `sql` (ending in a WHERE or ON condition) with the practice filter of every one
    of `tables` appended. Its parameters are the practice id once per table, after `sql`'s
    own: what `scoped` appends. A hot statement whose text never changes is built once with
    this (`functools.cache`) and given `[*its params, practice_id, …]` per call.

    Raises ValueError without a table, or for a table whose rows belong to no practice.
    """
    if not tables:
        raise ValueError("A hand-written statement is scoped to one practice and its tables.")
    key = tuple((t._model, t._alias) for t in tables)
    where = _FILTERS.get(key)
    if where is None:
        for t in tables:
            if not is_tenant_owned(t._model):
                raise ValueError(f"{t._model.__name__} rows belong to no practice.")
        where = _FILTERS[key] = " AND ".join(f"{t.practice} = %s" for t in tables)
    return f"{sql} AND {where}"


def scoped(sql: str, params: Sequence, practice_id: int, *tables: Table) -> tuple[str, list]:
    """Return `sql` (ending in a WHERE or ON condition) with the practice filter of every one
    of `tables` appended, and `params` with the practice id appended for each.

    The one place the hand-written statements get their practice filter. Raises ValueError
    without a practice or a table, or for a table whose rows belong to no practice.
    """
    if practice_id is None:
        raise ValueError("A hand-written statement is scoped to one practice and its tables.")
    return scoped_sql(sql, *tables), [*params, *([int(practice_id)] * len(tables))]


# The filter text of each combination of tables (by model and alias) already scoped.
_FILTERS: dict[tuple[tuple[type[Model], str], ...], str] = {}
