"""Every bad input of issue 13: a readable message at upload or per row with its line, and
the ledger unchanged unless the whole file is good (or the good rows were chosen)."""

from __future__ import annotations

from unittest import mock

from django.core.files.storage import default_storage
from django.test import override_settings

from checks import engine
from checks.imports import writer
from checks.models import BankStatementLine, LedgerAccount, LedgerImport, Transaction
from tests.checks.files import layouts
from tests.checks.files.harness import ImportTestCase
from tests.checks.files.layouts import invoice_line

S = LedgerImport.Status


def stored_files() -> list[str]:
    if not default_storage.exists("ledger-imports"):
        return []
    return default_storage.listdir("ledger-imports")[1]


class RefusedAtUploadTests(ImportTestCase):
    def assertRefused(self, data: bytes, words: str, name: str = "export.csv") -> None:  # noqa: N802
        before = stored_files()
        with self.assertRaises(engine.ImportRefused) as caught:
            self.upload(data, name=name)
        self.assertIn(words, str(caught.exception).replace("\xa0", " "))
        self.assertEqual(stored_files(), before)
        self.assertFalse(LedgerImport.objects.filter(client=self.books).exists())

    def test_a_good_file_is_accepted_by_the_same_checks(self) -> None:
        self.assertEqual(self.upload(layouts.accounts_file()).status, S.READY)

    def test_a_binary_file_is_not_csv(self) -> None:
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
        self.assertRefused(png, "is not a CSV file")
        xlsx = b"PK\x03\x04" + b"\x14\x00" * 50
        self.assertRefused(xlsx, "is not a CSV file", name="accounts.xlsx")

    def test_a_web_page_is_not_csv(self) -> None:
        self.assertRefused(b"<!DOCTYPE html><html><body>Sign in</body></html>", "web-page code")

    def test_an_empty_file_is_refused(self) -> None:
        self.assertRefused(b"", "is empty")
        self.assertRefused(b"\n\n", "has no header row")

    def test_a_file_whose_first_row_is_data_has_no_recognisable_header(self) -> None:
        self.assertRefused(b"25/09/2026,-12.50,Coffee\n", "Line 1 is already data")

    def test_mixed_date_formats_are_refused_with_both_lines(self) -> None:
        data = layouts.csv_bytes([
            layouts.XERO_BANK_STATEMENT,
            ["25/09/2026", "-1.00", "A", "", "", ""],
            ["01/02/2026", "-1.00", "B", "", "", ""],
            ["09/26/2026", "-1.00", "C", "", "", ""],
        ])  # fmt: skip
        self.assertRefused(
            data,
            "The file mixes date formats: line 2 has 25/09/2026 (day first) and line 4 has "
            "09/26/2026 (month first).",
        )

    @override_settings(SODIUM_LEDGER_IMPORT_MAX_ROWS=6)
    def test_more_rows_than_allowed_are_refused(self) -> None:
        self.assertRefused(layouts.accounts_file(), "has more than 6 rows")

    @override_settings(SODIUM_LEDGER_IMPORT_MAX_ROWS=7)
    def test_the_row_limit_itself_is_allowed(self) -> None:
        self.assertEqual(self.upload(layouts.accounts_file()).status, S.READY)

    def test_a_200_mb_upload_is_refused_before_it_is_read(self) -> None:
        upload = layouts.upload(layouts.accounts_file())
        upload.size = 200 * 1024 * 1024
        never = AssertionError("the file was read")
        with mock.patch("checks.engine.reading.detect_encoding", side_effect=never):
            with self.assertRaises(engine.ImportRefused) as caught:
                engine.upload_ledger_file(self.books, upload, actor=self.staff)
        self.assertIn(
            "export.csv is 200.0 MB; a ledger file may be at most 50.0 MB",
            str(caught.exception).replace("\xa0", " "),
        )


