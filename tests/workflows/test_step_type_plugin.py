"""A step type is a whole plug-in: one declaration, registered from outside workflows."""

from __future__ import annotations

import subprocess
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.test import override_settings
from django_scopes import scopes_disabled

from sodium.models import Task
from sodium.tenancy import practice_scope
from tests import factories as f
from tests.workflows import throwaway_step_type as stamp
from tests.workflows.test_wizard import WizardTestCase
from workflows import attach, building, engine, handlers, step_types
from workflows.models import Step, TemplateStep

ROOT = Path(__file__).resolve().parents[2]
DELAY = "workflows.tasks.run_step_task.delay"
# The throwaway type's icon lives with the tests, not in the project's templates.
ICON_TEMPLATES = [
    {
        **settings.TEMPLATES[0],
        "DIRS": [*settings.TEMPLATES[0]["DIRS"], ROOT / "tests/workflows/templates"],
    }
]


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

    def test_registering_the_type_installs_the_handler_its_declaration_names(self) -> None:
        self.assertIsInstance(handlers.HANDLERS[stamp.VALUE], stamp.StampHandler)
        stamp.unregister()
        self.assertNotIn(stamp.VALUE, handlers.HANDLERS)

    def test_a_type_without_a_handler_is_refused(self) -> None:
        import dataclasses

        with self.assertRaisesMessage(ValueError, "declares no handler"):
            step_types.register(dataclasses.replace(stamp.SPEC, value="stampless", handler=None))
        self.assertFalse(step_types.is_registered("stampless"))

    @override_settings(TEMPLATES=ICON_TEMPLATES)
    def test_the_template_editor_draws_the_icon_its_declaration_names(self) -> None:
        with scopes_disabled():
            building.add_step(
                self.group,
                actor=self.manager,
                name="Stamp it",
                type=stamp.VALUE,
                mode="automatic",
                settings={"colour": "red"},
            )
        r = self.client.get(f"/workflows/templates/{self.template.pk}/")
        self.assertContains(r, 'class="step-icon step-icon-stamp_ledger"')
        self.assertContains(r, '<path class="stamp-icon"', count=1)

    def test_an_unregistered_type_is_refused(self) -> None:
        stamp.unregister()
        r = self.client.post(f"/workflows/groups/{self.group.pk}/wizard/", {"type": "stamp_ledger"})
        self.assertContains(r, "Choose a step type.")
        self.assertFalse(step_types.is_registered("stamp_ledger"))


class PortalTypeIconsTests(WizardTestCase):
    def test_each_portal_type_brings_its_own_icon(self) -> None:
        settings_of = {
            "document_request": {"title": "Bank statements"},
            "document_approval": {},
            "client_confirmation": {
                "message": "All entries made?",
                "button_text": "Confirm",
                "thank_you": "Thanks.",
            },
        }
        with scopes_disabled():
            for value, step_settings in settings_of.items():
                building.add_step(
                    self.group,
                    actor=self.manager,
                    name=value,
                    type=value,
                    mode="manual",
                    to_recipients=["contact:main"],
                    settings=step_settings,
                )
        r = self.client.get(f"/workflows/templates/{self.template.pk}/")
        self.assertContains(r, '<path d="m9 15 3 3 3-3"/>', count=1)  # request: arrow down
        self.assertContains(r, '<path d="m9 15 2 2 4-4"/>', count=1)  # approval: tick on page
        self.assertContains(r, '<circle cx="12" cy="12" r="9"/>', count=1)  # confirmation
        # The simple step already in the group keeps the default icon.
        self.assertContains(r, '<rect x="4" y="4" width="16" height="16" rx="3"/>')


class WorkflowsNamesNoPortalTypeTests(WizardTestCase):
    def test_workflows_never_names_the_portals_step_types(self) -> None:
        pattern = (
            r"document_request\|DOCUMENT_REQUEST\|DOCUMENT_APPROVAL\|CLIENT_CONFIRMATION"
            r"\|client_confirmation\|document_approval"
        )
        found = subprocess.run(
            [
                "grep",
                "-rn",
                pattern,
                "workflows/",
                "templates/workflows/template_step_icon.html",
                "templates/workflows/wizard/",
                "--exclude-dir=migrations",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout
        self.assertEqual(found, "")
