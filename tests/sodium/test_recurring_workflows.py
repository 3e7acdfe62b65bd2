"""Recurring tasks with a workflow template: attached in bulk through workflows' hook."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from sodium import recurring
from sodium.models import Recurrence, Task
from sodium.services.recurrences import RecurrenceInvalid, create_recurrence
from tests import factories as f
from tests.base import BaseTestCase
from tests.sodium.test_recurring import at
from tests.workflows.wf_factories import chain_template
from workflows.attach import AttachError
from workflows.models import Step, WorkflowTemplate

WEEKLY = {"kind": "calendar", "frequency": "weekly", "start": "2026-01-05", "weekdays": ["mo"]}


class RecurringWorkflowTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.template = chain_template(self.practice, self.manager)
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        self.bolt = f.ClientFactory(practice=self.practice, name="Bolt Ltd")

    def recurrence(self, **fields) -> Recurrence:
        values = {
            "name": "Weekly books",
            "schedule": WEEKLY,
            "task_name": "{{ client.name }} books {{ period.label }}",
            "due_rule": Recurrence.DueRule.NONE,
            "client_selection": Recurrence.Clients.CHOSEN,
            "owner_rule": Recurrence.OwnerRule.SPECIFIC,
            "owner": self.staff,
            "workflow_template_id": self.template.pk,
        }
        values.update(fields)
        recurrence = create_recurrence(
            practice=self.practice, actor=self.manager, now=at("2026-01-01"), **values
        )
        recurrence.clients.set([self.acme, self.bolt])
        return recurrence

    def test_each_generated_task_gets_the_template(self) -> None:
        recurrence = self.recurrence()
        recurring.generate_due(self.practice, at("2026-01-05"))
        tasks = list(Task.objects.filter(recurrence=recurrence))
        self.assertEqual(len(tasks), 2)
        for task in tasks:
            self.assertEqual(task.owner, self.staff)
            names = list(Step.objects.filter(task=task).values_list("name", flat=True))
            self.assertEqual(names, ["Prepare draft accounts", "Send welcome email"])

    def test_an_archived_template_is_a_field_error(self) -> None:
        self.template.status = WorkflowTemplate.Status.ARCHIVED
        self.template.save(update_fields=["status"])
        with self.assertRaises(RecurrenceInvalid) as caught:
            self.recurrence()
        self.assertIn("workflow_template_id", caught.exception.message_dict)

    def test_another_practices_template_is_a_field_error(self) -> None:
        theirs = chain_template(self.other_practice, self.outsider)
        with self.assertRaises(RecurrenceInvalid) as caught:
            self.recurrence(workflow_template_id=theirs.pk)
        self.assertIn("workflow_template_id", caught.exception.message_dict)

    def test_a_refused_attach_creates_no_task_and_is_retried(self) -> None:
        recurrence = self.recurrence()
        refuse = mock.patch(
            "workflows.recurring.attach_template_to_tasks", side_effect=AttachError("gone")
        )
        with refuse:
            recurring.generate_due(self.practice, at("2026-01-05"))
        self.assertFalse(Task.objects.filter(recurrence=recurrence).exists())
        recurrence.refresh_from_db()
        self.assertEqual(recurrence.last_skips[-1]["reason"], "tasks not created: gone")
        self.assertEqual(recurrence.generated_until, dt.date(2025, 12, 31))  # window kept
        recurring.generate_due(self.practice, at("2026-01-05", 8))
        self.assertEqual(Task.objects.filter(recurrence=recurrence).count(), 2)
        self.assertEqual(
            Step.objects.filter(task__recurrence=recurrence).count(), 4
        )  # no half-attached leftovers from the refused run
