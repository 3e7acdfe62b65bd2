"""The landing page of an emailed link: GET shows it and changes nothing, POST signs in."""

from __future__ import annotations

import datetime as dt

from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.forms.models import model_to_dict
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from portal import access
from portal.models import AccessToken
from portal.views.common import item_url
from sodium.models import ActivityEvent
from sodium.services.clients import update_contact
from tests import factories as f
from tests.base import BaseTestCase
from tests.portal.helpers import make_step, sign_in, template_for
from workflows.models import Step

PORTAL_KEY = "sodium_portal"


class LinkViewTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        self.contact = f.ContactFactory(client=self.acme, first_name="Ellie", last_name="Ali")
        self.token = access.issue_token(self.contact, purpose=AccessToken.Purpose.SIGN_IN)
        self.url = reverse("portal:link", args=[self.token])

    def snapshot(self) -> tuple:
        return (
            [model_to_dict(t) for t in AccessToken.objects.order_by("pk")],
            Session.objects.count(),
        )

    def assert_signed_out(self, http: HttpClient | None = None) -> None:
        http = http or self.client
        self.assertNotIn(PORTAL_KEY, http.session.keys())
        self.assertEqual(http.get(reverse("portal:home")).status_code, 403)

    def expire(self) -> None:
        AccessToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    def revoke(self) -> None:
        access.revoke_tokens(self.contact)

    # --- GET: a page, nothing else -------------------------------------------------------

    def test_get_shows_a_continue_button_for_the_contact(self) -> None:
        r = self.client.get(self.url)
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "portal/link.html")
        self.assertContains(r, "Hello Ellie")
        self.assertContains(r, "Continue to the secure client portal of Ledger &amp; Co")
        self.assertContains(r, f'<form method="post" action="{self.url}">', html=False)
        self.assertContains(r, "csrfmiddlewaretoken")
        self.assertContains(r, ">Continue</button>")

    def test_get_creates_no_session_and_changes_no_row(self) -> None:
        before = self.snapshot()
        self.client.get(self.url)
        self.client.get(self.url)
        self.assertEqual(self.snapshot(), before)
        self.assertIsNone(AccessToken.objects.get().last_used_at)
        self.assertNotIn("sessionid", self.client.cookies)
        self.assert_signed_out()

    def test_get_of_expired_and_revoked_links_is_refused_with_a_way_back(self) -> None:
        for spoil, why in (
            (self.expire, "This link has expired."),
            (self.revoke, "This link was withdrawn by Ledger &amp; Co"),
        ):
            with self.subTest(spoil=spoil.__name__):
                spoil()
                r = self.client.get(self.url)
                self.assertEqual(r.status_code, 410)
                self.assertContains(r, why, status_code=410)
                self.assertContains(
                    r, reverse("portal:sign-in", args=[self.practice.slug]), status_code=410
                )
                self.assertNotContains(r, "Hello Ellie", status_code=410)
                self.assert_signed_out()

    def test_unknown_links_answer_404(self) -> None:
        r = self.client.get(reverse("portal:link", args=["x" * 43]))
        self.assertEqual(r.status_code, 404)
        self.assertContains(
            r, "This link has expired, was already used or was replaced", status_code=404
        )

    # --- POST: sign in --------------------------------------------------------------------

    def test_post_signs_in_and_goes_home(self) -> None:
        r = self.client.post(self.url)
        self.assertRedirects(r, reverse("portal:home"))
        self.assertEqual(self.client.session[PORTAL_KEY]["contact"], self.contact.pk)
        self.assertIsNotNone(AccessToken.objects.get().last_used_at)
        home = self.client.get(reverse("portal:home"))
        self.assertEqual(home.status_code, 200)
        self.assertContains(home, "Ellie Ali")

    def step_link(self) -> tuple[Step, str]:
        """A confirmation step waiting for the contact, and its emailed link's path."""
        step = make_step(
            self.acme,
            template_for(self.practice, self.owner),
            self.owner,
            type="client_confirmation",
            status=Step.Status.IN_PROGRESS,
        )
        token = access.issue_token(self.contact, purpose=AccessToken.Purpose.STEP, step=step)
        return step, reverse("portal:link", args=[token])

    def test_post_of_a_step_link_goes_to_the_step(self) -> None:
        step, url = self.step_link()
        r = self.client.post(url)
        self.assertRedirects(
            r, item_url(step.pk) or reverse("portal:home"), fetch_redirect_response=False
        )

    def test_posting_twice_signs_in_the_same_person(self) -> None:
        self.client.post(self.url)
        r = self.client.post(self.url)
        self.assertRedirects(r, reverse("portal:home"))
        self.assertEqual(self.client.session[PORTAL_KEY]["contact"], self.contact.pk)

    def test_a_sign_in_link_works_once(self) -> None:
        self.client.post(self.url)
        spent = AccessToken.objects.get()
        self.assertIsNotNone(spent.revoked_at)
        self.assertEqual(spent.revoked_at, spent.last_used_at)
        # Someone else holding the same link (a forwarded email, a read mailbox) gets nothing.
        other = HttpClient()
        r = other.post(self.url)
        self.assertEqual(r.status_code, 410)
        self.assertContains(
            r,
            "This sign-in link has already been used, and each one works only once.",
            status_code=410,
        )
        self.assert_signed_out(other)
        self.assertEqual(other.get(self.url).status_code, 410)

    def test_a_double_click_signs_in_the_browser_that_spent_the_link(self) -> None:
        page = self.client.get(self.url)  # the landing page sets this browser's CSRF cookie
        self.assertIn("csrftoken", self.client.cookies)
        self.client.post(self.url)
        self.client.cookies.pop("sessionid")  # the first answer was lost with its cookie
        r = self.client.post(self.url)
        self.assertRedirects(r, reverse("portal:home"))
        self.assertEqual(self.client.session[PORTAL_KEY]["contact"], self.contact.pk)
        self.assertEqual(page.status_code, 200)
        # ... but only for a moment.
        AccessToken.objects.update(last_used_at=timezone.now() - access.SPENT_GRACE)
        self.client.cookies.pop("sessionid")
        self.assertEqual(self.client.post(self.url).status_code, 410)

    def test_a_step_link_keeps_working_after_use(self) -> None:
        _, url = self.step_link()
        for http in (HttpClient(), HttpClient()):
            self.assertEqual(http.post(url).status_code, 302)
            self.assertEqual(http.session[PORTAL_KEY]["contact"], self.contact.pk)
        self.assertIsNone(AccessToken.objects.get(purpose="step").revoked_at)

    def test_post_of_expired_and_revoked_links_leaves_no_session(self) -> None:
        for spoil in (self.expire, self.revoke):
            with self.subTest(spoil=spoil.__name__):
                spoil()
                r = self.client.post(self.url)
                self.assertEqual(r.status_code, 410)
                self.assert_signed_out()
                self.assertIsNone(AccessToken.objects.get(purpose="sign_in").last_used_at)

    def test_links_of_archived_clients_are_refused(self) -> None:
        self.acme.status = "archived"
        self.acme.save(update_fields=["status"])
        r = self.client.get(self.url)
        self.assertContains(r, "Ledger &amp; Co no longer offers this link.", status_code=410)
        self.assertEqual(self.client.post(self.url).status_code, 410)
        self.assert_signed_out()

    def test_post_needs_the_csrf_token(self) -> None:
        http = HttpClient(enforce_csrf_checks=True)
        page = http.get(self.url)
        self.assertEqual(http.post(self.url).status_code, 403)
        self.assert_signed_out(http)
        r = http.post(self.url, {"csrfmiddlewaretoken": page.context["csrf_token"]})
        self.assertRedirects(r, reverse("portal:home"))

    def test_a_signed_in_person_goes_straight_through_without_a_change(self) -> None:
        sign_in(self.client, self.contact)
        other_token = access.issue_token(self.contact, purpose=AccessToken.Purpose.SIGN_IN)
        before = self.snapshot()
        r = self.client.get(reverse("portal:link", args=[other_token]))
        self.assertRedirects(r, reverse("portal:home"))
        self.assertEqual(self.snapshot(), before)

    def test_a_link_for_someone_else_still_asks_to_continue(self) -> None:
        sign_in(self.client, self.contact)
        colleague = f.ContactFactory(client=self.acme, first_name="Omar")
        token = access.issue_token(colleague, purpose=AccessToken.Purpose.SIGN_IN)
        r = self.client.get(reverse("portal:link", args=[token]))
        self.assertContains(r, "Hello Omar")
        self.assertEqual(self.client.session[PORTAL_KEY]["contact"], self.contact.pk)


