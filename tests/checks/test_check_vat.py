from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.test import TestCase
from django_scopes import scopes_disabled

from checks.rules import vat
from tests import factories as f
from tests.checks.factories import TODAY, Ledger, days_ago, run_check, summary


class VatThresholdTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.client_ = f.ClientFactory(vat_periods="none")
        cls.L = Ledger(cls.client_)
        cls.sales = cls.L.account("200", "Sales", "revenue")

    def setUp(self) -> None:
        self.enterContext(scopes_disabled())

    def sell(self, amount, day=None, rate="20% (VAT on Income)") -> None:
        self.L.tx("sales_invoice", day or days_ago(30), lines=[(self.sales, amount, 0, rate)])

    def turnover(self) -> list:
        return [x for x in run_check(vat.CHECK, self.client_) if x.fingerprint == "turnover"]

    def test_the_threshold_is_dated(self) -> None:
        self.assertEqual(vat.registration_threshold(dt.date(2024, 3, 31)), Decimal("85000"))
        self.assertEqual(vat.registration_threshold(dt.date(2024, 4, 1)), Decimal("90000"))

    def test_a_penny_under_ninety_percent_is_fine(self) -> None:
        self.sell("80999.99")
        self.assertEqual(self.turnover(), [])

    def test_ninety_percent_of_the_threshold_is_amber(self) -> None:
        self.sell("81000")
        self.assertEqual(summary(self.turnover()), [("turnover", "amber")])

    def test_the_threshold_itself_is_amber_and_a_penny_over_is_red(self) -> None:
        self.sell("90000")
        self.assertEqual(summary(self.turnover()), [("turnover", "amber")])
        self.sell("0.01")
        self.assertEqual(summary(self.turnover()), [("turnover", "red")])

    def test_exempt_sales_older_sales_and_credit_notes_do_not_count(self) -> None:
        self.sell("85000")
        self.sell("50000", rate="Exempt Income")
        self.sell("50000", day=TODAY.replace(year=2024) - dt.timedelta(days=1))
        self.L.tx("sales_credit_note", days_ago(5), lines=[(self.sales, 5000)])
        self.assertEqual(self.turnover(), [])  # 85,000 - 5,000 = 80,000

    def test_sales_an_unregistered_business_makes_without_vat_count(self) -> None:
        # Not registered, it charges no VAT: its sales carry "No VAT" and are still taxable.
        self.sell("60000", rate="No VAT")
        self.sell("25000", rate="Outside the scope of VAT")
        self.sell("30000", rate="No VAT")
        self.assertEqual(summary(self.turnover()), [("turnover", "amber")])  # 90,000

    def test_a_registered_client_is_not_warned(self) -> None:
        self.sell("100000")
        self.client_.vat_periods = "q_mar"
        self.assertEqual(self.turnover(), [])


class VatReceiptTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.client_ = f.ClientFactory(vat_periods="q_mar")
        L = Ledger(cls.client_)
        office = L.account("429", "General", "expense")
        supplier = L.contact("Paper Co", supplier=True)
        cls.bare = L.tx("bill", days_ago(9), contact=supplier, lines=[(office, 100, 20)])
        L.tx("bill", days_ago(9), contact=supplier, lines=[(office, 100, 20)], attachment_count=1)
        L.tx("bill", days_ago(9), contact=supplier, lines=[(office, 100, 0)])  # no VAT
        L.tx("sales_invoice", days_ago(9), lines=[(office, 100, 20)])  # not a purchase
        cls.spend = L.tx("bank_spend", days_ago(2), lines=[(office, 10, 2)])

    def setUp(self) -> None:
        self.enterContext(scopes_disabled())

    def test_it_flags_purchases_with_vat_and_no_attachment(self) -> None:
        found = run_check(vat.CHECK, self.client_)
        self.assertEqual(
            summary(found),
            sorted([(f"no-receipt:tx:{self.bare.pk}", "amber"),
                    (f"no-receipt:tx:{self.spend.pk}", "amber")]),
        )  # fmt: skip
