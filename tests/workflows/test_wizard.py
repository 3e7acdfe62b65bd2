"""The step wizard: a server-side draft, one stage per screen, then building.add_step."""

from __future__ import annotations

import time
from unittest import mock

from django_scopes import scopes_disabled

from sodium.roles import Role
from tests import factories as f
from tests.base import BaseTestCase
from workflows import building
from workflows.models import ContentBlock, TemplateStep
from workflows.wizard import drafts

PASSWORD = "pw-for-tests-1"


class WizardTestCase(BaseTestCase):
    """A template with two groups; the first already has one step to depend on."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with scopes_disabled():
            cls.template = building.create_template(
                practice=cls.practice, actor=cls.manager, name="Year-end accounts"
            )
            cls.group = cls.template.groups.get()
            cls.prepare = building.add_step(
                cls.group,
                actor=cls.manager,
                name="Prepare draft accounts",
                type="simple",
                mode="manual",
            )
            cls.filing = building.add_group(cls.template, actor=cls.manager, name="Filing")
            cls.file_step = building.add_step(
                cls.filing, actor=cls.manager, name="File at Companies House", type="simple"
            )
            cls.block = building.save_content_block(
                practice=cls.practice,
                actor=cls.manager,
                name="Year-end records request",
                subject="Your records for {{ task.name }}",
                body="Dear {{ contacts.main.first_name | default: 'client' }},\n\nPlease send "
                "your records for {{ client.name }}.",
            )
            cls.acme = f.ClientFactory(practice=cls.practice, name="Acme Bakery Ltd")
            f.ContactFactory(client=cls.acme, first_name="Ellie", last_name="Ali")
            cls.acme_task = f.TaskFactory(client=cls.acme, name="Accounts 2026")
            other_template = building.create_template(
                practice=cls.other_practice, actor=cls.outsider, name="Rival"
            )
            cls.other_group = other_template.groups.get()

    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.manager)

    # -- helpers ---------------------------------------------------------------------------

    def start(self, kind: str, group=None) -> str:
        group = group or self.group
        r = self.client.post(f"/workflows/groups/{group.pk}/wizard/", {"type": kind})
        self.assertEqual(r.status_code, 302, r.content[:500])
        parts = r["Location"].strip("/").split("/")
        self.assertEqual(parts[-1], "name")
        return parts[-2]

    def url(self, draft_id: str, stage: str) -> str:
        return f"/workflows/wizard/{draft_id}/{stage}/"

    def next(self, draft_id: str, stage: str, data: dict, action: str = "next", **kw):
        return self.client.post(self.url(draft_id, stage), {**data, "action": action}, **kw)

    def assert_moved(self, r, draft_id: str, stage: str) -> None:
        self.assertEqual(r.status_code, 302, r.content.decode()[:2000])
        self.assertEqual(r["Location"], self.url(draft_id, stage))

    def draft(self, draft_id: str) -> dict:
        return self.client.session[drafts.SESSION_KEY][draft_id]

    def walk(self, kind: str, stages: dict[str, dict]) -> str:
        draft_id = self.start(kind)
        order = self.offered_stages(draft_id)
        for stage, data in stages.items():
            r = self.next(draft_id, stage, data)
            self.assert_moved(r, draft_id, order[order.index(stage) + 1])
        return draft_id

    def create(self, draft_id: str):
        return self.client.post(f"/workflows/wizard/{draft_id}/create/")

    def offered_stages(self, draft_id: str) -> list[str]:
        return drafts.stages(self.draft(draft_id))


class WalkEveryTypeTests(WizardTestCase):
    def test_it_creates_a_simple_step_with_a_dependency_and_a_checklist(self) -> None:
        draft_id = self.walk(
            "simple",
            {
                "name": {"name": "Review the draft", "description": "Partner review"},
                "behaviour": {
                    "depends_on": [str(self.prepare.pk)],
                    "checklist": "Bank reconciliation\n\n  Accruals  \n",
                },
                "assignment": {"assignment_rule": "client_partner"},
            },
        )
        self.assertEqual(
            self.offered_stages(draft_id), ["type", "name", "behaviour", "assignment", "review"]
        )
        review = self.client.get(self.url(draft_id, "review"))
        self.assertContains(review, "Manual: it becomes ready once ‘Prepare draft accounts’ is")
        self.assertContains(review, "Checklist: Bank reconciliation; Accruals.")
        self.assertContains(review, "Assigned to: Client partner.")
        r = self.create(draft_id)
        step = TemplateStep.objects.get(group=self.group, name="Review the draft")
        self.assertRedirects(
            r, f"/workflows/templates/{self.template.pk}/", fetch_redirect_response=False
        )
        self.assertEqual((step.type, step.mode), ("simple", "manual"))
        self.assertEqual(step.description, "Partner review")
        self.assertEqual(step.assignment_rule, "client_partner")
        self.assertEqual(
            [i.text for i in step.checklist.all()], ["Bank reconciliation", "Accruals"]
        )
        self.assertEqual([d.depends_on for d in step.dependencies.all()], [self.prepare])
        self.assertNotIn(draft_id, self.client.session[drafts.SESSION_KEY])

    def test_simple_steps_have_no_content_or_recipients_stage(self) -> None:
        draft_id = self.start("simple")
        page = self.client.get(self.url(draft_id, "name"))
        self.assertNotContains(page, "Recipients")
        self.assertNotContains(page, ">Content<")
        self.assertEqual(self.client.get(self.url(draft_id, "content")).status_code, 404)
        self.assertEqual(self.client.get(self.url(draft_id, "recipients")).status_code, 404)
        behaviour = self.next(draft_id, "name", {"name": "Check"})
        page = self.client.get(behaviour["Location"])
        self.assertNotContains(page, 'value="automatic"')

    def test_it_creates_an_automatic_email_from_a_content_block(self) -> None:
        draft_id = self.walk(
            "email",
            {
                "name": {"name": "Ask for records"},
                "content": {"source": "block", "content_block": str(self.block.pk)},
                "recipients": {
                    "to_recipients": ["contact:main"],
                    "cc_recipients": ["member:client_manager"],
                    "cc_emails": "books@acme.example",
                },
                "behaviour": {"mode": "automatic", "depends_on": [str(self.prepare.pk)]},
                "assignment": {"assignment_rule": "task_owner"},
            },
        )
        review = self.client.get(self.url(draft_id, "review"))
        self.assertContains(review, "Sends the ‘Year-end records request’ block")
        self.assertContains(review, "To: Main contact. CC: Client manager; books@acme.example.")
        self.assertContains(
            review, "Runs automatically as soon as ‘Prepare draft accounts’ is done."
        )
        self.create(draft_id)
        step = TemplateStep.objects.get(name="Ask for records")
        self.assertEqual((step.type, step.mode), ("email", "automatic"))
        self.assertEqual(step.content_block, self.block)
        self.assertEqual((step.subject, step.body), ("", ""))
        self.assertEqual(step.to_recipients, ["contact:main"])
        self.assertEqual(step.cc_recipients, ["member:client_manager", "email:books@acme.example"])

    def test_it_creates_a_document_request_with_the_built_in_email(self) -> None:
        draft_id = self.walk(
            "document_request",
            {
                "name": {
                    "name": "Collect bank statements",
                    "title": "Bank statements 2026",
                    "request_description": "Every business account, all twelve months.",
                },
                "content": {"source": "default"},
                "recipients": {"to_recipients": ["contact:main"]},
                "behaviour": {"mode": "manual", "deadline_days": "14"},
                "assignment": {"assignment_rule": "client_manager"},
            },
        )
        review = self.client.get(self.url(draft_id, "review"))
        self.assertContains(review, "The client has 14 days to upload.")
        self.assertContains(review, "Sends the built-in email ‘Portal: documents requested’")
        self.create(draft_id)
        step = TemplateStep.objects.get(name="Collect bank statements")
        self.assertEqual(step.type, "document_request")
        self.assertEqual(
            step.settings,
            {
                "title": "Bank statements 2026",
                "request_description": "Every business account, all twelve months.",
                "deadline_days": 14,
            },
        )
        self.assertIsNone(step.content_block)
        self.assertFalse(ContentBlock.objects.filter(system_key__startswith="portal.").exists())

    def test_it_creates_a_document_approval_which_is_always_manual(self) -> None:
        draft_id = self.walk(
            "document_approval",
            {
                "name": {"name": "Send draft accounts for approval"},
                "content": {"source": "inline", "subject": "Please approve", "body": "Hi."},
                "recipients": {"to_recipients": ["contact:main", "contact:director"]},
            },
        )
        page = self.client.get(self.url(draft_id, "behaviour"))
        self.assertContains(page, "Always manual.")
        self.assertNotContains(page, 'value="automatic"')
        r = self.next(draft_id, "behaviour", {"mode": "automatic", "category": "Accounts"})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Document approval steps are always manual")
        self.assertEqual(self.draft(draft_id)["stage"], "behaviour")
        r = self.next(draft_id, "behaviour", {"category": "Accounts"})
        self.assert_moved(r, draft_id, "assignment")
        self.next(draft_id, "assignment", {"assignment_rule": "specific", "specific_assignee": ""})
        r = self.next(
            draft_id,
            "assignment",
            {"assignment_rule": "specific", "specific_assignee": str(self.staff.pk)},
        )
        self.assert_moved(r, draft_id, "review")
        self.create(draft_id)
        step = TemplateStep.objects.get(name="Send draft accounts for approval")
        self.assertEqual((step.type, step.mode), ("document_approval", "manual"))
        self.assertEqual(step.settings, {"category": "Accounts"})
        self.assertEqual((step.subject, step.body), ("Please approve", "Hi."))
        self.assertEqual(step.specific_assignee, self.staff)

    def test_it_creates_a_client_confirmation_with_chasing(self) -> None:
        draft_id = self.walk(
            "client_confirmation",
            {
                "name": {"name": "Confirm we may file"},
                "content": {"source": "default"},
                "recipients": {"to_recipients": ["contact:main"]},
                "behaviour": {
                    "mode": "automatic",
                    "message": "Please confirm we may file your accounts.",
                    "button_text": "Yes, file them",
                    "thank_you": "Thank you, we will file them.",
                    "notify_assignee": "on",
                    "chase_enabled": "on",
                    "chase_every_days": "3",
                    "chase_max_times": "4",
                    "chase_subject": "Reminder: {{ step.name }}",
                    "chase_body": "Please confirm: {{ action_link }}",
                },
                "assignment": {"assignment_rule": "unassigned"},
            },
        )
        review = self.client.get(self.url(draft_id, "review"))
        self.assertContains(review, "Chases every 3 days, at most 4 times, with its own chase")
        self.assertContains(review, "Left unassigned for anyone to pick up.")
        self.create(draft_id)
        step = TemplateStep.objects.get(name="Confirm we may file")
        self.assertEqual((step.type, step.mode), ("client_confirmation", "automatic"))
        self.assertEqual(
            step.settings,
            {
                "message": "Please confirm we may file your accounts.",
                "button_text": "Yes, file them",
                "thank_you": "Thank you, we will file them.",
                "notify_assignee": True,
                "chase": {
                    "enabled": True,
                    "every_days": 3,
                    "max_times": 4,
                    "subject": "Reminder: {{ step.name }}",
                    "body": "Please confirm: {{ action_link }}",
                },
            },
        )

    def test_a_manager_builds_a_five_step_template(self) -> None:
        kinds = {
            "simple": {"behaviour": {"checklist": "Bank rec"}},
            "email": {
                "content": {"source": "block", "content_block": str(self.block.pk)},
                "recipients": {"to_recipients": ["contact:main"]},
                "behaviour": {"mode": "automatic"},
            },
            "document_request": {
                "content": {"source": "default"},
                "recipients": {"to_recipients": ["contact:main"]},
                "behaviour": {"mode": "manual", "deadline_days": "7"},
            },
            "document_approval": {
                "content": {"source": "default"},
                "recipients": {"to_recipients": ["contact:main"]},
                "behaviour": {},
            },
            "client_confirmation": {
                "content": {"source": "default"},
                "recipients": {"to_recipients": ["contact:main"]},
                "behaviour": {"mode": "manual", "message": "Confirm?", "button_text": "Yes"},
            },
        }
        for n, (kind, stages) in enumerate(kinds.items()):
            name = {"name": f"Step {n}", "title": "Records"}
            if kind == "document_approval":
                stages["behaviour"] = {"depends_on": [str(self.prepare.pk)]}
            stages = {"name": name, **stages, "assignment": {"assignment_rule": "task_owner"}}
            stages["behaviour"].setdefault("thank_you", "Thanks.")
            self.create(self.walk(kind, stages))
        steps = list(self.group.steps.order_by("position"))
        self.assertEqual([s.name for s in steps][1:], [f"Step {n}" for n in range(5)])
        approval = steps[4]
        self.assertEqual([d.depends_on for d in approval.dependencies.all()], [self.prepare])
        self.assertEqual([i.text for i in steps[1].checklist.all()], ["Bank rec"])


class StageErrorTests(WizardTestCase):
    def test_errors_show_on_their_stage_and_nothing_is_created(self) -> None:
        draft_id = self.start("email")
        r = self.next(draft_id, "name", {"name": "  "})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Give the step a name.")
        self.assertEqual(self.draft(draft_id)["stage"], "name")
        self.next(draft_id, "name", {"name": "Ask"})
        r = self.next(draft_id, "content", {"source": "inline", "subject": "Hi {{ clent.name }}"})
        self.assertContains(r, "Write the body.")
        self.assertContains(r, "Unknown variable “clent.name”.")
        r = self.next(draft_id, "content", {"source": "block"})
        self.assertContains(r, "Choose a content block.")
        self.next(draft_id, "content", {"source": "inline", "subject": "Hi", "body": "Hello"})
        r = self.next(draft_id, "recipients", {"to_emails": "not-an-address"})
        self.assertContains(r, "Not an email address: “not-an-address”.")
        r = self.next(draft_id, "recipients", {})
        self.assertContains(r, "Choose at least one recipient.")
        self.assertEqual(TemplateStep.objects.count(), 2)

    def test_confirmation_settings_errors_show_on_the_behaviour_stage(self) -> None:
        draft_id = self.walk(
            "client_confirmation",
            {
                "name": {"name": "Confirm"},
                "content": {"source": "default"},
                "recipients": {"to_recipients": ["contact:main"]},
            },
        )
        r = self.next(
            draft_id,
            "behaviour",
            {
                "mode": "manual",
                "chase_enabled": "on",
                "chase_every_days": "0",
                "chase_max_times": "3",
                "chase_body": "x",
            },
        )
        self.assertEqual(r.status_code, 200)
        for message in (
            "Give the message the client confirms.",
            "Give the button text.",
            "Give the thank-you message.",
            "Chase every 1 to 90 days.",
            "Write both the chase subject and body, or neither.",
        ):
            self.assertContains(r, message)
        self.assertNotContains(r, "Chase at most")

    def test_simple_steps_refuse_automatic_mode(self) -> None:
        draft_id = self.start("simple")
        self.next(draft_id, "name", {"name": "Check"})
        r = self.next(draft_id, "behaviour", {"mode": "automatic"})
        self.assertContains(r, "Simple steps are done by a person, so they are manual.")

    def test_a_dependency_on_another_group_is_refused(self) -> None:
        draft_id = self.start("simple")
        self.next(draft_id, "name", {"name": "Check"})
        r = self.next(draft_id, "behaviour", {"depends_on": [str(self.file_step.pk)]})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Choose steps from this group.")
        page = self.client.get(self.url(draft_id, "behaviour"))
        self.assertContains(page, "Prepare draft accounts")
        self.assertNotContains(page, "File at Companies House")

    def test_a_new_step_cannot_make_a_loop(self) -> None:
        # Nothing depends on a step that does not exist yet, so any choice of earlier steps
        # is safe; the choices are only the group's existing steps.
        second = building.add_step(
            self.group, actor=self.manager, name="Second", type="simple", depends_on=[self.prepare]
        )
        draft_id = self.walk(
            "simple",
            {
                "name": {"name": "Third"},
                "behaviour": {"depends_on": [str(self.prepare.pk), str(second.pk)]},
                "assignment": {"assignment_rule": "task_owner"},
            },
        )
        self.create(draft_id)
        step = TemplateStep.objects.get(name="Third")
        self.assertEqual(
            {d.depends_on_id for d in step.dependencies.all()}, {self.prepare.pk, second.pk}
        )

    def test_a_problem_found_at_creation_sends_the_user_to_its_stage(self) -> None:
        draft_id = self.walk(
            "email",
            {
                "name": {"name": "Ask"},
                "content": {"source": "inline", "subject": "Hi", "body": "Hello"},
                "recipients": {"to_recipients": ["contact:main"]},
                "behaviour": {"mode": "manual"},
                "assignment": {"assignment_rule": "task_owner"},
            },
        )
        refusal = building.TemplateError(
            "The step is not complete.", {"cc_recipients": ["Nobody by that name."]}
        )
        with mock.patch.object(building, "add_step", side_effect=refusal):
            r = self.create(draft_id)
        self.assert_moved(r, draft_id, "recipients")
        page = self.client.get(r["Location"])
        self.assertContains(page, "Nobody by that name.")
        self.assertEqual(TemplateStep.objects.filter(name="Ask").count(), 0)
        self.assertNotIn("recipients", self.draft(draft_id)["done"])

    def test_a_problem_shown_on_the_review_stays_until_a_stage_is_saved(self) -> None:
        draft_id = self.walk(
            "simple",
            {
                "name": {"name": "Check"},
                "behaviour": {},
                "assignment": {"assignment_rule": "task_owner"},
            },
        )
        refusal = building.TemplateError("The template is archived.")
        with mock.patch.object(building, "add_step", side_effect=refusal):
            r = self.create(draft_id)
        self.assert_moved(r, draft_id, "review")
        for _ in range(2):  # shown, and shown again: looking changes nothing
            self.assertContains(self.client.get(r["Location"]), "The template is archived.")
        self.next(draft_id, "name", {"name": "Check again"}, action="review")
        self.assertNotContains(
            self.client.get(self.url(draft_id, "review")), "The template is archived."
        )

    def test_a_stage_made_invalid_since_is_caught_at_creation(self) -> None:
        draft_id = self.walk(
            "simple",
            {
                "name": {"name": "After prep"},
                "behaviour": {"depends_on": [str(self.prepare.pk)]},
                "assignment": {"assignment_rule": "task_owner"},
            },
        )
        self.prepare.delete()
        r = self.create(draft_id)
        self.assert_moved(r, draft_id, "behaviour")
        page = self.client.get(r["Location"])
        self.assertContains(page, "Choose steps from this group.")
        self.assertFalse(TemplateStep.objects.filter(name="After prep").exists())


class NavigationTests(WizardTestCase):
    def test_back_keeps_what_was_typed_without_checking_it(self) -> None:
        draft_id = self.start("email")
        self.next(draft_id, "name", {"name": "Ask for records"})
        r = self.next(
            draft_id, "content", {"source": "inline", "subject": "Half written"}, action="back"
        )
        self.assert_moved(r, draft_id, "name")
        page = self.client.get(self.url(draft_id, "name"))
        self.assertContains(page, 'value="Ask for records"')
        page = self.client.get(self.url(draft_id, "content"))
        self.assertContains(page, 'value="Half written"')
        self.assertNotContains(page, "Write the body.")

    def test_unticked_boxes_stay_unticked(self) -> None:
        draft_id = self.walk(
            "client_confirmation",
            {
                "name": {"name": "Confirm"},
                "content": {"source": "default"},
                "recipients": {"to_recipients": ["contact:main"]},
            },
        )
        page = self.client.get(self.url(draft_id, "behaviour"))
        self.assertContains(page, 'id="id_notify_assignee" checked')
        self.next(draft_id, "behaviour", {"message": "Ok?"}, action="back")
        page = self.client.get(self.url(draft_id, "behaviour"))
        self.assertNotContains(page, 'id="id_notify_assignee" checked')

    def test_showing_stages_changes_nothing_in_the_session(self) -> None:
        draft_id = self.start("email")
        self.next(draft_id, "name", {"name": "Ask"})
        before = dict(self.client.session)
        for stage in ("name", "content", "assignment", "review"):
            self.client.get(self.url(draft_id, stage))
            self.client.get(self.url(draft_id, stage), HTTP_HX_REQUEST="true")
        self.assertEqual(dict(self.client.session), before)

    def test_finished_stages_are_links_and_others_are_refused(self) -> None:
        draft_id = self.start("email")
        self.next(draft_id, "name", {"name": "Ask"})
        self.next(draft_id, "content", {"source": "block", "content_block": str(self.block.pk)})
        page = self.client.get(self.url(draft_id, "recipients"))
        self.assertContains(page, f'href="{self.url(draft_id, "name")}"')
        self.assertContains(page, f'href="{self.url(draft_id, "content")}"')
        self.assertNotContains(page, f'href="{self.url(draft_id, "behaviour")}"')
        self.assertContains(page, "Stage 4 of 7")
        self.assertContains(page, 'max="100" value="43"')  # type, name, content of 7
        r = self.client.get(self.url(draft_id, "name"))
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, 'value="Ask"')
        # A stage not reached yet sends the person back to where they left off (looking at
        # an earlier stage, a GET, does not move that).
        r = self.client.get(self.url(draft_id, "assignment"))
        self.assertRedirects(r, self.url(draft_id, "recipients"), fetch_redirect_response=False)
        r = self.client.get(self.url(draft_id, "review"))
        self.assertRedirects(r, self.url(draft_id, "recipients"), fetch_redirect_response=False)
        # The first unfinished stage can still be reached, to carry on.
        self.assertEqual(self.client.get(self.url(draft_id, "recipients")).status_code, 200)

    def test_a_refused_stage_says_why_once(self) -> None:
        draft_id = self.start("email")
        r = self.client.get(self.url(draft_id, "assignment"), follow=True)
        self.assertContains(r, "Finish this stage first.", count=1)

    def test_enter_in_a_field_means_next(self) -> None:
        draft_id = self.start("email")
        self.next(draft_id, "name", {"name": "Ask"})
        page = self.client.get(self.url(draft_id, "content")).content.decode()
        form = page[page.index('id="wz-content-form"') :]
        first_button = form[form.index("<button") : form.index("</button>")]
        self.assertIn('value="next"', first_button)

    def test_save_and_review_jumps_back_to_the_review(self) -> None:
        draft_id = self.walk(
            "simple",
            {
                "name": {"name": "Check"},
                "behaviour": {},
                "assignment": {"assignment_rule": "task_owner"},
            },
        )
        page = self.client.get(self.url(draft_id, "name"))
        self.assertContains(page, "Save and review")
        r = self.next(draft_id, "name", {"name": "Check twice"}, action="review")
        self.assert_moved(r, draft_id, "review")
        self.assertContains(self.client.get(r["Location"]), "‘Check twice’")

    def test_switching_to_approval_forgets_automatic_mode(self) -> None:
        draft_id = self.walk(
            "email",
            {
                "name": {"name": "Send"},
                "content": {"source": "inline", "subject": "S", "body": "B"},
                "recipients": {"to_recipients": ["contact:main"]},
                "behaviour": {"mode": "automatic"},
            },
        )
        self.client.post(self.url(draft_id, "type"), {"type": "document_approval"})
        self.assertIn("behaviour", self.draft(draft_id)["done"])
        self.next(draft_id, "assignment", {"assignment_rule": "task_owner"})
        self.create(draft_id)
        self.assertEqual(TemplateStep.objects.get(name="Send").mode, "manual")

    def test_changing_the_type_changes_the_stages(self) -> None:
        draft_id = self.start("email")
        self.next(draft_id, "name", {"name": "Ask"})
        page = self.client.get(self.url(draft_id, "type"))
        self.assertContains(page, 'aria-pressed="true"')
        r = self.client.post(self.url(draft_id, "type"), {"type": "simple", "action": "next"})
        self.assert_moved(r, draft_id, "name")
        self.assertEqual(self.offered_stages(draft_id)[2], "behaviour")
        self.assertEqual(self.draft(draft_id)["done"], ["type", "name"])

    def test_cancel_forgets_the_draft(self) -> None:
        draft_id = self.start("simple")
        r = self.client.post(f"/workflows/wizard/{draft_id}/cancel/")
        self.assertRedirects(
            r, f"/workflows/templates/{self.template.pk}/", fetch_redirect_response=False
        )
        r = self.client.get(self.url(draft_id, "name"))
        self.assertContains(r, "This draft has expired; start again", status_code=404)

    def test_a_used_draft_cannot_create_twice(self) -> None:
        draft_id = self.walk(
            "simple",
            {
                "name": {"name": "Once"},
                "behaviour": {},
                "assignment": {"assignment_rule": "task_owner"},
            },
        )
        self.assertEqual(self.create(draft_id).status_code, 302)
        self.assertEqual(self.create(draft_id).status_code, 404)
        self.assertEqual(TemplateStep.objects.filter(name="Once").count(), 1)

    def test_several_drafts_live_side_by_side(self) -> None:
        first, second = self.start("simple"), self.start("email")
        self.next(first, "name", {"name": "First"})
        self.next(second, "name", {"name": "Second"})
        self.assertContains(self.client.get(self.url(first, "name")), 'value="First"')
        self.assertContains(self.client.get(self.url(second, "name")), 'value="Second"')

    def test_old_drafts_expire(self) -> None:
        draft_id = self.start("simple")
        session = self.client.session
        session[drafts.SESSION_KEY][draft_id]["created"] = time.time() - 2 * 24 * 3600
        session.save()
        r = self.client.get(self.url(draft_id, "name"))
        self.assertContains(r, "This draft has expired; start again", status_code=404)

    def test_unknown_stages_and_drafts_are_not_found(self) -> None:
        draft_id = self.start("simple")
        self.assertEqual(self.client.get(self.url(draft_id, "colour")).status_code, 404)
        r = self.client.get(self.url("nope", "name"))
        self.assertContains(r, "This draft has expired; start again", status_code=404)


class SafetyTests(WizardTestCase):
    def test_get_never_creates_anything(self) -> None:
        before = TemplateStep.objects.count()
        r = self.client.get(f"/workflows/groups/{self.group.pk}/wizard/")
        self.assertContains(r, "What kind of step?")
        for label in ("Simple step", "Send email", "Document request", "Document approval"):
            self.assertContains(r, label)
        self.assertContains(r, "then waits for the client to click", count=0)
        self.assertFalse(self.client.session.get(drafts.SESSION_KEY))
        draft_id = self.walk(
            "simple",
            {
                "name": {"name": "Look only"},
                "behaviour": {},
                "assignment": {"assignment_rule": "task_owner"},
            },
        )
        for stage in ("type", "name", "behaviour", "assignment", "review"):
            self.assertEqual(self.client.get(self.url(draft_id, stage)).status_code, 200)
        self.assertEqual(self.client.get(f"/workflows/wizard/{draft_id}/create/").status_code, 405)
        self.assertEqual(TemplateStep.objects.count(), before)
        self.assertFalse(ContentBlock.objects.filter(system_key__startswith="portal.").exists())

    def test_other_practices_groups_are_not_found(self) -> None:
        url = f"/workflows/groups/{self.other_group.pk}/wizard/"
        self.assertEqual(self.client.get(url).status_code, 404)
        self.assertEqual(self.client.post(url, {"type": "simple"}).status_code, 404)
        self.assertFalse(self.client.session.get(drafts.SESSION_KEY))

    def test_a_draft_of_another_practice_is_not_found(self) -> None:
        both = f.MembershipFactory(practice=self.other_practice, role=Role.OWNER).user
        f.MembershipFactory(practice=self.practice, user=both, role=Role.OWNER)
        self.client.force_login(both)
        self.client.post("/practice/switch/", {"practice": self.practice.pk})
        draft_id = self.start("simple")
        self.assertEqual(self.client.get(self.url(draft_id, "name")).status_code, 200)
        self.client.post("/practice/switch/", {"practice": self.other_practice.pk})
        for r in (
            self.client.get(self.url(draft_id, "name")),
            self.next(draft_id, "name", {"name": "Sneaky"}),
            self.create(draft_id),
            self.client.post(f"/workflows/wizard/{draft_id}/preview/", {"source": "inline"}),
            self.client.post(f"/workflows/wizard/{draft_id}/cancel/"),
        ):
            self.assertEqual(r.status_code, 404)
        self.assertFalse(TemplateStep.objects.filter(name="Sneaky").exists())

    def test_a_draft_bound_to_another_practices_group_is_not_found(self) -> None:
        draft_id = self.start("simple")
        session = self.client.session
        session[drafts.SESSION_KEY][draft_id]["group_id"] = self.other_group.pk
        session.save()
        self.assertEqual(self.client.get(self.url(draft_id, "name")).status_code, 404)
        self.assertEqual(self.create(draft_id).status_code, 404)
        self.assertFalse(self.other_group.steps.exists())

    def test_a_deleted_group_ends_the_draft(self) -> None:
        group = building.add_group(self.template, actor=self.manager, name="Short-lived")
        draft_id = self.start("simple", group=group)
        group.delete()
        r = self.client.get(self.url(draft_id, "name"))
        self.assertContains(r, "This draft has expired; start again", status_code=404)

    def test_only_template_managers_may_use_it(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(f"/workflows/groups/{self.group.pk}/wizard/")
        self.assertEqual(r.status_code, 403)


class HtmxTests(WizardTestCase):
    HX = {"HX-Request": "true"}

    def test_next_returns_only_the_wizard_partial(self) -> None:
        draft_id = self.start("email")
        r = self.next(draft_id, "name", {"name": "Ask"}, headers=self.HX)
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, 'id="wizard"')
        self.assertContains(r, "Where the email comes from")
        self.assertNotContains(r, "<html")
        self.assertEqual(r["HX-Push-Url"], self.url(draft_id, "content"))

    def test_errors_return_the_partial_with_200(self) -> None:
        draft_id = self.start("email")
        r = self.next(draft_id, "name", {"name": ""}, headers=self.HX)
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Give the step a name.")
        self.assertNotContains(r, "<html")

    def test_stage_links_and_the_type_chooser_return_partials(self) -> None:
        r = self.client.get(f"/workflows/groups/{self.group.pk}/wizard/", headers=self.HX)
        self.assertContains(r, 'id="wizard"')
        self.assertNotContains(r, "<html")
        r = self.client.post(
            f"/workflows/groups/{self.group.pk}/wizard/", {"type": "simple"}, headers=self.HX
        )
        self.assertContains(r, "Step name")
        self.assertNotContains(r, "<html")
        draft_id = r["HX-Push-Url"].strip("/").split("/")[-2]
        r = self.client.get(self.url(draft_id, "type"), headers=self.HX)
        self.assertContains(r, 'id="wizard"')
        self.assertNotContains(r, "<html")

    def test_a_history_restore_gets_the_full_page(self) -> None:
        draft_id = self.start("simple")
        r = self.client.get(
            self.url(draft_id, "name"),
            headers={**self.HX, "HX-History-Restore-Request": "true"},
        )
        self.assertContains(r, "<html")
        self.assertEqual(r["Vary"], "HX-Request, Cookie")

    def test_an_expired_draft_reloads_the_page(self) -> None:
        r = self.client.post(self.url("gone", "name"), {"name": "x"}, headers=self.HX)
        self.assertEqual(r.status_code, 404)
        self.assertEqual(r["HX-Refresh"], "true")

    def test_create_redirects_the_browser(self) -> None:
        draft_id = self.walk(
            "simple",
            {
                "name": {"name": "Via htmx"},
                "behaviour": {},
                "assignment": {"assignment_rule": "task_owner"},
            },
        )
        r = self.client.post(f"/workflows/wizard/{draft_id}/create/", headers=self.HX)
        self.assertEqual(r["HX-Redirect"], f"/workflows/templates/{self.template.pk}/")
        self.assertTrue(TemplateStep.objects.filter(name="Via htmx").exists())


class PreviewTests(WizardTestCase):
    def preview(self, draft_id: str, data: dict, **kw):
        return self.client.post(f"/workflows/wizard/{draft_id}/preview/", data, **kw)

    def test_it_renders_the_email_for_a_chosen_client(self) -> None:
        draft_id = self.start("email")
        self.next(draft_id, "name", {"name": "Ask"})
        r = self.preview(
            draft_id,
            {
                "source": "inline",
                "subject": "Records for {{ client.name }}",
                "body": "Dear {{ contacts.main.first_name }},\n\n{{ task.name }} {{ step.name }}",
                "preview_client": str(self.acme.pk),
            },
            headers={"HX-Request": "true"},
        )
        self.assertContains(r, 'id="wizard-preview"')
        self.assertNotContains(r, "<html")
        self.assertContains(r, "Records for Acme Bakery Ltd")
        self.assertContains(r, "Dear Ellie,")
        self.assertContains(r, "Accounts 2026 Ask")
        # What was typed is kept in the draft.
        page = self.client.get(self.url(draft_id, "content"))
        self.assertContains(page, 'value="Records for {{ client.name }}"')

    def test_it_shows_problems_inline_and_uses_samples_without_a_client(self) -> None:
        draft_id = self.start("email")
        r = self.preview(
            draft_id,
            {"source": "inline", "subject": "Hi {{ client.nmae }}", "body": "{{ client.name }}"},
            headers={"HX-Request": "true"},
        )
        self.assertContains(r, "Unknown variable “client.nmae”.")
        self.assertContains(r, "Acorn Bakery Ltd")  # the documented example
        self.assertContains(r, "With example values")

    def test_it_previews_a_block_and_the_built_in_email(self) -> None:
        draft_id = self.start("document_request")
        r = self.preview(
            draft_id,
            {"source": "block", "content_block": str(self.block.pk)},
            headers={"HX-Request": "true"},
        )
        self.assertContains(r, "Please send your records for Acorn Bakery Ltd.")
        r = self.preview(draft_id, {"source": "default"}, headers={"HX-Request": "true"})
        self.assertContains(r, "Documents needed:")
        self.assertFalse(ContentBlock.objects.filter(system_key__startswith="portal.").exists())

    def test_it_works_without_javascript(self) -> None:
        draft_id = self.start("email")
        r = self.preview(draft_id, {"source": "inline", "subject": "S", "body": "Body text"})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "<html")
        self.assertContains(r, "Body text")

    def test_steps_without_email_have_no_preview(self) -> None:
        draft_id = self.start("simple")
        self.assertEqual(self.preview(draft_id, {}).status_code, 404)
