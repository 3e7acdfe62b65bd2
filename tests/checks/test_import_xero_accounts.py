"""Xero's chart of accounts export: recognised, read, written once on the account code."""

from __future__ import annotations

from decimal import Decimal

from checks.imports import layouts as L
from checks.models import LedgerAccount, LedgerImport
from sodium.models import ActivityEvent
from tests.checks.files import layouts
from tests.checks.files.harness import ImportTestCase

S = LedgerImport.Status


class XeroAccountsImportTests(ImportTestCase):
    def test_it_recognises_the_export_and_is_ready(self) -> None:
        imp = self.upload(layouts.accounts_file())
        self.assertEqual((imp.layout, imp.source, imp.status), (L.XERO_ACCOUNTS, "xero", S.READY))
        self.assertEqual(imp.total_rows, 7)
        self.assertEqual(len(imp.sha256), 64)
        self.assertNotIn("export", imp.stored_name)

    def test_it_writes_every_account_with_its_type_and_system_flag(self) -> None:
        imp = self.import_file(layouts.accounts_file())
        self.assertEqual(imp.status, S.DONE, imp.error)
        self.assertEqual((imp.created_count, imp.updated_count, imp.unchanged_count), (7, 0, 0))
        rows = {a.code: a for a in LedgerAccount.objects.filter(client=self.books)}
        self.assertEqual(sorted(rows), ["090", "200", "400", "610", "800", "820", "835"])
        self.assertEqual(rows["090"].type, LedgerAccount.Type.BANK)
        self.assertEqual(rows["610"].type, LedgerAccount.Type.CURRENT_ASSET)
        self.assertEqual(rows["200"].tax_code, "20% (VAT on Income)")
        system = {code for code, a in rows.items() if a.is_system}
        self.assertEqual(system, {"610", "800", "820"})
        self.assertEqual(imp.processed_rows, imp.total_rows)
        verbs = ActivityEvent.objects.filter(object_id=imp.pk, verb="ledger_import.status")
        self.assertEqual(
            list(verbs.order_by("id").values_list("new_status", flat=True)),
            [S.READY, S.IMPORTING, S.DONE],
        )

    def test_importing_the_same_file_again_changes_nothing(self) -> None:
        self.import_file(layouts.accounts_file())
        again = self.import_file(layouts.accounts_file())
        self.assertEqual(
            (again.created_count, again.updated_count, again.unchanged_count), (0, 0, 7)
        )

    def test_a_changed_name_updates_the_account_it_matches_by_code(self) -> None:
        self.import_file(layouts.accounts_file())
        data = layouts.accounts_file().replace(b"Advertising", b"Marketing")
        again = self.import_file(data)
        self.assertEqual(again.status, S.DONE, again.error)
        self.assertEqual(
            (again.created_count, again.updated_count, again.unchanged_count), (0, 1, 6)
        )
        self.assertEqual(LedgerAccount.objects.get(client=self.books, code="400").name, "Marketing")

    def test_it_reads_a_bom_crlf_file_with_lower_case_headers(self) -> None:
        data = layouts.accounts_file(bom=True, crlf=True).replace(b"*Tax Code", b" TAX CODE ")
        imp = self.import_file(data)
        self.assertEqual(imp.status, S.DONE, imp.error)
        self.assertEqual(LedgerAccount.objects.get(client=self.books, code="200").tax_code,
                         "20% (VAT on Income)")  # fmt: skip

    def test_it_keeps_leading_zeros_of_codes(self) -> None:
        self.import_file(layouts.accounts_file())
        self.assertTrue(LedgerAccount.objects.filter(client=self.books, code="090").exists())
        self.assertFalse(LedgerAccount.objects.filter(client=self.books, code="90").exists())
        self.assertIsInstance(Decimal("1"), Decimal)
