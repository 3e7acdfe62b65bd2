"""The wizard's review names the step's type in plain words, for every type."""

from __future__ import annotations

from portal.step_types import ClientStepType
from tests.workflows.test_wizard import WizardTestCase
from workflows import step_types
from workflows.models import StepType

NAME = {"name": "Check the books"}
TO_MAIN = {"to_recipients": ["contact:main"]}
OWNER = {"assignment_rule": "task_owner"}
INLINE = {"source": "inline", "subject": "Hello", "body": "Hi."}

# Each type's stages, filled in as little as the wizard allows, and the review's first line.
WALKS = {
    StepType.SIMPLE: (
        {"name": NAME, "behaviour": {}, "assignment": OWNER},
        "‘Check the books’, a simple step.",
    ),
    StepType.EMAIL: (
        {
            "name": NAME,
            "content": INLINE,
            "recipients": TO_MAIN,
            "behaviour": {"mode": "manual"},
            "assignment": OWNER,
        },
        "‘Check the books’, an email step.",
    ),
    ClientStepType.DOCUMENT_REQUEST: (
        {
            "name": {**NAME, "title": "Bank statements"},
            "content": {"source": "default"},
            "recipients": TO_MAIN,
            "behaviour": {"mode": "manual", "deadline_days": "14"},
            "assignment": OWNER,
        },
        "‘Check the books’, a document request.",
    ),
    ClientStepType.DOCUMENT_APPROVAL: (
        {
            "name": NAME,
            "content": INLINE,
            "recipients": TO_MAIN,
            "behaviour": {"category": "Accounts"},
            "assignment": OWNER,
        },
        "‘Check the books’, a document approval.",
    ),
    ClientStepType.CLIENT_CONFIRMATION: (
        {
            "name": NAME,
            "content": {"source": "default"},
            "recipients": TO_MAIN,
            "behaviour": {
                "mode": "manual",
                "message": "Please confirm.",
                "button_text": "Confirm",
                "thank_you": "Thanks.",
            },
            "assignment": OWNER,
        },
        "‘Check the books’, a client confirmation.",
    ),
}


class ReviewWordingTests(WizardTestCase):
    def test_every_type_has_its_own_wording(self) -> None:
        registered = {t.value for t in step_types.all_types()}
        self.assertTrue(all(t.kind_phrase for t in step_types.all_types()))
        self.assertEqual(set(WALKS), registered)

    def test_the_review_names_each_type_without_repeating_step(self) -> None:
        for kind, (stages, line) in WALKS.items():
            with self.subTest(kind=kind):
                draft_id = self.walk(kind, stages)
                r = self.client.get(self.url(draft_id, "review"))
                self.assertEqual(r.status_code, 200)
                self.assertContains(r, line)
                self.assertNotContains(r, "step step")
                self.assertNotContains(r, "a send email")
