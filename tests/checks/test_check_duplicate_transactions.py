from __future__ import annotations

from django.test import TestCase
from django_scopes import scopes_disabled

from checks.rules import duplicate_transactions as dup
from tests import factories as f
from tests.checks.factories import Ledger, days_ago, run_check, summary


class DuplicateTransactionTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.client_ = f.ClientFactory()
        L = Ledger(cls.client_)
        cls.sales = L.account("200", "Sales", "revenue")
        cls.acme = L.contact("Acme", customer=True)
        cls.bolt = L.contact("Bolt", supplier=True)
        # Five days apart: duplicates at ±5, not at ±3.
        cls.a1 = L.tx("sales_invoice", days_ago(40), contact=cls.acme, lines=[(cls.sales, 100)])
        cls.a2 = L.tx("sales_invoice", days_ago(35), contact=cls.acme, lines=[(cls.sales, 100)])
        # Six days after a2: outside ±5, inside ±7 (and then chains a1, a2, a3).
        cls.a3 = L.tx("sales_invoice", days_ago(29), contact=cls.acme, lines=[(cls.sales, 100)])
        # Same date and contact, other amount: never.
        L.tx("sales_invoice", days_ago(35), contact=cls.acme, lines=[(cls.sales, 101)])
        # A bill of the same amount to the same contact: another kind, never a twin.
        L.tx("bill", days_ago(35), contact=cls.acme, lines=[(cls.sales, 100)])
        # Bank spends, same day: only when bank transactions are asked for.
        cls.b1 = L.tx("bank_spend", days_ago(10), contact=cls.bolt, lines=[(cls.sales, 50)])
        cls.b2 = L.tx("bank_spend", days_ago(10), contact=cls.bolt, lines=[(cls.sales, 50)])
        # A voided twin does not count.
        L.tx("bill", days_ago(3), contact=cls.bolt, lines=[(cls.sales, 70)])
        L.tx("bill", days_ago(2), contact=cls.bolt, lines=[(cls.sales, 70)], status="voided")
        # Another client's identical invoice never pairs with ours.
        other = Ledger(f.ClientFactory(practice=cls.client_.practice))
        o_acme = other.contact("Acme")
        other.tx("sales_invoice", days_ago(40), contact=o_acme, lines=[(cls.sales, 100)])

    def setUp(self) -> None:
        self.enterContext(scopes_disabled())

    def fp(self, *txs) -> str:
        return "duplicate:" + ",".join(f"tx:{t.pk}" for t in sorted(txs, key=lambda t: t.pk))

    def test_it_finds_the_pair_exactly_five_days_apart_by_default(self) -> None:
        found = run_check(dup.CHECK, self.client_)
        self.assertEqual(summary(found), [(self.fp(self.a1, self.a2), "amber")])
        self.assertEqual(found[0].rows, {"checks.transaction": sorted([self.a1.pk, self.a2.pk])})

    def test_it_misses_five_days_apart_at_three(self) -> None:
        self.assertEqual(run_check(dup.CHECK, self.client_, window_days=3), [])

    def test_it_chains_six_days_apart_at_seven(self) -> None:
        found = run_check(dup.CHECK, self.client_, window_days=7)
        self.assertEqual(summary(found), [(self.fp(self.a1, self.a2, self.a3), "amber")])

    def test_it_adds_bank_transactions_when_asked(self) -> None:
        found = run_check(dup.CHECK, self.client_, bank_transactions=True)
        self.assertEqual(
            summary(found),
            sorted([(self.fp(self.a1, self.a2), "amber"), (self.fp(self.b1, self.b2), "amber")]),
        )

    def test_it_refuses_a_window_not_offered(self) -> None:
        rules = dup.DuplicateTransactionRules(window_days=4)
        self.assertIn("window_days", rules.errors())
        self.assertEqual(dup.DuplicateTransactionRules().errors(), {})
