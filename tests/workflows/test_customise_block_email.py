""" "Edit for this task" on a step that sends a content block: the form opens on what would be
sent, says the edit detaches the task's copy, offers the variables, and the copy then wins in
the composer and in the automatic send."""

from __future__ import annotations

from unittest import mock

from django.urls import reverse

from portal.content import DEFAULTS
from sodium.models import ActivityEvent, OutboundMessage
from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.wf_factories import email_step, simple_step
from workflows import attach, building, engine
from workflows.models import ContentBlock, Step

RUN = "workflows.tasks.run_step_task.delay"
DELIVER = "sodium.tasks.deliver_message_task.delay"


class BlockStepSetup(BaseTestCase):
    """A task whose workflow has a manual and an automatic email, both sending one block."""

    def setUp(self) -> None:
        super().setUp()
        self.block = building.save_content_block(
            practice=self.practice,
            actor=self.manager,
            name="Records request",
            subject="Records for {{ client.name }}",
            body="Dear {{ contacts.main.first_name }},\n\nPlease send your records.",
        )
        template = building.create_template(practice=self.practice, actor=self.manager, name="YE")
        group = template.groups.get()
        first = building.add_step(group, actor=self.manager, **simple_step())
        uses_block = dict(subject="", body="", content_block=self.block)
        building.add_step(
            group, actor=self.manager, **email_step(name="Ask by hand", mode="manual", **uses_block)
        )
        building.add_step(
            group,
            actor=self.manager,
            depends_on=[first],
            **email_step(name="Ask automatically", **uses_block),
        )
        acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        f.ContactFactory(client=acme, first_name="Ann", email="ann@acme.example", is_main=True)
        self.task = f.TaskFactory(client=acme, owner=self.staff, status="in_progress")
        with mock.patch(RUN):
            steps = attach.attach_template(self.task, template, actor=self.manager)
        self.prepare, self.manual, self.automatic = steps
        self.client.force_login(self.staff)

    def edit_url(self, step: Step) -> str:
        return f"/workflows/steps/{step.pk}/edit/"

    def post_edit(self, step: Step, **changes):
        form = self.client.get(self.edit_url(step)).context["form"]
        data = {k: v for k, v in form.initial.items() if v is not None}
        data.update(changes)
        return self.client.post(self.edit_url(step), data)


class EditFormTests(BlockStepSetup):
    def test_the_form_opens_on_the_blocks_subject_and_body(self) -> None:
        r = self.client.get(self.edit_url(self.manual))
        self.assertEqual(r.status_code, 200)
        initial = r.context["form"].initial
        self.assertEqual(initial["subject"], "Records for {{ client.name }}")
        self.assertEqual(initial["body"], self.block.body)
        self.assertContains(r, 'value="Records for {{ client.name }}"')
        self.assertContains(r, "Please send your records.</textarea>")

    def test_it_says_the_block_is_used_and_that_editing_detaches_the_copy(self) -> None:
        r = self.client.get(self.edit_url(self.manual))
        self.assertContains(r, "This step sends the content block <strong>Records request</strong>")
        self.assertContains(r, "detached from the block")

    def test_it_offers_the_variable_picker(self) -> None:
        r = self.client.get(self.edit_url(self.manual))
        self.assertContains(r, "data-token-scope")
        self.assertContains(r, 'data-insert-token="{{ client.name }}"')
        self.assertContains(r, "Insert a variable")

    def test_a_simple_step_has_no_email_note_or_picker(self) -> None:
        r = self.client.get(self.edit_url(self.prepare))
        self.assertNotContains(r, "data-insert-token")
        self.assertNotContains(r, 'id="step-email-source"')


