"""The step wizard's timing: a due rule and a send rule on the assignment stage."""

from __future__ import annotations

from tests.workflows import test_wizard_validates_once as validates_once
from tests.workflows.test_wizard import WizardTestCase
from workflows.models import TemplateStep

EMAIL = {
    "name": {"name": "Ask for records"},
    "content": {"source": "inline", "subject": "Records", "body": "Please send them."},
    "recipients": {"to_recipients": ["contact:main"]},
}
REFUSED = "Only automatic steps that send something can wait for a date"


class WizardTimingTests(WizardTestCase):
    count_forms = validates_once.StageValidatesOnceTests.count_forms  # not collected again

    def email_draft(self, mode: str) -> str:
        return self.walk("email", {**EMAIL, "behaviour": {"mode": mode}})

    def test_it_saves_a_due_rule_and_a_send_rule_to_the_step(self) -> None:
        draft_id = self.email_draft("automatic")
        page = self.client.get(self.url(draft_id, "assignment"))
        self.assertContains(page, 'name="due_rule"')
        self.assertContains(page, 'name="send_rule"')
        self.assertContains(page, "Working days after it becomes ready")
        timing = {
            "assignment_rule": "task_owner",
            "due_rule": "after_ready",
            "due_days": "3",
            "send_rule": "before_due",
            "send_days": "5",
        }
        built, cleaned = self.count_forms(draft_id, "assignment", timing)
        self.assertEqual((built, cleaned), ({"AssignmentForm": 1}, {"AssignmentForm": 1}))
        review = self.client.get(self.url(draft_id, "review"))
        self.assertContains(review, "Due 3 working days after it becomes ready.")
        self.assertContains(review, "Goes out 5 days before the task is due.")
        self.create(draft_id)
        step = TemplateStep.objects.get(name="Ask for records")
        self.assertEqual(
            (step.mode, step.due_rule, step.due_days, step.send_rule, step.send_days),
            ("automatic", "after_ready", 3, "before_due", 5),
        )

    def test_without_rules_the_review_says_so(self) -> None:
        draft_id = self.walk(
            "email",
            {
                **EMAIL,
                "behaviour": {"mode": "automatic"},
                "assignment": {"assignment_rule": "task_owner"},
            },
        )
        review = self.client.get(self.url(draft_id, "review"))
        self.assertContains(review, "No due date of its own.")
        self.assertContains(review, "Goes out as soon as it may start.")
        self.create(draft_id)
        step = TemplateStep.objects.get(name="Ask for records")
        self.assertEqual((step.due_rule, step.send_rule), ("none", "now"))

    def test_a_manual_step_is_offered_no_send_rule_and_refuses_one(self) -> None:
        draft_id = self.email_draft("manual")
        page = self.client.get(self.url(draft_id, "assignment"))
        self.assertNotContains(page, 'name="send_rule"')
        self.assertContains(page, "it goes out when its assignee sends it")
        r = self.next(
            draft_id,
            "assignment",
            {"assignment_rule": "task_owner", "send_rule": "before_due", "send_days": "2"},
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, REFUSED, count=1)
        self.assertContains(r, 'name="send_rule"')  # shown with its error, to be changed
        self.assertNotIn("assignment", self.draft(draft_id)["done"])
        self.create(draft_id)
        self.assertFalse(TemplateStep.objects.filter(name="Ask for records").exists())

    def test_a_step_that_sends_nothing_refuses_a_send_rule(self) -> None:
        draft_id = self.walk("simple", {"name": {"name": "Review"}, "behaviour": {}})
        page = self.client.get(self.url(draft_id, "assignment"))
        self.assertNotContains(page, 'name="send_rule"')
        self.assertNotContains(page, "assignee sends it")
        data = {"assignment_rule": "task_owner", "due_rule": "before_due", "due_days": "0"}
        r = self.next(draft_id, "assignment", {**data, "send_rule": "on_start"})
        self.assertContains(r, REFUSED, count=1)
        self.assert_moved(self.next(draft_id, "assignment", data), draft_id, "review")
        review = self.client.get(self.url(draft_id, "review"))
        self.assertContains(review, "Due when the task is due.")
        self.assertNotContains(review, "Goes out")
        self.create(draft_id)
        step = TemplateStep.objects.get(name="Review")
        self.assertEqual((step.due_rule, step.send_rule), ("before_due", "now"))

    def test_days_out_of_range_are_refused_once(self) -> None:
        draft_id = self.walk("simple", {"name": {"name": "Review"}, "behaviour": {}})
        r = self.next(
            draft_id,
            "assignment",
            {"assignment_rule": "task_owner", "due_rule": "after_start", "due_days": "400"},
        )
        self.assertContains(r, "Give a number of working days from 0 to 250.", count=1)
        self.assertNotIn("assignment", self.draft(draft_id)["done"])

    def test_making_the_step_manual_later_sends_the_user_back_to_the_send_rule(self) -> None:
        draft_id = self.email_draft("automatic")
        timing = {"assignment_rule": "task_owner", "send_rule": "on_start"}
        self.assert_moved(self.next(draft_id, "assignment", timing), draft_id, "review")
        r = self.next(draft_id, "behaviour", {"mode": "manual"}, action="review")
        self.assert_moved(r, draft_id, "assignment")
        page = self.client.get(r["Location"])
        self.assertContains(page, REFUSED, count=1)
        self.assertContains(page, 'name="send_rule"')
        self.create(draft_id)
        self.assertFalse(TemplateStep.objects.filter(name="Ask for records").exists())
        # Automatic again: the send rule fits, and the stage only needs saving.
        self.next(draft_id, "behaviour", {"mode": "automatic"}, action="review")
        self.assertNotContains(self.client.get(self.url(draft_id, "assignment")), REFUSED)
        self.assert_moved(self.next(draft_id, "assignment", timing), draft_id, "review")
        self.create(draft_id)
        step = TemplateStep.objects.get(name="Ask for records")
        self.assertEqual((step.mode, step.send_rule), ("automatic", "on_start"))
