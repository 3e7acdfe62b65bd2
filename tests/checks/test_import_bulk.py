"""The import's PostgreSQL writes (`INSERT … unnest … RETURNING`, `COPY`) store exactly what
the ORM's `bulk_create` stores (the path SQLite takes), and an import through them is still
all-or-nothing and idempotent."""

from __future__ import annotations

import datetime as dt
import unittest
from decimal import Decimal

from django.db import connection
from django.test import TestCase
from django_scopes import scopes_disabled

from checks.imports import bulk
from checks.models import LedgerAccount, LedgerContact, Transaction, TransactionLine
from tests import factories as f
from tests.checks.files import layouts
from tests.checks.files.harness import ImportTestCase
from tests.checks.test_import_task import invoices

# Cells COPY's text format must escape: a tab, a new line, a backslash, "\N" (its NULL).
AWKWARD = 'Tab\there, line\nbreak, back\\slash, \\N, quote " and ünïcode £'


@unittest.skipUnless(connection.vendor == "postgresql", "the PostgreSQL import path")
class PostgresBulkTests(TestCase):
    def setUp(self) -> None:
        scope = scopes_disabled()
        scope.__enter__()
        self.addCleanup(scope.__exit__, None, None, None)
        self.a = f.ClientFactory()
        self.b = f.ClientFactory(practice=self.a.practice)

    def chart_and_contact(self, client):
        account = LedgerAccount.objects.create(
            practice_id=client.practice_id, client=client, code="200", name="Sales", type="revenue"
        )
        contact = LedgerContact.objects.create(
            practice_id=client.practice_id, client=client, name="Cable Co"
        )
        return account, contact

    def transaction_rows(self, client, contact) -> list[tuple]:
        p, c = client.practice_id, client.pk
        return [
            (p, c, "sales_invoice:INV-1", "sales_invoice", "INV-1", AWKWARD,
             dt.date(2026, 3, 31), dt.date(2026, 4, 30), contact.pk, "GBP",
             Decimal("120.00"), Decimal("20.00"), None, "paid"),
            (p, c, "bill:B-2", "bill", "B-2", "", dt.date(2026, 1, 2), None, None, "EUR",
             Decimal("-0.01"), Decimal("0"), Decimal("99999999999999.99"), "draft"),
        ]  # fmt: skip

    def line_rows(self, client, transaction_ids, account, contact) -> list[tuple]:
        p, c = client.practice_id, client.pk
        first, second = transaction_ids
        return [
            (p, c, first, 1, account.pk, "200", "20% (VAT on Income)", AWKWARD,
             Decimal("100.00"), Decimal("20.00"), dt.date(2026, 3, 31), "sales_invoice",
             contact.pk),
            (p, c, first, 2, None, "999", "", "", Decimal("-5.55"), Decimal("0"),
             dt.date(2026, 3, 31), "sales_invoice", contact.pk),
            (p, c, second, 1, None, "", "", "", Decimal("0.00"), Decimal("0"),
             dt.date(2026, 1, 2), "bill", None),
        ]  # fmt: skip

    def stored(self, client) -> tuple[list[dict], list[dict]]:
        """Return the client's transactions and lines as values, ids replaced by keys."""
        keys = dict(Transaction.objects.filter(client=client).values_list("id", "source_key"))
        account_codes = dict(LedgerAccount.objects.filter(client=client).values_list("id", "code"))
        drop = {"id", "client", "client_id", "practice", "practice_id"}
        transactions = [
            {k: v for k, v in row.items() if k not in drop and k != "contact_id"}
            | {"contact": row["contact_id"] is not None}
            for row in Transaction.objects.filter(client=client).order_by("source_key").values()
        ]
        lines = [
            {k: v for k, v in row.items() if k not in drop | {"transaction_id", "account_id"}}
            | {
                "transaction": keys[row["transaction_id"]],
                "account": account_codes.get(row["account_id"]),
                "contact_id": row["contact_id"] is not None,
            }
            for row in TransactionLine.objects.filter(client=client)
            .order_by("transaction__source_key", "line_no")
            .values()
        ]
        return transactions, lines

    def test_unnest_and_copy_store_what_bulk_create_stores(self) -> None:
        from checks.imports.writer import _NEW_LINE, _NEW_TRANSACTION

        account_a, contact_a = self.chart_and_contact(self.a)
        ids = bulk.insert(Transaction, _NEW_TRANSACTION, self.transaction_rows(self.a, contact_a))
        bulk.copy(TransactionLine, _NEW_LINE, self.line_rows(self.a, ids, account_a, contact_a))

        account_b, contact_b = self.chart_and_contact(self.b)
        ids_b = bulk.orm_insert(
            Transaction, _NEW_TRANSACTION, self.transaction_rows(self.b, contact_b)
        )
        rows_b = self.line_rows(self.b, ids_b, account_b, contact_b)
        bulk.orm_insert(TransactionLine, _NEW_LINE, rows_b)

        self.assertEqual(self.stored(self.a), self.stored(self.b))
        transactions, lines = self.stored(self.a)
        self.assertEqual(len(transactions), 2)
        self.assertEqual(len(lines), 3)
        self.assertEqual(transactions[1]["reference"], AWKWARD)  # sorted: sales_invoice last
        self.assertEqual(lines[1]["description"], AWKWARD)
        self.assertEqual(transactions[1]["attachment_count"], 0)  # the model's defaults
        self.assertIs(transactions[1]["reconciled"], False)

    def test_insert_returns_the_ids_in_the_rows_order(self) -> None:
        from checks.imports.writer import _NEW_TRANSACTION

        _, contact = self.chart_and_contact(self.a)
        rows = [
            (*row[:2], f"journal:J-{n}", *row[3:])
            for n in range(50)
            for row in self.transaction_rows(self.a, contact)[1:]
        ]
        ids = bulk.insert(Transaction, _NEW_TRANSACTION, rows)
        keys = dict(Transaction.objects.filter(client=self.a).values_list("id", "source_key"))
        self.assertEqual([keys[pk] for pk in ids], [r[2] for r in rows])


@unittest.skipUnless(connection.vendor == "postgresql", "the PostgreSQL import path")
class PostgresImportTests(ImportTestCase):
    def test_the_same_file_twice_changes_nothing_and_the_plan_setting_is_put_back(self) -> None:
        self.load_chart()
        data = invoices(30)
        first = self.start(self.upload(data))
        self.assertEqual((first.created_count, first.updated_count), (30, 0))
        lines = list(TransactionLine.objects.filter(client=self.books).values())
        second = self.start(self.upload(data))
        self.assertEqual(
            (second.created_count, second.updated_count, second.unchanged_count), (0, 0, 30)
        )
        self.assertEqual(list(TransactionLine.objects.filter(client=self.books).values()), lines)
        with connection.cursor() as cursor:
            cursor.execute("SHOW plan_cache_mode")
            self.assertEqual(cursor.fetchone()[0], "auto")

    def test_a_refused_row_writes_nothing_through_copy_either(self) -> None:
        self.load_chart()
        bad = layouts.csv_bytes(
            layouts.table(
                layouts.XERO_SALES_INVOICES,
                *[layouts.invoice_line(f"INV-{n}", "Cable Co") for n in range(5)],
                layouts.invoice_line("INV-9", "Cable Co", AccountCode="999"),
            )
        )
        imp = self.start(self.upload(bad))
        self.assertEqual(imp.status, imp.Status.FAILED)
        self.assertFalse(Transaction.objects.filter(client=self.books).exists())
        self.assertFalse(TransactionLine.objects.filter(client=self.books).exists())
