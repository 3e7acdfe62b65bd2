"""The task list's "Attach a workflow template" bulk action, and bulk "done" with open steps."""

from __future__ import annotations

from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sodium.models import ActivityEvent, Task
from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.wf_factories import chain_template
from workflows import attach, building
from workflows.models import Step, StepGroup, WorkflowTemplate

S = Task.Status
BULK_URL = reverse("sodium:task-bulk")
SUMMARY_URL = reverse("sodium:task-bulk-summary")


class BulkAttachTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.template = chain_template(self.practice, self.manager)
        self.template.name = "Year-end accounts"
        self.template.save(update_fields=["name"])
        self.acme = f.ClientFactory(practice=self.practice, name="ACME Ltd")
        self.tasks = [
            f.TaskFactory(client=self.acme, name=f"Accounts {i}", owner=self.staff)
            for i in range(3)
        ]
        self.client.force_login(self.manager)

    def attach(self, tasks, template=None, follow=True, **data):
        payload = {
            "action": "attach",
            "task": [str(t.pk) for t in tasks],
            "attach-template": (template or self.template).pk,
            **data,
        }
        return self.client.post(BULK_URL, payload, follow=follow)

    def test_it_attaches_the_template_to_every_chosen_task(self) -> None:
        r = self.attach(self.tasks)
        self.assertRedirects(r, SUMMARY_URL)
        self.assertContains(r, "Attached ‘Year-end accounts’ to 3 tasks.")
        for task in self.tasks:
            self.assertEqual(Step.objects.filter(task=task).count(), 2)
            event = ActivityEvent.objects.get(task=task, verb="workflow.attached")
            self.assertEqual(event.actor, self.manager)

    def test_it_refuses_tasks_with_a_workflow_and_finished_tasks(self) -> None:
        other = building.create_template(practice=self.practice, actor=self.manager, name="VAT")
        building.add_step(
            other.groups.get(), actor=self.manager, name="File", type="simple", mode="manual"
        )
        vat = f.TaskFactory(client=self.acme, name="VAT Q3")
        attach.attach_template(vat, other, actor=self.manager)
        again = self.tasks[0]
        attach.attach_template(again, self.template, actor=self.manager)
        finished = f.TaskFactory(client=self.acme, name="Old", status=S.DONE)
        r = self.attach([*self.tasks, vat, finished])
        self.assertContains(r, "Attached ‘Year-end accounts’ to 2 tasks. 3 refused.")
        self.assertContains(r, "ACME Ltd — VAT Q3</a> already has a workflow (‘VAT’).")
        self.assertContains(r, "ACME Ltd — Accounts 0</a> already has ‘Year-end accounts’.")
        self.assertContains(r, "ACME Ltd — Old</a> is done; reopen it first.")
        self.assertEqual(StepGroup.objects.filter(task=again).count(), 1)
        self.assertEqual(StepGroup.objects.filter(task=vat).count(), 1)
        self.assertFalse(StepGroup.objects.filter(task=finished).exists())

    def test_another_practices_template_is_a_form_error(self) -> None:
        theirs = chain_template(self.other_practice, self.outsider)
        r = self.attach(self.tasks, template=theirs, follow=False)
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Choose an active template of this practice that has steps.")
        self.assertFalse(StepGroup.objects.filter(task__in=self.tasks).exists())

    def test_an_archived_template_is_a_form_error(self) -> None:
        self.template.status = WorkflowTemplate.Status.ARCHIVED
        self.template.save(update_fields=["status"])
        r = self.attach(self.tasks, follow=False)
        self.assertContains(r, "Choose an active template of this practice that has steps.")

    def test_no_template_chosen_is_a_form_error(self) -> None:
        r = self.attach(self.tasks, follow=False, **{"attach-template": ""})
        self.assertContains(r, "Choose the workflow template to attach.")

    def test_a_refusal_of_the_whole_attach_writes_nothing(self) -> None:
        with mock.patch.object(
            attach, "attach_template_to_tasks", side_effect=attach.AttachError("No.")
        ):
            r = self.attach(self.tasks, follow=False)
        self.assertContains(r, "Attach a workflow template: No. Nothing was changed.")
        self.assertFalse(ActivityEvent.objects.filter(verb="workflow.attached").exists())

    def test_another_practices_task_is_refused_and_gets_no_workflow(self) -> None:
        theirs = f.TaskFactory(client=self.other_client)
        r = self.attach([self.tasks[0], theirs])
        self.assertContains(r, "Attached ‘Year-end accounts’ to 1 task. 1 refused.")
        self.assertFalse(StepGroup.objects.filter(task=theirs).exists())

    def test_started_tasks_get_their_automatic_steps_run(self) -> None:
        template = building.create_template(
            practice=self.practice, actor=self.manager, name="Welcome"
        )
        building.add_step(
            template.groups.get(),
            actor=self.manager,
            name="Send welcome",
            type="email",
            mode="automatic",
            subject="Hi",
            body="Hello",
            to_recipients=["contact:main"],
            assignment_rule="task_owner",
        )
        started = f.TaskFactory(client=self.acme, status=S.IN_PROGRESS)
        with (
            mock.patch("workflows.tasks.run_step_task.delay") as delay,
            self.captureOnCommitCallbacks(execute=True),
        ):
            self.attach([started], template=template)
        delay.assert_called_once_with(Step.objects.get(task=started).pk)


