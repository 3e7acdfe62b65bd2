"""Hostile Liquid where managers write it and where it runs: the content block form, the step
editor, the preview, the composer and an automatic send all stop quickly with a message."""

from __future__ import annotations

import time
from unittest import mock

from django.urls import reverse

from sodium.models import OutboundMessage
from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.test_focus_panel import HTMX, build_world
from tests.workflows.test_template_editor_views import EditorTestCase
from tests.workflows.wf_factories import email_step
from workflows import attach, building
from workflows.models import ContentBlock, Step
from workflows.tasks import run_step_task

# The template of issue 10.
HOSTILE = "{% for a in (1..100000) %}{% for b in (1..100000) %}x{% endfor %}{% endfor %}"
LOOPS = "This template loops too many times"
# Passes the check on save (no contact, no loop), and loops a hundred thousand times per
# contact field once there is a real client.
DATA_BOMB = "Hi{% for c in contacts.main %}{% for i in (1..100000) %}x{% endfor %}{% endfor %}"
# With no values n is 0, so it saves; with a client's name n outgrows a machine integer.
HUGE_RANGE_BOMB = (
    "Hi{% assign n = client.name | size | times: 10000000000 | times: 10000000000 %}"
    "{% for i in (1..n) %}x{% endfor %}"
)


class QuickTestCase(BaseTestCase):
    def timed(self, call):
        started = time.monotonic()
        result = call()
        self.assertLess(time.monotonic() - started, 5, "the request must not hang")
        return result


class ContentBlockFormTests(QuickTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.manager)

    def post_block(self, body: str):
        return self.timed(
            lambda: self.client.post(
                "/workflows/content-blocks/new/",
                {"name": "Hostile", "subject": "Hi", "body": body},
            )
        )

    def test_the_hostile_template_is_refused_under_the_body(self) -> None:
        r = self.post_block(HOSTILE)
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, LOOPS)
        self.assertContains(r, 'class="field has-error"')
        self.assertFalse(ContentBlock.objects.filter(name="Hostile").exists())

    def test_a_range_longer_than_a_machine_integer_is_a_field_error_not_a_500(self) -> None:
        r = self.post_block("{% for i in (1..99999999999999999999) %}x{% endfor %}")
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "a range may hold at most 10,000 numbers")
        self.assertFalse(ContentBlock.objects.filter(name="Hostile").exists())

    def test_include_and_render_are_field_errors_not_a_500(self) -> None:
        for tag, message in (
            ("include", "“{% include %}” is not supported"),
            ("render", "There is no content block named “footer”."),
        ):
            with self.subTest(tag=tag):
                r = self.post_block(f"Hello {{% {tag} 'footer' %}}")
                self.assertEqual(r.status_code, 200)
                self.assertContains(r, message)
                self.assertContains(r, 'class="field has-error"')
                self.assertFalse(ContentBlock.objects.filter(name="Hostile").exists())


class StepEditorTests(EditorTestCase):
    def test_include_and_render_of_an_unknown_block_are_refused_under_the_body(self) -> None:
        for tag, message in (
            ("include", "“{% include %}” is not supported"),
            ("render", "There is no content block named “sig”."),
        ):
            with self.subTest(tag=tag):
                data = self.step_data(self.email, body=f"Dear client {{% {tag} 'sig' %}}")
                r = self.client.post(self.edit_url(self.email), data, headers=HTMX)
                self.assertEqual(r.status_code, 200)
                self.assertContains(r, message)
                self.email.refresh_from_db()
                self.assertNotIn(tag, self.email.body)

    def test_the_hostile_template_is_refused_under_the_body(self) -> None:
        data = self.step_data(self.email, body=HOSTILE)
        r = self.client.post(self.edit_url(self.email), data, headers=HTMX)
        self.assertContains(r, LOOPS)
        self.email.refresh_from_db()
        self.assertNotIn("100000", self.email.body)


class PreviewTests(QuickTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.manager)
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        f.ContactFactory(client=self.acme, first_name="Ann", is_main=True)

    def test_the_hostile_template_previews_as_a_problem(self) -> None:
        for body in (HOSTILE, DATA_BOMB, HUGE_RANGE_BOMB):
            with self.subTest(body=body):
                r = self.timed(
                    lambda body=body: self.client.post(
                        "/workflows/content-blocks/preview/",
                        {"subject": "Hi", "body": body, "preview_client": str(self.acme.pk)},
                        headers=HTMX,
                    )
                )
                self.assertEqual(r.status_code, 200)
                self.assertContains(r, LOOPS, count=1)
                self.assertContains(r, 'role="alert"')


def hostile_block(practice) -> ContentBlock:
    # Written directly: saving through the form refuses it (a block saved before the limits
    # existed, or one that only hits them with a real client's values).
    return ContentBlock.objects.create(
        practice=practice, name="Hostile", subject="Hi", body=HOSTILE
    )


class ComposerTests(QuickTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.world = build_world(self.practice, self.staff, submitted=False)
        self.letter = self.world.steps["letter"]
        self.client.force_login(self.staff)

    def test_the_composer_shows_the_problem_instead_of_hanging(self) -> None:
        block = hostile_block(self.practice)
        Step.objects.filter(pk=self.letter.pk).update(content_block=block)
        url = reverse("workflows:compose", args=[self.letter.pk])
        for body in (HOSTILE, DATA_BOMB, HUGE_RANGE_BOMB):
            with self.subTest(body=body):
                ContentBlock.objects.filter(pk=block.pk).update(body=body)
                r = self.timed(lambda: self.client.get(url, headers=HTMX))
                self.assertEqual(r.status_code, 200)
                self.assertContains(r, f"The email could not be written: {LOOPS}")


class AutomaticSendTests(QuickTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.block = building.save_content_block(
            practice=self.practice, actor=self.manager, name="Welcome", subject="Hi", body="Hello"
        )
        template = building.create_template(practice=self.practice, actor=self.manager, name="W")
        building.add_step(
            template.groups.get(),
            actor=self.manager,
            **email_step(subject="", body="", content_block=self.block),
        )
        acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        f.ContactFactory(client=acme, email="ann@acme.example", is_main=True)
        self.task = f.TaskFactory(client=acme, owner=self.staff, status="in_progress")
        with mock.patch("workflows.tasks.run_step_task.delay"):
            (self.step,) = attach.attach_template(self.task, template, actor=self.manager)

    def test_a_step_whose_block_hits_a_limit_fails_with_the_reason(self) -> None:
        for body in (HOSTILE, DATA_BOMB, HUGE_RANGE_BOMB):
            with self.subTest(body=body):
                ContentBlock.objects.filter(pk=self.block.pk).update(body=body)
                Step.objects.filter(pk=self.step.pk).update(status="ready", failure_reason="")
                with mock.patch("sodium.tasks.deliver_message_task.delay") as deliver:
                    self.timed(lambda: run_step_task(self.step.pk))
                self.step.refresh_from_db()
                self.assertEqual(self.step.status, Step.Status.FAILED)
                self.assertIn(f"The email could not be written: {LOOPS}", self.step.failure_reason)
                self.assertFalse(OutboundMessage.objects.filter(source_id=self.step.pk).exists())
                deliver.assert_not_called()
