from __future__ import annotations

from django.test import TestCase
from django_scopes import scopes_disabled

from checks.rules import bank_reconciliation as bank
from tests import factories as f
from tests.checks.factories import Ledger, days_ago, run_check, summary


class BankReconciliationTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.client_ = f.ClientFactory()
        L = Ledger(cls.client_)
        cls.fresh = L.account("090", "Fresh", "bank")  # 14 days: under 15 → info
        cls.at15 = L.account("091", "At fifteen", "bank")  # 15 days: amber
        cls.at30 = L.account("092", "At thirty", "bank")  # 30 days: still amber
        cls.at31 = L.account("093", "At thirty-one", "bank")  # 31 days: red
        cls.clean = L.account("094", "Reconciled", "bank")  # all reconciled: nothing
        L.statement_line(cls.fresh, days_ago(14), -10)
        L.statement_line(cls.fresh, days_ago(0), 5)
        L.statement_line(cls.at15, days_ago(15), -10)
        L.statement_line(cls.at30, days_ago(30), -10)
        L.statement_line(cls.at30, days_ago(2), -1)
        L.statement_line(cls.at31, days_ago(31), -10)
        L.statement_line(cls.at31, days_ago(15), -10)
        L.statement_line(cls.clean, days_ago(60), -10, reconciled=True)
        L.statement_line(cls.at31, days_ago(90), 100, reconciled=True)

    def setUp(self) -> None:
        self.enterContext(scopes_disabled())

    def test_each_account_is_banded_by_its_oldest_unreconciled_line(self) -> None:
        found = run_check(bank.CHECK, self.client_)
        self.assertEqual(
            summary(found),
            [
                (f"bank:{self.fresh.pk}", "info"),
                (f"bank:{self.at15.pk}", "amber"),
                (f"bank:{self.at30.pk}", "amber"),
                (f"bank:{self.at31.pk}", "red"),
            ],
        )
        at31 = next(x for x in found if x.fingerprint == f"bank:{self.at31.pk}")
        self.assertEqual(at31.title, "2 unreconciled statement lines on 093 At thirty-one")
        self.assertIn("Under 15 days: 0; 15–30 days: 1; over 30 days: 1.", at31.detail)
        self.assertIn("Net -£20.00", at31.detail)
