"""A step's sub-status (awaiting response, submitted…) belongs to it while it is in progress:
the engine clears it when the step leaves in progress, and no page shows a stale one."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from portal.step_types import ClientStepType
from tests.base import BaseTestCase
from tests.workflows.test_engine_transitions import StepRowsMixin
from tests.workflows.test_focus_panel import HTMX
from workflows import engine
from workflows.models import Mode, Step

S = Step.Status
SS = Step.SubStatus


class LeavingInProgressTests(StepRowsMixin, BaseTestCase):
    def waiting_step(self, sub_status: str = SS.AWAITING_RESPONSE) -> Step:
        return self.make_step(
            S.IN_PROGRESS,
            type=ClientStepType.CLIENT_CONFIRMATION,
            mode=Mode.MANUAL,
            sub_status=sub_status,
        )

    def test_skipping_clears_the_sub_status(self) -> None:
        for sub_status in (SS.AWAITING_RESPONSE, SS.SUBMITTED, SS.REJECTED):
            with self.subTest(sub_status):
                step = engine.skip_step(self.waiting_step(sub_status), actor=self.staff)
                step.refresh_from_db()
                self.assertEqual((step.status, step.sub_status), (S.SKIPPED, ""))

    def test_failing_clears_the_sub_status(self) -> None:
        step = self.move(self.waiting_step(), S.FAILED, reason="The email bounced")
        step.refresh_from_db()
        self.assertEqual((step.status, step.sub_status), (S.FAILED, ""))

    def test_finishing_keeps_the_outcome_it_is_given(self) -> None:
        step = engine.finish_client_step(
            self.waiting_step(), actor=None, sub_status=SS.CONFIRMED, note="Ann confirmed"
        )
        step.refresh_from_db()
        self.assertEqual((step.status, step.sub_status), (S.DONE, SS.CONFIRMED))

    def test_the_skip_event_records_no_sub_status(self) -> None:
        step = engine.skip_step(self.waiting_step(), actor=self.staff)
        event = self.status_events(step).latest("id")
        self.assertEqual(event.data["sub_status"], "")

    def test_shown_sub_status_is_only_for_in_progress_steps_and_done_outcomes(self) -> None:
        cases = [
            (S.IN_PROGRESS, SS.AWAITING_RESPONSE, "Awaiting response"),
            (S.DONE, SS.APPROVED, "Approved"),
            (S.DONE, SS.CONFIRMED, "Confirmed"),
            (S.DONE, SS.AWAITING_RESPONSE, ""),
            (S.SKIPPED, SS.AWAITING_RESPONSE, ""),
            (S.SKIPPED, SS.SUBMITTED, ""),
            (S.FAILED, SS.AWAITING_RESPONSE, ""),
            (S.READY, SS.REJECTED, ""),
            (S.IN_PROGRESS, SS.NONE, ""),
        ]
        for status, sub_status, shown in cases:
            with self.subTest(status=status, sub_status=sub_status):
                self.assertEqual(Step(status=status, sub_status=sub_status).shown_sub_status, shown)


class StaleSubStatusOnPagesTests(StepRowsMixin, BaseTestCase):
    """Rows written before the engine cleared sub-statuses must not show them either."""

    def setUp(self) -> None:
        super().setUp()
        self.task = self.make_task()
        self.task.due_date = timezone.localdate() - dt.timedelta(days=3)  # on the overview
        self.task.save(update_fields=["due_date"])
        common = dict(task=self.task, type=ClientStepType.DOCUMENT_REQUEST, assignee=self.staff)
        self.skipped = self.make_step(
            S.SKIPPED, name="Collect receipts", sub_status=SS.AWAITING_RESPONSE, **common
        )
        self.failed = self.make_step(
            S.FAILED,
            group=self.skipped.group,
            name="Collect payslips",
            sub_status=SS.SUBMITTED,
            failure_reason="No address",
            **common,
        )
        self.client.force_login(self.manager)

    def assert_no_stale_chip(self, r) -> None:
        self.assertEqual(r.status_code, 200)
        self.assertNotContains(r, "Awaiting response")
        self.assertNotContains(r, '<span class="chip chip-sub">Submitted</span>', html=False)

    def test_the_task_page_shows_none(self) -> None:
        r = self.client.get(reverse("sodium:task-detail", args=[self.task.pk]))
        self.assertContains(r, "Collect receipts")
        self.assert_no_stale_chip(r)

    def test_the_focus_panel_shows_none(self) -> None:
        r = self.client.get(reverse("workflows:focus", args=[self.task.pk]), headers=HTMX)
        self.assertContains(r, "Collect payslips")
        self.assert_no_stale_chip(r)

    def test_my_steps_shows_none(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(reverse("workflows:my-steps") + "?status=failed")
        self.assertContains(r, "Collect payslips")
        self.assert_no_stale_chip(r)

    def test_the_overview_shows_none(self) -> None:
        r = self.client.get(reverse("workflows:overview"))
        self.assertContains(r, "Collect payslips")
        self.assert_no_stale_chip(r)
