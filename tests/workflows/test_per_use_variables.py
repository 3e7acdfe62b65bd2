"""A step's email, its chase and the wizard's stages accept exactly the variables of their
own message use (and step type), not every variable some other use registered."""

from __future__ import annotations

from django_scopes import scopes_disabled

from portal.step_types import ClientStepType
from tests.workflows.test_wizard import WizardTestCase
from workflows import building, step_types
from workflows.models import TemplateStep

CONFIRMATION = {
    "message": "All entries made?",
    "button_text": "Confirm",
    "thank_you": "Thanks.",
    "chase": {"enabled": True, "every_days": 3, "max_times": 2},
}


def email_step(type: str = "email", body: str = "Hello", **settings) -> TemplateStep:
    return TemplateStep(
        type=type,
        name="Ask",
        mode="manual",
        subject="Hi",
        body=body,
        to_recipients=["contact:main"],
        settings=settings,
    )


class StepEmailVariablesTests(WizardTestCase):
    def test_a_step_variable_is_accepted(self) -> None:
        self.assertEqual(step_types.config_errors(email_step(body="{{ step.deadline }}")), {})

    def test_a_portal_notice_or_sms_only_variable_is_a_field_error(self) -> None:
        # `reason` is a portal notice's; `contact.last_name` only the contact composer's text.
        for path in ("reason", "contact.first_name", "contact.last_name"):
            with self.subTest(path):
                errors = step_types.config_errors(email_step(body="{{ " + path + " }}"))
                self.assertEqual(errors["body"], [f"Unknown variable “{path}”."])

    def test_another_types_variable_is_an_error_but_its_own_type_may_write_it(self) -> None:
        body = "Please approve {{ document.title }}."
        self.assertIn("body", step_types.config_errors(email_step(body=body)))
        approval = email_step(ClientStepType.DOCUMENT_APPROVAL, body=body)
        self.assertNotIn("body", step_types.config_errors(approval))

    def test_a_chase_accepts_the_chase_use_and_refuses_a_portal_notice_variable(self) -> None:
        ok = {**CONFIRMATION, "chase": {**CONFIRMATION["chase"], "subject": "Re", "body": "x"}}
        ok["chase"]["body"] = "{{ confirmation.message }}"
        step = email_step(ClientStepType.CLIENT_CONFIRMATION, **ok)
        self.assertEqual(step_types.config_errors(step), {})
        ok["chase"]["body"] = "Because {{ reason }}"
        errors = step_types.config_errors(email_step(ClientStepType.CLIENT_CONFIRMATION, **ok))
        self.assertEqual(errors["settings.chase.body"], ["Unknown variable “reason”."])

    def test_the_wizard_content_stage_refuses_another_uses_variable(self) -> None:
        draft_id = self.walk("email", {"name": {"name": "Ask"}})
        r = self.next(
            draft_id,
            "content",
            {"source": "inline", "subject": "Hi", "body": "Dear {{ contact.first_name }}"},
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Unknown variable “contact.first_name”.")
        self.assertEqual(self.draft(draft_id)["stage"], "content")

    def test_the_wizard_picker_shows_the_types_variables(self) -> None:
        draft_id = self.walk("email", {"name": {"name": "Ask"}})
        r = self.client.get(self.url(draft_id, "content"))
        self.assertContains(r, "{{ step.deadline }}")
        self.assertNotContains(r, "{{ document.title }}")
        self.assertNotContains(r, "{{ reason }}")

    def test_the_template_editor_picker_shows_the_types_variables(self) -> None:
        with scopes_disabled():
            approval = building.add_step(
                self.group,
                actor=self.manager,
                name="Approve",
                type=ClientStepType.DOCUMENT_APPROVAL,
                mode="manual",
                to_recipients=["contact:main"],
            )
            email = building.add_step(
                self.group,
                actor=self.manager,
                name="Tell",
                type="email",
                mode="manual",
                subject="Hi",
                body="Hello",
                to_recipients=["contact:main"],
            )
        url = "/workflows/templates/steps/{}/edit/"
        self.assertContains(self.client.get(url.format(approval.pk)), "{{ document.title }}")
        self.assertNotContains(self.client.get(url.format(email.pk)), "{{ document.title }}")
