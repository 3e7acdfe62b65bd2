"""A bounced email on its step (task page and focus panel) and "Save and resend" from there."""

from __future__ import annotations

from unittest import mock

from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sodium import outbox
from sodium.models import Contact, OutboundMessage
from sodium.roles import Role
from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.bounce_helpers import DELIVER, NEW, OLD, REASON, RUN, BouncedWorldMixin, bounce
from tests.workflows.wf_factories import email_step
from workflows import attach, building
from workflows import engine as wf_engine

HTMX = {"HX-Request": "true"}
SHOWN = f"Bounced</strong> · {OLD} — {REASON}"


class BounceViewsBase(BouncedWorldMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.make_world()
        self.url = reverse("workflows:step-resend", args=[self.letter.pk])
        self.task_url = reverse("sodium:task-detail", args=[self.task.pk])
        self.focus_url = reverse("workflows:focus", args=[self.task.pk])

    def post(self, data: dict | None = None, **kwargs):
        with (
            mock.patch(DELIVER, side_effect=outbox.deliver),
            self.captureOnCommitCallbacks(execute=True),
        ):
            return self.client.post(self.url, {"email": NEW, **(data or {})}, **kwargs)

    def assert_nothing_changed(self) -> None:
        self.ann.refresh_from_db()
        self.assertEqual(self.ann.email, OLD)
        self.assertEqual(OutboundMessage.objects.count(), 1)
        self.assertEqual(mail.outbox, [])


class BounceShownTests(BounceViewsBase):
    def test_the_task_page_shows_the_bounce_and_the_form_to_the_assignee(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(self.task_url)
        self.assertContains(r, SHOWN, html=False)
        self.assertContains(r, f'action="{self.url}"')
        self.assertContains(r, "Save and resend")

    def test_the_focus_panel_shows_it_too(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(self.focus_url, headers=HTMX)
        self.assertContains(r, SHOWN, html=False)
        self.assertContains(r, f'hx-target="#focus-step-{self.letter.pk}"')

    def test_others_see_the_bounce_but_no_form(self) -> None:
        other = f.MembershipFactory(practice=self.practice, role=Role.STAFF).user
        self.client.force_login(other)
        r = self.client.get(self.task_url)
        self.assertContains(r, SHOWN, html=False)
        self.assertNotContains(r, "Save and resend")

    def test_once_resent_the_step_shows_the_new_email(self) -> None:
        self.client.force_login(self.staff)
        self.post()
        r = self.client.get(self.task_url)
        self.assertNotContains(r, "Bounced</strong>")
        self.assertContains(r, f"Email to {NEW}")
        self.assertContains(r, f"from {OLD} to {NEW} after a bounce")  # the activity card


class ResendTests(BounceViewsBase):
    def test_the_assignee_resends_without_javascript(self) -> None:
        self.client.force_login(self.staff)
        r = self.post()
        self.assertRedirects(r, self.task_url, fetch_redirect_response=False)
        self.ann.refresh_from_db()
        self.assertEqual(self.ann.email, NEW)
        self.assertEqual([m.to for m in mail.outbox], [[NEW]])
        self.assertEqual(mail.outbox[0].subject, self.message.subject)
        r = self.client.get(self.task_url)
        self.assertContains(r, f"Saved {NEW} and sent")

    def test_htmx_from_the_panel_gets_the_step_back(self) -> None:
        self.client.force_login(self.staff)
        r = self.post({"from": "panel", "next": self.focus_url}, headers=HTMX)
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, f'id="focus-step-{self.letter.pk}"')
        self.assertContains(r, f"Email to {NEW}")
        self.assertNotContains(r, "Bounced</strong>")
        self.assertContains(r, f"Saved {NEW} and sent")
        self.assertNotContains(r, "<html")
        self.assertEqual([m.to for m in mail.outbox], [[NEW]])
        self.assertIn("task-progress", r["HX-Trigger"])

    def test_htmx_from_the_task_page_gets_the_card_body_back(self) -> None:
        self.client.force_login(self.staff)
        r = self.post({"from": "card"}, headers=HTMX)
        self.assertContains(r, f'id="task-{self.task.pk}-workflow-body"')
        self.assertContains(r, f"Email to {NEW}")
        self.assertNotContains(r, "<html")

    def test_a_manager_may_resend_on_anyones_step(self) -> None:
        self.client.force_login(self.manager)
        self.post()
        self.assertEqual(len(mail.outbox), 1)

    def test_a_bad_address_is_a_form_error_and_changes_nothing(self) -> None:
        self.client.force_login(self.staff)
        r = self.post({"email": "ann at new", "from": "panel"}, headers=HTMX)
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "is not an email address")
        self.assertContains(r, 'aria-invalid="true"')
        self.assertContains(r, 'value="ann at new"')
        self.assert_nothing_changed()
        r = self.post({"email": OLD})
        self.assertRedirects(r, self.task_url, fetch_redirect_response=False)
        self.assert_nothing_changed()

    def test_a_member_who_is_not_the_assignee_gets_403(self) -> None:
        other = f.MembershipFactory(practice=self.practice, role=Role.STAFF).user
        for user in (other, self.ar_specialist):
            with self.subTest(user=user):
                self.client.force_login(user)
                self.assertEqual(self.post().status_code, 403)
        self.assert_nothing_changed()

    def test_another_practices_member_gets_404(self) -> None:
        self.client.force_login(self.outsider)
        self.assertEqual(self.post().status_code, 404)
        self.assert_nothing_changed()

    def test_get_changes_nothing(self) -> None:
        self.client.force_login(self.staff)
        self.assertEqual(self.client.get(self.url, {"email": NEW}).status_code, 405)
        self.assert_nothing_changed()


class BounceQueryCountTests(BounceViewsBase):
    def bounced_task(self, n: int):
        """A task of a new client whose `n` automatic emails all bounced."""
        client = f.ClientFactory(practice=self.practice)
        f.ContactFactory(client=client, email=OLD, is_main=True)
        template = building.create_template(practice=self.practice, actor=self.manager, name="T")
        for i in range(n):
            building.add_step(
                template.groups.get(), actor=self.manager, **email_step(name=f"Email {i}")
            )
        task = f.TaskFactory(client=client, owner=self.staff, status="in_progress")
        with mock.patch(RUN):
            steps = attach.attach_template(task, template, actor=self.manager)
        with mock.patch(RUN), mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            for step in steps:
                wf_engine.run_step(step.pk)
        for message in OutboundMessage.objects.filter(task=task):
            bounce(message)
        return task

    def count(self, url: str, **kwargs) -> int:
        with CaptureQueriesContext(connection) as ctx:
            r = self.client.get(url, **kwargs)
        self.assertContains(r, "Save and resend")
        return len(ctx)

    def test_the_task_page_and_panel_cost_the_same_with_1_or_5_bounces(self) -> None:
        self.client.force_login(self.staff)
        small, big = self.bounced_task(1), self.bounced_task(5)
        self.assertEqual(Contact.objects.filter(email=OLD).count(), 3)
        for name, headers in (("sodium:task-detail", {}), ("workflows:focus", HTMX)):
            with self.subTest(name):
                urls = [reverse(name, args=[t.pk]) for t in (small, big)]
                self.assertEqual(
                    self.count(urls[0], headers=headers), self.count(urls[1], headers=headers)
                )
