"""Two sweeps generating the same recurrence at once create each task once (PostgreSQL)."""

from __future__ import annotations

import threading
import time
import unittest
from collections import Counter
from collections.abc import Callable

from django.db import connection, transaction
from django.test import TransactionTestCase
from django_scopes import scopes_disabled

from sodium import recurring, recurring_rows
from sodium.models import Client, Recurrence, RecurrenceOccurrence, Task
from sodium.services.recurrences import create_recurrence
from sodium.tenancy import practice_scope
from tests import factories as f
from tests.sodium.test_recurring import at

WEEKLY = {"kind": "calendar", "frequency": "weekly", "start": "2026-01-05", "weekdays": ["mo"]}


def run_at_once(*calls: Callable[[], object]) -> list[object]:
    """Run each call in its own thread and connection, released together."""
    start = threading.Barrier(len(calls), timeout=10)
    results: list[object] = [None] * len(calls)

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            start.wait()
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a worker thread hung"
    return results


@unittest.skipUnless(connection.vendor == "postgresql", "needs PostgreSQL row locks")
class ConcurrentGenerationTests(TransactionTestCase):
    def setUp(self) -> None:
        scopes = scopes_disabled()
        scopes.__enter__()
        self.addCleanup(scopes.__exit__, None, None, None)
        self.practice = f.PracticeFactory(name="Ledger & Co")
        manager = f.MembershipFactory(practice=self.practice).user
        self.clients = [f.ClientFactory(practice=self.practice) for _ in range(30)]
        self.recurrence = create_recurrence(
            practice=self.practice,
            actor=manager,
            now=at("2026-01-01"),
            name="Weekly books",
            schedule=WEEKLY,
            task_name="{{ client.name }} books {{ period.label }}",
            due_rule=Recurrence.DueRule.NONE,
            client_selection=Recurrence.Clients.ALL,
        )

    def assert_one_task_per_client_and_monday(self) -> None:
        counts = Counter(
            Task.objects.filter(recurrence=self.recurrence).values_list("client_id", "start_date")
        )
        self.assertEqual(len(counts), 30 * 3)  # 5, 12 and 19 January
        self.assertEqual(set(counts.values()), {1})
        self.assertEqual(RecurrenceOccurrence.objects.count(), 90)

    def test_two_sweeps_at_once_create_each_task_once(self) -> None:
        now = at("2026-01-19")
        results = run_at_once(*[lambda: recurring.generate_due(None, now)] * 2)
        self.assertFalse([r for r in results if isinstance(r, Exception)], results)
        self.assertEqual(sum(results), 90)
        self.assert_one_task_per_client_and_monday()

    def test_without_the_row_lock_the_unique_period_still_creates_each_task_once(self) -> None:
        now = at("2026-01-19")

        def generate_unlocked() -> int:
            # Both read the recurrence and its done periods before either commits: only the
            # (recurrence, client, period) constraint stands between them.
            with practice_scope(self.practice):
                recurrence = Recurrence.objects.select_related("practice").get(
                    pk=self.recurrence.pk
                )
            with transaction.atomic(), practice_scope(self.practice):
                return len(recurring.generate(recurrence, now))

        results = run_at_once(generate_unlocked, generate_unlocked)
        self.assertFalse([r for r in results if isinstance(r, Exception)], results)
        self.assertEqual(sum(results), 90)
        self.assert_one_task_per_client_and_monday()

    def test_overlapping_claims_in_opposite_orders_split_the_periods_without_deadlock(self) -> None:
        clients = Client.objects.bulk_create(
            Client(practice=self.practice, name=f"Bulk {i}", reference=f"B{i}") for i in range(2000)
        )
        first = [(c.pk, "2026-01-05") for c in clients[:1500]]
        second = [(c.pk, "2026-01-05") for c in reversed(clients[500:])]

        def claim(periods: list[tuple[int, str]]) -> set[tuple[int, str]]:
            with transaction.atomic(), practice_scope(self.practice):
                claimed = recurring_rows.claim(self.recurrence, periods)
                time.sleep(0.2)  # hold the claimed rows while the other sweep inserts
            return set(claimed)

        results = run_at_once(lambda: claim(first), lambda: claim(second))
        self.assertFalse([r for r in results if isinstance(r, Exception)], results)
        a, b = results
        self.assertEqual(a & b, set())
        self.assertEqual(a | b, {(c.pk, "2026-01-05") for c in clients})
        self.assertEqual(RecurrenceOccurrence.objects.count(), 2000)
