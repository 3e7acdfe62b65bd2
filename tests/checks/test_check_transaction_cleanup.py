from __future__ import annotations

from django.test import TestCase
from django_scopes import scopes_disabled

from checks.rules import transaction_cleanup as cleanup
from tests import factories as f
from tests.checks.factories import Ledger, days_ago, run_check, summary


class TransactionCleanupTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.client_ = f.ClientFactory()
        L = Ledger(cls.client_)
        sales = L.account("200", "Sales", "revenue")
        suspense = L.account("9999", "Holding", "current_liability")  # by code
        uncat = L.account("499", "Uncategorised Expense", "expense")  # by name
        bank = L.account("090", "Bank", "bank")
        acme = L.contact("Acme", customer=True)
        cls.on_suspense = L.tx("sales_invoice", days_ago(5), contact=acme,
                               lines=[(sales, 10), (suspense, 5), (suspense, 1)])  # fmt: skip
        cls.on_uncat = L.tx("bank_spend", days_ago(6), contact=acme, lines=[(uncat, 3)])
        cls.no_contact = L.tx("bank_spend", days_ago(7), lines=[(sales, 3)], bank_account=bank)
        L.tx("journal", days_ago(7), lines=[(sales, 3), (sales, -3)])  # journals: no contact
        L.tx("bill", days_ago(7), lines=[(sales, 3)], status="voided")  # voided: left out
        L.tx("bill", days_ago(400), lines=[(suspense, 3)])  # older than 12 months

    def setUp(self) -> None:
        self.enterContext(scopes_disabled())

    def test_it_flags_suspense_lines_and_missing_contacts(self) -> None:
        found = run_check(cleanup.CHECK, self.client_)
        self.assertEqual(
            summary(found),
            sorted(
                [
                    (f"suspense:tx:{self.on_suspense.pk}", "amber"),
                    (f"suspense:tx:{self.on_uncat.pk}", "amber"),
                    (f"no-contact:tx:{self.no_contact.pk}", "amber"),
                ]
            ),
        )
        first = next(x for x in found if x.fingerprint == f"suspense:tx:{self.on_suspense.pk}")
        self.assertEqual(first.detail, "2 lines, £6.00.")
        self.assertEqual(first.rows, {"checks.transaction": [self.on_suspense.pk]})

    def test_each_half_can_be_switched_off(self) -> None:
        found = run_check(cleanup.CHECK, self.client_, suspense=False)
        self.assertEqual(summary(found), [(f"no-contact:tx:{self.no_contact.pk}", "amber")])
