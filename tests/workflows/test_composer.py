"""The composer: a manual step's email pre-filled, edited, previewed and sent (or not)."""

from __future__ import annotations

import json

from django.urls import reverse

from portal.models import DocumentRequest
from sodium.models import ActivityEvent, OutboundMessage
from tests.base import BaseTestCase
from tests.portal.helpers import delivered
from tests.workflows.test_focus_panel import HTMX, build_world, focus_url, refreshed
from workflows.handlers import LINK_PLACEHOLDER
from workflows.models import Step


def compose_url(step: Step) -> str:
    return reverse("workflows:compose", args=[step.pk])


class ComposerTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.world = build_world(self.practice, self.staff, submitted=False)
        self.s = self.world.steps
        self.client.force_login(self.staff)

    def send(self, step: Step, *, htmx: bool = True, **fields):
        data = {
            "to": "ann@acme.example",
            "cc": "",
            "subject": "Hello",
            "body": "Body",
            "action": "send",
            **fields,
        }
        return self.client.post(compose_url(step), data, headers=HTMX if htmx else {})

    def assert_nothing_sent(self, step: Step) -> None:
        self.assertFalse(OutboundMessage.objects.filter(source_id=step.pk).exists())
        self.assertEqual(refreshed(step).status, "ready")


class ComposerPrefillTests(ComposerTestCase):
    def test_it_fills_in_the_rendered_email(self) -> None:
        r = self.client.get(compose_url(self.s["letter"]), headers=HTMX)
        self.assertEqual(r.status_code, 200)
        self.assertNotContains(r, "<html")
        self.assertContains(r, 'id="focus-panel"')
        form = r.context["form"]
        self.assertEqual(form.initial["to"], "ann@acme.example")
        self.assertEqual(form.initial["cc"], "")
        self.assertEqual(form.initial["subject"], "Engagement letter for Acme Trading Ltd")
        self.assertEqual(form.initial["body"], "Dear Ann,\n\nPlease find our letter.")
        self.assertContains(r, 'value="Engagement letter for Acme Trading Ltd"')
        self.assertNotContains(r, LINK_PLACEHOLDER)

    def test_client_facing_steps_carry_the_link_placeholder(self) -> None:
        for key in ("request", "confirm"):
            with self.subTest(step=key):
                r = self.client.get(compose_url(self.s[key]), headers=HTMX)
                self.assertIn(LINK_PLACEHOLDER, r.context["form"].initial["body"])
                self.assertContains(r, "becomes their own secure link")

    def test_it_warns_about_recipients_without_an_address(self) -> None:
        Step.objects.filter(pk=self.s["letter"].pk).update(
            to_recipients=["contact:main", "contact:billing"],
            cc_recipients=["member:client_manager"],
        )
        r = self.client.get(compose_url(self.s["letter"]), headers=HTMX)
        self.assertContains(r, "No email address was found for Billing contact, Client manager.")
        self.assertEqual(r.context["form"].initial["to"], "ann@acme.example")

    def test_it_shows_render_problems_as_errors(self) -> None:
        Step.objects.filter(pk=self.s["letter"].pk).update(body="Total: {{ 10 | divided_by: 0 }}")
        r = self.client.get(compose_url(self.s["letter"]), headers=HTMX)
        self.assertContains(
            r, 'class="alert alert-error" role="alert"><p>The email could not be written'
        )

    def test_it_is_a_full_page_without_htmx(self) -> None:
        r = self.client.get(compose_url(self.s["letter"]) + f"?next={focus_url(self.world.task)}")
        self.assertContains(r, "<html")
        self.assertContains(r, "focus-host focus-host-page")
        self.assertContains(
            r, f'<a class="btn btn-ghost" href="{focus_url(self.world.task)}">Cancel</a>'
        )

    def test_cancel_is_a_link_back_to_the_panel(self) -> None:
        r = self.client.get(compose_url(self.s["letter"]), headers=HTMX)
        self.assertContains(r, f'hx-get="{focus_url(self.world.task)}">Cancel</a>')
        self.assert_nothing_sent(self.s["letter"])

    def test_steps_without_a_composer_say_why(self) -> None:
        for key, reason in (
            ("prepare", "does not send an email from the composer"),
            ("approval", "does not send an email from the composer"),
            ("receipt", "sends its email automatically"),
        ):
            with self.subTest(step=key):
                r = self.client.get(compose_url(self.s[key]), headers=HTMX)
                self.assertEqual(r.status_code, 200)
                self.assertContains(r, reason)
                self.assertNotContains(r, 'name="subject"')
                r = self.send(self.s[key])
                self.assertContains(r, reason)
        self.assertFalse(OutboundMessage.objects.exists())


