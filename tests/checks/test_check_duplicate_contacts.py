from __future__ import annotations

from django.test import TestCase
from django_scopes import scopes_disabled

from checks.rules import duplicate_contacts as dc
from tests import factories as f
from tests.checks.factories import Ledger, run_check


class DuplicateContactTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.client_ = f.ClientFactory()
        L = Ledger(cls.client_)
        cls.acme = L.contact("Acme Widgets Ltd", supplier=True)
        cls.acme2 = L.contact("ACME Widgets Limited", supplier=True)  # same after normalising
        cls.acme_customer = L.contact("Acme Widgets", customer=True)  # another type
        # token_sort_ratio of the normalised names: 93 (close), 82 (similar), 79 (rough).
        cls.jones = L.contact("Jones Electrical", supplier=True)
        cls.jones2 = L.contact("Jones Electric", supplier=True)
        cls.brown = L.contact("Brown Bakery", supplier=True)
        cls.browne = L.contact("Browne Bakeries", supplier=True)
        cls.smith = L.contact("Smith & Sons Plumbing", supplier=True)
        cls.smyth = L.contact("Smyth and Sons Plumbers", supplier=True)
        L.contact("Acme Widgets Co", supplier=True, archived=True)  # archived: left out

    def setUp(self) -> None:
        self.enterContext(scopes_disabled())

    def pairs(self, level: str) -> set[str]:
        return {x.fingerprint for x in run_check(dc.CHECK, self.client_, level=level)}

    def fp(self, a, b) -> str:
        return f"contacts:{min(a.pk, b.pk)},{max(a.pk, b.pk)}"

    def test_strict_finds_names_equal_once_normalised(self) -> None:
        self.assertEqual(self.pairs("strict"), {self.fp(self.acme, self.acme2)})

    def test_each_level_adds_the_pairs_a_little_less_alike(self) -> None:
        strict = {self.fp(self.acme, self.acme2)}
        close = strict | {self.fp(self.jones, self.jones2)}
        similar = close | {self.fp(self.brown, self.browne)}
        rough = similar | {self.fp(self.smith, self.smyth)}
        self.assertEqual(self.pairs("close"), close)
        self.assertEqual(self.pairs("similar"), similar)
        self.assertEqual(self.pairs("rough"), rough)

    def test_it_never_pairs_contacts_of_different_types(self) -> None:
        self.assertNotIn(self.fp(self.acme, self.acme_customer), self.pairs("rough"))

    def test_normalise_drops_case_punctuation_and_suffixes(self) -> None:
        self.assertEqual(dc.normalise("The A.B.C. Company Ltd"), "a b c")
        self.assertEqual(dc.normalise("Ltd"), "ltd")

    def test_it_refuses_an_unknown_level(self) -> None:
        self.assertIn("level", dc.DuplicateContactRules(level="loose").errors())
