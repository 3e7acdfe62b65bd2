"""workflows.engine under real concurrency (PostgreSQL): row locks make racing transitions
safe. Each thread opens its own practice scope and closes its own connection."""

from __future__ import annotations

import threading
import unittest
from collections.abc import Callable
from unittest import mock

from django.db import connection
from django.test import TransactionTestCase
from django_scopes import scopes_disabled

from sodium.models import ActivityEvent, OutboundMessage
from sodium.tenancy import practice_scope
from tests import factories as f
from workflows import engine
from workflows.models import Mode, Step, StepDependency, StepGroup, StepType

S = Step.Status


def run_in_threads(practice, *calls: Callable[[], object]) -> list[object]:
    """Run each call in its own thread, all released at once; return results or exceptions."""
    start = threading.Barrier(len(calls), timeout=10)
    results: list[object] = [None] * len(calls)

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            with practice_scope(practice):
                start.wait()
                results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a worker thread hung"
    return results


@unittest.skipUnless(connection.vendor == "postgresql", "needs PostgreSQL row locks")
class ConcurrentTransitionTests(TransactionTestCase):
    def setUp(self) -> None:
        scopes = scopes_disabled()
        scopes.__enter__()
        self.addCleanup(scopes.__exit__, None, None, None)
        self.practice = f.PracticeFactory(name="Ledger & Co")
        self.staff = f.MembershipFactory(practice=self.practice).user
        self.other = f.MembershipFactory(practice=self.practice).user
        acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        f.ContactFactory(client=acme, email="ann@acme.example", is_main=True)
        self.task = f.TaskFactory(client=acme, owner=self.staff, status="in_progress")
        self.group = StepGroup.objects.create(practice=self.practice, task=self.task, name="G")

    def step(self, name: str, status: str = S.READY, **extra) -> Step:
        return Step.objects.create(
            practice=self.practice,
            task=self.task,
            group=self.group,
            name=name,
            status=status,
            **extra,
        )

    def status_events(self, step: Step):
        return ActivityEvent.objects.filter(verb="step.status", object_id=step.pk)

    def test_two_people_completing_the_same_step_at_once_complete_it_once(self) -> None:
        prepare = self.step("Prepare")
        review = self.step("Review", status=S.BLOCKED)
        StepDependency.objects.create(practice=self.practice, step=review, depends_on=prepare)
        # Hold the winner's lock a little longer so the loser really waits on it.
        original = engine._unblock_dependents

        def slow_unblock(step: Step) -> None:
            threading.Event().wait(0.2)
            original(step)

        with (
            mock.patch.object(engine, "_unblock_dependents", slow_unblock),
            mock.patch("workflows.tasks.run_step_task.delay"),
        ):
            results = run_in_threads(
                self.practice,
                lambda: engine.complete_step(prepare, actor=self.staff),
                lambda: engine.complete_step(prepare, actor=self.other),
            )
        winners = [r for r in results if isinstance(r, Step)]
        losers = [r for r in results if isinstance(r, engine.InvalidTransition)]
        self.assertEqual((len(winners), len(losers)), (1, 1), results)
        prepare.refresh_from_db()
        review.refresh_from_db()
        self.assertEqual((prepare.status, review.status), (S.DONE, S.READY))
        self.assertEqual(self.status_events(prepare).count(), 1)
        self.assertIn(self.status_events(prepare).get().actor, {self.staff, self.other})
        ready_events = self.status_events(review).filter(new_status=S.READY)
        self.assertEqual(ready_events.count(), 1)

    def test_two_workers_running_the_same_automatic_email_send_it_once(self) -> None:
        email = self.step(
            "Welcome",
            type=StepType.EMAIL,
            mode=Mode.AUTOMATIC,
            subject="Welcome {{ client.name }}",
            body="Hello",
            to_recipients=["contact:main"],
        )
        with mock.patch("sodium.tasks.deliver_message_task.delay") as deliver:
            results = run_in_threads(
                self.practice, lambda: engine.run_step(email.pk), lambda: engine.run_step(email.pk)
            )
        self.assertEqual(sum(isinstance(r, Step) for r in results), 1, results)
        self.assertEqual(sum(r is None for r in results), 1, results)
        email.refresh_from_db()
        self.assertEqual(email.status, S.DONE)
        self.assertEqual(OutboundMessage.objects.count(), 1)
        self.assertEqual(self.status_events(email).count(), 1)
        deliver.assert_called_once()

    def test_completing_both_dependencies_at_once_still_unblocks_the_dependent(self) -> None:
        first = self.step("Bank reconciliation")
        second = self.step("Accruals")
        review = self.step("Review", status=S.BLOCKED)
        for dep in (first, second):
            StepDependency.objects.create(practice=self.practice, step=review, depends_on=dep)
        both_written = threading.Barrier(2, timeout=3)
        both_checked = threading.Barrier(2, timeout=3)
        original = engine._unblock_dependents

        def together(barrier: threading.Barrier) -> None:
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass  # a fix that serialises on a lock never has both threads here at once

        def unblock_together(step: Step) -> None:
            together(both_written)  # both have written their step's status, uncommitted
            original(step)
            together(both_checked)  # both have looked at the dependent before either commits

        with mock.patch.object(engine, "_unblock_dependents", unblock_together):
            results = run_in_threads(
                self.practice,
                lambda: engine.complete_step(first, actor=self.staff),
                lambda: engine.complete_step(second, actor=self.other),
            )
        self.assertTrue(all(isinstance(r, Step) for r in results), results)
        review.refresh_from_db()
        self.assertEqual(review.status, S.READY)
        self.assertEqual(self.status_events(review).count(), 1)
