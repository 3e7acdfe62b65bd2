"""workflows.engine: every step transition, its activity event, timestamps, unblocking and
the automatic work it enqueues."""

from __future__ import annotations

from unittest import mock

from django.db import transaction
from django.utils import timezone

from portal.step_types import ClientStepType
from sodium.models import ActivityEvent, Task
from sodium.tenancy import practice_scope
from tests import factories as f
from tests.base import BaseTestCase
from workflows import engine, queries
from workflows.models import Mode, Step, StepDependency, StepGroup, StepType

S = Step.Status
DELAY = "workflows.tasks.run_step_task.delay"


class StepRowsMixin:
    """Build tasks and steps as rows, in whatever status a test needs (no engine involved)."""

    def make_task(self, status: str = Task.Status.IN_PROGRESS) -> Task:
        client = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        return f.TaskFactory(client=client, owner=self.staff, status=status)

    def make_step(
        self,
        status: str,
        *,
        task: Task | None = None,
        group: StepGroup | None = None,
        name: str = "Prepare draft accounts",
        type: str = StepType.SIMPLE,
        mode: str = Mode.MANUAL,
        **extra,
    ) -> Step:
        if task is None:
            task = group.task if group is not None else self.make_task()
        if group is None:
            group = StepGroup.objects.create(
                practice=task.practice, task=task, name="Year end", position=1
            )
        if type == StepType.EMAIL:
            extra.setdefault("subject", "Hello {{ client.name }}")
            extra.setdefault("body", "Dear client")
            extra.setdefault("to_recipients", ["contact:main"])
        return Step.objects.create(
            practice=task.practice,
            task=task,
            group=group,
            name=name,
            type=type,
            mode=mode,
            status=status,
            **extra,
        )

    def depend(self, step: Step, *on: Step) -> None:
        for other in on:
            StepDependency.objects.create(practice=step.practice, step=step, depends_on=other)

    def move(self, step: Step, to: str, *, actor=None, reason: str = "") -> Step:
        """Run engine._transition on the locked step, as every engine function does."""
        with transaction.atomic():
            locked = engine._lock(step)
            return engine._transition(locked, to=to, actor=actor, reason=reason)

    def status_events(self, step: Step):
        return ActivityEvent.objects.filter(
            verb="step.status", object_type="workflows.step", object_id=step.pk
        )


class TransitionTableTests(StepRowsMixin, BaseTestCase):
    def test_it_allows_every_transition_in_the_table(self) -> None:
        allowed = [(old, new) for old, targets in engine.TRANSITIONS.items() for new in targets]
        self.assertEqual(len(allowed), 14)
        for old, new in allowed:
            with self.subTest(old=old, new=new):
                step = self.make_step(old)
                returned = self.move(step, new, actor=self.staff)
                self.assertEqual(returned.status, new)
                step.refresh_from_db()
                self.assertEqual(step.status, new)
                event = self.status_events(step).get()
                self.assertEqual((event.old_status, event.new_status), (old, new))
                self.assertEqual(event.actor, self.staff)
                self.assertEqual(event.task, step.task)
                self.assertEqual(event.client, step.task.client)
                self.assertEqual(event.practice, self.practice)

    def test_it_refuses_every_transition_not_in_the_table(self) -> None:
        forbidden = [
            (old, new) for old in S.values for new in S.values if new not in engine.TRANSITIONS[old]
        ]
        for status in S.values:
            self.assertIn((status, status), forbidden)  # same → same is never a move
        self.assertEqual(len(forbidden), 36 - 14)
        for old, new in forbidden:
            with self.subTest(old=old, new=new):
                step = self.make_step(old)
                with self.assertRaises(engine.InvalidTransition):
                    self.move(step, new, actor=self.staff)
                step.refresh_from_db()
                self.assertEqual(step.status, old)
                self.assertIsNone(step.completed_at)
                self.assertFalse(self.status_events(step).exists())

    def test_it_refuses_a_status_that_does_not_exist(self) -> None:
        step = self.make_step(S.READY)
        with self.assertRaises(engine.InvalidTransition):
            self.move(step, "archived", actor=self.staff)
        step.refresh_from_db()
        self.assertEqual(step.status, S.READY)
        self.assertFalse(self.status_events(step).exists())

    def test_it_labels_a_system_move_and_keeps_the_note(self) -> None:
        step = self.make_step(S.READY)
        with transaction.atomic():
            engine._transition(engine._lock(step), to=S.SKIPPED, actor=None, note="Not needed")
        event = self.status_events(step).get()
        self.assertIsNone(event.actor)
        self.assertEqual(event.actor_label, "System")
        self.assertEqual(event.summary, "Prepare draft accounts: Ready → Skipped · Not needed")

    def test_allowed_transitions_offers_exactly_the_table(self) -> None:
        for status in S.values:
            with self.subTest(status=status):
                step = Step(status=status)
                self.assertEqual(engine.allowed_transitions(step), engine.TRANSITIONS[status])


