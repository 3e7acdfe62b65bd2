"""Adding an invoice by hand: who may, what it makes, and bad input refused with messages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from collections_ar.models import Customer, Invoice
from tests import factories as f
from tests.collections_ar.ar_helpers import TODAY, ARTestCase

URL = "/ar/invoices/new/"


class NewInvoiceTests(ARTestCase):
    def data(self, **kw) -> dict:
        data = {
            "client": str(self.acme.pk),
            "number": "INV-900",
            "issue_date": TODAY.isoformat(),
            "due_date": (TODAY + dt.timedelta(days=30)).isoformat(),
            "currency": "GBP",
            "total": "1200.00",
        }
        data.update(kw)
        return data

    def test_an_ar_manager_adds_an_open_invoice_with_the_default_status(self) -> None:
        bolt = f.ClientFactory(practice=self.practice, name="Bolt Ltd")
        self.client.force_login(self.ar_manager)
        self.assertContains(self.client.get(URL), "Bolt Ltd")
        r = self.client.post(URL, self.data(client=str(bolt.pk)))
        customer = Customer.objects.get(client=bolt)
        self.assertRedirects(r, f"/ar/customers/{customer.pk}/")
        invoice = Invoice.objects.get(number="INV-900")
        self.assertEqual(
            (invoice.customer, invoice.total, invoice.status, invoice.collection_status.is_default),
            (customer, Decimal("1200.00"), Invoice.Status.OPEN, True),
        )

    def test_bad_input_is_refused_with_a_message_and_adds_nothing(self) -> None:
        self.invoice("INV-1")
        rival = f.ClientFactory(practice=self.other_practice, name="Rival Ltd")
        self.client.force_login(self.ar_manager)
        cases = {
            "a due date before the issue date": (
                {"due_date": (TODAY - dt.timedelta(days=1)).isoformat()},
                "cannot be before the issue date",
            ),
            "a negative total": ({"total": "-5.00"}, "negative"),
            "a number taken": ({"number": "INV-1"}, "already exists"),
            "another practice's client": ({"client": str(rival.pk)}, "Select a valid choice"),
            "not a number": ({"total": "lots"}, "pounds and pence"),
            "a bad currency": ({"currency": "£"}, "three-letter currency code"),
        }
        for name, (change, message) in cases.items():
            with self.subTest(name):
                r = self.client.post(URL, self.data(**change))
                self.assertEqual(r.status_code, 200)
                self.assertContains(r, message)
        self.assertEqual(Invoice.objects.count(), 1)

    def test_specialists_and_staff_are_refused(self) -> None:
        for user in (self.ar_specialist, self.staff):
            self.client.force_login(user)
            with self.subTest(user=user):
                self.assertEqual(self.client.get(URL).status_code, 403)
                self.assertEqual(self.client.post(URL, self.data()).status_code, 403)
        self.assertFalse(Invoice.objects.exists())
