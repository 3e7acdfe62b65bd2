"""Moving the clock through AR workflows: sweeps at chosen moments, with the batch task run
in-process as a worker would (the broker is outside what these tests are about; the worker
tests use a real one)."""

from __future__ import annotations

import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

from django.test import TestCase

from collections_ar import running, tasks
from sodium import tasks as core_tasks
from sodium import timers

LONDON = ZoneInfo("Europe/London")


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """Return `day` at `hour`:`minute`, London time."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON)


class ClockMixin(TestCase):
    """`self.sweep(now)` runs the timer sweep at `now`; its AR batches run right away."""

    def setUp(self) -> None:
        super().setUp()
        self.now: dt.datetime | None = None
        self.batches = 0

        def run(ids):
            self.batches += 1
            return running.run_batch(ids, now=self.now)

        patcher = mock.patch.object(tasks.run_actions_task, "delay", side_effect=run)
        patcher.start()
        self.addCleanup(patcher.stop)
        deliver = mock.patch.object(core_tasks.deliver_messages_task, "delay")
        deliver.start()
        self.addCleanup(deliver.stop)
        one = mock.patch.object(core_tasks.deliver_message_task, "delay")
        one.start()
        self.addCleanup(one.stop)

    def sweep(self, now: dt.datetime) -> None:
        self.now = now
        with mock.patch("django.utils.timezone.now", return_value=now):
            with self.captureOnCommitCallbacks(execute=True):
                timers.sweep(now)

    def days(self, start: dt.date, count: int, hours=(8, 10, 14, 18)):
        """Sweep at each of `hours` on `count` days from `start`."""
        for n in range(count):
            day = start + dt.timedelta(days=n)
            for hour in hours:
                self.sweep(at(day, hour))
