"""sodium.engine: task status transitions, their activity events, and task writes."""

from __future__ import annotations

import datetime as dt

import pytest

from sodium import engine
from sodium.models import ActivityEvent, Task
from tests import factories as f
from tests.base import BaseTestCase

S = Task.Status


class ChangeTaskStatusTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client_row = f.ClientFactory(practice=self.practice)
        self.task = f.TaskFactory(client=self.client_row, owner=self.staff)

    def _task_in(self, status: str) -> Task:
        completed = dt.datetime(2024, 1, 2, tzinfo=dt.UTC) if status == S.DONE else None
        Task.objects.filter(pk=self.task.pk).update(status=status, completed_at=completed)
        ActivityEvent.objects.filter(task=self.task).delete()
        self.task.refresh_from_db()
        return self.task

    def _events(self):
        return ActivityEvent.objects.filter(task=self.task, verb="task.status")

    def test_it_allows_every_transition_in_the_table(self) -> None:
        for old, targets in engine.TRANSITIONS.items():
            for new in targets:
                with self.subTest(old=old, new=new):
                    task = self._task_in(old)
                    engine.change_task_status(task, to=new, actor=self.staff)
                    task.refresh_from_db()
                    self.assertEqual(task.status, new)
                    event = self._events().get()
                    self.assertEqual((event.old_status, event.new_status), (old, new))
                    self.assertEqual(event.actor, self.staff)
                    self.assertEqual(event.practice, self.practice)
                    self.assertEqual(event.client, self.client_row)

    def test_it_refuses_every_transition_not_in_the_table(self) -> None:
        forbidden = [
            (old, new)
            for old in S.values
            for new in S.values
            if new not in engine.TRANSITIONS.get(old, set())
        ]
        self.assertIn((S.DONE, S.DONE), forbidden)  # same-to-same is always forbidden
        for old, new in forbidden:
            with self.subTest(old=old, new=new):
                task = self._task_in(old)
                completed_before = task.completed_at
                with pytest.raises(engine.InvalidTransition):
                    engine.change_task_status(task, to=new, actor=self.staff)
                task.refresh_from_db()
                self.assertEqual(task.status, old)
                self.assertEqual(task.completed_at, completed_before)
                self.assertFalse(self._events().exists())

    def test_it_refuses_an_unknown_status(self) -> None:
        task = self._task_in(S.PLANNED)
        with pytest.raises(engine.InvalidTransition):
            engine.change_task_status(task, to="archived", actor=self.staff)
        task.refresh_from_db()
        self.assertEqual(task.status, S.PLANNED)
        self.assertFalse(self._events().exists())

    def test_it_sets_completed_at_when_done_and_clears_it_on_reopen(self) -> None:
        task = self._task_in(S.IN_PROGRESS)
        self.assertIsNone(task.completed_at)
        engine.change_task_status(task, to=S.DONE, actor=self.staff)
        task.refresh_from_db()
        self.assertIsNotNone(task.completed_at)
        engine.change_task_status(task, to=S.IN_PROGRESS, actor=self.staff)
        task.refresh_from_db()
        self.assertIsNone(task.completed_at)

    def test_it_labels_a_system_change_and_keeps_the_note(self) -> None:
        task = self._task_in(S.PLANNED)
        engine.change_task_status(task, to=S.ON_HOLD, actor=None, note="waiting for records")
        event = self._events().get()
        self.assertIsNone(event.actor)
        self.assertEqual(event.actor_label, "System")
        self.assertEqual(event.summary, "Planned → On hold: waiting for records")


class AllowedTransitionsTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.task = f.TaskFactory(client=f.ClientFactory(practice=self.practice))

    def _moves(self, status: str) -> list[tuple[str, str]]:
        self.task.status = status
        return engine.allowed_transitions(self.task)

    def test_it_offers_exactly_the_moves_in_the_table(self) -> None:
        for status in S.values:
            with self.subTest(status=status):
                offered = {to for to, _ in self._moves(status)}
                self.assertEqual(offered, engine.TRANSITIONS[status])

    def test_it_labels_moves_from_planned(self) -> None:
        self.assertEqual(
            self._moves(S.PLANNED),
            [
                (S.IN_PROGRESS, "Start"),
                (S.ON_HOLD, "Put on hold"),
                (S.DONE, "Mark done"),
                (S.CANCELLED, "Cancel"),
            ],
        )

    def test_it_calls_leaving_done_reopen(self) -> None:
        self.assertEqual(self._moves(S.DONE), [(S.IN_PROGRESS, "Reopen")])

    def test_it_calls_leaving_on_hold_resume(self) -> None:
        self.assertEqual(
            self._moves(S.ON_HOLD), [(S.IN_PROGRESS, "Resume"), (S.CANCELLED, "Cancel")]
        )

    def test_it_calls_leaving_cancelled_reopen(self) -> None:
        self.assertEqual(self._moves(S.CANCELLED), [(S.PLANNED, "Reopen")])


class UpdateTaskTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.task = f.TaskFactory(
            client=f.ClientFactory(practice=self.practice), name="VAT Q1", owner=self.staff
        )

    def _events(self):
        return ActivityEvent.objects.filter(task=self.task, verb="task.updated")

    def test_it_saves_and_logs_the_changed_fields(self) -> None:
        engine.update_task(self.task, actor=self.manager, name="VAT Q2", owner=self.manager)
        self.task.refresh_from_db()
        self.assertEqual((self.task.name, self.task.owner), ("VAT Q2", self.manager))
        event = self._events().get()
        self.assertEqual(event.actor, self.manager)
        self.assertIn("name", event.summary)
        self.assertIn("owner", event.summary)

    def test_it_logs_only_the_fields_that_changed(self) -> None:
        engine.update_task(self.task, actor=self.manager, name="VAT Q1", description="Box 6")
        event = self._events().get()
        self.assertEqual(event.summary, "Changed description")

    def test_it_logs_nothing_when_nothing_changed(self) -> None:
        engine.update_task(self.task, actor=self.manager, name="VAT Q1")
        self.assertFalse(self._events().exists())

    def test_it_ignores_status(self) -> None:
        engine.update_task(self.task, actor=self.manager, status=S.DONE, name="VAT Q2")
        self.task.refresh_from_db()
        self.assertEqual(self.task.status, S.PLANNED)
        self.assertEqual(self.task.name, "VAT Q2")
        self.assertFalse(ActivityEvent.objects.filter(task=self.task, verb="task.status").exists())
        self.assertNotIn("status", self._events().get().summary)


class CreateTaskTests(BaseTestCase):
    def test_it_creates_the_task_and_logs_it(self) -> None:
        client = f.ClientFactory(practice=self.practice)
        task = engine.create_task(
            practice=self.practice,
            client=client,
            actor=self.staff,
            name="Payroll March",
            owner=self.staff,
        )
        task.refresh_from_db()
        self.assertEqual(
            (task.practice, task.client, task.status), (self.practice, client, S.PLANNED)
        )
        event = ActivityEvent.objects.get(task=task)
        self.assertEqual(event.verb, "task.created")
        self.assertEqual(event.actor, self.staff)
        self.assertEqual(event.client, client)
        self.assertEqual(event.summary, "Created task Payroll March")
