"""Inserting the import's new rows: written per database.

On PostgreSQL building `bulk_create`'s statement (a parameter per field per row, each
prepared by its field) costs more than the database spends running it. There rows whose
ids are needed go in one `INSERT … SELECT … FROM unnest(…)` per batch (one array parameter
per column) `RETURNING` their ids, and rows whose ids are not go through `COPY … FROM STDIN`.
Elsewhere (SQLite) the ORM's `bulk_create` writes them. Table and column names come from
the models (`sodium.sql`); every row carries its practice, so no filter is needed.

`rows` are tuples in the order of `fields`; the model's other fields take their defaults.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model

from sodium import sql


def insert(model: type[Model], fields: Sequence[str], rows: list[tuple]) -> list[int]:
    """Insert `rows` of `model`; return their ids, in order."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        return orm_insert(model, fields, rows)
    names, defaults, types = _columns(model, fields)
    arrays = [list(column) for column in zip(*rows, strict=True)]
    arrays += [[default] * len(rows) for default in defaults]
    unnest = ", ".join(f"%s::{t}[]" for t in types)
    statement = (
        f"INSERT INTO {sql.table(model)} ({sql.columns(model, names)}) "
        f"SELECT * FROM unnest({unnest}) RETURNING {sql.column(model, 'pk')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, arrays)
        return [pk for (pk,) in cursor.fetchall()]


def copy(model: type[Model], fields: Sequence[str], rows: list[tuple]) -> None:
    """Insert `rows` of `model` (their ids are not needed)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        orm_insert(model, fields, rows)
        return
    names, defaults, _ = _columns(model, fields)
    extra = tuple(defaults)
    statement = f"COPY {sql.table(model)} ({sql.columns(model, names)}) FROM STDIN"
    # psycopg's own cursor: Django's has no COPY (nor counts it among its queries).
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as out:
        for row in rows:
            out.write_row(row + extra)


def orm_insert(model: type[Model], fields: Sequence[str], rows: list[tuple]) -> list[int]:
    """Insert `rows` of `model` through the ORM (`bulk_create`); return their ids, in order.

    What `insert` and `copy` do on SQLite, and what they match on PostgreSQL.
    """
    made = model.objects.bulk_create(model(**dict(zip(fields, r, strict=True))) for r in rows)
    return [m.pk for m in made]


_COLUMNS: dict[tuple[type[Model], tuple[str, ...]], tuple[list[str], list, list[str]]] = {}


def _columns(model: type[Model], fields: Sequence[str]) -> tuple[list[str], list, list[str]]:
    """Return the field names written (`fields`, then the others, which take their
    defaults), those defaults, and each column's type."""
    key = (model, tuple(fields))
    if key not in _COLUMNS:
        meta = model._meta
        given = [meta.get_field(name) for name in fields]
        others = [f for f in meta.concrete_fields if f not in given and not f.primary_key]
        _COLUMNS[key] = (
            [*fields, *(f.name for f in others)],
            others,
            [f.db_type(connection) for f in given + others],
        )
    names, others, types = _COLUMNS[key]
    return names, [f.get_default() for f in others], types
