"""The core composer with a throwaway app's message: no step, no workflows."""

from __future__ import annotations

from django.http import HttpResponse
from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from sodium.messaging import composer as core
from sodium.messaging.composer import Message, SendRefused
from tests.base import BaseTestCase


class ThrowawayComposer:
    """An app's manual action: drafts a reminder, records what was sent."""

    def __init__(self, channel: str = "email") -> None:
        self.sent: list[Message] = []
        self.refuse = ""
        self.channel = channel

    def draft(self) -> Message:
        return Message(
            self.channel,
            to=["ellie@acorn.example"],
            subject="Invoice INV-1" if self.channel == "email" else "",
            body="Hello [link]",
            missing=["contact:billing"],
        )

    def send(self, message: Message) -> str:
        if self.refuse:
            raise SendRefused(self.refuse)
        self.sent.append(message)
        return f"Sent to {', '.join(message.to)}."

    def composer(self) -> core.Composer:
        return core.Composer(
            draft=self.draft,
            send=self.send,
            done=lambda flash: HttpResponse(flash),
            action_url="/throwaway/compose/",
            back_url="/throwaway/",
            channel=self.channel,
            missing_label=lambda token: f"the {token.split(':')[1]} contact",
            placeholder="[link]",
            placeholder_help="becomes the link.",
            context={"title": "Invoice reminder", "kicker": "Acorn Bakery"},
        )


class CoreComposerTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.app = ThrowawayComposer()

    def request(self, method: str = "get", data: dict | None = None, *, htmx: bool = False):
        factory = RequestFactory()
        headers = {"HX-Request": "true"} if htmx else {}
        request = getattr(factory, method)("/throwaway/compose/", data or {}, headers=headers)
        request.user = self.staff
        request.htmx = HtmxDetails(request)
        return request

    def test_get_shows_the_draft_and_who_has_no_address(self) -> None:
        r = core.compose(self.request(), self.app.composer())
        text = r.content.decode()
        self.assertIn('value="ellie@acorn.example"', text)
        self.assertIn('value="Invoice INV-1"', text)
        self.assertIn("No email address was found for the billing contact", text)
        self.assertIn('<h1 id="composer-title">Invoice reminder</h1>', text)
        self.assertIn("<html", text)

    def test_htmx_get_returns_only_the_composer(self) -> None:
        r = core.compose(self.request(htmx=True), self.app.composer())
        self.assertIn('id="composer"', r.content.decode())
        self.assertNotIn("<html", r.content.decode())

    def test_preview_for_htmx_is_only_the_preview_with_the_placeholder_marked(self) -> None:
        data = {"action": "preview", "to": "a@b.example", "subject": "S", "body": "Hi [link]"}
        r = core.compose(self.request("post", data, htmx=True), self.app.composer())
        text = r.content.decode()
        self.assertIn('id="composer-preview"', text)
        self.assertNotIn("<form", text)
        self.assertIn("&lt;mark&gt;[link]&lt;/mark&gt;", text)
        self.assertEqual(self.app.sent, [])

    def test_send_sends_exactly_what_was_edited(self) -> None:
        data = {"to": "x@y.example, X@Y.example", "cc": "", "subject": "Edited", "body": "B"}
        r = core.compose(self.request("post", data), self.app.composer())
        self.assertEqual(r.content.decode(), "Sent to x@y.example.")
        (sent,) = self.app.sent
        self.assertEqual((sent.to, sent.subject, sent.body), (["x@y.example"], "Edited", "B"))

    def test_a_bad_address_is_a_field_error_and_nothing_is_sent(self) -> None:
        data = {"to": "not-an-address", "subject": "S", "body": "B"}
        r = core.compose(self.request("post", data), self.app.composer())
        self.assertIn("Not an email address: “not-an-address”.", r.content.decode())
        self.assertEqual(self.app.sent, [])

    def test_a_refused_send_is_shown_as_a_form_error(self) -> None:
        self.app.refuse = "The client has no portal access."
        data = {"to": "x@y.example", "subject": "S", "body": "B"}
        r = core.compose(self.request("post", data), self.app.composer())
        self.assertIn("The client has no portal access.", r.content.decode())

    def test_an_sms_composer_edits_only_recipients_and_body(self) -> None:
        app = ThrowawayComposer("sms")
        r = core.compose(self.request(), app.composer())
        text = r.content.decode()
        self.assertNotIn('name="subject"', text)
        self.assertNotIn('name="cc"', text)
        self.assertIn("No mobile number was found", text)
        core.compose(self.request("post", {"to": "+447700900123", "body": "Hi"}), app.composer())
        self.assertEqual(
            [(m.channel, m.to, m.body) for m in app.sent], [("sms", ["+447700900123"], "Hi")]
        )
