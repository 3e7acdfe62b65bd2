"""sodium.timers: scheduling by key, the sweep (due rows only, practice scope, retries,
catching up once), the task start timer, the safety nets, and concurrent claims."""

from __future__ import annotations

import datetime as dt
import threading
import unittest
from unittest import mock

from django.db import connection, transaction
from django.test import TransactionTestCase
from django.utils import timezone
from django_scopes import get_scope, scopes_disabled

from sodium import engine as core_engine
from sodium import timers
from sodium.models import ActivityEvent, Client, Task, Timer
from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.wf_factories import email_step, simple_step
from workflows import attach, building
from workflows.models import Mode, Step, StepGroup, StepType

DELAY = "workflows.tasks.run_step_task.delay"
NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


class TimerMixin:
    def schedule(
        self,
        key: str,
        due_at: dt.datetime,
        *,
        kind: str = "test.kind",
        practice=None,
        target_id: int = 1,
    ) -> Timer:
        return timers.schedule(
            practice=practice or self.practice,
            kind=kind,
            target_id=target_id,
            due_at=due_at,
            key=key,
        )

    def handlers(self, **by_kind):
        """Register test handlers for the duration of the test."""
        patcher = mock.patch.dict(
            timers.HANDLERS, {k.replace("_", "."): v for k, v in by_kind.items()}
        )
        patcher.start()
        self.addCleanup(patcher.stop)

    def keys(self) -> set[str]:
        return set(Timer.objects.values_list("key", flat=True))


class ScheduleTests(TimerMixin, BaseTestCase):
    def test_it_creates_a_timer_row(self) -> None:
        timer = self.schedule("step:9:chase", NOW, kind="step.chase", target_id=9)
        row = Timer.objects.get(pk=timer.pk)
        self.assertEqual(
            (row.key, row.kind, row.target_id, row.due_at, row.practice_id),
            ("step:9:chase", "step.chase", 9, NOW, self.practice.pk),
        )

    def test_scheduling_the_same_key_again_moves_it(self) -> None:
        first = self.schedule("step:9:chase", NOW)
        Timer.objects.filter(pk=first.pk).update(attempts=3, last_error="boom")
        later = NOW + dt.timedelta(days=7)
        second = self.schedule("step:9:chase", later)
        self.assertEqual(first.pk, second.pk)
        row = Timer.objects.get()
        self.assertEqual((row.due_at, row.attempts, row.last_error), (later, 0, ""))

    def test_cancel_deletes_only_that_key(self) -> None:
        self.schedule("a", NOW)
        self.schedule("b", NOW)
        self.assertEqual(timers.cancel("a"), 1)
        self.assertEqual(timers.cancel("a"), 0)
        self.assertEqual(self.keys(), {"b"})


