"""Asking for a sign-in link: same answer for every address, one email, rate-limited."""

from __future__ import annotations

from contextlib import nullcontext

from django.core.cache import cache
from django.test import Client as HttpClient
from django.urls import reverse

from portal import content, sign_in
from portal.models import AccessToken
from sodium.messaging import builtins
from sodium.models import OutboundMessage
from tests import factories as f
from tests.base import BaseTestCase
from tests.portal.helpers import delivered, token_in
from workflows import building
from workflows.models import ContentBlock

SENT = "If that address is known to Ledger &amp; Co, we have emailed a sign-in link to it."
TOO_MANY = "Too many sign-in requests. Try again in a few minutes."


class SignInViewTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        self.contact = f.ContactFactory(
            client=self.acme, first_name="Ellie", email="ellie@acme.example"
        )
        self.url = reverse("portal:sign-in", args=[self.practice.slug])

    def ask(self, email: str, http: HttpClient | None = None, **extra):
        return (http or self.client).post(self.url, {"email": email}, **extra)

    def test_it_shows_a_branded_form(self) -> None:
        r = self.client.get(self.url)
        self.assertTemplateUsed(r, "portal/sign_in.html")
        self.assertContains(r, "Sign in to Ledger &amp; Co")
        self.assertContains(r, 'type="email" name="email"')
        self.assertContains(r, "Secure client portal of Ledger &amp; Co")

    def test_unknown_practices_answer_404(self) -> None:
        self.assertEqual(self.client.get("/portal/no-such-practice/sign-in/").status_code, 404)

    def test_a_known_address_gets_exactly_one_email_with_a_working_link(self) -> None:
        with self.captureOnCommitCallbacks() as callbacks:
            r = self.ask("Ellie@Acme.example ")
        self.assertRedirects(r, f"{self.url}?sent=1")
        message = OutboundMessage.objects.get()
        self.assertEqual(message.to, ["ellie@acme.example"])
        self.assertEqual(message.client, self.acme)
        self.assertEqual(message.status, OutboundMessage.Status.QUEUED)
        self.assertIn("Ledger & Co", message.subject)
        self.assertIn("/portal/link/", message.body_text)
        self.assertEqual(len(callbacks), 1)  # delivery, once the request commits
        token = AccessToken.objects.get()
        self.assertEqual(
            (token.contact, token.purpose, token.step), (self.contact, "sign_in", None)
        )
        link = reverse("portal:link", args=[token_in(delivered(message).body)])
        self.assertContains(self.client.get(link), "Hello Ellie")

    def test_known_and_unknown_addresses_get_the_same_answer(self) -> None:
        known = self.ask("ellie@acme.example")
        unknown = self.ask("nobody@acme.example")
        self.assertEqual(
            (known.status_code, known["Location"]), (unknown.status_code, unknown["Location"])
        )
        page = self.client.get(known["Location"])
        self.assertContains(page, SENT)
        self.assertEqual(OutboundMessage.objects.count(), 1)
        self.assertEqual(AccessToken.objects.count(), 1)

    def test_an_unknown_address_gets_no_email(self) -> None:
        self.ask("nobody@acme.example")
        self.assertFalse(OutboundMessage.objects.exists())
        self.assertFalse(AccessToken.objects.exists())

    def test_contacts_of_archived_clients_and_other_practices_get_nothing(self) -> None:
        archived = f.ClientFactory(practice=self.practice, status="archived")
        f.ContactFactory(client=archived, email="old@archived.example")
        f.ContactFactory(client=self.other_client, email="rival@rival.example")
        self.ask("old@archived.example")
        self.ask("rival@rival.example")
        self.assertFalse(OutboundMessage.objects.exists())

    def test_an_invalid_address_is_shown_again_with_an_error(self) -> None:
        r = self.ask("not an email")
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Enter a valid email address.")
        self.assertFalse(OutboundMessage.objects.exists())

    def test_the_sixth_request_for_an_address_is_refused_and_sends_nothing(self) -> None:
        for n in range(5):
            self.assertEqual(self.ask("ellie@acme.example").status_code, 302, n)
        r = self.ask("ELLIE@acme.example", REMOTE_ADDR="10.0.0.9")
        self.assertEqual(r.status_code, 429)
        self.assertContains(r, TOO_MANY, status_code=429)
        self.assertEqual(OutboundMessage.objects.count(), 5)
        self.assertEqual(AccessToken.objects.count(), 5)
        # Unknown addresses count the same, so the limit reveals nothing either.
        for _ in range(5):
            self.ask("nobody@acme.example")
        self.assertEqual(self.ask("nobody@acme.example").status_code, 429)

    def test_the_twenty_first_request_from_one_address_is_refused(self) -> None:
        for n in range(20):
            self.assertEqual(self.ask(f"person{n}@elsewhere.example").status_code, 302)
        r = self.ask("ellie@acme.example")
        self.assertContains(r, TOO_MANY, status_code=429)
        self.assertFalse(OutboundMessage.objects.exists())
        other_network = self.ask("ellie@acme.example", REMOTE_ADDR="10.0.0.9")
        self.assertEqual(other_network.status_code, 302)
        self.assertEqual(OutboundMessage.objects.count(), 1)

    def test_it_needs_the_csrf_token(self) -> None:
        http = HttpClient(enforce_csrf_checks=True)
        page = http.get(self.url)
        self.assertEqual(self.ask("ellie@acme.example", http=http).status_code, 403)
        self.assertFalse(OutboundMessage.objects.exists())
        r = http.post(
            self.url,
            {"email": "ellie@acme.example", "csrfmiddlewaretoken": page.context["csrf_token"]},
        )
        self.assertEqual(r.status_code, 302)
        self.assertEqual(OutboundMessage.objects.count(), 1)

    def test_get_changes_nothing(self) -> None:
        self.client.get(self.url)
        self.client.get(f"{self.url}?sent=1")
        self.assertNotIn("sessionid", self.client.cookies)
        self.assertFalse(OutboundMessage.objects.exists())


class SignInEmailTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        f.ContactFactory(client=f.ClientFactory(practice=self.practice), email="e@x.example")
        self.block = building.save_content_block(
            practice=self.practice,
            actor=self.owner,
            block=builtins.default_block(self.practice, "portal.sign_in"),
            name="Sign-in link",
            subject=content.DEFAULTS["portal.sign_in"][1],
            body=content.DEFAULTS["portal.sign_in"][2],
        )

    def send(self) -> OutboundMessage:
        sign_in.email_sign_in_link(self.practice, "e@x.example")
        return OutboundMessage.objects.get()

    def test_it_uses_the_practices_edited_block(self) -> None:
        ContentBlock.objects.filter(pk=self.block.pk).update(
            subject="Your {{ practice.name }} link", body="Here: {{ action_link }}"
        )
        message = self.send()
        self.assertEqual(message.subject, "Your Ledger & Co link")
        self.assertRegex(message.body_text, r"^Here: http://\S+/portal/link/\S+/$")

    def test_a_block_without_the_link_or_that_fails_falls_back_to_plain_words(self) -> None:
        cases = [
            ("Hello {{ contact.first_name }}", nullcontext()),
            ("{% if %}", self.assertLogs("portal.sign_in", "ERROR")),  # a syntax error
        ]
        for body, logged in cases:
            with self.subTest(body=body):
                OutboundMessage.objects.all().delete()
                ContentBlock.objects.filter(pk=self.block.pk).update(body=body)
                with logged:
                    message = self.send()
                self.assertEqual(message.subject, "Sign in to Ledger & Co")
                self.assertRegex(
                    message.body_text,
                    r"^Sign in to Ledger & Co — here is your link: http://\S+/portal/link/\S+/ "
                    r"\(it works once, within 30 minutes\)$",
                )
