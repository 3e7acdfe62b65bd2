"""On a task that has not started (planned, or on hold), a ready automatic step says why it has
not run yet: "Runs when the task starts on …", the start date judged in the practice's time
zone."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from django.urls import reverse
from django.utils import timezone

from sodium.models import Task
from tests.base import BaseTestCase
from tests.workflows.test_engine_transitions import StepRowsMixin
from tests.workflows.test_focus_panel import HTMX
from workflows import queries
from workflows.models import Mode, Step, StepType

S = Step.Status
# 10:30 UTC on Tue 1 Dec 2026 is already Wed 2 Dec (00:30) at UTC+14.
NOW = dt.datetime(2026, 12, 1, 10, 30, tzinfo=dt.UTC)
# A start date still to come whenever the suite runs, and how the step names it.
START = timezone.localdate() + dt.timedelta(days=35)
SAYS = f"Runs when the task starts on {START:%a} {START.day} {START:%b %Y}."


class AutomaticWaitTestCase(StepRowsMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.task = self.make_task(Task.Status.PLANNED)
        self.set_task(start_date=START)
        self.email = self.make_step(
            S.READY, task=self.task, type=StepType.EMAIL, mode=Mode.AUTOMATIC, name="Welcome"
        )
        self.client.force_login(self.staff)

    def set_task(self, **fields) -> None:
        Task.objects.filter(pk=self.task.pk).update(**fields)
        self.task.refresh_from_db()

    def wait(self) -> str:
        return queries.automatic_wait(self.practice, self.task)


class AutomaticWaitTests(AutomaticWaitTestCase):
    def test_a_planned_task_with_a_start_date_names_the_day(self) -> None:
        self.assertEqual(self.wait(), SAYS)

    def test_the_start_date_is_judged_in_the_practices_time_zone(self) -> None:
        self.set_task(start_date=dt.date(2026, 12, 2))
        with mock.patch("django.utils.timezone.now", return_value=NOW):
            self.practice.time_zone = "Europe/London"  # still 1 Dec there
            self.assertEqual(self.wait(), "Runs when the task starts on Wed 2 Dec 2026.")
            self.practice.time_zone = "Pacific/Kiritimati"  # already 2 Dec there
            self.assertIn("start date has come", self.wait())

    def test_a_planned_task_without_a_start_date_waits_for_someone_to_start_it(self) -> None:
        self.set_task(start_date=None)
        self.assertEqual(self.wait(), "Runs when the task is started (it has no start date).")

    def test_a_task_on_hold_waits_to_be_resumed(self) -> None:
        self.set_task(status=Task.Status.ON_HOLD)
        self.assertIn("resumed", self.wait())

    def test_a_started_or_closed_task_has_nothing_to_explain(self) -> None:
        for status in (Task.Status.IN_PROGRESS, Task.Status.DONE, Task.Status.CANCELLED):
            with self.subTest(status):
                self.set_task(status=status)
                self.assertEqual(self.wait(), "")


class AutomaticWaitOnPagesTests(AutomaticWaitTestCase):
    SAYS = SAYS

    def test_the_task_page_and_the_panel_say_it_beside_the_ready_automatic_step(self) -> None:
        for url, headers in (
            (reverse("sodium:task-detail", args=[self.task.pk]), {}),
            (reverse("workflows:focus", args=[self.task.pk]), HTMX),
        ):
            with self.subTest(url):
                r = self.client.get(url, headers=headers)
                html = r.content.decode()
                self.assertContains(r, self.SAYS, count=1)
                # Inside the step's own row.
                row = html[html.index(f'id="{"focus-" if headers else ""}step-{self.email.pk}"') :]
                self.assertIn(self.SAYS, row[: row.index("</li>")])

    def test_it_is_not_said_for_manual_steps_or_once_the_task_has_started(self) -> None:
        Step.objects.filter(pk=self.email.pk).update(mode=Mode.MANUAL)
        url = reverse("sodium:task-detail", args=[self.task.pk])
        self.assertNotContains(self.client.get(url), "Runs when the task")
        Step.objects.filter(pk=self.email.pk).update(mode=Mode.AUTOMATIC)
        self.set_task(status=Task.Status.IN_PROGRESS)
        self.assertNotContains(self.client.get(url), "Runs when the task")