class RefusedRowsTests(ImportTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.load_chart()
        self.accounts = LedgerAccount.objects.filter(client=self.books).count()

    def assertNothingWritten(self) -> None:  # noqa: N802
        self.assertFalse(Transaction.objects.filter(client=self.books).exists())
        self.assertFalse(BankStatementLine.objects.filter(client=self.books).exists())

    def invoices(self, *lines) -> bytes:
        return layouts.csv_bytes(layouts.table(layouts.XERO_SALES_INVOICES, *lines))

    def test_a_non_numeric_amount_is_refused_with_its_line(self) -> None:
        data = layouts.csv_bytes([
            layouts.XERO_BANK_STATEMENT,
            ["25/09/2026", "-1.00", "A", "", "", ""],
            ["26/09/2026", "abc", "B", "", "", ""],
        ])  # fmt: skip
        imp = self.import_file(data, bank_account=self.bank)
        self.assertEqual(imp.status, S.FAILED)
        reason = "Line 3: the amount 'abc' is not a number"
        self.assertEqual(imp.rejected, [{"line": 3, "last_line": 3, "reason": reason}])
        self.assertIn("1 row could not be imported, so nothing was imported", imp.error)
        self.assertNothingWritten()

    def test_an_unknown_account_code_is_refused_with_its_line(self) -> None:
        data = self.invoices(
            invoice_line("INV-1", "Cable Co"), invoice_line("INV-2", "Cable Co", AccountCode="999")
        )
        imp = self.import_file(data)
        self.assertEqual(imp.status, S.FAILED)
        self.assertEqual(imp.rejected[0]["reason"], "Line 3: unknown account code 999")
        self.assertNothingWritten()

    def test_an_invoice_whose_lines_disagree_with_its_total_is_refused(self) -> None:
        total = {"Total": "150.00"}
        data = self.invoices(
            invoice_line("INV-6", "Cable Co"),
            invoice_line("INV-7", "Cable Co", LineAmount="50.00", TaxAmount="10.00", **total),
            invoice_line("INV-7", "Cable Co", LineAmount="50.00", TaxAmount="10.00", **total),
        )
        imp = self.import_file(data)
        self.assertEqual(imp.status, S.FAILED)
        self.assertEqual(
            imp.rejected[0]["reason"],
            "Lines 3–4: invoice INV-7's lines add up to 120.00 but its total says 150.00",
        )
        self.assertNothingWritten()

    def test_an_invoice_whose_lines_disagree_on_its_total_is_refused(self) -> None:
        data = self.invoices(
            invoice_line("INV-7", "Cable Co", LineAmount="50.00", TaxAmount="10.00"),
            invoice_line("INV-7", "Cable Co", Total="150.00"),
        )
        imp = self.import_file(data)
        self.assertIn("invoice INV-7's lines disagree on its total", imp.rejected[0]["reason"])

    def test_a_date_that_is_not_a_date_is_refused(self) -> None:
        imp = self.import_file(self.invoices(invoice_line("INV-1", "Cable Co", InvoiceDate="soon")))
        self.assertEqual(imp.rejected[0]["reason"], "Line 2: the date 'soon' is not a date")

    def test_a_failure_after_the_first_batch_leaves_nothing_written(self) -> None:
        good = [invoice_line(f"INV-{n}", f"Customer {n}") for n in range(5)]
        data = self.invoices(*good, invoice_line("INV-9", "Cable Co", AccountCode="999"))
        with mock.patch.object(writer, "BATCH_SIZE", 2):
            imp = self.import_file(data)
        self.assertEqual(imp.status, S.FAILED)
        self.assertNothingWritten()
        self.assertFalse(
            Transaction.objects.filter(client=self.books).exists()
            or self.books.pk
            in LedgerAccount.objects.filter(code="999").values_list("client", flat=True)
        )

    def test_with_good_rows_chosen_the_good_rows_go_in_and_rejects_are_listed(self) -> None:
        data = self.invoices(
            invoice_line("INV-1", "Cable Co"),
            invoice_line("INV-2", "Cable Co", AccountCode="999"),
            invoice_line("INV-3", "Cable Co", UnitAmount="x", LineAmount=""),
        )
        imp = self.import_file(data, good_rows=True)
        self.assertEqual((imp.status, imp.created_count, imp.rejected_count), (S.DONE, 1, 2))
        self.assertEqual([r["reason"] for r in imp.rejected], [
            "Line 4: the unit amount 'x' is not a number",
            "Line 3: unknown account code 999",
        ])  # fmt: skip
        self.assertEqual(
            list(Transaction.objects.filter(client=self.books).values_list("number", flat=True)),
            ["INV-1"],
        )

    def test_an_unexpected_error_fails_the_import_and_writes_nothing(self) -> None:
        original = writer._Writer.mark_customers_and_suppliers

        def boom(self) -> None:
            original(self)
            raise RuntimeError("disk full")

        with mock.patch.object(writer._Writer, "mark_customers_and_suppliers", boom):
            imp = self.import_file(self.invoices(invoice_line("INV-1", "Cable Co")))
        self.assertEqual(imp.status, S.FAILED)
        self.assertIn("disk full", imp.error)
        self.assertNothingWritten()