class ComposerPreviewTests(ComposerTestCase):
    def test_preview_returns_the_preview_partial_and_changes_nothing(self) -> None:
        r = self.client.post(
            compose_url(self.s["request"]),
            {
                "to": "ann@acme.example, bob@acme.example",
                "cc": "boss@ledger.example",
                "subject": "Your statements <please>",
                "body": f"Dear Ann,\n\nUpload here: {LINK_PLACEHOLDER}\n\n<b>Thanks</b>",
                "action": "preview",
            },
            headers=HTMX,
        )
        self.assertEqual(r.status_code, 200)
        html = r.content.decode()
        self.assertTrue(html.strip().startswith('<div id="composer-preview"'))
        self.assertIn("ann@acme.example, bob@acme.example", html)
        self.assertIn("boss@ledger.example", html)
        self.assertIn("Your statements &lt;please&gt;", html)
        self.assertIn('<iframe class="preview-frame" sandbox=""', html)
        # The body is escaped twice: once as email HTML, once into the srcdoc attribute.
        self.assertIn("&amp;lt;b&amp;gt;Thanks&amp;lt;/b&amp;gt;", html)
        self.assertIn("&lt;mark&gt;[secure link to the portal]&lt;/mark&gt;", html)
        self.assert_nothing_sent(self.s["request"])
        self.assertFalse(DocumentRequest.objects.filter(step=self.s["request"]).exists())

    def test_preview_without_htmx_shows_the_page_with_the_preview(self) -> None:
        r = self.send(self.s["letter"], htmx=False, action="preview", subject="Previewed")
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "<html")
        self.assertContains(r, 'value="Previewed"')
        self.assertContains(r, '<iframe class="preview-frame"')
        self.assert_nothing_sent(self.s["letter"])