class SweepTests(TimerMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.ran: list[str] = []

    def record(self, timer: Timer) -> None:
        self.ran.append(timer.key)

    def test_it_runs_due_timers_only_and_deletes_them(self) -> None:
        self.handlers(test_kind=self.record)
        self.schedule("past", NOW - dt.timedelta(hours=1))
        self.schedule("now", NOW)
        self.schedule("future", NOW + dt.timedelta(seconds=1))
        ran = timers.sweep(NOW)
        self.assertEqual(ran, 2)
        self.assertEqual(self.ran, ["past", "now"])  # oldest first
        self.assertEqual(self.keys(), {"future"})

    def test_it_runs_every_due_timer_across_batches(self) -> None:
        self.handlers(test_kind=self.record)
        for i in range(5):
            self.schedule(f"t{i}", NOW - dt.timedelta(minutes=i))
        self.assertEqual(timers.sweep(NOW, batch=2), 5)
        self.assertEqual(sorted(self.ran), [f"t{i}" for i in range(5)])
        self.assertEqual(self.keys(), set())

    def test_the_handler_runs_inside_the_timers_practice_scope(self) -> None:
        seen = {}

        def handler(timer: Timer) -> None:
            seen["scope"] = get_scope().get("practice")
            seen["clients"] = set(Client.objects.values_list("name", flat=True))

        self.handlers(test_kind=handler)
        f.ClientFactory(practice=self.practice, name="Ours Ltd")
        self.schedule("mine", NOW)
        timers.sweep(NOW)
        self.assertEqual(seen["scope"], self.practice.pk)
        self.assertIn("Ours Ltd", seen["clients"])
        self.assertNotIn("Rival Secret Client", seen["clients"])

    def test_a_failing_handler_is_retried_later_and_others_still_run(self) -> None:
        def fail(timer: Timer) -> None:
            # Its partial writes roll back with it.
            f.ClientFactory(practice=self.practice, name="Half done Ltd")
            raise RuntimeError("the mail server is down")

        self.handlers(test_fail=fail, test_kind=self.record)
        failing = self.schedule("fails", NOW - dt.timedelta(minutes=2), kind="test.fail")
        self.schedule("works", NOW - dt.timedelta(minutes=1))
        self.assertEqual(timers.sweep(NOW), 1)
        self.assertEqual(self.ran, ["works"])
        row = Timer.objects.get(pk=failing.pk)
        self.assertEqual(row.attempts, 1)
        self.assertEqual(row.due_at, NOW + timers.RETRY_AFTER)
        self.assertIn("the mail server is down", row.last_error)
        self.assertFalse(Client.objects.filter(name="Half done Ltd").exists())
        self.assertEqual(self.keys(), {"fails"})

    def test_each_failure_waits_longer_and_it_gives_up_after_max_attempts(self) -> None:
        def fail(timer: Timer) -> None:
            raise RuntimeError("still down")

        self.handlers(test_fail=fail)
        timer = self.schedule("fails", NOW, kind="test.fail")
        Timer.objects.filter(pk=timer.pk).update(attempts=2)
        timers.sweep(NOW)
        self.assertEqual(Timer.objects.get().due_at, NOW + 3 * timers.RETRY_AFTER)
        Timer.objects.filter(pk=timer.pk).update(attempts=timers.MAX_ATTEMPTS - 1, due_at=NOW)
        timers.sweep(NOW)
        self.assertFalse(Timer.objects.exists())

    def test_a_timer_of_an_unknown_kind_is_kept_for_a_retry(self) -> None:
        self.schedule("orphan", NOW, kind="nobody.handles.this")
        self.assertEqual(timers.sweep(NOW), 0)
        row = Timer.objects.get()
        self.assertEqual(row.attempts, 1)
        self.assertIn("no handler", row.last_error)

    def test_a_handler_that_reschedules_its_own_key_keeps_the_row(self) -> None:
        next_week = NOW + dt.timedelta(days=7)

        def chase(timer: Timer) -> None:
            self.ran.append(timer.key)
            self.schedule(timer.key, next_week)

        self.handlers(test_kind=chase)
        original = self.schedule("step:5:chase", NOW)
        self.assertEqual(timers.sweep(NOW), 1)
        row = Timer.objects.get()
        self.assertEqual((row.pk, row.due_at, row.attempts), (original.pk, next_week, 0))
        timers.sweep(NOW + dt.timedelta(days=1))
        self.assertEqual(self.ran, ["step:5:chase"])

    def test_after_a_long_outage_one_sweep_runs_a_due_timer_once(self) -> None:
        def daily(timer: Timer) -> None:
            # Catching up, a repeating handler schedules its next run from now.
            self.ran.append(timer.key)
            self.schedule(timer.key, timezone.now() + dt.timedelta(days=1))

        self.handlers(test_kind=daily)
        self.schedule("daily", NOW - dt.timedelta(days=3))
        with mock.patch("django.utils.timezone.now", return_value=NOW):
            self.assertEqual(timers.sweep(NOW), 1)
            self.assertEqual(timers.sweep(NOW + dt.timedelta(minutes=1)), 0)
        self.assertEqual(self.ran, ["daily"])
        self.assertEqual(Timer.objects.get().due_at, NOW + dt.timedelta(days=1))


class TaskStartTimerTests(TimerMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        f.ContactFactory(client=self.acme, email="ann@acme.example", is_main=True)
        self.start = timezone.localdate() + dt.timedelta(days=10)

    def planned_task_with_timer(self) -> Task:
        task = f.TaskFactory(
            client=self.acme, owner=self.staff, status="planned", start_date=self.start
        )
        core_engine._schedule_start(task)  # as create_task and update_task do
        return task

    def start_key(self, task: Task) -> str:
        return f"task:{task.pk}:start"

    def test_start_moment_is_midnight_in_the_practices_time_zone(self) -> None:
        task = f.TaskFactory(client=self.acme, start_date=dt.date(2026, 7, 1))
        self.assertEqual(
            core_engine.start_moment(task), dt.datetime(2026, 6, 30, 23, 0, tzinfo=dt.UTC)
        )
        task.start_date = dt.date(2026, 12, 1)
        self.assertEqual(
            core_engine.start_moment(task), dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)
        )

    # Regression: create_task did not schedule the start, so such a task never started itself.
    def test_creating_a_task_with_a_future_start_date_schedules_its_start(self) -> None:
        task = core_engine.create_task(
            practice=self.practice,
            client=self.acme,
            actor=self.manager,
            name="Accounts",
            start_date=self.start,
        )
        timer = Timer.objects.get(key=self.start_key(task))
        self.assertEqual((timer.kind, timer.target_id), ("task.start", task.pk))
        self.assertEqual(timer.due_at, core_engine.start_moment(task))

    def test_sweeping_at_the_start_moment_starts_the_task_and_runs_its_automatic_steps(
        self,
    ) -> None:
        task = self.planned_task_with_timer()
        template = building.create_template(
            practice=self.practice, actor=self.manager, name="Onboarding"
        )
        group = template.groups.get()
        building.add_step(group, actor=self.manager, **simple_step())
        building.add_step(group, actor=self.manager, **email_step())
        attach.attach_template(task, template, actor=self.manager)
        email = Step.objects.get(task=task, type=StepType.EMAIL)
        moment = core_engine.start_moment(task)

        with mock.patch(DELAY) as delay, self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(timers.sweep(moment - dt.timedelta(minutes=1)), 0)
        delay.assert_not_called()
        task.refresh_from_db()
        self.assertEqual(task.status, "planned")

        # The safety nets are left out here; the next test covers them with the start timer.
        with (
            mock.patch(DELAY) as delay,
            self.captureOnCommitCallbacks(execute=True),
            mock.patch.dict(timers.SAFETY_NETS, clear=True),
        ):
            self.assertEqual(timers.sweep(moment), 1)
        delay.assert_called_once_with(email.pk)
        task.refresh_from_db()
        self.assertEqual(task.status, "in_progress")
        event = ActivityEvent.objects.get(task=task, verb="task.status")
        self.assertEqual(
            (event.old_status, event.new_status, event.actor_label),
            ("planned", "in_progress", "System"),
        )
        self.assertFalse(Timer.objects.filter(key=self.start_key(task)).exists())

    # Regression: ready_at is stamped at attach time, days before the start, so the safety net
    # in the same sweep saw the steps "ready for over a minute" and enqueued them again.
    def test_the_sweep_that_starts_a_task_enqueues_each_automatic_step_once(self) -> None:
        task = self.planned_task_with_timer()
        template = building.create_template(
            practice=self.practice, actor=self.manager, name="Onboarding"
        )
        building.add_step(template.groups.get(), actor=self.manager, **email_step())
        attach.attach_template(task, template, actor=self.manager)
        email = Step.objects.get(task=task)
        moment = core_engine.start_moment(task)
        # The sweep runs at the start moment: the clock says so too.
        with (
            mock.patch(DELAY) as delay,
            self.captureOnCommitCallbacks(execute=True),
            mock.patch("django.utils.timezone.now", return_value=moment),
        ):
            timers.sweep(moment)
        delay.assert_called_once_with(email.pk)

    def test_a_task_started_by_hand_is_left_alone_by_a_late_timer(self) -> None:
        task = self.planned_task_with_timer()
        Task.objects.filter(pk=task.pk).update(status="on_hold")
        timers.sweep(core_engine.start_moment(task))
        task.refresh_from_db()
        self.assertEqual(task.status, "on_hold")
        self.assertFalse(Timer.objects.exists())

    # Regression: update_task left the timer at the old start date.
    def test_changing_the_start_date_moves_the_timer(self) -> None:
        task = self.planned_task_with_timer()
        later = self.start + dt.timedelta(days=30)
        core_engine.update_task(task, actor=self.manager, start_date=later)
        timer = Timer.objects.get(key=self.start_key(task))
        self.assertEqual(timer.due_at, core_engine.start_moment(Task.objects.get(pk=task.pk)))

    # Regression, same cause: a cleared start date kept the old timer, which then started the task.
    def test_clearing_the_start_date_removes_the_timer(self) -> None:
        task = self.planned_task_with_timer()
        core_engine.update_task(task, actor=self.manager, start_date=None)
        self.assertFalse(Timer.objects.filter(key=self.start_key(task)).exists())

    def test_cancelling_finishing_or_starting_the_task_removes_the_timer(self) -> None:
        for status in ("cancelled", "done", "in_progress", "on_hold"):
            with self.subTest(status=status):
                task = self.planned_task_with_timer()
                self.assertTrue(Timer.objects.filter(key=self.start_key(task)).exists())
                with mock.patch(DELAY):
                    core_engine.change_task_status(task, to=status, actor=self.manager)
                self.assertFalse(Timer.objects.filter(key=self.start_key(task)).exists())

    def test_reopening_a_cancelled_task_schedules_its_start_again(self) -> None:
        task = self.planned_task_with_timer()
        core_engine.change_task_status(task, to="cancelled", actor=self.manager)
        core_engine.change_task_status(task, to="planned", actor=self.manager)
        timer = Timer.objects.get(key=self.start_key(task))
        self.assertEqual(timer.due_at, core_engine.start_moment(task))


class SafetyNetTests(TimerMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")

    def ready_step(
        self,
        *,
        ready_for: dt.timedelta,
        task_status: str = "in_progress",
        mode: str = Mode.AUTOMATIC,
    ) -> Step:
        task = f.TaskFactory(client=self.acme, status=task_status)
        group = StepGroup.objects.create(practice=self.practice, task=task, name="G")
        return Step.objects.create(
            practice=self.practice,
            task=task,
            group=group,
            name="Email",
            type=StepType.EMAIL,
            mode=mode,
            status=Step.Status.READY,
            ready_at=NOW - ready_for,
            subject="Hi",
            body="Hello",
            to_recipients=["contact:main"],
        )

    def test_the_ready_steps_net_re_enqueues_automatic_steps_left_ready(self) -> None:
        self.assertIn("workflows.ready_steps", timers.SAFETY_NETS)
        stuck = self.ready_step(ready_for=dt.timedelta(minutes=2))
        self.ready_step(ready_for=dt.timedelta(seconds=10))  # its on_commit fast path may run
        self.ready_step(ready_for=dt.timedelta(hours=1), task_status="planned")
        self.ready_step(ready_for=dt.timedelta(hours=1), task_status="on_hold")
        self.ready_step(ready_for=dt.timedelta(hours=1), mode=Mode.MANUAL)
        other_practice_task = f.TaskFactory(client=self.other_client, status="in_progress")
        group = StepGroup.objects.create(
            practice=self.other_practice, task=other_practice_task, name="G"
        )
        theirs = Step.objects.create(
            practice=self.other_practice,
            task=other_practice_task,
            group=group,
            name="E",
            type=StepType.EMAIL,
            mode=Mode.AUTOMATIC,
            status=Step.Status.READY,
            ready_at=NOW - dt.timedelta(minutes=5),
            subject="Hi",
            body="Hello",
            to_recipients=["contact:main"],
        )
        with mock.patch(DELAY) as delay:
            timers.sweep(NOW)
        self.assertEqual(
            sorted(c.args[0] for c in delay.call_args_list), sorted([stuck.pk, theirs.pk])
        )

    def test_every_net_runs_even_when_one_breaks(self) -> None:
        calls = []

        def broken(now: dt.datetime) -> int:
            raise RuntimeError("broken net")

        def working(now: dt.datetime) -> int:
            calls.append(now)
            return 0

        with mock.patch.dict(
            timers.SAFETY_NETS, {"a.broken": broken, "b.working": working}, clear=True
        ):
            timers.sweep(NOW)
        self.assertEqual(calls, [NOW])


@unittest.skipUnless(connection.vendor == "postgresql", "SKIP LOCKED needs PostgreSQL")
class ConcurrentClaimTests(TimerMixin, TransactionTestCase):
    def setUp(self) -> None:
        scopes = scopes_disabled()
        scopes.__enter__()
        self.addCleanup(scopes.__exit__, None, None, None)
        self.practice = f.PracticeFactory()
        for i in range(6):
            self.schedule(f"t{i}", NOW - dt.timedelta(minutes=i))

    def test_two_sweeps_claiming_at_once_get_disjoint_timers(self) -> None:
        barrier = threading.Barrier(2, timeout=10)
        claimed: dict[str, list[str]] = {}
        errors: list[BaseException] = []

        def claim(name: str) -> None:
            try:
                with transaction.atomic():
                    rows = timers.claim_due(NOW, batch=3)
                    claimed[name] = [t.key for t in rows]
                    barrier.wait()  # both hold their row locks at the same moment
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)
                barrier.abort()
            finally:
                connection.close()

        threads = [threading.Thread(target=claim, args=(n,)) for n in ("one", "two")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        self.assertEqual(errors, [])
        self.assertEqual(len(claimed["one"]), 3)
        self.assertEqual(len(claimed["two"]), 3)
        self.assertEqual(set(claimed["one"]) & set(claimed["two"]), set())
        self.assertEqual(set(claimed["one"]) | set(claimed["two"]), {f"t{i}" for i in range(6)})

    def test_two_sweeps_at_once_run_each_timer_once(self) -> None:
        ran: list[str] = []
        lock = threading.Lock()
        barrier = threading.Barrier(2, timeout=10)

        def handler(timer: Timer) -> None:
            with lock:
                ran.append(timer.key)

        self.handlers(test_kind=handler)

        def sweep() -> None:
            try:
                barrier.wait()
                timers.sweep(NOW, batch=2)
            finally:
                connection.close()

        threads = [threading.Thread(target=sweep) for _ in range(2)]
        with mock.patch.dict(timers.SAFETY_NETS, clear=True):
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
        self.assertEqual(sorted(ran), [f"t{i}" for i in range(6)])
        self.assertFalse(Timer.objects.exists())
