"""Money as people read it, from Decimal only."""

from __future__ import annotations

from decimal import Decimal

from django.template import Context, Template
from django.test import SimpleTestCase

from sodium.money import format_money


class FormatMoneyTests(SimpleTestCase):
    def test_it_words_amounts_with_the_currencys_symbol_or_code(self) -> None:
        self.assertEqual(format_money(Decimal("1234.5"), "GBP"), "£1,234.50")
        self.assertEqual(format_money(Decimal("0.005"), "EUR"), "€0.01")  # half up
        self.assertEqual(format_money(Decimal("-12.3"), "usd"), "-$12.30")
        self.assertEqual(format_money(Decimal("1000000"), "CHF"), "CHF 1,000,000.00")
        self.assertEqual(format_money(None), "")

    def test_a_float_is_refused(self) -> None:
        with self.assertRaises(TypeError):
            format_money(12.5)

    def test_the_template_filter(self) -> None:
        out = Template("{% load money %}{{ a|money:c }}").render(
            Context({"a": Decimal("960"), "c": "GBP"})
        )
        self.assertEqual(out, "£960.00")
