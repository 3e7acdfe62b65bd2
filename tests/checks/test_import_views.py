"""The ledger import pages: upload, column mapping, preview, import with progress, the counts
and rejected rows, cancel; who may do what; other practices' imports are not found."""

from __future__ import annotations

from unittest import mock

from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from checks import tasks
from checks.imports import layouts as L
from checks.models import (
    BankStatementLine,
    ColumnMapping,
    LedgerAccount,
    LedgerImport,
    Transaction,
)
from sodium.models import ActivityEvent
from tests import factories as f
from tests.checks.files import layouts
from tests.checks.files.harness import ImportTestCase
from tests.checks.files.layouts import invoice_line
from tests.checks.test_import_bad_input import stored_files

S = LedgerImport.Status
BANK_HEADER = ["Number", "Date", "Account", "Amount", "Subcategory", "Memo"]
BANK_ROWS = [
    ["1", "25/09/2026", "090", "-40.00", "Fuel", "Garage"],
    ["2", "30/09/2026", "090", "100.00", "Refund", "Returned goods"],
]
MAPPING = {"map_date": "Date", "map_amount": "Amount", "map_payee": "Memo",
           "map_description": "Subcategory", "remember": "on"}  # fmt: skip


def statement(*rows: list[str]) -> bytes:
    return layouts.csv_bytes([layouts.XERO_BANK_STATEMENT, *rows])


class ImportViewsTestCase(ImportTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.staff)
        self.page = reverse("checks:client-import", args=[self.books.pk])

    def url(self, name: str, imp: LedgerImport) -> str:
        return reverse(f"checks:import-{name}", args=[self.books.pk, imp.pk])

    def post_file(self, data: bytes, name: str = "export.csv", **fields):
        return self.client.post(self.page, {"file": layouts.upload(data, name), **fields})

    def uploaded(self, data: bytes, name: str = "export.csv", **fields) -> LedgerImport:
        r = self.post_file(data, name, **fields)
        imp = LedgerImport.objects.filter(client=self.books).order_by("-pk").first()
        self.assertIsNotNone(imp, r.content.decode()[:2000])
        self.assertRedirects(r, self.url("detail", imp), fetch_redirect_response=False)
        return imp

    def post_start(self, imp: LedgerImport, **data):
        """Press Import; the task runs as the worker would once the start commits."""
        task = tasks.import_ledger_task
        with (
            mock.patch.object(task, "delay", side_effect=lambda *a: task.apply(args=a)),
            self.captureOnCommitCallbacks(execute=True),
        ):
            r = self.client.post(self.url("start", imp), data)
        self.assertRedirects(r, self.url("detail", imp), fetch_redirect_response=False)
        imp.refresh_from_db()
        return imp


