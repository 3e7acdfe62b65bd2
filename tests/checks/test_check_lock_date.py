from __future__ import annotations

import datetime as dt

from django.test import TestCase
from django.utils import timezone
from django_scopes import scopes_disabled

from checks.rules import lock_date
from tests import factories as f
from tests.checks.factories import Ledger, run_check, summary

APRIL_END, MAY_END = dt.date(2025, 4, 30), dt.date(2025, 5, 31)


class LockDateTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.client_ = f.ClientFactory()
        cls.L = Ledger(cls.client_)

    def setUp(self) -> None:
        self.enterContext(scopes_disabled())

    def found(self, today: dt.date, **rules):
        return summary(run_check(lock_date.CHECK, self.client_, today, **rules))

    def test_the_last_day_of_the_grace_period_still_allows_the_month_before(self) -> None:
        self.L.lock(APRIL_END)
        self.assertEqual(self.found(dt.date(2025, 6, 14)), [])  # 31 May + 14 days

    def test_the_day_after_the_grace_period_wants_the_last_month_locked(self) -> None:
        self.L.lock(APRIL_END)
        self.assertEqual(self.found(dt.date(2025, 6, 15)), [("lock-date", "amber")])
        self.assertEqual(self.found(dt.date(2025, 6, 15), grace_days=15), [])

    def test_the_latest_recorded_lock_date_counts(self) -> None:
        self.L.lock(MAY_END, recorded_at=timezone.now() - dt.timedelta(days=3))
        self.L.lock(APRIL_END, recorded_at=timezone.now())  # moved back since
        self.assertEqual(self.found(dt.date(2025, 6, 20)), [("lock-date", "amber")])

    def test_no_lock_date_at_all_is_a_finding(self) -> None:
        found = run_check(lock_date.CHECK, self.client_, dt.date(2025, 6, 20))
        self.assertEqual(found[0].title, "The books have no lock date")

    def test_locked_to_the_last_month_end_is_fine(self) -> None:
        self.L.lock(MAY_END)
        self.assertEqual(self.found(dt.date(2025, 6, 20)), [])
        self.assertEqual(
            lock_date.required_lock_date(dt.date(2025, 3, 15), 14), dt.date(2025, 2, 28)
        )
