"""Xero's sales-invoice and bill exports (one row per line) and the invoice import template."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from checks import engine
from checks.imports import layouts as L
from checks.models import LedgerContact, LedgerImport, Transaction, TransactionLine
from tests.checks.files import layouts
from tests.checks.files.harness import ImportTestCase
from tests.checks.files.layouts import invoice_line

S = LedgerImport.Status


def invoices(*lines: dict, header=layouts.XERO_SALES_INVOICES) -> bytes:
    return layouts.csv_bytes(layouts.table(header, *lines))


TWO_LINES = {"Total": "240.00", "TaxTotal": "40.00", "InvoiceAmountDue": "240.00"}


class XeroSalesInvoiceImportTests(ImportTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.load_chart()

    def file(self) -> bytes:
        return invoices(
            invoice_line("INV-0001", "Bright Ideas Ltd", **TWO_LINES),
            invoice_line("INV-0001", "Bright Ideas Ltd", Description="Travel", AccountCode="400",
                         **TWO_LINES),
            invoice_line("INV-0002", "Cable Co", InvoiceDate="02/09/2026", DueDate="02/10/2026",
                         Status="Paid", InvoiceAmountDue="0.00"),
        )  # fmt: skip

    def test_it_recognises_the_export(self) -> None:
        imp = self.upload(self.file())
        self.assertEqual(
            (imp.layout, imp.status, imp.date_format), (L.XERO_SALES_INVOICES, S.READY, "dmy")
        )

    def test_it_groups_lines_into_invoices_with_their_fields(self) -> None:
        imp = self.import_file(self.file())
        self.assertEqual((imp.status, imp.created_count), (S.DONE, 2), imp.error)
        first = Transaction.objects.get(client=self.books, source_key="sales_invoice:INV-0001")
        self.assertEqual(first.kind, Transaction.Kind.SALES_INVOICE)
        self.assertEqual(
            (first.date, first.due_date), (dt.date(2026, 9, 25), dt.date(2026, 10, 25))
        )
        self.assertEqual((first.total, first.tax_total, first.amount_due),
                         (Decimal("240.00"), Decimal("40.00"), Decimal("240.00")))  # fmt: skip
        self.assertEqual(first.status, Transaction.Status.AUTHORISED)
        self.assertEqual(first.contact.name, "Bright Ideas Ltd")
        lines = list(first.lines.order_by("line_no"))
        self.assertEqual([(ln.account.code, ln.net, ln.tax) for ln in lines],
                         [("200", Decimal("100.00"), Decimal("20.00")),
                          ("400", Decimal("100.00"), Decimal("20.00"))])  # fmt: skip
        # The transaction's date, kind and contact are copied onto its lines.
        self.assertEqual({(ln.date, ln.kind, ln.contact_id) for ln in lines},
                         {(first.date, first.kind, first.contact_id)})  # fmt: skip
        second = Transaction.objects.get(client=self.books, number="INV-0002")
        self.assertEqual(
            (second.status, second.date), (Transaction.Status.PAID, dt.date(2026, 9, 2))
        )

    def test_contacts_it_names_become_customers(self) -> None:
        self.import_file(self.file())
        contact = LedgerContact.objects.get(client=self.books, name="Cable Co")
        self.assertEqual((contact.is_customer, contact.is_supplier), (True, False))

    def test_importing_the_same_file_again_changes_nothing(self) -> None:
        self.import_file(self.file())
        again = self.import_file(self.file())
        self.assertEqual(
            (again.created_count, again.updated_count, again.unchanged_count), (0, 0, 2)
        )
        self.assertEqual(TransactionLine.objects.filter(client=self.books).count(), 3)

    def test_a_changed_line_updates_its_invoice_and_replaces_its_lines(self) -> None:
        self.import_file(self.file())
        again = self.import_file(self.file().replace(b"Travel", b"Hotel"))
        self.assertEqual(
            (again.created_count, again.updated_count, again.unchanged_count), (0, 1, 1)
        )
        descriptions = TransactionLine.objects.filter(client=self.books).values_list(
            "description", flat=True
        )
        self.assertEqual(sorted(descriptions), ["Consulting", "Consulting", "Hotel"])

    def test_it_reads_the_import_template(self) -> None:
        data = invoices(
            invoice_line("INV-0009", "Bright Ideas Ltd", Quantity="2", UnitAmount="50.00",
                         Discount="10"),
            header=layouts.XERO_INVOICE_TEMPLATE,
        )  # fmt: skip
        imp = self.import_file(data)
        self.assertEqual((imp.layout, imp.status), (L.XERO_SALES_INVOICES, S.DONE), imp.error)
        line = TransactionLine.objects.get(client=self.books)
        self.assertEqual(line.net, Decimal("90.00"))
        self.assertEqual(Transaction.objects.get(client=self.books).total, Decimal("90.00"))

    def test_credit_notes_in_the_export_keep_their_kind(self) -> None:
        data = invoices(invoice_line("CN-0001", "Cable Co", Type="Sales credit note"))
        self.import_file(data)
        self.assertEqual(
            Transaction.objects.get(client=self.books).source_key, "sales_credit_note:CN-0001"
        )


class XeroBillImportTests(ImportTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.load_chart()

    def test_it_recognises_bills_by_their_paid_date_and_type(self) -> None:
        data = invoices(
            invoice_line("BILL-7", "Paper Supplies", Type="Bill", AccountCode="400", PaidDate=""),
            header=layouts.XERO_BILLS,
        )
        imp = self.import_file(data)
        self.assertEqual((imp.layout, imp.status), (L.XERO_BILLS, S.DONE), imp.error)
        bill = Transaction.objects.get(client=self.books)
        self.assertEqual((bill.kind, bill.source_key), (Transaction.Kind.BILL, "bill:BILL-7"))
        self.assertTrue(bill.contact.is_supplier)
        self.assertFalse(bill.contact.is_customer)

    def test_the_same_number_as_a_sales_invoice_is_another_transaction(self) -> None:
        self.import_file(invoices(invoice_line("7", "Cable Co")))
        self.import_file(
            invoices(invoice_line("7", "Cable Co", Type="Bill"), header=layouts.XERO_BILLS)
        )
        self.assertEqual(Transaction.objects.filter(client=self.books).count(), 2)


class ChosenLayoutTests(ImportTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.load_chart()

    def test_bills_in_the_sales_invoice_template_import_as_bills_when_chosen(self) -> None:
        data = invoices(invoice_line("B-100", "Paper Supplies", AccountCode="400", Type=""))
        imp = self.upload(data, as_layout=L.XERO_BILLS)
        self.assertEqual(imp.layout, L.XERO_BILLS)
        imp = self.start(imp)
        self.assertEqual(imp.status, S.DONE, imp.error)
        bill = Transaction.objects.get(client=self.books)
        self.assertEqual(bill.kind, Transaction.Kind.BILL)

    def test_without_the_choice_the_same_file_reads_as_sales_invoices(self) -> None:
        data = invoices(invoice_line("B-100", "Paper Supplies", AccountCode="400", Type=""))
        self.assertEqual(self.upload(data).layout, L.XERO_SALES_INVOICES)

    def test_a_choice_the_header_does_not_fit_is_refused_and_nothing_is_stored(self) -> None:
        before = LedgerImport.objects.count()
        with self.assertRaisesMessage(engine.ImportRefused, "has the columns of a Xero chart"):
            self.upload(layouts.accounts_file(), as_layout=L.XERO_BILLS)
        self.assertEqual(LedgerImport.objects.count(), before)
