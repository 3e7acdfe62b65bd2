"""Ledger reports: Xero's Account Transactions (grouped or flat) and QuickBooks' General Ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from checks.imports import layouts as L
from checks.models import LedgerImport, Transaction, TransactionLine
from tests.checks.files import layouts
from tests.checks.files.harness import ImportTestCase

S = LedgerImport.Status

XERO_TITLE = [["Account Transactions"], ["Acme Trading Ltd"],
              ["For the period 1 September 2026 to 30 September 2026"], []]  # fmt: skip


def grouped() -> bytes:
    return layouts.csv_bytes([
        *XERO_TITLE,
        layouts.XERO_ACCOUNT_TRANSACTIONS,
        ["Sales"],
        ["02 Sep 2026", "Receivable Invoice", "Bright Ideas Ltd", "Consulting", "INV-0001", "",
         "100.00", "100.00"],
        ["15 Sep 2026", "Receive Money", "Cable Co", "Cash sale", "", "", "50.00", "150.00"],
        ["Total Sales", "", "", "", "", "0.00", "150.00", ""],
        [],
        ["Advertising"],
        ["20 Sep 2026", "Spend Money", "Ad Agency", "Campaign", "CARD", "300.00", "", "300.00"],
        ["Total Advertising", "", "", "", "", "300.00", "0.00", ""],
    ])  # fmt: skip


class XeroAccountTransactionsTests(ImportTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.load_chart()

    def test_it_skips_the_title_rows_and_reads_grouped_postings(self) -> None:
        imp = self.import_file(grouped())
        self.assertEqual((imp.layout, imp.status), (L.XERO_ACCOUNT_TRANSACTIONS, S.DONE), imp.error)
        self.assertEqual(imp.created_count, 3)
        lines = TransactionLine.objects.filter(client=self.books).select_related("account")
        got = sorted((ln.account.code, ln.kind, ln.net, ln.date) for ln in lines)
        self.assertEqual(got, [
            ("200", "bank_receive", Decimal("50.00"), dt.date(2026, 9, 15)),
            ("200", "sales_invoice", Decimal("100.00"), dt.date(2026, 9, 2)),
            ("400", "bank_spend", Decimal("300.00"), dt.date(2026, 9, 20)),
        ])  # fmt: skip

    def test_importing_the_same_report_again_changes_nothing(self) -> None:
        self.import_file(grouped())
        again = self.import_file(grouped())
        self.assertEqual(
            (again.created_count, again.updated_count, again.unchanged_count), (0, 0, 3)
        )

    def test_it_reads_the_flat_layout_with_an_account_code_column(self) -> None:
        data = layouts.csv_bytes([
            *XERO_TITLE,
            [*layouts.XERO_ACCOUNT_TRANSACTIONS, "Account Code", "Account"],
            ["20/09/2026", "Manual Journal", "", "Accrual", "J1", "75.00", "", "", "400",
             "Advertising"],
        ])  # fmt: skip
        imp = self.import_file(data)
        self.assertEqual(imp.status, S.DONE, imp.error)
        line = TransactionLine.objects.get(client=self.books)
        self.assertEqual(
            (line.account.code, line.kind, line.net), ("400", "journal", Decimal("75.00"))
        )

    def test_an_account_not_in_the_chart_is_refused_with_its_line(self) -> None:
        data = grouped().replace(b"Advertising\n", b"Entertainment\n")
        imp = self.import_file(data)
        self.assertEqual(imp.status, S.FAILED)
        self.assertEqual(imp.rejected[0]["reason"], "Line 12: unknown account 'Entertainment'")
        self.assertFalse(Transaction.objects.filter(client=self.books).exists())


def general_ledger() -> bytes:
    return layouts.csv_bytes([
        ["Acme Trading Ltd"], ["General Ledger"], ["September 2026"], [],
        layouts.QBO_GENERAL_LEDGER,
        ["200 Sales"],
        ["", "02/09/2026", "Invoice", "1001", "Bright Ideas Ltd:Website", "Build", "AR",
         "-1,000.00", "-1,000.00"],
        ["", "05/09/2026", "Credit Memo", "1002", "Bright Ideas Ltd", "Refund", "AR",
         "£(250.00)", "-750.00"],
        ["Total for 200 Sales", "", "", "", "", "", "", "-750.00", ""],
        ["400 Advertising"],
        ["", "10/09/2026", "Expense", "", "Ad Agency", "Flyers", "Business Bank Account",
         "(40.00)", "-40.00"],
        ["", "25/09/2026", "Expense", "", "Ad Agency", "Posters", "Business Bank Account",
         "60.00", "20.00"],
        ["Total for 400 Advertising", "", "", "", "", "", "", "20.00", ""],
        [],
        ["Accrual Basis Wednesday, 30 September 2026 10:15 AM GMT+01:00"],
    ])  # fmt: skip


class QuickBooksGeneralLedgerTests(ImportTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.load_chart()

    def test_it_reads_headings_totals_footer_and_bracketed_negatives(self) -> None:
        imp = self.import_file(general_ledger())
        self.assertEqual((imp.layout, imp.source, imp.status),
                         (L.QBO_GENERAL_LEDGER, "quickbooks", S.DONE), imp.error)  # fmt: skip
        self.assertEqual(imp.created_count, 4)
        lines = TransactionLine.objects.filter(client=self.books).select_related("account")
        got = sorted((ln.account.code, ln.kind, ln.net) for ln in lines)
        self.assertEqual(got, [
            ("200", "sales_credit_note", Decimal("250.00")),
            ("200", "sales_invoice", Decimal("1000.00")),
            ("400", "bank_spend", Decimal("-40.00")),
            ("400", "bank_spend", Decimal("60.00")),
        ])  # fmt: skip
        invoice = Transaction.objects.get(client=self.books, kind="sales_invoice")
        # "Customer:Job" names the customer.
        self.assertEqual((invoice.number, invoice.contact.name), ("1001", "Bright Ideas Ltd"))

    def test_importing_the_same_report_again_changes_nothing(self) -> None:
        self.import_file(general_ledger())
        again = self.import_file(general_ledger())
        self.assertEqual(
            (again.created_count, again.updated_count, again.unchanged_count), (0, 0, 4)
        )
