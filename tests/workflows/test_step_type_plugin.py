"""A step type is a whole plug-in: one declaration, registered from outside workflows."""

from __future__ import annotations

import subprocess
from pathlib import Path
from unittest import mock

from django_scopes import scopes_disabled

from sodium.models import Task
from sodium.tenancy import practice_scope
from tests import factories as f
from tests.workflows import throwaway_step_type as stamp
from tests.workflows.test_wizard import WizardTestCase
from workflows import attach, engine, step_types
from workflows.models import Step, TemplateStep

ROOT = Path(__file__).resolve().parents[2]
DELAY = "workflows.tasks.run_step_task.delay"


class ThrowawayStepTypeTests(WizardTestCase):
    def setUp(self) -> None:
        super().setUp()
        stamp.register()
        self.addCleanup(stamp.unregister)

    def test_the_wizard_shows_its_type_card(self) -> None:
        r = self.client.get(f"/workflows/groups/{self.group.pk}/wizard/")
        self.assertContains(r, 'value="stamp_ledger"')
        self.assertContains(r, "Stamp the ledger")
        self.assertContains(r, "Stamps the client&#x27;s ledger in a colour of your choosing")
        self.assertContains(r, "★")

    def test_the_wizard_asks_its_own_field_and_checks_it(self) -> None:
        draft_id = self.walk("stamp_ledger", {"name": {"name": "Stamp it"}})
        self.assertEqual(
            self.offered_stages(draft_id), ["type", "name", "behaviour", "assignment", "review"]
        )
        r = self.next(draft_id, "behaviour", {"mode": "automatic", "colour": ""})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Stamp colour")
        self.assertContains(r, "Give the stamp colour.")

    def test_it_creates_a_step_of_the_type_and_the_engine_runs_it(self) -> None:
        draft_id = self.walk(
            "stamp_ledger",
            {
                "name": {"name": "Stamp it"},
                "behaviour": {"mode": "automatic", "colour": "red"},
                "assignment": {"assignment_rule": "task_owner"},
            },
        )
        review = self.client.get(self.url(draft_id, "review"))
        self.assertContains(review, "‘Stamp it’, a ledger stamp.")
        self.assertContains(review, "Stamps in red.")
        self.create(draft_id)
        with scopes_disabled():
            made = TemplateStep.objects.get(name="Stamp it")
            self.assertEqual((made.type, made.mode), ("stamp_ledger", "automatic"))
            self.assertEqual(made.settings, {"colour": "red"})
            self.assertEqual(made.get_type_display(), "Stamp the ledger")
            TemplateStep.objects.filter(group=self.filing).delete()  # only the stamp runs
            self.prepare.delete()
            task = f.TaskFactory(client=self.acme, owner=self.manager, status="in_progress")
        with mock.patch(DELAY), self.captureOnCommitCallbacks(execute=False):
            steps = attach.attach_template(task, self.template, actor=self.manager)
        step = next(s for s in steps if s.type == "stamp_ledger")
        self.assertEqual(step.status, Step.Status.READY)
        with practice_scope(self.practice), self.captureOnCommitCallbacks(execute=False):
            ran = engine.run_step(step.pk)
        self.assertEqual(ran.status, Step.Status.DONE)
        self.assertIn(step.pk, stamp.StampHandler.runs)
        self.assertIsInstance(task, Task)

    def test_an_unregistered_type_is_refused(self) -> None:
        stamp.unregister()
        r = self.client.post(f"/workflows/groups/{self.group.pk}/wizard/", {"type": "stamp_ledger"})
        self.assertContains(r, "Choose a step type.")
        self.assertFalse(step_types.is_registered("stamp_ledger"))


class WorkflowsNamesNoPortalTypeTests(WizardTestCase):
    def test_workflows_never_names_the_portals_step_types(self) -> None:
        pattern = (
            r"document_request\|DOCUMENT_REQUEST\|DOCUMENT_APPROVAL\|CLIENT_CONFIRMATION"
            r"\|client_confirmation\|document_approval"
        )
        found = subprocess.run(
            ["grep", "-rn", pattern, "workflows/", "--exclude-dir=migrations"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout
        self.assertEqual(found, "")
