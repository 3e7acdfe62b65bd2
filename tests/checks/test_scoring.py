from __future__ import annotations

from decimal import Decimal

from django.test import SimpleTestCase

from checks import rules, scoring


class ScoreTests(SimpleTestCase):
    def setUp(self) -> None:
        self.weights = scoring.weights(rules.CHECKS)

    def test_the_built_in_weights_sum_to_a_hundred(self) -> None:
        self.assertEqual(sum(self.weights.values()), Decimal(100))
        self.assertEqual(self.weights["bank_reconciliation"], Decimal(20))

    def test_no_open_findings_score_a_hundred(self) -> None:
        self.assertEqual(scoring.score({}, self.weights), 100)

    def test_each_severity_costs_its_share_of_the_checks_weight(self) -> None:
        # Bank reconciliation weighs 20: a red costs 10, an amber 5, an info 2.
        self.assertEqual(scoring.score({"bank_reconciliation": {"red": 1}}, self.weights), 90)
        self.assertEqual(scoring.score({"bank_reconciliation": {"amber": 1}}, self.weights), 95)
        self.assertEqual(scoring.score({"bank_reconciliation": {"info": 1}}, self.weights), 98)

    def test_a_check_never_loses_more_than_its_weight(self) -> None:
        many = {"bank_reconciliation": {"red": 40, "amber": 3}}
        self.assertEqual(scoring.score(many, self.weights), 80)
        everything = {c.key: {"red": 2} for c in rules.CHECKS}
        self.assertEqual(scoring.score(everything, self.weights), 0)

    def test_a_check_switched_off_gives_its_weight_to_the_others(self) -> None:
        only_two = scoring.weights([rules.BY_KEY["lock_date"], rules.BY_KEY["vat"]])
        self.assertEqual(sum(only_two.values()), Decimal(100))
        # lock date 8 of 23 points: a red costs half of 100 * 8 / 23 = 17.39 → 83.
        self.assertEqual(scoring.score({"lock_date": {"red": 1}}, only_two), 83)

    def test_bands_at_their_edges(self) -> None:
        expected = {
            100: "good",
            71: "good",
            70: "attention",
            36: "attention",
            35: "poor",
            0: "poor",
        }
        self.assertEqual({s: scoring.band(s) for s in expected}, expected)
