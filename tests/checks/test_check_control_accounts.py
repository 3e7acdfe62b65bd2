from __future__ import annotations

import datetime as dt

from django.test import TestCase
from django_scopes import scopes_disabled

from checks.rules import control_accounts as control
from tests import factories as f
from tests.checks.factories import D, Ledger, run_check, summary

MAY_END = dt.date(2025, 5, 31)  # the last complete month before TODAY (20 June 2025)


class DirectorsLoanTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.client_ = f.ClientFactory()
        cls.L = L = Ledger(cls.client_)
        cls.bank = L.account("090", "Bank", "bank")
        cls.dla = L.account("835", "Directors' Loan Account", "current_liability")

    def setUp(self) -> None:
        self.enterContext(scopes_disabled())

    def draw(self, amount, day=dt.date(2025, 3, 1)) -> None:
        # The director takes money: the loan account is debited (journal, debit positive).
        self.L.tx("journal", day, lines=[(self.dla, D(amount)), (self.bank, -D(amount))])

    def test_exactly_ten_thousand_overdrawn_is_amber(self) -> None:
        self.draw(10000)
        self.assertEqual(
            summary(run_check(control.CHECK, self.client_)), [(f"dla:{self.dla.pk}", "amber")]
        )

    def test_a_penny_over_ten_thousand_is_red(self) -> None:
        self.draw("10000.01")
        found = run_check(control.CHECK, self.client_)
        self.assertEqual(summary(found), [(f"dla:{self.dla.pk}", "red")])
        self.assertEqual(found[0].title, "835 Directors' Loan Account is overdrawn by £10,000.01")

    def test_a_loan_in_credit_is_fine(self) -> None:
        self.draw(-500)  # the director lent the company money
        self.assertEqual(run_check(control.CHECK, self.client_), [])

    def test_a_repayment_brings_it_back(self) -> None:
        self.draw(12000)
        self.L.tx("bank_receive", dt.date(2025, 4, 1), lines=[(self.dla, 12000)])
        self.assertEqual(run_check(control.CHECK, self.client_), [])


class PayrollControlTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.client_ = f.ClientFactory()
        L = Ledger(cls.client_)
        wages = L.account("477", "Wages and Salaries", "expense")
        cls.paye = L.account("825", "PAYE Payable", "current_liability")
        cls.net = L.account("814", "Wages Payable - Payroll", "current_liability")
        cls.pension = L.account("826", "Pension Payable", "current_liability")
        cls.pension_cost = L.account("478", "Pension costs", "expense")  # not a control
        bank = L.account("090", "Bank", "bank")
        # May's payroll journal, then payments: PAYE and net wages cleared by 31 May,
        # the pension paid on 2 June (after the month end: not back to zero at 31 May).
        L.tx("journal", dt.date(2025, 5, 28),
             lines=[(wages, 1000), (cls.pension_cost, 50), (cls.paye, -200), (cls.net, -800),
                    (cls.pension, -50)])  # fmt: skip
        L.tx("bank_spend", dt.date(2025, 5, 30), lines=[(cls.net, 800)], bank_account=bank)
        L.tx("bank_spend", dt.date(2025, 5, 31), lines=[(cls.paye, 200)], bank_account=bank)
        L.tx("bank_spend", dt.date(2025, 6, 2), lines=[(cls.pension, 50)], bank_account=bank)
        # June's payroll is not finished yet: June is not a complete month.
        L.tx("journal", dt.date(2025, 6, 15), lines=[(wages, 900), (cls.paye, -900)])

    def setUp(self) -> None:
        self.enterContext(scopes_disabled())

    def test_only_the_account_not_cleared_at_the_month_end_is_flagged(self) -> None:
        found = run_check(control.CHECK, self.client_)
        self.assertEqual(summary(found), [(f"payroll:{self.pension.pk}", "amber")])
        self.assertEqual(
            found[0].title, "Pension control 826 Pension Payable is not back to zero at 31 May 2025"
        )

    def test_it_recognises_the_accounts_by_name(self) -> None:
        found = control.control_accounts(self.client_)
        self.assertEqual(found["paye"], [self.paye])
        self.assertEqual(found["net_wages"], [self.net])
        self.assertEqual(found["pension"], [self.pension])
        self.assertEqual(found["dla"], [])
