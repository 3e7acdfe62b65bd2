"""A task whose steps are all finished is offered for completion: on the task page, in the focus
panel and on the task list; completing it goes through the task engine."""

from __future__ import annotations

from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sodium import engine as core_engine
from sodium.models import ActivityEvent, Task
from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.test_engine_transitions import StepRowsMixin
from tests.workflows.test_focus_panel import HTMX
from workflows import engine
from workflows.models import Step

S = Step.Status
CTA = "All steps are done."


class CompletionTestCase(StepRowsMixin, BaseTestCase):
    """A started task with two steps: one done, one ready (`last`)."""

    def setUp(self) -> None:
        super().setUp()
        self.task = self.make_task(Task.Status.IN_PROGRESS)
        first = self.make_step(S.DONE, task=self.task, name="Prepare draft accounts")
        self.last = self.make_step(
            S.READY, task=self.task, group=first.group, name="Review with the partner"
        )
        self.complete_url = reverse("workflows:task-complete", args=[self.task.pk])
        self.task_url = reverse("sodium:task-detail", args=[self.task.pk])
        self.panel_url = reverse("workflows:focus", args=[self.task.pk])

    def finish_last(self, to: str = S.DONE) -> None:
        Step.objects.filter(pk=self.last.pk).update(status=to)

    def task_status(self) -> str:
        return Task.objects.get(pk=self.task.pk).status


class CompleteTaskEngineTests(CompletionTestCase):
    def test_it_completes_a_task_whose_steps_are_done_or_skipped(self) -> None:
        self.finish_last(S.SKIPPED)
        task = engine.complete_task(self.task, actor=self.staff)
        self.assertEqual(task.status, Task.Status.DONE)
        self.assertIsNotNone(task.completed_at)
        event = ActivityEvent.objects.filter(verb="task.status").latest("id")
        self.assertEqual((event.old_status, event.new_status), ("in_progress", "done"))
        self.assertIn("Every step is finished", event.summary)

    def test_it_refuses_while_a_step_is_open_and_changes_nothing(self) -> None:
        with self.assertRaisesMessage(engine.WorkflowError, "1 step is still open"):
            engine.complete_task(self.task, actor=self.staff)
        self.assertEqual(self.task_status(), Task.Status.IN_PROGRESS)

    def test_it_refuses_a_task_without_steps(self) -> None:
        bare = self.make_task(Task.Status.IN_PROGRESS)
        with self.assertRaises(engine.WorkflowError):
            engine.complete_task(bare, actor=self.staff)

    def test_it_refuses_what_the_task_engine_refuses(self) -> None:
        self.finish_last()
        Task.objects.filter(pk=self.task.pk).update(status=Task.Status.ON_HOLD)
        with self.assertRaises(core_engine.InvalidTransition):
            engine.complete_task(self.task, actor=self.staff)
        self.assertEqual(self.task_status(), Task.Status.ON_HOLD)


class CompleteTaskOfferTests(CompletionTestCase):
    def test_the_task_page_offers_it_once_every_step_is_finished(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(self.task_url)
        self.assertNotContains(r, CTA)
        self.assertNotContains(r, self.complete_url)
        self.finish_last()
        r = self.client.get(self.task_url)
        self.assertContains(r, CTA)
        self.assertContains(r, f'action="{self.complete_url}"')
        self.assertContains(r, "Complete task</button>")

    def test_the_focus_panel_offers_it_once_every_step_is_finished(self) -> None:
        self.client.force_login(self.staff)
        self.assertNotContains(self.client.get(self.panel_url, headers=HTMX), CTA)
        self.finish_last()
        r = self.client.get(self.panel_url, headers=HTMX)
        self.assertContains(r, CTA)
        self.assertContains(r, f'hx-post="{self.complete_url}"')

    def test_marking_the_last_step_done_in_the_panel_offers_it_and_marks_the_row(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.post(reverse("workflows:step-complete", args=[self.last.pk]), headers=HTMX)
        self.assertContains(r, CTA)
        oob = r.content.decode().split(f'id="task-{self.task.pk}-progress"', 1)[1]
        self.assertIn("Ready to complete", oob)

    def test_it_is_not_offered_for_a_done_or_on_hold_task_or_to_who_cannot_edit(self) -> None:
        self.finish_last()
        self.client.force_login(self.ar_specialist)
        r = self.client.get(self.task_url)
        self.assertNotContains(r, "Complete task</button>")
        self.client.force_login(self.staff)
        for status in (Task.Status.DONE, Task.Status.ON_HOLD):
            with self.subTest(status):
                Task.objects.filter(pk=self.task.pk).update(status=status)
                self.assertNotContains(self.client.get(self.task_url), CTA)
                self.assertNotContains(self.client.get(self.panel_url, headers=HTMX), CTA)

    def test_the_task_list_says_ready_to_complete_at_no_extra_query(self) -> None:
        self.client.force_login(self.staff)
        with CaptureQueriesContext(connection) as before:
            r = self.client.get("/tasks/")
        self.assertNotContains(r, "Ready to complete")
        self.finish_last()
        for _ in range(5):  # more ready tasks, same queries
            task = self.make_task(Task.Status.IN_PROGRESS)
            self.make_step(S.DONE, task=task)
        with self.assertNumQueries(len(before)):
            r = self.client.get("/tasks/")
        self.assertContains(r, "Ready to complete", count=6)


class CompleteTaskViewTests(CompletionTestCase):
    def test_a_post_completes_it_and_goes_back_to_the_task_page(self) -> None:
        self.finish_last()
        self.client.force_login(self.staff)
        r = self.client.post(self.complete_url, follow=True)
        self.assertRedirects(r, self.task_url)
        self.assertContains(r, "Completed “")
        self.assertEqual(self.task_status(), Task.Status.DONE)

    def test_from_the_panel_it_refreshes_the_page(self) -> None:
        self.finish_last()
        self.client.force_login(self.staff)
        r = self.client.post(self.complete_url, headers=HTMX)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r["HX-Refresh"], "true")
        self.assertEqual(self.task_status(), Task.Status.DONE)

    def test_with_a_step_still_open_it_says_why_and_changes_nothing(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.post(self.complete_url, headers=HTMX)
        self.assertContains(r, "1 step is still open")
        self.assertNotIn("HX-Refresh", r.headers)
        r = self.client.post(self.complete_url, follow=True)
        self.assertContains(r, "1 step is still open")
        self.assertEqual(self.task_status(), Task.Status.IN_PROGRESS)

    def test_it_needs_a_post_with_csrf_and_the_right_to_edit_tasks(self) -> None:
        self.finish_last()
        self.client.force_login(self.staff)
        self.assertEqual(self.client.get(self.complete_url).status_code, 405)
        strict = HttpClient(enforce_csrf_checks=True)
        strict.force_login(self.staff)
        self.assertEqual(strict.post(self.complete_url).status_code, 403)
        self.client.force_login(self.ar_specialist)
        self.assertEqual(self.client.post(self.complete_url).status_code, 403)
        self.assertEqual(self.task_status(), Task.Status.IN_PROGRESS)

    def test_another_practices_task_answers_404(self) -> None:
        theirs = f.TaskFactory(client=self.other_client, status=Task.Status.IN_PROGRESS)
        self.client.force_login(self.staff)
        r = self.client.post(reverse("workflows:task-complete", args=[theirs.pk]))
        self.assertEqual(r.status_code, 404)
