"""Progress of a running import is visible to other connections while its transaction is
open (PostgreSQL, where a second connection writes it); nothing of the import until commit."""

from __future__ import annotations

import unittest
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.test import TransactionTestCase
from django_scopes import scopes_disabled

from checks import engine, limits
from checks.imports import writer
from checks.models import LedgerImport, Transaction
from sodium import sql
from sodium.tenancy import practice_scope
from tests import factories as f
from tests.checks.files import layouts
from tests.checks.files.layouts import invoice_line


def _read_from_another_connection(imp: LedgerImport) -> tuple[int, int]:
    """Return (processed_rows, transactions) as a page's request would see them now."""
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        i, t = sql.Table(LedgerImport), sql.Table(Transaction)
        with other.cursor() as cursor:
            cursor.execute(f"SELECT {i.processed_rows} FROM {i} WHERE {i.id} = %s", [imp.pk])
            processed = cursor.fetchone()[0]
            cursor.execute(f"SELECT COUNT(*) FROM {t} WHERE {t.client} = %s", [imp.client_id])
            return processed, cursor.fetchone()[0]
    finally:
        other.close()


@unittest.skipUnless(connection.vendor == "postgresql", "progress is written live on PostgreSQL")
class LiveProgressTests(TransactionTestCase):
    def test_progress_is_seen_while_the_import_runs_and_rows_only_after(self) -> None:
        with scopes_disabled():
            client = f.ClientFactory()
        with practice_scope(client.practice_id):
            chart = layouts.accounts_file()
            imp = engine.upload_ledger_file(client, SimpleUploadedFile("a.csv", chart), actor=None)
            engine.start_import(imp, actor=None)
            engine.run_import(imp.pk)
            rows = [invoice_line(f"INV-{n}", f"Customer {n}") for n in range(12)]
            data = layouts.csv_bytes(layouts.table(layouts.XERO_SALES_INVOICES, *rows))
            imp = engine.upload_ledger_file(client, SimpleUploadedFile("i.csv", data), actor=None)
            with mock.patch.object(engine.tasks.import_ledger_task, "delay"):
                engine.start_import(imp, actor=None)
            seen = []
            original = engine._ProgressReporter.__call__

            def watch(reporter, line: int) -> None:
                original(reporter, line)
                seen.append(_read_from_another_connection(imp))

            with (
                mock.patch.object(writer, "BATCH_SIZE", 4),
                mock.patch.object(limits, "PROGRESS_EVERY", 4),
                mock.patch.object(engine._ProgressReporter, "__call__", watch),
            ):
                done = engine.run_import(imp.pk)
        self.assertEqual(done.status, LedgerImport.Status.DONE, done.error)
        # Three batches of four invoices: progress moves, no transaction is visible yet.
        self.assertEqual(seen, [(4, 0), (8, 0), (12, 0)])
        self.assertEqual(_read_from_another_connection(imp), (12, 12))
