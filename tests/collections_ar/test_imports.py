"""Importing invoices from Xero's sales-invoice export and the plain AR CSV: line numbers on
every refusal, nothing half-imported, a second import idempotent, payments from a re-import."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from django.test import SimpleTestCase

from collections_ar.imports.applying import ImportRefused, apply_invoices
from collections_ar.imports.reading import FileRefused, parse_money, read_invoices
from collections_ar.models import Invoice, Payment
from tests import factories as f
from tests.collections_ar.ar_helpers import TODAY, ARTestCase

XERO_FILE = Path(__file__).parent / "files" / "xero_sales_invoices.csv"
S = Invoice.Status
PLAIN_HEADER = "customer,invoice_number,issue_date,due_date,total,amount_paid,currency,status\n"


class ReadingTests(SimpleTestCase):
    def test_xeros_export_is_read_once_per_invoice_with_drafts_left_out(self) -> None:
        read = read_invoices(XERO_FILE.read_bytes())
        self.assertEqual(read.layout_name, "Xero sales invoices")
        self.assertEqual(read.errors, [])
        self.assertEqual(read.skipped, 1)  # the draft
        by_number = {r.number: r for r in read.records}
        self.assertEqual(sorted(by_number), ["INV-0101", "INV-0102", "INV-0103", "INV-0105"])
        first = by_number["INV-0101"]  # two lines, one invoice
        self.assertEqual(
            (first.line, first.total, first.paid, first.issue_date, first.due_date),
            (2, Decimal("1440.00"), Decimal("0.00"), dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        )
        self.assertEqual(by_number["INV-0102"].paid, Decimal("250.00"))
        self.assertTrue(by_number["INV-0105"].void)

    def test_bad_rows_are_refused_with_their_line_numbers(self) -> None:
        data = (
            PLAIN_HEADER
            + "Acme Widgets,A-1,01/10/2026,31/10/2026,100.00,,,\n"
            + "Acme Widgets,A-2,31/10/2026,01/10/2026,100.00,,,\n"  # due before issue
            + "Acme Widgets,A-3,01/10/2026,31/10/2026,-5.00,,,\n"  # negative
            + "Acme Widgets,A-4,32/10/2026,31/10/2026,5.00,,,\n"  # no such date
            + "Acme Widgets,A-1,01/10/2026,31/10/2026,100.00,,,\n"  # a number twice
            + ",A-6,01/10/2026,31/10/2026,5.00,,,\n"  # no customer
            + "Acme Widgets,A-7,01/10/2026,31/10/2026,5.00,9.00,,\n"  # paid above total
        )
        read = read_invoices(data.encode())
        self.assertEqual([r.number for r in read.records], ["A-1"])
        lines = dict(read.errors)
        self.assertEqual(sorted(lines), [3, 4, 5, 6, 7, 8])
        self.assertIn("due date is before the issue date", lines[3])
        self.assertIn("negative", lines[4])
        self.assertIn("not a date", lines[5])
        self.assertIn("also on line 2", lines[6])
        self.assertIn("customer is empty", lines[7])
        self.assertIn("more than the total", lines[8])

    def test_a_file_of_neither_layout_or_not_text_is_refused_whole(self) -> None:
        for data in (b"", b"name,amount\nA,1\n", b"\xff\xfe\x00bin"):
            with self.subTest(data=data), self.assertRaises(FileRefused):
                read_invoices(data)

    def test_amounts_as_exports_write_them(self) -> None:
        self.assertEqual(parse_money("1,250.00"), Decimal("1250.00"))
        self.assertEqual(parse_money("£(250.00)"), Decimal("-250.00"))
        self.assertEqual(parse_money("", blank_is_zero=True), Decimal("0.00"))
        for bad in ("12.345", "ten", "1.2.3"):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                parse_money(bad)


class ApplyingTests(ARTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bolt = f.ClientFactory(practice=self.practice, name="Bolt Ltd")

    def apply(self, data: bytes):
        return apply_invoices(self.practice, read_invoices(data), actor=self.owner, today=TODAY)

    def test_xeros_export_makes_invoices_with_part_payments_and_a_second_run_changes_nothing(
        self,
    ) -> None:
        summary = self.apply(XERO_FILE.read_bytes())
        self.assertEqual((summary.created, summary.paid, summary.skipped), (3, 2, 2))
        part = Invoice.objects.get(number="INV-0102")
        self.assertEqual((part.status, part.balance), (S.PART_PAID, Decimal("350.00")))
        self.assertEqual(Invoice.objects.get(number="INV-0103").status, S.PAID)
        self.assertTrue(Invoice.objects.get(number="INV-0101").collection_status.is_default)
        self.assertFalse(Invoice.objects.filter(number__in=["INV-0104", "INV-0105"]).exists())
        payments = Payment.objects.count()
        again = self.apply(XERO_FILE.read_bytes())
        self.assertEqual((again.created, again.paid, again.unchanged), (0, 0, 3))
        self.assertEqual((Invoice.objects.count(), Payment.objects.count()), (3, payments))

    def test_a_re_import_with_more_paid_records_the_payment(self) -> None:
        self.apply(XERO_FILE.read_bytes())
        paid_more = XERO_FILE.read_bytes().replace(b",250.00,350.00,", b",600.00,0.00,")
        summary = self.apply(paid_more)
        self.assertEqual(summary.paid, 1)
        invoice = Invoice.objects.get(number="INV-0102")
        self.assertEqual((invoice.status, invoice.balance), (S.PAID, Decimal("0.00")))
        latest = Payment.objects.filter(invoice=invoice).order_by("-id").first()
        self.assertEqual((latest.amount, latest.source), (Decimal("350.00"), "import"))

    def test_one_bad_record_imports_nothing_and_names_its_line(self) -> None:
        data = (
            PLAIN_HEADER
            + "Acme Widgets,P-1,01/10/2026,31/10/2026,100.00,,,\n"
            + "Nobody Ltd,P-2,01/10/2026,31/10/2026,100.00,,,\n"
        ).encode()
        with self.assertRaises(ImportRefused) as ctx:
            self.apply(data)
        self.assertEqual(ctx.exception.errors, [(3, "There is no client named “Nobody Ltd”.")])
        self.assertFalse(Invoice.objects.exists())

    def test_less_paid_or_another_clients_number_is_refused(self) -> None:
        self.apply(
            (PLAIN_HEADER + "Acme Widgets,P-1,01/10/2026,31/10/2026,100.00,60.00,,\n").encode()
        )
        for row, reason in (
            ("Acme Widgets,P-1,01/10/2026,31/10/2026,100.00,10.00,,", "less paid"),
            ("Bolt Ltd,P-1,01/10/2026,31/10/2026,100.00,60.00,,", "another client"),
        ):
            with self.subTest(reason=reason), self.assertRaises(ImportRefused) as ctx:
                self.apply((PLAIN_HEADER + row + "\n").encode())
            self.assertIn(reason, ctx.exception.errors[0][1])
        self.assertEqual(Invoice.objects.get(number="P-1").amount_paid, Decimal("60.00"))

    def test_void_in_a_re_import_voids_the_invoice(self) -> None:
        row = "Acme Widgets,P-1,01/10/2026,31/10/2026,100.00,,GBP,{}\n"
        self.apply((PLAIN_HEADER + row.format("")).encode())
        summary = self.apply((PLAIN_HEADER + row.format("void")).encode())
        self.assertEqual(summary.voided, 1)
        self.assertEqual(Invoice.objects.get(number="P-1").status, S.VOID)


class ImportPageTests(ARTestCase):
    def setUp(self) -> None:
        super().setUp()
        f.ClientFactory(practice=self.practice, name="Bolt Ltd")

    def upload(self, data: bytes, name: str = "invoices.csv"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return self.client.post("/ar/import/", {"file": SimpleUploadedFile(name, data)})

    def test_a_manager_previews_writing_nothing_then_imports(self) -> None:
        self.client.force_login(self.ar_manager)
        r = self.upload(XERO_FILE.read_bytes())
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.context["summary"].created, 3)
        self.assertContains(r, "Import this file")
        self.assertFalse(Invoice.objects.exists())  # the preview wrote nothing
        r = self.client.post("/ar/import/confirm/")
        self.assertRedirects(r, "/ar/", fetch_redirect_response=False)
        self.assertEqual(Invoice.objects.count(), 3)
        # The kept file is gone: confirming again imports nothing more.
        r = self.client.post("/ar/import/confirm/", follow=True)
        self.assertContains(r, "upload it again")
        self.assertEqual(Invoice.objects.count(), 3)

    def test_refused_lines_are_listed_and_the_import_button_is_not_shown(self) -> None:
        self.client.force_login(self.ar_manager)
        data = PLAIN_HEADER + "Nobody Ltd,P-2,01/10/2026,31/10/2026,100.00,,,\n"
        r = self.upload(data.encode())
        self.assertContains(r, "There is no client named “Nobody Ltd”.")
        self.assertNotContains(r, "/ar/import/confirm/")
        self.assertEqual(self.client.post("/ar/import/confirm/").status_code, 302)
        self.assertFalse(Invoice.objects.exists())

    def test_a_file_that_is_not_csv_or_not_an_invoice_file_is_refused_on_the_form(self) -> None:
        self.client.force_login(self.ar_manager)
        for data, name, message in (
            (b"%PDF-1.4 not csv", "invoices.pdf", "this type of file is not accepted"),
            (b"name,amount\nA,1\n", "invoices.csv", "neither Xero"),
            (b"<script>alert(1)</script>,a\n", "invoices.csv", "web-page code"),
        ):
            with self.subTest(name=name, message=message):
                r = self.upload(data, name)
                self.assertEqual(r.status_code, 200)
                self.assertContains(r, message)
        self.assertFalse(Invoice.objects.exists())

    def test_specialists_and_staff_are_refused(self) -> None:
        for user in (self.ar_specialist, self.staff):
            self.client.force_login(user)
            with self.subTest(user=user):
                self.assertEqual(self.client.get("/ar/import/").status_code, 403)
                self.assertEqual(self.upload(XERO_FILE.read_bytes()).status_code, 403)
                self.assertEqual(self.client.post("/ar/import/confirm/").status_code, 403)
        self.assertFalse(Invoice.objects.exists())


XERO_CONTACTS = (
    "ContactName,AccountNumber,EmailAddress,FirstName,LastName,POAttentionTo,PhoneNumber,"
    "MobileNumber,ContactStatus\r\n"
    "Acme Widgets,ACM01,ellie@acme.example,Ellie,Ali,,0113 496 0000,07700 900123,ACTIVE\r\n"
    "Paper Supplies Ltd,PAP01,sales@paper.example,Sue,Smith,,,,ACTIVE\r\n"
    "Bolt Ltd,BOL01,old@bolt.example,Ben,Bolt,,,,ARCHIVED\r\n"
)


class ContactsImportTests(ARTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bolt = f.ClientFactory(practice=self.practice, name="Bolt Ltd")

    def run_import(self, data: str):
        from collections_ar.imports.contacts import import_contacts

        return import_contacts(self.practice, data.encode(), actor=self.owner)

    def test_a_clients_contact_becomes_its_collections_contact_suppliers_left_out(self) -> None:
        from sodium.models import Contact

        summary = self.run_import(XERO_CONTACTS)
        self.assertEqual((summary.added, summary.left_out), (1, 2))
        contact = Contact.objects.get(client=self.acme, email="ellie@acme.example")
        self.assertEqual((contact.first_name, str(contact.mobile)), ("Ellie", "+447700900123"))
        self.customer.refresh_from_db()
        self.assertEqual(self.customer.contact, contact)
        again = self.run_import(XERO_CONTACTS)
        self.assertEqual((again.added, again.updated, again.unchanged), (0, 0, 1))
        self.assertEqual(Contact.objects.filter(client=self.acme).count(), 1)

    def test_a_bad_mobile_refuses_the_file_with_its_line(self) -> None:
        from sodium.models import Contact

        before = Contact.objects.count()
        bad = XERO_CONTACTS.replace("07700 900123", "0113 496 0001")
        with self.assertRaises(ImportRefused) as ctx:
            self.run_import(bad)
        self.assertEqual(ctx.exception.errors[0][0], 2)
        self.assertIn("not a mobile number", ctx.exception.errors[0][1])
        self.assertEqual(Contact.objects.count(), before)


class ContactsImportPageTests(ARTestCase):
    def test_a_contacts_export_is_previewed_then_imported(self) -> None:
        from django.core.files.uploadedfile import SimpleUploadedFile

        from sodium.models import Contact

        self.client.force_login(self.ar_manager)
        upload = SimpleUploadedFile("Contacts.csv", XERO_CONTACTS.encode())
        r = self.client.post("/ar/import/", {"file": upload})
        self.assertContains(r, "Read as Xero contacts")
        self.assertEqual(r.context["contacts_summary"].added, 1)
        self.assertFalse(Contact.objects.filter(email="ellie@acme.example").exists())
        r = self.client.post("/ar/import/confirm/", follow=True)
        self.assertContains(r, "Imported contacts: 1 added")
        self.customer.refresh_from_db()
        self.assertEqual(self.customer.contact.email, "ellie@acme.example")