class BulkDoneWithOpenStepsTests(BaseTestCase):
    def test_marking_done_is_refused_while_steps_are_open(self) -> None:
        template = chain_template(self.practice, self.manager)
        client = f.ClientFactory(practice=self.practice, name="ACME Ltd")
        open_task = f.TaskFactory(client=client, name="VAT Q3")
        attach.attach_template(open_task, template, actor=self.manager)
        plain = f.TaskFactory(client=client, name="Plain")
        self.client.force_login(self.manager)
        r = self.client.post(
            BULK_URL,
            {"action": "status", "task": [open_task.pk, plain.pk], "status-status": S.DONE},
            follow=True,
        )
        self.assertContains(r, "Moved 1 task to done. 1 refused.")
        self.assertContains(r, "ACME Ltd — VAT Q3</a> has 2 workflow steps still open.")
        open_task.refresh_from_db()
        self.assertEqual(open_task.status, S.PLANNED)

    def test_starting_many_tasks_runs_their_automatic_steps(self) -> None:
        template = chain_template(self.practice, self.manager)
        client = f.ClientFactory(practice=self.practice)
        tasks = [f.TaskFactory(client=client) for _ in range(2)]
        for task in tasks:
            attach.attach_template(task, template, actor=self.manager)
            # The first step done: the automatic email is ready, waiting for the task to start.
            Step.objects.filter(task=task, type="simple").update(status="done")
            Step.objects.filter(task=task, type="email").update(status="ready")
        self.client.force_login(self.manager)
        with (
            mock.patch("workflows.tasks.run_step_task.delay") as delay,
            self.captureOnCommitCallbacks(execute=True),
        ):
            self.client.post(
                BULK_URL,
                {"action": "status", "task": [t.pk for t in tasks], "status-status": S.IN_PROGRESS},
            )
        emails = Step.objects.filter(task__in=tasks, type="email")
        self.assertEqual(
            sorted(c.args[0] for c in delay.call_args_list), sorted(e.pk for e in emails)
        )
        self.assertTrue(all(e.ready_at for e in emails))


class BulkAttachQueryCountTests(BaseTestCase):
    def _count(self, n: int, template: WorkflowTemplate) -> int:
        client = f.ClientFactory(practice=self.practice)
        service = f.ServiceFactory(practice=self.practice)
        tasks = [f.TaskFactory(client=client, owner=self.staff, service=service) for _ in range(n)]
        payload = {
            "action": "attach",
            "task": [t.pk for t in tasks],
            "attach-template": template.pk,
        }
        with CaptureQueriesContext(connection) as queries:
            r = self.client.post(BULK_URL, payload)
        self.assertRedirects(r, SUMMARY_URL, fetch_redirect_response=False)
        self.assertEqual(StepGroup.objects.filter(task__in=tasks).count(), n)
        return len(queries)

    def test_it_runs_the_same_queries_for_3_and_30_tasks(self) -> None:
        template = chain_template(self.practice, self.manager)
        self.client.force_login(self.manager)
        small = self._count(3, template)
        self.assertEqual(self._count(30, template), small)
