from __future__ import annotations

from django.test import TestCase
from django_scopes import scopes_disabled

from checks.rules import multi_coded_contacts as mcc
from checks.rules.base import RulesError
from tests import factories as f
from tests.checks.factories import TODAY, Ledger, days_ago, run_check, summary


class MultiCodedContactTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.client_ = f.ClientFactory()
        L = Ledger(cls.client_)
        sales = L.account("200", "Sales", "revenue")
        other_sales = L.account("260", "Other revenue", "revenue")
        consulting = L.account("210", "Consulting", "revenue")
        office = L.account("429", "General expenses", "expense")
        travel = L.account("493", "Travel", "expense")
        # Two accounts on sales, recently: flagged (unless the pair 200/260 is excluded).
        cls.acme = L.contact("Acme", customer=True)
        L.tx("sales_invoice", days_ago(10), contact=cls.acme, lines=[(sales, 100, 20, "20%")])
        L.tx("sales_invoice", days_ago(50), contact=cls.acme, lines=[(other_sales, 10, 0, "0%")])
        # Three accounts: one pair excluded leaves other pairs, still flagged.
        cls.bolt = L.contact("Bolt", customer=True)
        L.tx("sales_invoice", days_ago(5), contact=cls.bolt, lines=[(sales, 1), (other_sales, 2)])
        L.tx("sales_invoice", days_ago(6), contact=cls.bolt, lines=[(consulting, 3)])
        # One account only: never.
        cls.calm = L.contact("Calm", customer=True)
        L.tx("sales_invoice", days_ago(5), contact=cls.calm, lines=[(sales, 1), (sales, 2)])
        # Two accounts but last active 91 days ago: outside "active during" 90 days.
        cls.dusty = L.contact("Dusty", supplier=True)
        L.tx("bill", days_ago(91), contact=cls.dusty, lines=[(office, 1)])
        L.tx("bill", days_ago(100), contact=cls.dusty, lines=[(travel, 1)])
        # Active on 90 days ago exactly: inside. Its second code is older than 12 months.
        cls.edge = L.contact("Edge", supplier=True)
        L.tx("bill", days_ago(90), contact=cls.edge, lines=[(office, 1)])
        L.tx("bill", TODAY.replace(year=TODAY.year - 1) - __import__("datetime").timedelta(1),
             contact=cls.edge, lines=[(travel, 1)])  # fmt: skip
        cls.edge_recent = L.tx("bill", days_ago(30), contact=cls.edge, lines=[(travel, 1)])

    def setUp(self) -> None:
        self.enterContext(scopes_disabled())

    def test_it_flags_contacts_coded_to_more_than_one_account(self) -> None:
        found = run_check(mcc.CHECK, self.client_)
        self.assertEqual(
            summary(found),
            [
                (f"contact:{self.acme.pk}:sales:account", "amber"),
                (f"contact:{self.bolt.pk}:sales:account", "amber"),
                (f"contact:{self.edge.pk}:purchases:account", "amber"),
            ],
        )

    def test_an_excluded_code_pair_clears_a_contact_with_only_that_pair(self) -> None:
        found = run_check(mcc.CHECK, self.client_, code_pairs=(("260", "200"),))
        keys = {x.fingerprint for x in found}
        self.assertNotIn(f"contact:{self.acme.pk}:sales:account", keys)
        self.assertIn(f"contact:{self.bolt.pk}:sales:account", keys)

    def test_it_reads_one_side_only_when_asked(self) -> None:
        found = run_check(mcc.CHECK, self.client_, sides=("purchases",))
        self.assertEqual(summary(found), [(f"contact:{self.edge.pk}:purchases:account", "amber")])

    def test_history_depth_leaves_out_older_lines(self) -> None:
        # Edge's travel lines: one 30 days ago, one just over 12 months ago: two months of
        # history sees travel only once, with office 90 days ago out of it.
        found = run_check(mcc.CHECK, self.client_, history_months=2, sides=("purchases",))
        self.assertEqual(found, [])

    def test_it_compares_tax_rates_when_asked(self) -> None:
        found = run_check(mcc.CHECK, self.client_, by="tax")
        self.assertIn(f"contact:{self.acme.pk}:sales:tax", {x.fingerprint for x in found})
        self.assertNotIn(f"contact:{self.edge.pk}:purchases:tax", {x.fingerprint for x in found})

    def test_exclusions_come_from_the_clients_settings(self) -> None:
        rules = mcc.MultiCodedContactRules.from_settings(
            {"active_days": 30}, {"code_pairs": [["200", "260"]]}
        )
        self.assertEqual(rules.code_pairs, (("200", "260"),))
        with self.assertRaises(RulesError) as caught:
            mcc.MultiCodedContactRules.from_settings({"nope": 1}, {})
        self.assertEqual(set(caught.exception.errors), {"nope"})
        with self.assertRaises(RulesError) as caught:
            mcc.MultiCodedContactRules.from_settings({"by": "colour", "active_days": 0}, {})
        self.assertEqual(set(caught.exception.errors), {"by", "active_days"})
