"""A sweep runs the safety nets before the timers, so a timer a net makes due runs in the same
sweep: after an outage a recurring service's task is created and started by one sweep, not
started a sweep later (bench/chaos.py measures the catch-up)."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from sodium import timers
from sodium.models import Recurrence, Task, Timer
from sodium.services.recurrences import create_recurrence
from tests import factories as f
from tests.base import BaseTestCase
from tests.sodium.test_recurring import at
from tests.workflows.wf_factories import chain_template

RUN = "workflows.tasks.run_step_task.delay"
NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


class SweepOrderTests(BaseTestCase):
    def test_a_timer_a_net_makes_due_runs_in_the_same_sweep(self) -> None:
        ran: list[str] = []

        def net(now: dt.datetime) -> int:
            timers.schedule(
                practice=self.practice, kind="test.order", target_id=1, due_at=now, key="made"
            )
            return 1

        with (
            mock.patch.dict(timers.SAFETY_NETS, {"test.net": net}, clear=True),
            mock.patch.dict(timers.HANDLERS, {"test.order": lambda t: ran.append(t.key)}),
        ):
            self.assertEqual(timers.sweep(NOW), 1)
        self.assertEqual(ran, ["made"])
        self.assertFalse(Timer.objects.filter(key="made").exists())

    def test_one_sweep_creates_a_recurring_services_due_tasks_and_starts_them(self) -> None:
        clients = [f.ClientFactory(practice=self.practice, name=n) for n in ("Acme", "Bolt")]
        recurrence = create_recurrence(
            practice=self.practice,
            actor=self.manager,
            now=at("2026-01-01"),
            clients=clients,
            name="Weekly books",
            schedule={
                "kind": "calendar",
                "frequency": "weekly",
                "start": "2026-01-05",
                "weekdays": ["mo"],
            },
            task_name="{{ client.name }} books {{ period.label }}",
            due_rule=Recurrence.DueRule.NONE,
            client_selection=Recurrence.Clients.CHOSEN,
            workflow_template_id=chain_template(self.practice, self.manager).pk,
        )
        with mock.patch(RUN):
            timers.sweep(at("2026-01-05", 9))
        self.assertEqual(
            sorted(Task.objects.filter(recurrence=recurrence).values_list("name", "status")),
            [
                ("Acme books week of 5 January 2026", "in_progress"),
                ("Bolt books week of 5 January 2026", "in_progress"),
            ],
        )


class SweepHelpTests(BaseTestCase):
    def due(self, n: int) -> None:
        for i in range(n):
            timers.schedule(
                practice=self.practice,
                kind="test.help",
                target_id=i,
                due_at=NOW - dt.timedelta(minutes=i),
                key=f"due:{i}",
            )

    def sweep(self, n_due: int, **kwargs) -> tuple[int, mock.Mock, list[int]]:
        self.due(n_due)
        ran: list[int] = []
        helper = mock.Mock()
        with mock.patch.dict(timers.HANDLERS, {"test.help": lambda t: ran.append(t.target_id)}):
            count = timers.sweep(NOW, batch=2, ask_for_help=helper, **kwargs)
        return count, helper, ran

    def test_a_full_first_batch_asks_for_help_once_and_the_sweep_carries_on(self) -> None:
        count, helper, ran = self.sweep(5)
        self.assertEqual(count, 5)
        helper.assert_called_once_with()
        self.assertEqual(sorted(ran), [0, 1, 2, 3, 4])

    def test_less_than_a_batch_due_needs_no_help(self) -> None:
        count, helper, _ = self.sweep(1)
        self.assertEqual(count, 1)
        helper.assert_not_called()

    def test_a_helper_sweep_runs_no_safety_nets(self) -> None:
        net = mock.Mock(return_value=0)
        with mock.patch.dict(timers.SAFETY_NETS, {"test.net": net}, clear=True):
            self.sweep(0, nets=False)
            net.assert_not_called()
            self.sweep(0)
            net.assert_called_once_with(NOW)

    def test_the_sweep_task_asks_for_a_helper_sweep_when_a_batch_is_full(self) -> None:
        from sodium import tasks

        self.due(tasks.SWEEP_BATCH + 1)
        with (
            mock.patch.dict(timers.HANDLERS, {"test.help": lambda t: None}),
            mock.patch.object(tasks.sweep_timers_helper_task, "delay") as delay,
        ):
            self.assertEqual(tasks.sweep_timers_task.run(), tasks.SWEEP_BATCH + 1)
        delay.assert_called_once_with()
        self.assertFalse(Timer.objects.exists())
