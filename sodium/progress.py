"""Progress of long work that runs in one transaction, made visible while the work runs.

A ledger import or a data-health run does its writes in one transaction, so a failure leaves
nothing behind; but then the counter on its row ("rows done", "checks done") is invisible to
the page polling it until the very end. `ProgressWriter` writes that one counter from a
second database connection in autocommit, so every other connection sees it at once:

    writer = ProgressWriter(LedgerImport, imp.pk, imp.practice_id, "processed_rows")
    try:
        with transaction.atomic():
            ...
            writer.write(done)      # seen by the page now, whatever the transaction does
    finally:
        writer.close()

Rules for the caller:

- Create the writer outside any transaction, on a row already committed; its UPDATE must
  not wait for a lock the caller's own transaction holds (it would wait forever). A writer
  created inside a transaction (an eager task in a test, a caller's atomic block) is
  therefore switched off, and so is one on SQLite, which allows one writer at a time: there
  the caller stores the final figure in its own transaction, and progress shows at the end.
- Do not lock or update the row in the work's transaction until the last `write`: lock it
  only to store the result (inserting rows that reference it is fine: PostgreSQL's key-share
  lock does not block an UPDATE of a column that is not a key).
- Call `close()` (or use the writer as a context manager) to drop the second connection.

The statement is a hand-written UPDATE of the one row, with the practice filter from
`sodium.sql.scoped` like every other hand-written statement.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model

from sodium import sql


class ProgressWriter:
    """Write `field` of one row (`model`, `pk`, in `practice_id`) outside the caller's
    transaction, on PostgreSQL; do nothing elsewhere (see the module's docstring)."""

    def __init__(self, model: type[Model], pk: int, practice_id: int, field: str) -> None:
        self.model, self.pk, self.practice_id, self.field = model, pk, practice_id, field
        self.enabled = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.conn = None

    def write(self, value: int) -> None:
        """Store `value` in the row's field now, visible to every other connection."""
        if not self.enabled:
            return
        if self.conn is None:
            self.conn = connections.create_connection(DEFAULT_DB_ALIAS)
        t = sql.Table(self.model)
        where, params = sql.scoped(f"WHERE {t.id} = %s", [self.pk], self.practice_id, t)
        with self.conn.cursor() as cursor:
            cursor.execute(
                f"UPDATE {t} SET {getattr(t, self.field)} = %s {where}", [value, *params]
            )

    def close(self) -> None:
        """Close the second connection, if one was opened."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def __enter__(self) -> ProgressWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
