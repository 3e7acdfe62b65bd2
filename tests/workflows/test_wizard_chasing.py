"""The wizard and the template editor offer chasing on document requests and approvals, in
the same `settings["chase"]` shape as confirmations."""

from __future__ import annotations

from tests.workflows.test_wizard import WizardTestCase
from workflows.models import TemplateStep

CHASE = {
    "chase_enabled": "on",
    "chase_every_days": "2",
    "chase_max_times": "3",
    "chase_subject": "",
    "chase_body": "",
}


class WizardChaseTests(WizardTestCase):
    def test_a_document_request_chases_with_the_built_in_reminder(self) -> None:
        draft_id = self.walk(
            "document_request",
            {
                "name": {"name": "Collect statements", "title": "Bank statements"},
                "content": {"source": "default"},
                "recipients": {"to_recipients": ["contact:main"]},
                "behaviour": {"mode": "automatic", "deadline_days": "14", **CHASE},
                "assignment": {"assignment_rule": "client_manager"},
            },
        )
        page = self.client.get(self.url(draft_id, "behaviour"))
        self.assertContains(page, "Chase the client until they upload")
        review = self.client.get(self.url(draft_id, "review"))
        self.assertContains(
            review,
            "Chases every 2 days, at most 3 times, with the built-in reminder; chasing stops "
            "when the client uploads.",
        )
        self.create(draft_id)
        step = TemplateStep.objects.get(name="Collect statements")
        self.assertEqual(step.settings["chase"], {"enabled": True, "every_days": 2, "max_times": 3})

    def test_a_document_approval_chases_with_its_own_email(self) -> None:
        draft_id = self.walk(
            "document_approval",
            {
                "name": {"name": "Approve accounts"},
                "content": {"source": "default"},
                "recipients": {"to_recipients": ["contact:main"]},
                "behaviour": {
                    "category": "Accounts",
                    **CHASE,
                    "chase_subject": "Still to approve: {{ document.title }}",
                    "chase_body": "Please look: {{ action_link }}",
                },
                "assignment": {"assignment_rule": "client_manager"},
            },
        )
        self.create(draft_id)
        step = TemplateStep.objects.get(name="Approve accounts")
        self.assertEqual(step.settings["category"], "Accounts")
        self.assertEqual(
            step.settings["chase"]["subject"], "Still to approve: {{ document.title }}"
        )

    def test_a_bad_interval_or_half_a_chase_email_is_refused(self) -> None:
        draft_id = self.walk(
            "document_request",
            {
                "name": {"name": "Collect statements", "title": "Bank statements"},
                "content": {"source": "default"},
                "recipients": {"to_recipients": ["contact:main"]},
            },
        )
        r = self.next(
            draft_id,
            "behaviour",
            {"mode": "automatic", **CHASE, "chase_every_days": "0", "chase_subject": "Hi"},
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Chase every 1 to 90 days.")
        self.assertContains(r, "Write both the chase subject and body, or neither.")