class UploadPageTests(ImportViewsTestCase):
    def test_the_page_says_what_it_reads_and_has_an_empty_state(self) -> None:
        r = self.client.get(self.page)
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "checks/import_page.html")
        for words in ("chart of accounts", "Account Transactions", "General Ledger",
                      "its own CSV download", "Nothing imported yet"):  # fmt: skip
            self.assertContains(r, words)
        self.assertContains(r, 'type="file"')
        self.assertNotContains(r, 'name="bank_account"')  # no bank accounts yet

    def test_a_chart_of_accounts_is_previewed_then_imported_and_listed(self) -> None:
        imp = self.uploaded(layouts.accounts_file(), "Chart of Accounts.csv")
        self.assertEqual((imp.status, imp.layout), (S.READY, L.XERO_ACCOUNTS))
        self.assertFalse(LedgerAccount.objects.filter(client=self.books).exists())

        r = self.client.get(self.url("detail", imp))
        self.assertContains(r, "Preview: as they will be read")
        self.assertContains(r, "The first 7 of 7 rows")
        self.assertContains(r, "<td>Business Bank Account</td>", html=False)
        self.assertContains(r, "<td>Directors Loan Account</td>", html=False)
        self.assertContains(r, ">Import</button>")
        self.assertNotContains(r, "import_good_rows")  # no row has an error

        imp = self.post_start(imp)
        self.assertEqual((imp.status, imp.created_count), (S.DONE, 7), imp.error)
        self.assertEqual(LedgerAccount.objects.filter(client=self.books).count(), 7)
        r = self.client.get(self.url("detail", imp))
        self.assertContains(r, "Imported")
        self.assertContains(r, '<span class="stat-value">7</span><span class="stat-label">'
                               "Created</span>", html=False)  # fmt: skip
        self.assertContains(r, reverse("checks:client-run", args=[self.books.pk]))
        self.assertContains(r, reverse("checks:client-health", args=[self.books.pk]))

        listed = self.client.get(self.page)
        self.assertContains(listed, "Chart of Accounts.csv")
        self.assertContains(listed, "Xero chart of accounts")
        self.assertContains(listed, '<span class="chip chip-import-done">Imported</span>')
        self.assertContains(listed, self.staff.full_name)
        self.assertNotContains(listed, "Nothing imported yet")
        # Now the client has a bank account, a statement's account can be chosen at upload.
        self.assertContains(listed, 'name="bank_account"')
        self.assertContains(listed, "090 Business Bank Account")

    def test_a_file_that_is_not_csv_is_a_form_error_and_nothing_is_stored(self) -> None:
        before = stored_files()
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
        r = self.post_file(png, "statement.png")
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "statement.png is not a CSV file")
        self.assertContains(r, 'class="field has-error"')
        self.assertFalse(LedgerImport.objects.filter(client=self.books).exists())
        self.assertEqual(stored_files(), before)

    def test_a_file_without_a_header_row_is_refused_with_its_line(self) -> None:
        r = self.post_file(b"25/09/2026,-12.50,Coffee\n")
        self.assertContains(r, "Line 1 is already data")
        self.assertFalse(LedgerImport.objects.filter(client=self.books).exists())

    def test_mixed_date_formats_are_refused_at_upload(self) -> None:
        data = statement(["25/09/2026", "-1.00", "A", "", "", ""],
                         ["09/26/2026", "-1.00", "C", "", "", ""])  # fmt: skip
        r = self.post_file(data)
        self.assertContains(r, "The file mixes date formats: line 2 has 25/09/2026")
        self.assertFalse(LedgerImport.objects.filter(client=self.books).exists())

    def test_no_file_chosen_is_a_form_error(self) -> None:
        r = self.client.post(self.page, {})
        self.assertContains(r, "Choose the CSV file to import.")
        self.assertFalse(LedgerImport.objects.filter(client=self.books).exists())

    def test_its_query_count_does_not_grow_with_imports(self) -> None:
        self.load_chart()
        self.client.get(self.page)
        with CaptureQueriesContext(connection) as before:
            self.client.get(self.page)
        for n in range(4):
            self.upload(layouts.accounts_file(), name=f"chart-{n}.csv")
        with CaptureQueriesContext(connection) as after:
            r = self.client.get(self.page)
        self.assertEqual(len(r.context["imports"]), 5)
        self.assertEqual(len(after), len(before), [q["sql"] for q in after.captured_queries])


