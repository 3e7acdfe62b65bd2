"""Celery time limits: every task has a soft and a hard limit, and the sweep stops at its soft
limit instead of swallowing it as one timer's failure."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.test import SimpleTestCase

from sodium import tasks, timers
from sodium.celery import app
from sodium.models import Timer
from tests.base import BaseTestCase
from workflows import tasks as workflow_tasks

NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


class TimeLimitSettingsTests(SimpleTestCase):
    def test_the_settings_reach_the_celery_app(self) -> None:
        self.assertEqual(settings.CELERY_TASK_SOFT_TIME_LIMIT, 60)
        self.assertEqual(settings.CELERY_TASK_TIME_LIMIT, 90)
        self.assertEqual(app.conf.task_soft_time_limit, 60)
        self.assertEqual(app.conf.task_time_limit, 90)

    def test_every_task_has_a_soft_limit_below_its_hard_limit(self) -> None:
        for task in (
            tasks.deliver_message_task,
            tasks.sweep_timers_task,
            workflow_tasks.run_step_task,
        ):
            with self.subTest(task=task.name):
                soft = task.soft_time_limit or app.conf.task_soft_time_limit
                hard = task.time_limit or app.conf.task_time_limit
                self.assertTrue(soft and hard)
                self.assertLess(soft, hard)

    def test_the_sweep_has_room_for_a_backlog(self) -> None:
        self.assertEqual(tasks.sweep_timers_task.soft_time_limit, 240)
        self.assertEqual(tasks.sweep_timers_task.time_limit, 300)


class SweepSoftLimitTests(BaseTestCase):
    def test_the_sweep_stops_at_its_soft_limit_and_the_timers_stay_due(self) -> None:
        for key in ("t:1", "t:2"):
            timers.schedule(
                practice=self.practice, kind="test.slow", target_id=1, due_at=NOW, key=key
            )
        handler = mock.Mock(side_effect=SoftTimeLimitExceeded())
        with mock.patch.dict(timers.HANDLERS, {"test.slow": handler}):
            with self.assertRaises(SoftTimeLimitExceeded):
                timers.sweep(NOW)
        handler.assert_called_once()
        self.assertEqual(
            sorted(Timer.objects.values_list("key", "attempts", "last_error")),
            [("t:1", 0, ""), ("t:2", 0, "")],
        )
