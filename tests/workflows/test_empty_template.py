"""A workflow template with no steps is not offered in "Attach a workflow", and attaching one
anyway (a crafted POST) is refused with a readable message."""

from __future__ import annotations

from django.urls import reverse

from sodium.models import Task
from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.wf_factories import chain_template
from workflows import attach, building, queries
from workflows.models import StepGroup


class EmptyTemplateTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.full = chain_template(self.practice, self.manager)
        self.empty = building.create_template(
            practice=self.practice, actor=self.manager, name="Not built yet"
        )
        self.task = f.TaskFactory(
            client=f.ClientFactory(practice=self.practice), status=Task.Status.IN_PROGRESS
        )
        self.attach_url = reverse("workflows:task-attach", args=[self.task.pk])
        self.task_url = reverse("sodium:task-detail", args=[self.task.pk])
        self.client.force_login(self.staff)


class AttachOfferTests(EmptyTemplateTestCase):
    def test_only_templates_with_steps_are_offered(self) -> None:
        self.assertEqual(queries.active_templates(self.practice), [self.full])
        r = self.client.get(self.task_url)
        self.assertContains(r, f'<option value="{self.full.pk}">Year end</option>', html=True)
        self.assertNotContains(r, "Not built yet")

    def test_with_only_empty_templates_there_is_no_attach_form(self) -> None:
        self.full.delete()
        r = self.client.get(self.task_url)
        self.assertNotContains(r, 'id="attach-template"')


class AttachEmptyTemplateTests(EmptyTemplateTestCase):
    def test_the_engine_refuses_it_and_copies_nothing(self) -> None:
        with self.assertRaisesMessage(attach.AttachError, "“Not built yet” has no steps yet"):
            attach.attach_template(self.task, self.empty, actor=self.manager)
        self.assertFalse(StepGroup.objects.filter(task=self.task).exists())

    def test_a_crafted_post_gets_a_readable_error_and_changes_nothing(self) -> None:
        r = self.client.post(self.attach_url, {"template": self.empty.pk}, follow=True)
        self.assertRedirects(r, self.task_url)
        self.assertContains(r, "has no steps yet. Add steps to it before attaching it to a task.")
        self.assertFalse(StepGroup.objects.filter(task=self.task).exists())

    def test_a_template_id_that_is_no_number_or_too_big_is_refused_readably(self) -> None:
        for value in ("", "abc", "-1", "²", "1" * 23):
            with self.subTest(value=value):
                r = self.client.post(self.attach_url, {"template": value}, follow=True)
                self.assertRedirects(r, self.task_url)
                self.assertContains(r, "Choose a workflow template.")
        self.assertFalse(StepGroup.objects.filter(task=self.task).exists())

    def test_a_template_with_steps_still_attaches(self) -> None:
        r = self.client.post(self.attach_url, {"template": self.full.pk}, follow=True)
        self.assertContains(r, "Attached Year end: 2 steps.")
