"""Xero's contacts export: matched on the name, case-insensitively; flags follow transactions."""

from __future__ import annotations

from checks.imports import layouts as L
from checks.models import LedgerContact, LedgerImport
from tests.checks.files import layouts
from tests.checks.files.harness import ImportTestCase

S = LedgerImport.Status


def contacts_file(*names: str, **extra) -> bytes:
    records = [{"ContactName": n, "EmailAddress": f"{n[:3].lower()}@example.com"}
               for n in names]  # fmt: skip
    for record in records:
        record.update(extra)
    return layouts.csv_bytes(layouts.table(layouts.XERO_CONTACTS, *records))


class XeroContactsImportTests(ImportTestCase):
    def test_it_recognises_the_export(self) -> None:
        imp = self.upload(contacts_file("Bright Ideas Ltd"))
        self.assertEqual((imp.layout, imp.status), (L.XERO_CONTACTS, S.READY))

    def test_it_writes_contacts_and_reads_archived_ones(self) -> None:
        data = layouts.csv_bytes(
            layouts.table(
                layouts.XERO_CONTACTS,
                {"ContactName": "Bright Ideas Ltd", "AccountNumber": "BI01",
                 "EmailAddress": "accounts@bright.example"},
                {"ContactName": "Old Supplier", "ContactStatus": "ARCHIVED"},
            )
        )  # fmt: skip
        imp = self.import_file(data)
        self.assertEqual((imp.status, imp.created_count), (S.DONE, 2), imp.error)
        bright = LedgerContact.objects.get(client=self.books, name="Bright Ideas Ltd")
        self.assertEqual((bright.account_number, bright.email), ("BI01", "accounts@bright.example"))
        self.assertFalse(bright.archived)
        self.assertTrue(LedgerContact.objects.get(client=self.books, name="Old Supplier").archived)

    def test_it_matches_names_case_insensitively(self) -> None:
        self.import_file(contacts_file("Bright Ideas Ltd"))
        again = self.import_file(
            layouts.csv_bytes(
                layouts.table(
                    layouts.XERO_CONTACTS,
                    {"ContactName": "BRIGHT IDEAS LTD", "EmailAddress": "bright@example.com"},
                )
            )
        )
        self.assertEqual((again.created_count, again.updated_count), (0, 1))
        self.assertEqual(LedgerContact.objects.filter(client=self.books).count(), 1)

    def test_importing_the_same_file_again_changes_nothing(self) -> None:
        self.import_file(contacts_file("Bright Ideas Ltd", "Cable Co"))
        again = self.import_file(contacts_file("Bright Ideas Ltd", "Cable Co"))
        self.assertEqual(
            (again.created_count, again.updated_count, again.unchanged_count), (0, 0, 2)
        )

    def test_a_row_without_a_name_is_refused_with_its_line(self) -> None:
        imp = self.import_file(contacts_file("Bright Ideas Ltd", ""))
        self.assertEqual(imp.status, S.FAILED)
        self.assertEqual(imp.rejected[0]["reason"], "Line 3: the contact has no name")
        self.assertFalse(LedgerContact.objects.filter(client=self.books).exists())