class TransitionTimestampTests(StepRowsMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.long_ago = timezone.now() - timezone.timedelta(days=30)

    def test_becoming_ready_stamps_ready_at(self) -> None:
        for old in (S.BLOCKED, S.FAILED, S.SKIPPED):
            with self.subTest(old=old):
                step = self.make_step(old, ready_at=self.long_ago)
                before = timezone.now()
                self.move(step, S.READY)
                step.refresh_from_db()
                self.assertGreaterEqual(step.ready_at, before)
                self.assertIsNone(step.started_at)

    def test_starting_stamps_started_at_and_keeps_ready_at(self) -> None:
        step = self.make_step(S.READY, ready_at=self.long_ago)
        before = timezone.now()
        self.move(step, S.IN_PROGRESS)
        step.refresh_from_db()
        self.assertGreaterEqual(step.started_at, before)
        self.assertEqual(step.ready_at, self.long_ago)
        self.assertIsNone(step.completed_at)

    def test_finishing_stamps_completed_at(self) -> None:
        for old, new in [
            (S.READY, S.DONE),
            (S.IN_PROGRESS, S.DONE),
            (S.READY, S.SKIPPED),
            (S.BLOCKED, S.SKIPPED),
            (S.FAILED, S.SKIPPED),
        ]:
            with self.subTest(old=old, new=new):
                step = self.make_step(old)
                before = timezone.now()
                self.move(step, new)
                step.refresh_from_db()
                self.assertGreaterEqual(step.completed_at, before)

    def test_failing_does_not_stamp_completed_at(self) -> None:
        step = self.make_step(S.IN_PROGRESS)
        self.move(step, S.FAILED, reason="The mail server said no.")
        step.refresh_from_db()
        self.assertIsNone(step.completed_at)

    def test_failing_keeps_the_reason_and_any_other_move_clears_it(self) -> None:
        for old in (S.READY, S.IN_PROGRESS):
            with self.subTest(old=old):
                step = self.make_step(old)
                self.move(step, S.FAILED, reason="Nobody to send to.")
                step.refresh_from_db()
                self.assertEqual(step.failure_reason, "Nobody to send to.")
                self.assertIn("Nobody to send to.", self.status_events(step).get().summary)
        for new in (S.READY, S.SKIPPED):
            with self.subTest(leaving_failed_to=new):
                step = self.make_step(S.FAILED, failure_reason="Nobody to send to.")
                self.move(step, new)
                step.refresh_from_db()
                self.assertEqual(step.failure_reason, "")

    # Regression: completed_at was stamped on done/skipped but never cleared, so a restored
    # step was open again with a completion time.
    def test_restoring_a_skipped_step_clears_completed_at(self) -> None:
        step = self.make_step(S.READY)
        engine.skip_step(step, actor=self.staff)
        engine.restore_step(step, actor=self.staff)
        step.refresh_from_db()
        self.assertEqual(step.status, S.READY)
        self.assertIsNone(step.completed_at)


class UnblockDependentsTests(StepRowsMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.first = self.make_step(S.READY, name="Bank reconciliation")
        self.group = self.first.group
        self.second = self.make_step(S.READY, group=self.group, name="Accruals")
        self.review = self.make_step(S.BLOCKED, group=self.group, name="Review")
        self.depend(self.review, self.first, self.second)

    def test_finishing_one_of_two_dependencies_keeps_the_dependent_blocked(self) -> None:
        engine.complete_step(self.first, actor=self.staff)
        self.review.refresh_from_db()
        self.assertEqual(self.review.status, S.BLOCKED)
        self.assertFalse(self.status_events(self.review).exists())

    def test_finishing_both_dependencies_makes_the_dependent_ready_once(self) -> None:
        for finish_first, finish_second in [
            (engine.complete_step, engine.complete_step),
            (engine.complete_step, engine.skip_step),
            (engine.skip_step, engine.skip_step),
        ]:
            with self.subTest(first=finish_first.__name__, second=finish_second.__name__):
                Step.objects.filter(pk__in=[self.first.pk, self.second.pk]).update(status=S.READY)
                Step.objects.filter(pk=self.review.pk).update(status=S.BLOCKED, ready_at=None)
                ActivityEvent.objects.all().delete()
                finish_first(self.first, actor=self.staff)
                finish_second(self.second, actor=self.staff)
                self.review.refresh_from_db()
                self.assertEqual(self.review.status, S.READY)
                self.assertIsNotNone(self.review.ready_at)
                event = self.status_events(self.review).get()
                self.assertEqual((event.old_status, event.new_status), (S.BLOCKED, S.READY))
                self.assertIsNone(event.actor)

    def test_a_dependent_that_was_skipped_stays_skipped(self) -> None:
        Step.objects.filter(pk=self.review.pk).update(status=S.SKIPPED)
        engine.complete_step(self.first, actor=self.staff)
        engine.complete_step(self.second, actor=self.staff)
        self.review.refresh_from_db()
        self.assertEqual(self.review.status, S.SKIPPED)

    def test_failing_a_dependency_does_not_unblock(self) -> None:
        engine.complete_step(self.first, actor=self.staff)
        self.move(self.second, S.FAILED, reason="Broken")
        self.review.refresh_from_db()
        self.assertEqual(self.review.status, S.BLOCKED)


class CompleteStepTests(StepRowsMixin, BaseTestCase):
    def test_it_completes_a_ready_simple_step(self) -> None:
        step = self.make_step(S.READY)
        returned = engine.complete_step(step, actor=self.staff)
        self.assertEqual(returned.status, S.DONE)
        step.refresh_from_db()
        self.assertEqual(step.status, S.DONE)
        self.assertEqual(self.status_events(step).get().actor, self.staff)

    def test_it_refuses_steps_that_are_not_simple(self) -> None:
        for step_type in (
            StepType.EMAIL,
            ClientStepType.DOCUMENT_REQUEST,
            ClientStepType.DOCUMENT_APPROVAL,
            ClientStepType.CLIENT_CONFIRMATION,
        ):
            with self.subTest(type=step_type):
                step = self.make_step(S.READY, type=step_type)
                with self.assertRaises(engine.InvalidTransition):
                    engine.complete_step(step, actor=self.staff)
                step.refresh_from_db()
                self.assertEqual(step.status, S.READY)
                self.assertFalse(self.status_events(step).exists())

    def test_it_refuses_a_blocked_or_finished_simple_step(self) -> None:
        for status in (S.BLOCKED, S.DONE, S.SKIPPED):
            with self.subTest(status=status):
                step = self.make_step(status)
                with self.assertRaises(engine.InvalidTransition):
                    engine.complete_step(step, actor=self.staff)
                step.refresh_from_db()
                self.assertEqual(step.status, status)
                self.assertFalse(self.status_events(step).exists())

    def test_it_cannot_reach_another_practices_step_from_this_practices_scope(self) -> None:
        mine = self.make_step(S.READY)
        other_task = f.TaskFactory(client=self.other_client, owner=self.outsider)
        theirs = self.make_step(S.READY, task=other_task)
        with practice_scope(self.practice):
            with self.assertRaises(Step.DoesNotExist):
                engine.complete_step(Step(pk=theirs.pk), actor=self.staff)
            engine.complete_step(Step(pk=mine.pk), actor=self.staff)
        theirs.refresh_from_db()
        mine.refresh_from_db()
        self.assertEqual((theirs.status, mine.status), (S.READY, S.DONE))
        self.assertFalse(self.status_events(theirs).exists())

    def test_a_worker_scoped_to_one_practice_does_not_run_another_practices_step(self) -> None:
        other_task = f.TaskFactory(
            client=self.other_client, owner=self.outsider, status=Task.Status.IN_PROGRESS
        )
        f.ContactFactory(client=self.other_client, email="rival@example.com", is_main=True)
        theirs = self.make_step(S.READY, task=other_task, type=StepType.EMAIL, mode=Mode.AUTOMATIC)
        with practice_scope(self.practice):
            self.assertIsNone(engine.run_step(theirs.pk))
        with practice_scope(self.other_practice):
            self.assertEqual(engine.run_step(theirs.pk).status, S.DONE)


class SkipAndRestoreTests(StepRowsMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.prepare = self.make_step(S.READY, name="Prepare")
        self.send = self.make_step(S.BLOCKED, group=self.prepare.group, name="Send")
        self.depend(self.send, self.prepare)

    def test_skipping_unblocks_dependents(self) -> None:
        engine.skip_step(self.prepare, actor=self.staff, note="Client did it")
        self.prepare.refresh_from_db()
        self.send.refresh_from_db()
        self.assertEqual((self.prepare.status, self.send.status), (S.SKIPPED, S.READY))
        self.assertIn("Client did it", self.status_events(self.prepare).get().summary)

    def test_skipping_a_blocked_step_is_allowed(self) -> None:
        engine.skip_step(self.send, actor=self.staff)
        self.send.refresh_from_db()
        self.assertEqual(self.send.status, S.SKIPPED)

    def test_skipping_runs_the_step_types_finished_hook(self) -> None:
        # A step type cancels its own timers there (the portal's confirmation chases).
        from unittest import mock

        from workflows import handlers

        seen = []
        handler = mock.Mock(finished=lambda step: seen.append(step.pk))
        with mock.patch.dict(handlers.HANDLERS, {self.prepare.type: handler}):
            engine.skip_step(self.prepare, actor=self.staff)
        self.assertEqual(seen, [self.prepare.pk])

    def test_skipping_a_done_step_is_refused(self) -> None:
        engine.complete_step(self.prepare, actor=self.staff)
        with self.assertRaises(engine.InvalidTransition):
            engine.skip_step(self.prepare, actor=self.staff)
        self.prepare.refresh_from_db()
        self.assertEqual(self.prepare.status, S.DONE)

    def test_restoring_with_finished_dependencies_makes_it_ready(self) -> None:
        engine.complete_step(self.prepare, actor=self.staff)
        engine.skip_step(self.send, actor=self.staff)
        engine.restore_step(self.send, actor=self.staff)
        self.send.refresh_from_db()
        self.assertEqual(self.send.status, S.READY)
        last = self.status_events(self.send).order_by("-id").first()
        self.assertEqual((last.old_status, last.new_status), (S.SKIPPED, S.READY))

    def test_restoring_with_unfinished_dependencies_makes_it_blocked(self) -> None:
        engine.skip_step(self.send, actor=self.staff)
        engine.restore_step(self.send, actor=self.staff)
        self.send.refresh_from_db()
        self.assertEqual(self.send.status, S.BLOCKED)

    def test_restoring_a_step_that_is_not_skipped_is_refused(self) -> None:
        for status in (S.READY, S.BLOCKED, S.DONE, S.FAILED):
            with self.subTest(status=status):
                step = self.make_step(status)
                with self.assertRaises(engine.InvalidTransition):
                    engine.restore_step(step, actor=self.staff)
                step.refresh_from_db()
                self.assertEqual(step.status, status)
                self.assertFalse(self.status_events(step).exists())


class RetryStepTests(StepRowsMixin, BaseTestCase):
    def test_it_puts_a_failed_step_back_to_ready(self) -> None:
        step = self.make_step(
            S.FAILED, type=StepType.EMAIL, mode=Mode.MANUAL, failure_reason="Nobody to send to."
        )
        engine.retry_step(step, actor=self.staff)
        step.refresh_from_db()
        self.assertEqual((step.status, step.failure_reason), (S.READY, ""))
        event = self.status_events(step).get()
        self.assertEqual(
            (event.old_status, event.new_status, event.actor), (S.FAILED, S.READY, self.staff)
        )

    def test_retrying_an_automatic_step_on_a_started_task_runs_it_again(self) -> None:
        step = self.make_step(S.FAILED, type=StepType.EMAIL, mode=Mode.AUTOMATIC)
        with mock.patch(DELAY) as delay, self.captureOnCommitCallbacks(execute=True):
            engine.retry_step(step, actor=self.staff)
        delay.assert_called_once_with(step.pk)

    def test_it_refuses_a_ready_running_or_done_step(self) -> None:
        for status in (S.READY, S.IN_PROGRESS, S.DONE):
            with self.subTest(status=status):
                step = self.make_step(status)
                with self.assertRaises(engine.InvalidTransition):
                    engine.retry_step(step, actor=self.staff)
                step.refresh_from_db()
                self.assertEqual(step.status, status)

    # Regression: retry_step did not check that the step had failed, and blocked → ready is a
    # legal move (for unblocking), so "retrying" a blocked step skipped its dependencies.
    def test_retrying_a_blocked_step_does_not_bypass_its_dependencies(self) -> None:
        prepare = self.make_step(S.READY, name="Prepare")
        send = self.make_step(
            S.BLOCKED, group=prepare.group, name="Send", type=StepType.EMAIL, mode=Mode.AUTOMATIC
        )
        StepDependency.objects.create(practice=self.practice, step=send, depends_on=prepare)
        with mock.patch(DELAY) as delay, self.captureOnCommitCallbacks(execute=True):
            with self.assertRaises(engine.InvalidTransition):
                engine.retry_step(send, actor=self.staff)
        send.refresh_from_db()
        self.assertEqual(send.status, S.BLOCKED)
        delay.assert_not_called()


class AutomaticEnqueueTests(StepRowsMixin, BaseTestCase):
    def automatic_blocked_step(self, task_status: str) -> Step:
        return self.make_step(
            S.BLOCKED, task=self.make_task(task_status), type=StepType.EMAIL, mode=Mode.AUTOMATIC
        )

    def test_an_automatic_step_becoming_ready_on_a_started_task_is_enqueued_on_commit(
        self,
    ) -> None:
        step = self.automatic_blocked_step(Task.Status.IN_PROGRESS)
        with mock.patch(DELAY) as delay:
            with self.captureOnCommitCallbacks(execute=False) as callbacks:
                self.move(step, S.READY)
            delay.assert_not_called()  # nothing is published before the commit
            self.assertEqual(len(callbacks), 1)
            callbacks[0]()
        delay.assert_called_once_with(step.pk)

    def test_an_automatic_dependent_unblocked_by_completion_is_enqueued(self) -> None:
        step = self.automatic_blocked_step(Task.Status.IN_PROGRESS)
        prepare = self.make_step(S.READY, group=step.group, name="Prepare")
        self.depend(step, prepare)
        with mock.patch(DELAY) as delay, self.captureOnCommitCallbacks(execute=True):
            engine.complete_step(prepare, actor=self.staff)
        delay.assert_called_once_with(step.pk)

    def test_nothing_is_enqueued_while_the_task_has_not_started_or_is_on_hold(self) -> None:
        for task_status in (Task.Status.PLANNED, Task.Status.ON_HOLD):
            with self.subTest(task_status=task_status):
                step = self.automatic_blocked_step(task_status)
                with mock.patch(DELAY) as delay, self.captureOnCommitCallbacks(execute=True):
                    self.move(step, S.READY)
                delay.assert_not_called()
                step.refresh_from_db()
                self.assertEqual(step.status, S.READY)

    def test_a_manual_step_becoming_ready_is_not_enqueued(self) -> None:
        step = self.make_step(S.BLOCKED, type=StepType.EMAIL, mode=Mode.MANUAL)
        with mock.patch(DELAY) as delay, self.captureOnCommitCallbacks(execute=True):
            self.move(step, S.READY)
        delay.assert_not_called()

    def test_a_rolled_back_transition_enqueues_nothing(self) -> None:
        step = self.automatic_blocked_step(Task.Status.IN_PROGRESS)

        class Boom(Exception):
            pass

        with mock.patch(DELAY) as delay:
            with self.captureOnCommitCallbacks(execute=True) as callbacks:
                with self.assertRaises(Boom), transaction.atomic():
                    self.move(step, S.READY)
                    raise Boom
        delay.assert_not_called()
        self.assertEqual(callbacks, [])
        step.refresh_from_db()
        self.assertEqual(step.status, S.BLOCKED)
        self.assertFalse(self.status_events(step).exists())


class ProgressTests(StepRowsMixin, BaseTestCase):
    def test_progress_counts_done_and_skipped_over_all_steps(self) -> None:
        first = self.make_step(S.DONE)
        task, group = first.task, first.group
        for status in (S.SKIPPED, S.READY, S.BLOCKED, S.FAILED):
            self.make_step(status, group=group)
        progress = queries.progress(task)
        self.assertEqual((progress.total, progress.finished, progress.percent), (5, 2, 40))
        self.assertEqual((progress.done, progress.skipped, progress.blocked), (1, 1, 1))

    def test_a_task_without_steps_is_at_zero(self) -> None:
        self.assertEqual(queries.progress(self.make_task()).percent, 0)
