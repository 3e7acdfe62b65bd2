"""The import task: idempotent, claimed once, scoped to its practice; a batch's statements
do not grow with its rows; the state machine's refusals."""

from __future__ import annotations

import io
from contextlib import contextmanager
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from checks import engine, tasks
from checks.imports import layouts as L
from checks.imports.sources import FileSource
from checks.imports.writer import write
from checks.models import LedgerAccount, LedgerImport, Transaction
from sodium.models import ActivityEvent
from sodium.statemachine import InvalidTransition
from sodium.tenancy import practice_scope
from tests.checks.files import layouts
from tests.checks.files.harness import ImportTestCase
from tests.checks.files.layouts import invoice_line

S = LedgerImport.Status


def invoices(count: int) -> bytes:
    lines = [invoice_line(f"INV-{n}", f"Customer {n}") for n in range(count)]
    return layouts.csv_bytes(layouts.table(layouts.XERO_SALES_INVOICES, *lines))


class ImportTaskTests(ImportTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.load_chart()

    def events(self, imp: LedgerImport) -> int:
        return ActivityEvent.objects.filter(object_id=imp.pk, verb="ledger_import.status").count()

    def test_a_second_delivery_of_a_done_import_does_nothing(self) -> None:
        imp = self.import_file(invoices(3))
        self.assertEqual(imp.status, S.DONE)
        before = (self.events(imp), Transaction.objects.filter(client=self.books).count())
        tasks.import_ledger_task.apply(args=(imp.pk, imp.practice_id))
        imp.refresh_from_db()
        self.assertEqual((imp.status, imp.created_count), (S.DONE, 3))
        self.assertEqual(
            (self.events(imp), Transaction.objects.filter(client=self.books).count()), before
        )

    def test_a_delivery_while_another_runs_it_does_nothing(self) -> None:
        imp = self.upload(invoices(2))
        engine.start_import(imp, actor=self.staff)
        LedgerImport.objects.filter(pk=imp.pk).update(started_at=timezone.now())
        tasks.import_ledger_task.apply(args=(imp.pk, imp.practice_id))
        imp.refresh_from_db()
        self.assertEqual(imp.status, S.IMPORTING)
        self.assertFalse(Transaction.objects.filter(client=self.books).exists())

    def test_a_claim_left_by_a_dead_worker_is_run_again(self) -> None:
        imp = self.upload(invoices(2))
        engine.start_import(imp, actor=self.staff)
        stale = timezone.now() - timedelta(hours=2)
        LedgerImport.objects.filter(pk=imp.pk).update(started_at=stale)
        tasks.import_ledger_task.apply(args=(imp.pk, imp.practice_id))
        imp.refresh_from_db()
        self.assertEqual((imp.status, imp.created_count), (S.DONE, 2))

    def test_the_task_for_another_practice_finds_nothing(self) -> None:
        imp = self.upload(invoices(1))
        engine.start_import(imp, actor=self.staff)
        tasks.import_ledger_task.apply(args=(imp.pk, self.other_practice.pk))
        imp.refresh_from_db()
        self.assertEqual(imp.status, S.IMPORTING)
        self.assertFalse(Transaction.objects.filter(client=self.books).exists())

    def test_it_is_enqueued_only_once_the_start_commits(self) -> None:
        imp = self.upload(invoices(1))
        with self.captureOnCommitCallbacks() as callbacks:
            engine.start_import(imp, actor=self.staff)
        self.assertEqual(len(callbacks), 1)

    def test_a_done_or_importing_file_cannot_start_again(self) -> None:
        imp = self.import_file(invoices(1))
        with self.assertRaises(InvalidTransition):
            engine.start_import(imp, actor=self.staff)
        with self.assertRaisesMessage(engine.ImportRefused, "This import has started"):
            engine.set_mapping(imp, actor=self.staff, date_format="dmy")

    def test_progress_reaches_the_total_when_done(self) -> None:
        imp = self.import_file(invoices(4))
        self.assertEqual((imp.total_rows, imp.processed_rows, imp.progress_percent), (4, 4, 100))
        self.assertIsNotNone(imp.started_at)
        self.assertIsNotNone(imp.finished_at)


class TenancyTests(ImportTestCase):
    def test_another_clients_chart_is_not_this_clients(self) -> None:
        self.import_file(layouts.accounts_file(), client=self.other_client)
        imp = self.import_file(invoices(1))
        self.assertEqual(imp.status, S.FAILED)
        self.assertEqual(imp.rejected[0]["reason"], "Line 2: unknown account code 200")

    def test_rows_belong_to_the_clients_practice(self) -> None:
        imp = self.import_file(layouts.accounts_file(), client=self.other_client)
        self.assertEqual(imp.practice_id, self.other_practice.pk)
        self.assertEqual(
            set(LedgerAccount.objects.values_list("practice_id", "client_id")),
            {(self.other_practice.pk, self.other_client.pk)},
        )

    def test_a_bank_account_of_another_client_is_refused(self) -> None:
        self.import_file(layouts.accounts_file(), client=self.other_client)
        theirs = LedgerAccount.objects.get(client=self.other_client, code="090")
        data = layouts.csv_bytes(
            [layouts.XERO_BANK_STATEMENT, ["25/09/2026", "1.00", "", "", "", ""]]
        )
        with self.assertRaisesMessage(engine.ImportRefused, "not one of this client's"):
            self.upload(data, bank_account=theirs)
        imp = self.upload(data)
        with self.assertRaisesMessage(engine.ImportRefused, "not one of this client's"):
            engine.set_mapping(imp, actor=self.staff, bank_account=theirs)


class WriteBatchQueryTests(ImportTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.load_chart()

    @contextmanager
    def opener(self, data: bytes):
        yield io.BytesIO(data)

    def queries_for(self, data: bytes) -> int:
        source = FileSource(
            lambda: self.opener(data), layout=L.XERO_SALES_INVOICES, encoding="utf-8-sig"
        )
        with practice_scope(self.practice), CaptureQueriesContext(connection) as ctx:
            result = write(source, client=self.books)
        self.assertEqual(result.rejected_count, 0, result.rejected)
        return len(ctx.captured_queries)

    # SQLite's driver splits a bulk INSERT at 999 parameters (Django's figure for it), so the
    # sizes here stay under that; PostgreSQL writes a whole batch in one statement each.
    # PostgreSQL also runs two settings (the plan mode, set and put back) and writes lines
    # with COPY, which Django does not count among its queries.
    def expected(self, statements: int, *, copies: int = 0) -> int:
        if connection.vendor == "postgresql":
            return statements + 2 - copies
        return statements

    def test_a_batch_of_new_invoices_costs_the_same_statements_whatever_its_size(self) -> None:
        # Accounts, contacts read, contacts written, transactions read, transactions
        # written, lines written, the customer / supplier flags.
        self.assertEqual(self.queries_for(invoices(5)), self.expected(7, copies=1))
        new = invoices(40).replace(b"INV-", b"NEW-")
        self.assertEqual(self.queries_for(new), self.expected(7, copies=1))

    def test_a_batch_of_unchanged_invoices_costs_the_same_whatever_its_size(self) -> None:
        self.queries_for(invoices(40))
        # Accounts, contacts, transactions and their lines read; the flags.
        self.assertEqual(self.queries_for(invoices(5)), self.expected(5))
        self.assertEqual(self.queries_for(invoices(40)), self.expected(5))

    def test_a_batch_of_changed_invoices_costs_the_same_whatever_its_size(self) -> None:
        self.queries_for(invoices(40))
        # … and the changed ones updated, their old lines deleted and new ones written.
        changed = invoices(5).replace(b"Consulting", b"Advice")
        self.assertEqual(self.queries_for(changed), self.expected(8, copies=1))
        changed = invoices(40).replace(b"Consulting", b"Other")
        self.assertEqual(self.queries_for(changed), self.expected(8, copies=1))


class StoredFileTests(ImportTestCase):
    def test_a_ready_import_keeps_its_file_and_a_done_one_has_it_deleted(self) -> None:
        from django.core.files.storage import default_storage

        imp = self.upload(layouts.accounts_file())
        self.assertTrue(default_storage.exists(imp.stored_name))
        imp = self.start(imp)
        self.assertEqual(imp.status, S.DONE)
        self.assertFalse(default_storage.exists(imp.stored_name))

    def test_a_failed_import_has_its_file_deleted_too(self) -> None:
        from django.core.files.storage import default_storage

        self.load_chart()
        bad = self.upload(
            layouts.csv_bytes(
                layouts.table(
                    layouts.XERO_SALES_INVOICES,
                    invoice_line("INV-1", "Cable Co", AccountCode="999"),
                )
            )
        )
        bad = self.start(bad)
        self.assertEqual(bad.status, S.FAILED)
        self.assertFalse(default_storage.exists(bad.stored_name))