class AddressChangeTests(BaseTestCase):
    """Links were emailed to an address: changing the contact's address ends them."""

    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        self.contact = f.ContactFactory(client=self.acme, email="ellie@acme.example")
        self.other = f.ContactFactory(client=self.acme, email="omar@acme.example")

    def test_changing_the_address_revokes_its_links_and_ends_its_portal_session(self) -> None:
        sign_in(self.client, self.contact)
        live = access.issue_token(self.contact, purpose=AccessToken.Purpose.STEP)
        kept = access.issue_token(self.other, purpose=AccessToken.Purpose.STEP)
        update_contact(self.contact, actor=self.owner, email="ellie.new@acme.example")
        self.assertIsNone(access.find_token(live))
        self.assertIsNotNone(access.find_token(kept))  # only that contact's links
        event = ActivityEvent.objects.get(verb="contact.portal_links_revoked")
        self.assertEqual((event.actor, event.client), (self.owner, self.acme))
        self.assertIn("Revoked 1 portal link sent to", event.summary)
        self.assertRedirects(
            self.client.get(reverse("portal:home")),
            reverse("portal:sign-in", args=[self.practice.slug]),
            fetch_redirect_response=False,
        )

    def test_other_edits_and_a_change_of_case_leave_links_alone(self) -> None:
        sign_in(self.client, self.contact)
        live = access.issue_token(self.contact, purpose=AccessToken.Purpose.STEP)
        update_contact(self.contact, actor=self.owner, first_name="Eleanor")
        update_contact(self.contact, actor=self.owner, email="Ellie@Acme.example")
        self.assertIsNotNone(access.find_token(live))
        self.assertFalse(ActivityEvent.objects.filter(verb="contact.portal_links_revoked"))
        self.assertEqual(self.client.get(reverse("portal:home")).status_code, 200)

    def test_editing_the_address_on_the_client_page_revokes_links(self) -> None:
        live = access.issue_token(self.contact, purpose=AccessToken.Purpose.STEP)
        self.client.force_login(self.owner)
        url = reverse("sodium:contact-edit", args=[self.acme.pk, self.contact.pk])
        page = self.client.get(url)
        self.assertEqual(page.status_code, 200)
        form = page.context["form"]
        data = {form.add_prefix(k): v for k, v in form.initial.items() if v not in (None, False)}
        data[form.add_prefix("email")] = "ellie.new@acme.example"
        r = self.client.post(url, data)
        self.assertLess(r.status_code, 400)
        self.contact.refresh_from_db()
        self.assertEqual(self.contact.email, "ellie.new@acme.example")
        self.assertIsNone(access.find_token(live))