class DetachTests(BlockStepSetup):
    def test_a_changed_body_detaches_the_step_and_the_composer_drafts_it(self) -> None:
        r = self.post_edit(self.manual, body="Dear {{ contacts.main.first_name }}, just this once.")
        self.assertRedirects(r, f"/tasks/{self.task.pk}/", fetch_redirect_response=False)
        self.manual.refresh_from_db()
        self.assertIsNone(self.manual.content_block_id)
        self.assertEqual(self.manual.subject, "Records for {{ client.name }}")
        self.assertEqual(self.manual.body, "Dear {{ contacts.main.first_name }}, just this once.")
        r = self.client.get(reverse("workflows:compose", args=[self.manual.pk]))
        self.assertEqual(r.context["form"].initial["subject"], "Records for Acme Ltd")
        self.assertEqual(r.context["form"].initial["body"], "Dear Ann, just this once.")
        event = ActivityEvent.objects.filter(verb="step.edited").latest("id")
        self.assertIn("its own copy of the content block Records request", event.summary)

    def test_the_automatic_send_uses_the_tasks_copy(self) -> None:
        self.post_edit(self.automatic, subject="Only for Acme", body="A body for this task.")
        Step.objects.filter(pk=self.automatic.pk).update(status="ready")
        with mock.patch(DELIVER):
            engine.run_step(self.automatic.pk)
        message = OutboundMessage.objects.get(source_id=self.automatic.pk)
        self.assertEqual(message.subject, "Only for Acme")
        self.assertEqual(message.body_text, "A body for this task.")

    def test_later_block_edits_no_longer_reach_the_detached_step(self) -> None:
        self.post_edit(self.manual, body="Our own words.")
        ContentBlock.objects.filter(pk=self.block.pk).update(body="The block changed.")
        draft = engine.draft_step_message(self.manual)
        self.assertEqual(draft.body, "Our own words.")

    def test_an_unchanged_email_keeps_the_block(self) -> None:
        # Browsers send textareas with CRLF line ends.
        body = self.block.body.replace("\n", "\r\n")
        r = self.post_edit(self.manual, name="Ask Acme by hand", body=body)
        self.assertRedirects(r, f"/tasks/{self.task.pk}/", fetch_redirect_response=False)
        self.manual.refresh_from_db()
        self.assertEqual(self.manual.name, "Ask Acme by hand")
        self.assertEqual(self.manual.content_block_id, self.block.pk)
        self.assertEqual((self.manual.subject, self.manual.body), ("", ""))
        ContentBlock.objects.filter(pk=self.block.pk).update(body="The block changed.")
        self.assertEqual(engine.draft_step_message(self.manual).body, "The block changed.")

    def test_clearing_the_email_is_refused_and_changes_nothing(self) -> None:
        r = self.post_edit(self.manual, subject="", body="")
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Choose a content block or write the subject and body.")
        self.manual.refresh_from_db()
        self.assertEqual(self.manual.content_block_id, self.block.pk)


class DefaultEmailTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        template = building.create_template(practice=self.practice, actor=self.manager, name="R")
        building.add_step(
            template.groups.get(),
            actor=self.manager,
            name="Collect bank statements",
            type="document_request",
            mode="manual",
            to_recipients=["contact:main"],
            settings={"title": "Bank statements", "deadline_days": 7},
        )
        acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        f.ContactFactory(client=acme, first_name="Ann", email="ann@acme.example", is_main=True)
        task = f.TaskFactory(client=acme, owner=self.staff, status="in_progress")
        with mock.patch(RUN):
            (self.step,) = attach.attach_template(task, template, actor=self.manager)
        self.client.force_login(self.staff)

    def test_the_form_opens_on_the_built_in_email_and_keeps_it_when_unchanged(self) -> None:
        url = f"/workflows/steps/{self.step.pk}/edit/"
        r = self.client.get(url)
        _name, subject, body = DEFAULTS["portal.request_opened"]
        self.assertEqual(r.context["form"].initial["subject"], subject)
        self.assertEqual(r.context["form"].initial["body"], body)
        self.assertContains(r, "built-in email for its type")
        data = {k: v for k, v in r.context["form"].initial.items() if v is not None}
        self.client.post(url, {**data, "name": "Collect statements"})
        self.step.refresh_from_db()
        self.assertEqual(self.step.name, "Collect statements")
        self.assertEqual((self.step.subject, self.step.body), ("", ""))
