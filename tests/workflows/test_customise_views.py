"""Per-task customisation through the task page: reassign, edit content, add a one-off step."""

from __future__ import annotations

from unittest import mock

from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.wf_factories import chain_template
from workflows import attach
from workflows.models import Step, TemplateStep

RUN = "workflows.tasks.run_step_task.delay"


class CustomiseSetup(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        acme = f.ClientFactory(practice=self.practice)
        f.ContactFactory(client=acme, email="ann@acme.example", is_main=True)
        self.task = f.TaskFactory(client=acme, owner=self.staff, status="in_progress")
        self.template = chain_template(self.practice, self.manager)
        with mock.patch(RUN):
            self.prepare, self.email = attach.attach_template(
                self.task, self.template, actor=self.manager
            )
        self.client.force_login(self.staff)


class CustomiseTests(CustomiseSetup):
    def test_the_task_page_offers_the_actions(self) -> None:
        r = self.client.get(f"/tasks/{self.task.pk}/")
        self.assertContains(r, f"/workflows/steps/{self.prepare.pk}/reassign/")
        self.assertContains(r, f"/workflows/steps/{self.email.pk}/edit/")
        self.assertContains(r, f"/workflows/tasks/{self.task.pk}/add-step/")

    def test_reassigning_a_step_changes_only_this_task(self) -> None:
        r = self.client.post(
            f"/workflows/steps/{self.prepare.pk}/reassign/", {"assignee": self.manager.pk}
        )
        self.assertRedirects(r, f"/tasks/{self.task.pk}/", fetch_redirect_response=False)
        self.prepare.refresh_from_db()
        self.assertEqual(self.prepare.assignee, self.manager)
        r = self.client.post(
            f"/workflows/steps/{self.prepare.pk}/reassign/", {"assignee": self.outsider.pk}
        )
        self.assertEqual(r.status_code, 200)  # another practice's person is refused
        self.prepare.refresh_from_db()
        self.assertEqual(self.prepare.assignee, self.manager)

    def test_editing_content_leaves_the_template_alone(self) -> None:
        source = TemplateStep.objects.get(pk=self.email.source_id)
        r = self.client.post(
            f"/workflows/steps/{self.email.pk}/edit/",
            {
                "name": "Welcome email (Acme)",
                "subject": "Hello {{ client.name }}",
                "body": "Special terms for you.",
                "to_recipients": ["contact:main"],
                "extra_to": "finance@acme.example",
            },
        )
        self.assertRedirects(r, f"/tasks/{self.task.pk}/", fetch_redirect_response=False)
        self.email.refresh_from_db()
        self.assertEqual(self.email.body, "Special terms for you.")
        self.assertEqual(self.email.to_recipients, ["contact:main", "email:finance@acme.example"])
        source.refresh_from_db()
        self.assertNotEqual(source.body, "Special terms for you.")

    def test_an_invalid_edit_shows_the_problem_and_changes_nothing(self) -> None:
        r = self.client.post(
            f"/workflows/steps/{self.email.pk}/edit/",
            {
                "name": "Welcome",
                "subject": "Hi {{ nope.nothing }}",
                "body": "x",
                "to_recipients": ["contact:main"],
            },
        )
        self.assertContains(r, "Unknown variable")
        self.email.refresh_from_db()
        self.assertNotIn("nope", self.email.subject)

    def test_adding_a_one_off_step_with_a_dependency(self) -> None:
        r = self.client.post(
            f"/workflows/tasks/{self.task.pk}/add-step/",
            {
                "group": self.prepare.group_id,
                "name": "Call the bank",
                "type": "simple",
                "mode": "manual",
                "depends_on": [self.prepare.pk],
                "assignee": self.staff.pk,
            },
        )
        self.assertRedirects(r, f"/tasks/{self.task.pk}/", fetch_redirect_response=False)
        step = Step.objects.get(task=self.task, name="Call the bank")
        self.assertEqual((step.status, step.assignee), ("blocked", self.staff))
        self.assertEqual(
            list(step.dependencies.values_list("depends_on_id", flat=True)), [self.prepare.pk]
        )
        self.assertFalse(TemplateStep.objects.filter(name="Call the bank").exists())

    def test_an_ar_specialist_cannot_customise(self) -> None:
        self.client.force_login(self.ar_specialist)
        r = self.client.post(
            f"/workflows/steps/{self.prepare.pk}/reassign/", {"assignee": self.ar_specialist.pk}
        )
        self.assertEqual(r.status_code, 403)


class CardChecklistTests(CustomiseSetup):
    def test_checklists_are_ticked_in_place_on_the_task_page(self) -> None:
        item = self.prepare.checklist.order_by("position").first()
        page = self.client.get(f"/tasks/{self.task.pk}/")
        self.assertContains(page, "Bank rec")
        r = self.client.post(
            f"/workflows/steps/{self.prepare.pk}/checklist/",
            {"item": item.pk, "done": "1", "from": "card"},
            headers={"HX-Request": "true"},
        )
        self.assertContains(r, f'id="task-{self.task.pk}-workflow-body"')
        self.assertNotContains(r, "<html")
        item.refresh_from_db()
        self.assertTrue(item.done)
        self.assertContains(r, "checklist 1/2")
