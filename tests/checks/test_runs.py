from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from checks import rules, runs
from checks.models import BankStatementLine, CheckRun, ClientCheckSetting, Finding, HealthScore
from sodium.models import ActivityEvent
from sodium.statemachine import InvalidTransition
from sodium.tenancy import practice_scope
from tests import factories as f
from tests.base import BaseTestCase
from tests.checks.factories import TODAY, Ledger, days_ago

S = Finding.Status


def book(client) -> dict:
    """A ledger with four findings: a red bank line, an amber loan, a duplicate pair and no
    lock date (all other checks quiet)."""
    L = Ledger(client)
    sales = L.account("200", "Sales", "revenue")
    bank = L.account("090", "Bank", "bank")
    dla = L.account("835", "Directors' Loan Account", "current_liability")
    acme = L.contact("Acme", customer=True)
    L.tx("sales_invoice", days_ago(20), contact=acme, lines=[(sales, 100)])
    L.tx("sales_invoice", days_ago(18), contact=acme, lines=[(sales, 100)])
    L.tx("journal", days_ago(20), lines=[(dla, 500), (bank, -500)])
    line = L.statement_line(bank, days_ago(31), -500)
    L.statement_line(bank, days_ago(19), 100, reconciled=True)
    return {"L": L, "bank": bank, "line": line, "sales": sales, "acme": acme, "dla": dla}


class RunChecksTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.client_ = f.ClientFactory(practice=cls.practice)
        cls.ledger = book(cls.client_)

    def run_now(self, today: dt.date = TODAY) -> CheckRun:
        return runs.run_checks(self.client_, actor=self.staff, today=today)

    def finding(self, key: str) -> Finding:
        return Finding.objects.get(client=self.client_, check_key=key)

    def test_a_run_stores_findings_score_history_and_an_event(self) -> None:
        run = self.run_now()
        found = set(
            Finding.objects.filter(client=self.client_).values_list("check_key", "severity")
        )
        self.assertEqual(
            found,
            {
                ("bank_reconciliation", "red"),
                ("control_accounts", "amber"),
                ("duplicate_transactions", "amber"),
                ("lock_date", "amber"),
            },
        )
        # 100 - bank 20/2 - control 15/4 - duplicates 12/4 - lock date 8/4 = 81.25 → 81
        self.assertEqual(run.score, 81)
        self.assertEqual(run.health_score.score, 81)
        self.assertEqual(run.health_score.band, "good")
        self.assertEqual(run.counts["bank_reconciliation"]["found"], 1)
        self.assertEqual(run.counts["bank_reconciliation"]["new"], 1)
        event = ActivityEvent.objects.get(verb="checks.run")
        self.assertEqual((event.client_id, event.actor_id), (self.client_.pk, self.staff.pk))
        self.assertIn("score 81", event.summary)

    def test_a_dismissed_finding_stays_dismissed_and_leaves_the_score(self) -> None:
        self.run_now()
        bank = runs.dismiss_finding(
            self.finding("bank_reconciliation"), actor=self.manager, reason="Known timing"
        )
        self.assertEqual(
            (bank.status, bank.dismissed_by, bank.dismissed_reason),
            (S.DISMISSED, self.manager, "Known timing"),
        )
        self.assertEqual(CheckRun.objects.get().score, 91)  # re-scored at once
        self.assertEqual(HealthScore.objects.get().score, 91)
        second = self.run_now()
        bank.refresh_from_db()
        self.assertEqual((bank.status, bank.last_seen_run_id), (S.DISMISSED, second.pk))
        self.assertEqual(second.score, 91)
        self.assertEqual(Finding.objects.filter(check_key="bank_reconciliation").count(), 1)
        event = ActivityEvent.objects.get(verb="finding.status")
        self.assertEqual((event.old_status, event.new_status), ("open", "dismissed"))

    def test_restore_reopens_and_counts_again(self) -> None:
        self.run_now()
        bank = runs.dismiss_finding(
            self.finding("bank_reconciliation"), actor=self.manager, reason="Known timing"
        )
        bank = runs.restore_finding(bank, actor=self.manager)
        self.assertEqual(
            (bank.status, bank.dismissed_by, bank.dismissed_reason), (S.OPEN, None, "")
        )
        self.assertEqual(CheckRun.objects.get().score, 81)
        with self.assertRaises(InvalidTransition):
            runs.restore_finding(bank, actor=self.manager)

    def test_dismissing_needs_a_reason_and_an_open_finding(self) -> None:
        self.run_now()
        bank = self.finding("bank_reconciliation")
        with self.assertRaises(runs.FindingError):
            runs.dismiss_finding(bank, actor=self.manager, reason="  ")
        runs.dismiss_finding(bank, actor=self.manager, reason="ok")
        with self.assertRaises(InvalidTransition):
            runs.dismiss_finding(bank, actor=self.manager, reason="again")

    def test_a_finding_gone_is_resolved_and_found_again_is_reopened(self) -> None:
        self.run_now()
        first = self.finding("bank_reconciliation")
        BankStatementLine.objects.filter(pk=self.ledger["line"].pk).update(reconciled=True)
        run = self.run_now()
        first.refresh_from_db()
        self.assertEqual(first.status, S.RESOLVED)
        self.assertEqual(run.counts["bank_reconciliation"]["resolved"], 1)
        self.assertEqual(run.score, 91)
        BankStatementLine.objects.filter(pk=self.ledger["line"].pk).update(reconciled=False)
        run = self.run_now()
        first.refresh_from_db()
        self.assertEqual((first.status, first.resolved_at), (S.OPEN, None))
        self.assertEqual(run.counts["bank_reconciliation"]["reopened"], 1)

    def test_client_settings_switch_a_check_off_or_change_its_rules(self) -> None:
        ClientCheckSetting.objects.create(
            practice=self.practice, client=self.client_, check_key="lock_date", enabled=False
        )
        ClientCheckSetting.objects.create(
            practice=self.practice, client=self.client_, check_key="duplicate_transactions",
            rules={"window_days": 3},
        )  # fmt: skip
        ClientCheckSetting.objects.create(
            practice=self.practice, client=self.client_, check_key="vat", rules={"nope": 1}
        )
        run = self.run_now()
        keys = set(Finding.objects.values_list("check_key", flat=True))
        self.assertNotIn("lock_date", keys)
        self.assertIn("duplicate_transactions", keys)  # two days apart: inside ±3
        self.assertEqual(run.counts["lock_date"], {"skipped": "switched off", "open": 0})
        self.assertEqual(run.counts["vat"]["skipped"], "rules do not validate")

    def test_it_runs_the_checks_of_one_client_only(self) -> None:
        theirs = f.ClientFactory(practice=self.other_practice)
        book(theirs)
        runs.run_checks(theirs, today=TODAY)
        self.run_now()
        ours = Finding.objects.filter(client=self.client_)
        self.assertTrue(ours.exists())
        self.assertEqual(set(ours.values_list("practice_id", flat=True)), {self.practice.pk})
        own_accounts = {self.ledger["bank"].pk, self.ledger["dla"].pk}
        for finding in ours.filter(check_key__in=["bank_reconciliation", "control_accounts"]):
            self.assertLessEqual(set(finding.rows["checks.ledgeraccount"]), own_accounts)
        with practice_scope(self.other_practice):
            self.assertEqual(set(Finding.objects.values_list("client_id", flat=True)), {theirs.pk})