class MappingTests(ImportViewsTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.load_chart()
        self.data = layouts.csv_bytes([BANK_HEADER, *BANK_ROWS])

    def test_a_banks_own_columns_are_mapped_once_and_remembered(self) -> None:
        imp = self.uploaded(self.data, "barclays.csv", bank_account=self.bank.pk)
        self.assertEqual((imp.status, imp.layout), (S.NEEDS_MAPPING, L.UNKNOWN))
        r = self.client.get(self.url("detail", imp))
        self.assertContains(r, "Which column is which")
        for key in L.MAPPING_FIELDS:
            self.assertContains(r, f'name="map_{key}"')
        self.assertContains(r, '<option value="Subcategory">Subcategory</option>')
        self.assertContains(r, 'name="date_format"')
        self.assertContains(r, 'name="remember" id="id_remember" checked')
        # The raw rows beneath, so the person can see what each column holds.
        self.assertContains(r, '<th scope="col">Memo</th>')
        self.assertContains(r, "<td>Returned goods</td>")

        r = self.client.post(self.url("mapping", imp), MAPPING)
        self.assertRedirects(r, self.url("detail", imp), fetch_redirect_response=False)
        imp.refresh_from_db()
        self.assertEqual((imp.status, imp.layout, imp.date_format), (S.READY, L.MAPPED_BANK, "dmy"))
        preview = self.client.get(self.url("detail", imp))
        self.assertContains(preview, "<td>-40.00</td>")
        self.assertContains(preview, "<td>Garage</td>")
        self.assertEqual(ColumnMapping.objects.filter(client=self.books).count(), 1)

        again = self.uploaded(self.data, "barclays-october.csv", bank_account=self.bank.pk)
        self.assertEqual((again.status, again.layout), (S.READY, L.MAPPED_BANK))
        imp = self.post_start(again)
        self.assertEqual((imp.status, imp.created_count), (S.DONE, 2), imp.error)
        self.assertEqual(BankStatementLine.objects.filter(client=self.books).count(), 2)

    def test_not_remembering_keeps_no_mapping(self) -> None:
        imp = self.uploaded(self.data, bank_account=self.bank.pk)
        data = {k: v for k, v in MAPPING.items() if k != "remember"}
        self.client.post(self.url("mapping", imp), data)
        imp.refresh_from_db()
        self.assertEqual(imp.status, S.READY)
        self.assertFalse(ColumnMapping.objects.filter(client=self.books).exists())

    def test_the_bank_account_may_be_chosen_at_the_mapping_step(self) -> None:
        imp = self.uploaded(self.data)
        r = self.client.get(self.url("detail", imp))
        self.assertContains(r, 'name="bank_account"')
        r = self.client.post(self.url("mapping", imp), MAPPING)
        imp.refresh_from_db()
        self.assertEqual(imp.status, S.NEEDS_MAPPING)  # the account is still to choose
        self.assertContains(r, "Choose the bank account this statement is for.")
        self.client.post(self.url("mapping", imp), {**MAPPING, "bank_account": self.bank.pk})
        imp.refresh_from_db()
        self.assertEqual((imp.status, imp.bank_account), (S.READY, self.bank))

    def test_a_mapping_without_an_amount_is_refused_on_the_form(self) -> None:
        imp = self.uploaded(self.data, bank_account=self.bank.pk)
        r = self.client.post(self.url("mapping", imp), {"map_date": "Date"})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Choose the Amount column, or the Debit and Credit columns.")
        self.assertContains(r, "<html")
        imp.refresh_from_db()
        self.assertEqual(imp.status, S.NEEDS_MAPPING)
        # With htmx: the form's partial alone, still 200 so htmx swaps it in.
        r = self.client.post(
            self.url("mapping", imp), {"map_date": "Date"}, headers={"HX-Request": "true"}
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, 'id="import-mapping"')
        self.assertContains(r, "Choose the Amount column")
        self.assertNotContains(r, "<html")

    def test_a_mapping_saved_with_htmx_sends_the_browser_to_the_preview(self) -> None:
        imp = self.uploaded(self.data, bank_account=self.bank.pk)
        r = self.client.post(self.url("mapping", imp), MAPPING, headers={"HX-Request": "true"})
        self.assertEqual(r["HX-Redirect"], self.url("detail", imp))

    def test_dates_that_read_both_ways_ask_for_their_order(self) -> None:
        data = statement(["01/02/2026", "-5.00", "A", "", "", ""],
                         ["03/04/2026", "-6.00", "B", "", "", ""])  # fmt: skip
        imp = self.uploaded(data, bank_account=self.bank.pk)
        r = self.client.get(self.url("detail", imp))
        self.assertContains(r, "Every date in this file could be read day first or month first")
        self.assertNotContains(r, 'name="map_date"')
        r = self.client.post(self.url("mapping", imp), {"remember": "on"})
        self.assertContains(r, "Choose whether the dates are day or month first.")
        self.client.post(self.url("mapping", imp), {"date_format": "mdy", "remember": "on"})
        imp.refresh_from_db()
        self.assertEqual((imp.status, imp.date_format), (S.READY, "mdy"))


class BadRowsTests(ImportViewsTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.load_chart()
        self.bad = statement(["25/09/2026", "-1.00", "A", "", "", ""],
                             ["26/09/2026", "abc", "B", "", "", ""])  # fmt: skip

    def test_the_preview_shows_a_bad_row_in_red_with_its_line(self) -> None:
        imp = self.uploaded(self.bad, bank_account=self.bank.pk)
        r = self.client.get(self.url("detail", imp))
        self.assertContains(r, '<tr class="import-row-bad"><td class="nowrap">3</td>')
        self.assertContains(r, "the amount &#x27;abc&#x27; is not a number")
        self.assertContains(r, 'name="import_good_rows"')
        self.assertContains(r, "1 of the rows above cannot be imported")

    def test_a_file_with_a_bad_row_fails_whole_and_lists_the_row(self) -> None:
        imp = self.post_start(self.uploaded(self.bad, bank_account=self.bank.pk))
        self.assertEqual(imp.status, S.FAILED)
        self.assertFalse(BankStatementLine.objects.filter(client=self.books).exists())
        r = self.client.get(self.url("detail", imp))
        self.assertContains(r, "1 row could not be imported, so nothing was imported")
        self.assertContains(r, '<td class="nowrap">3</td><td class="import-row-error">the amount')
        self.assertContains(r, "Upload a corrected file")
        self.assertContains(r, self.page)

    def test_good_rows_only_imports_them_and_lists_the_rejected(self) -> None:
        imp = self.uploaded(self.bad, bank_account=self.bank.pk)
        imp = self.post_start(imp, import_good_rows="on")
        self.assertEqual((imp.status, imp.created_count, imp.rejected_count), (S.DONE, 1, 1))
        self.assertEqual(BankStatementLine.objects.filter(client=self.books).count(), 1)
        r = self.client.get(self.url("detail", imp))
        self.assertContains(r, "Rejected rows")
        self.assertContains(r, "the good rows only, as chosen")
        self.assertContains(r, '<td class="nowrap">3</td><td class="import-row-error">the amount')

    def test_a_row_refused_only_on_import_offers_the_good_rows_on_the_next_upload(self) -> None:
        data = layouts.csv_bytes(layouts.table(
            layouts.XERO_SALES_INVOICES,
            invoice_line("INV-1", "Cable Co"), invoice_line("INV-2", "Cable Co", AccountCode="999"),
        ))  # fmt: skip
        failed = self.post_start(self.uploaded(data, "invoices.csv"))
        self.assertEqual(failed.status, S.FAILED)
        self.assertContains(self.client.get(self.url("detail", failed)), "unknown account code 999")
        again = self.uploaded(data, "invoices.csv")
        r = self.client.get(self.url("detail", again))
        # Each invoice as it will be read: its kind in words, contact, lines and total.
        for cell in ("Sales invoice", "INV-1", "Cable Co", "25 Sep 2026", "200: 100.00",
                     "999: 100.00", "120.00"):  # fmt: skip
            self.assertContains(r, f"<td>{cell}</td>")
        self.assertContains(r, "1 row could not be")
        self.assertContains(r, 'name="import_good_rows"')
        imp = self.post_start(again, import_good_rows="on")
        self.assertEqual((imp.status, imp.created_count, imp.rejected_count), (S.DONE, 1, 1))
        self.assertEqual(Transaction.objects.filter(client=self.books).count(), 1)

    def test_a_long_rejected_list_says_how_much_it_shows(self) -> None:
        imp = self.post_start(self.uploaded(self.bad, bank_account=self.bank.pk))
        LedgerImport.objects.filter(pk=imp.pk).update(rejected_count=1200)
        r = self.client.get(self.url("detail", imp))
        self.assertContains(r, "Showing the first 1 of 1,200.")


class ProgressAndCancelTests(ImportViewsTestCase):
    def test_the_progress_partial_polls_until_the_import_finishes(self) -> None:
        imp = self.uploaded(layouts.accounts_file())
        task = tasks.import_ledger_task
        with (
            mock.patch.object(task, "delay") as delay,
            self.captureOnCommitCallbacks(execute=True),
        ):
            self.client.post(self.url("start", imp))
        delay.assert_called_once_with(imp.pk, imp.practice_id)
        page = self.client.get(self.url("detail", imp))
        self.assertContains(page, '<progress class="progress import-progress" value="0" max="7"')
        self.assertContains(page, "0 of 7 rows")
        self.assertContains(page, f'<a href="{self.url("detail", imp)}">refresh it</a>')
        self.assertNotContains(page, "style=")
        poll = self.client.get(self.url("detail", imp), headers={"HX-Request": "true"})
        self.assertContains(poll, 'hx-trigger="every 1s"')
        self.assertContains(poll, 'id="import-status"')
        self.assertNotContains(poll, "<html")
        self.assertIn("HX-Request", poll["Vary"])

        task.apply(args=(imp.pk, imp.practice_id))
        poll = self.client.get(self.url("detail", imp), headers={"HX-Request": "true"})
        self.assertContains(poll, 'id="import-status"')
        self.assertNotContains(poll, "hx-trigger")  # finished: the polling stops
        self.assertContains(poll, "Run the checks now")
        self.assertNotContains(poll, "<html")

    def test_cancel_deletes_the_file_and_imports_nothing(self) -> None:
        imp = self.uploaded(layouts.accounts_file())
        self.assertTrue(default_storage.exists(imp.stored_name))
        with self.captureOnCommitCallbacks(execute=True):
            r = self.client.post(self.url("cancel", imp))
        self.assertRedirects(r, self.page, fetch_redirect_response=False)
        imp.refresh_from_db()
        self.assertEqual(imp.status, S.CANCELLED)
        self.assertFalse(default_storage.exists(imp.stored_name))
        self.assertFalse(LedgerAccount.objects.filter(client=self.books).exists())
        self.assertContains(self.client.get(self.url("detail", imp)), "Nothing of this file")
        r = self.client.post(self.url("start", imp), follow=True)
        self.assertContains(r, "imported or cancelled already")

    def test_a_ready_import_whose_file_has_gone_says_so(self) -> None:
        imp = self.uploaded(layouts.accounts_file())
        default_storage.delete(imp.stored_name)
        r = self.client.get(self.url("detail", imp))
        self.assertContains(r, "The uploaded file is no longer here")

    def test_a_finished_import_cannot_be_cancelled(self) -> None:
        imp = self.post_start(self.uploaded(layouts.accounts_file()))
        r = self.client.post(self.url("cancel", imp), follow=True)
        self.assertContains(r, "too late to cancel")
        imp.refresh_from_db()
        self.assertEqual(imp.status, S.DONE)
        # What it imported stays (its file is deleted when it finishes, cancelled or not).
        self.assertTrue(LedgerAccount.objects.filter(client=self.books).exists())


class AccessTests(ImportViewsTestCase):
    def test_another_practices_import_is_not_found(self) -> None:
        imp = self.uploaded(layouts.accounts_file())
        self.client.force_login(self.outsider)
        for name in ("detail", "mapping", "start", "cancel"):
            method = self.client.get if name == "detail" else self.client.post
            self.assertEqual(method(self.url(name, imp)).status_code, 404, name)
        self.assertEqual(self.client.get(self.page).status_code, 404)
        imp.refresh_from_db()
        self.assertEqual(imp.status, S.READY)

    def test_another_clients_import_is_not_found_under_this_client(self) -> None:
        imp = self.uploaded(layouts.accounts_file())
        other = f.ClientFactory(practice=self.practice, name="Other Ltd")
        url = reverse("checks:import-detail", args=[other.pk, imp.pk])
        self.assertEqual(self.client.get(url).status_code, 404)

    def test_a_role_without_work_checks_may_look_but_not_upload_or_import(self) -> None:
        imp = self.uploaded(layouts.accounts_file())
        self.client.force_login(self.ar_specialist)
        page = self.client.get(self.page)
        self.assertEqual(page.status_code, 200)
        self.assertNotContains(page, 'type="file"')
        self.assertEqual(self.client.get(self.url("detail", imp)).status_code, 200)
        before = stored_files()
        self.assertEqual(self.post_file(layouts.accounts_file()).status_code, 403)
        self.assertEqual(stored_files(), before)
        for name in ("mapping", "start", "cancel"):
            self.assertEqual(self.client.post(self.url(name, imp)).status_code, 403, name)
        imp.refresh_from_db()
        self.assertEqual(imp.status, S.READY)
        self.assertEqual(LedgerImport.objects.filter(client=self.books).count(), 1)

    def test_get_never_changes_anything(self) -> None:
        mapped = self.uploaded(layouts.csv_bytes([BANK_HEADER, *BANK_ROWS]))
        ready = self.uploaded(layouts.accounts_file())
        events = ActivityEvent.objects.count()
        for imp in (mapped, ready):
            self.assertEqual(self.client.get(self.url("detail", imp)).status_code, 200)
            for name in ("mapping", "start", "cancel"):
                self.assertEqual(self.client.get(self.url(name, imp)).status_code, 405, name)
        self.assertEqual(self.client.get(self.page).status_code, 200)
        self.assertEqual(ActivityEvent.objects.count(), events)
        self.assertEqual(
            list(LedgerImport.objects.filter(client=self.books).order_by("pk").values_list(
                "status", flat=True)),
            [S.NEEDS_MAPPING, S.READY],
        )  # fmt: skip
        self.assertFalse(ColumnMapping.objects.exists())


class LinksTests(ImportViewsTestCase):
    def test_data_health_links_to_the_import_page_for_those_who_may_import(self) -> None:
        health = reverse("checks:client-health", args=[self.books.pk])
        self.assertContains(self.client.get(health), f'href="{self.page}">Import files</a>')
        self.client.force_login(self.ar_specialist)
        self.assertNotContains(self.client.get(health), "Import files")

    def test_the_client_pages_empty_data_health_card_links_to_the_import(self) -> None:
        r = self.client.get(reverse("sodium:client-detail", args=[self.books.pk]))
        self.assertContains(r, f'href="{self.page}">Import books</a>')


class ChosenLayoutViewTests(ImportViewsTestCase):
    def test_bills_in_the_invoice_template_are_read_as_bills_when_the_person_says_so(self) -> None:
        data = layouts.csv_bytes(
            layouts.table(
                layouts.XERO_SALES_INVOICES,
                invoice_line("B-1", "Paper Supplies", AccountCode="400", Type=""),
            )
        )
        imp = self.uploaded(data, as_layout=L.XERO_BILLS)
        self.assertEqual(imp.layout, L.XERO_BILLS)

    def test_a_choice_the_columns_do_not_fit_is_a_form_error_and_stores_nothing(self) -> None:
        r = self.post_file(layouts.accounts_file(), as_layout=L.XERO_BILLS)
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "has the columns of a Xero chart of accounts file")
        self.assertFalse(LedgerImport.objects.filter(client=self.books).exists())

    def test_an_unknown_choice_is_a_form_error(self) -> None:
        r = self.post_file(layouts.accounts_file(), as_layout="spreadsheet")
        self.assertEqual(r.status_code, 200)
        self.assertTrue(r.context["form"].errors["as_layout"])
        self.assertFalse(LedgerImport.objects.filter(client=self.books).exists())
