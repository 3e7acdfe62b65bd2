"""The two hand-written statements of recurring generation: claim periods, link their tasks.

A sweep creating 5,000 tasks claims their periods in one INSERT … ON CONFLICT DO NOTHING
RETURNING, which the ORM cannot write (`bulk_create(ignore_conflicts=True)` does not say
which rows it inserted), and links each period to its task with one UPDATE … FROM (VALUES …)
rather than an UPDATE per row. Ids are written inline, as in `workflows/attach.py` (binding
thousands of parameters costs more in the driver than the statement); the few distinct
period keys are bound and joined in by index. Names come from `sodium.sql` and the practice
filter from `sql.scoped`, as every hand-written statement's do.
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from sodium.models import Client, Recurrence, RecurrenceOccurrence
from sodium.sql import Table, column, columns, scoped, table

_ROWS_PER_STATEMENT = 2000  # within SQLite's and PostgreSQL's statement and parameter limits
Occ = RecurrenceOccurrence


def _ids(*values: int) -> str:
    # Only integers are written inline; int() refuses anything else.
    return "(" + ", ".join(str(int(v)) for v in values) + ")"


def claim(recurrence: Recurrence, periods: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """Insert the (client id, period key) occurrences not yet taken; return those inserted.

    Returns {(client id, period key): occurrence id} for the rows this call inserted. A
    period another transaction holds is left out: PostgreSQL first waits for that one to
    commit (left out) or roll back (inserted here). Rows go in sorted order, so two sweeps
    claiming overlapping periods wait on each other rather than deadlock. Clients of
    another practice are never claimed.
    """
    claimed: dict[tuple[int, str], int] = {}
    periods = sorted(set(periods))
    if not periods:
        return claimed
    c = Table(Client, "c")
    created_at = Occ._meta.get_field("created_at").get_db_prep_save(timezone.now(), connection)
    insert = (
        f"INSERT INTO {table(Occ)} "
        f"({columns(Occ, ('practice', 'recurrence', 'client', 'period_key', 'created_at'))}) "
    )
    returning = (
        f"ON CONFLICT ({columns(Occ, ('recurrence', 'client', 'period_key'))}) DO NOTHING "
        f"RETURNING {column(Occ, 'pk')}, {column(Occ, 'client')}, {column(Occ, 'period_key')}"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(periods), _ROWS_PER_STATEMENT):
            chunk = periods[start : start + _ROWS_PER_STATEMENT]
            keys = sorted({key for _, key in chunk})
            index = {key: i for i, key in enumerate(keys)}
            values = ", ".join(_ids(client_id, index[key]) for client_id, key in chunk)
            keys_sql = ", ".join(f"({i}, %s)" for i in range(len(keys)))
            # The WHERE is also what tells SQLite that ON CONFLICT is the upsert, not a join's.
            select, params = scoped(
                f"SELECT {c.practice}, %s, {c.id}, k.column2, %s "
                f"FROM (VALUES {values}) AS v "
                f"JOIN (VALUES {keys_sql}) AS k ON k.column1 = v.column2, {c} "
                f"WHERE {c.id} = CAST(v.column1 AS BIGINT)",
                [recurrence.pk, created_at, *keys],
                recurrence.practice_id,
                c,
            )
            cursor.execute(f"{insert}{select} {returning}", params)
            for pk, client_id, key in cursor.fetchall():
                claimed[(client_id, key)] = pk
    return claimed


def link(practice_id: int, pairs: list[tuple[int, int]]) -> None:
    """Set each (occurrence id, task id) pair's occurrence to point at its task."""
    o = Table(Occ)
    with connection.cursor() as cursor:
        for start in range(0, len(pairs), _ROWS_PER_STATEMENT):
            chunk = pairs[start : start + _ROWS_PER_STATEMENT]
            values = ", ".join(_ids(occurrence_id, task_id) for occurrence_id, task_id in chunk)
            where, params = scoped(f"WHERE {o.pk} = CAST(v.column1 AS BIGINT)", [], practice_id, o)
            cursor.execute(
                f"UPDATE {o} SET {o.task} = CAST(v.column2 AS BIGINT) "
                f"FROM (VALUES {values}) AS v {where}",
                params,
            )