class RunQueryCountTests(BaseTestCase):
    """A run's queries do not grow with the ledger: each check is a fixed set of statements."""

    def ledger_of(self, n: int):
        client = f.ClientFactory(practice=self.practice)
        parts = book(client)
        L, sales, acme = parts["L"], parts["sales"], parts["acme"]
        for i in range(n):
            # More rows of every kind the checks read, none of them a new finding.
            L.tx("sales_invoice", days_ago(100 + i), contact=acme, lines=[(sales, 7 + i)])
            L.statement_line(parts["bank"], days_ago(100 + i), 1, reconciled=True)
            L.contact(f"Zed {i} Unlike-{i * 7919}", customer=True)
        return client

    def queries(self, client) -> dict[str, int]:
        per_check = {}
        for check in rules.CHECKS:
            with CaptureQueriesContext(connection) as ctx:
                check.run(client, check.default_rules(), TODAY)
            per_check[check.key] = len(ctx.captured_queries)
        with CaptureQueriesContext(connection) as ctx:
            runs.run_checks(client, today=TODAY)
        per_check["run"] = len(ctx.captured_queries)
        return per_check

    def test_query_counts_are_the_same_for_a_small_and_a_larger_ledger(self) -> None:
        small = self.queries(self.ledger_of(2))
        large = self.queries(self.ledger_of(30))
        self.assertEqual(small, large)
        self.assertLessEqual(large["run"], 40)
