"""The AR message uses: every documented variable is filled by `ar_context` for a real
customer, with amounts in the invoice's currency and days overdue as of the day given."""

from __future__ import annotations

import datetime as dt

from collections_ar.messages import EMAIL_USE, NOTE_USE, SMS_USE, ar_context
from sodium import liquid
from sodium.messaging.variables import variables_of
from tests import factories as f
from tests.collections_ar.ar_helpers import TODAY, ARTestCase


class ARContextTests(ARTestCase):
    def setUp(self) -> None:
        super().setUp()
        f.ContactFactory(
            client=self.acme,
            first_name="Ellie",
            last_name="Ali",
            email="ellie@acme.example",
            mobile="07700 900123",
            is_billing=True,
        )
        self.first = self.invoice("INV-1", "1200.00", due_date=TODAY - dt.timedelta(days=31))
        self.second = self.invoice("INV-2", "450.50", due_date=TODAY + dt.timedelta(days=5))

    def context(self):
        return ar_context(practice=self.practice, customer=self.customer, today=TODAY)

    def test_every_documented_variable_of_the_ar_uses_is_filled(self) -> None:
        ctx = self.context()
        for use in (EMAIL_USE, SMS_USE, NOTE_USE):
            for var in variables_of(use):
                if var.path == "invoices":
                    continue
                with self.subTest(use=use, path=var.path):
                    node = ctx
                    for part in var.path.split("."):
                        self.assertIn(part, node)
                        node = node[part]

    def test_it_words_amounts_and_days_overdue_for_the_most_overdue_invoice(self) -> None:
        text = liquid.render_string(
            "{{ contact.first_name }} owes {{ customer.balance }} on {{ customer.open_invoices }}"
            " invoices; {{ invoice.number }} is {{ invoice.days_overdue }} days late."
            "{% for i in invoices %} [{{ i.number }} {{ i.balance }}]{% endfor %}",
            self.context(),
        )
        self.assertEqual(
            text,
            "Ellie owes £1,650.50 on 2 invoices; INV-1 is 31 days late."
            " [INV-1 £1,200.00] [INV-2 £450.50]",
        )

    def test_paid_invoices_are_left_out(self) -> None:
        from decimal import Decimal

        from collections_ar import engine

        engine.record_payment(self.first, actor=self.owner, amount=Decimal("1200.00"), date=TODAY)
        ctx = self.context()
        self.assertEqual(ctx["customer"]["balance"], "£450.50")
        self.assertEqual(ctx["invoice"]["number"], "INV-2")
        self.assertEqual(ctx["invoice"]["days_overdue"], 0)