class ComposerSendTests(ComposerTestCase):
    def test_it_sends_the_email_exactly_as_edited(self) -> None:
        body = "Dear Ann,\n\nHere is our letter — edited by hand.\n\nKind regards"
        r = self.send(
            self.s["letter"],
            to="ann@acme.example; extra@acme.example",
            cc="boss@ledger.example",
            subject="Our engagement letter (edited)",
            body=body,
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, 'id="focus-panel"')
        self.assertContains(
            r, "Sent “Send engagement letter” to ann@acme.example, extra@acme.example."
        )
        self.assertEqual(
            json.loads(r["HX-Trigger"]), {"task-progress": {"task": self.world.task.pk}}
        )
        self.assertContains(r, 'hx-swap-oob="true"')
        email = OutboundMessage.objects.get(source_id=self.s["letter"].pk)
        self.assertEqual(email.to, ["ann@acme.example", "extra@acme.example"])
        self.assertEqual(email.cc, ["boss@ledger.example"])
        self.assertEqual(email.subject, "Our engagement letter (edited)")
        self.assertEqual(email.body_text, body)
        self.assertEqual(refreshed(self.s["letter"]).status, "done")
        self.assertTrue(
            ActivityEvent.objects.filter(object_id=self.s["letter"].pk, new_status="done").exists()
        )

    def test_client_facing_steps_get_the_real_portal_link(self) -> None:
        body = f"Dear Ann,\n\nPlease upload your statements: {LINK_PLACEHOLDER}\n\nThanks"
        r = self.send(self.s["request"], subject="Bank statements please", body=body)
        self.assertEqual(r.status_code, 200)
        email = OutboundMessage.objects.get(source_id=self.s["request"].pk)
        self.assertEqual(email.subject, "Bank statements please")
        self.assertNotIn(LINK_PLACEHOLDER, email.body_text)
        self.assertRegex(
            delivered(email).body,
            r"^Dear Ann,\n\nPlease upload your statements: https?://\S+/portal/link/[\w-]+/\n\nThanks$",
        )
        step = refreshed(self.s["request"])
        self.assertEqual((step.status, step.sub_status), ("in_progress", "awaiting_response"))
        self.assertTrue(DocumentRequest.objects.filter(step=step).exists())

    def test_without_htmx_it_redirects_to_next(self) -> None:
        r = self.send(
            self.s["confirm"],
            htmx=False,
            next=focus_url(self.world.task),
            body=f"Please confirm: {LINK_PLACEHOLDER}",
        )
        self.assertRedirects(r, focus_url(self.world.task))
        email = OutboundMessage.objects.get(source_id=self.s["confirm"].pk)
        self.assertIn("/portal/confirm/", email.body_text)

    def test_bad_addresses_are_form_errors_and_nothing_is_sent(self) -> None:
        r = self.send(self.s["letter"], to="ann@acme.example, not-an-address", cc="also bad@")
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Not an email address: “not-an-address”.")
        self.assertContains(r, "Not an email address: “also”, “bad@”.")
        self.assertContains(r, 'value="ann@acme.example, not-an-address"')
        r = self.send(self.s["letter"], to="", subject="")
        self.assertContains(r, "Add at least one recipient.")
        self.assertContains(r, "Give the email a subject.")
        self.assert_nothing_sent(self.s["letter"])

    def test_a_step_failure_is_a_form_error_and_nothing_changes(self) -> None:
        before = ActivityEvent.objects.count()
        r = self.send(self.s["request"], to="stranger@elsewhere.example")
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "The email must go to at least one of the client")
        self.assertNotIn("HX-Trigger", r.headers)
        self.assert_nothing_sent(self.s["request"])
        self.assertFalse(DocumentRequest.objects.filter(step=self.s["request"]).exists())
        self.assertIsNone(refreshed(self.s["request"]).deadline)
        self.assertEqual(ActivityEvent.objects.count(), before)

    def test_a_step_that_is_no_longer_ready_is_not_sent_twice(self) -> None:
        self.send(self.s["letter"])
        r = self.send(self.s["letter"], subject="Again")
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "“Send engagement letter” is done.")
        self.assertEqual(OutboundMessage.objects.filter(source_id=self.s["letter"].pk).count(), 1)

    def test_a_blocked_step_has_nothing_to_send_yet(self) -> None:
        Step.objects.filter(pk=self.s["letter"].pk).update(status="blocked")
        r = self.client.get(compose_url(self.s["letter"]), headers=HTMX)
        self.assertContains(r, "“Send engagement letter” is blocked: there is nothing to send.")
        r = self.send(self.s["letter"])
        self.assertContains(r, "“Send engagement letter” is blocked.")
        self.assertFalse(OutboundMessage.objects.exists())

    def test_ar_specialists_may_not_compose(self) -> None:
        self.client.force_login(self.ar_specialist)
        self.assertEqual(self.client.get(compose_url(self.s["letter"])).status_code, 403)
        self.assertEqual(self.send(self.s["letter"]).status_code, 403)
        self.assert_nothing_sent(self.s["letter"])

    def test_other_practices_steps_are_not_found(self) -> None:
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(compose_url(self.s["letter"])).status_code, 404)
        self.assertEqual(self.send(self.s["letter"]).status_code, 404)
        self.assert_nothing_sent(self.s["letter"])


class ComposerButtonTests(ComposerTestCase):
    def test_each_steps_button_is_worded_by_its_type_declaration(self) -> None:
        r = self.client.get(focus_url(self.world.task), headers=HTMX)
        self.assertContains(r, 'Write the email<span class="sr-only"> for ')
        self.assertContains(r, 'Ask the client to confirm<span class="sr-only"> for ')
