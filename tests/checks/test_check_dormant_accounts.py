from __future__ import annotations

import datetime as dt

from django.test import TestCase
from django_scopes import scopes_disabled

from checks.rules import dormant_accounts as dormant
from tests import factories as f
from tests.checks.factories import TODAY, Ledger, days_ago, run_check, summary

SIX_MONTHS_AGO = dt.date(2024, 12, 20)  # TODAY less six calendar months


class DormantAccountTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.client_ = f.ClientFactory()
        L = Ledger(cls.client_)
        cls.used = L.account("200", "Sales", "revenue")
        cls.edge = L.account("210", "Used on the cut-off day", "revenue")
        cls.stale = L.account("220", "Used the day before the cut-off", "revenue")
        cls.never = L.account("230", "Never used", "revenue")
        cls.system = L.account("610", "Accounts receivable", "current_asset", is_system=True)
        L.account("240", "Archived", "revenue", archived=True)
        cls.bank = L.account("090", "Current account", "bank")
        cls.quiet_bank = L.account("091", "Savings", "bank")
        L.tx("sales_invoice", days_ago(3), lines=[(cls.used, 1)])
        L.tx("sales_invoice", SIX_MONTHS_AGO, lines=[(cls.edge, 1)])
        L.tx("sales_invoice", SIX_MONTHS_AGO - dt.timedelta(days=1), lines=[(cls.stale, 1)])
        # A bank account counts as active through a statement line on it.
        L.statement_line(cls.bank, days_ago(10), -5)
        L.statement_line(cls.quiet_bank, days_ago(400), -5)

    def setUp(self) -> None:
        self.enterContext(scopes_disabled())

    def test_it_lists_accounts_unused_since_six_months_before_the_run(self) -> None:
        found = run_check(dormant.CHECK, self.client_)
        self.assertEqual(
            summary(found),
            sorted((f"account:{a.pk}", "info") for a in (self.stale, self.never, self.quiet_bank)),
        )
        never = next(x for x in found if x.fingerprint == f"account:{self.never.pk}")
        self.assertEqual(never.detail, "Never used.")
        self.assertEqual(dormant.DormantAccountRules().since_date(TODAY), SIX_MONTHS_AGO)

    def test_a_given_date_moves_the_cut_off(self) -> None:
        found = run_check(dormant.CHECK, self.client_, since="2024-12-18")
        self.assertNotIn(f"account:{self.stale.pk}", {x.fingerprint for x in found})

    def test_it_refuses_a_bad_date(self) -> None:
        self.assertIn("since", dormant.DormantAccountRules(since="31/12/2024").errors())
