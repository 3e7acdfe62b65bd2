"""Portal sessions: they expire, sign-out ends them, and pages need one."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from django.core.cache import cache
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from portal import access
from tests import factories as f
from tests.base import BaseTestCase
from tests.portal.helpers import sign_in

PORTAL_KEY = "sodium_portal"


class PortalSessionTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        self.contact = f.ContactFactory(client=f.ClientFactory(practice=self.practice))
        self.home = reverse("portal:home")
        self.sign_in_page = reverse("portal:sign-in", args=[self.practice.slug])

    def test_home_needs_a_session(self) -> None:
        r = self.client.get(self.home)
        self.assertEqual(r.status_code, 403)
        self.assertContains(r, "Your session has ended", status_code=403)
        self.assertNotContains(r, "Sign out", status_code=403)

    def test_a_session_works_until_it_expires_then_sends_to_sign_in(self) -> None:
        sign_in(self.client, self.contact)
        self.assertEqual(self.client.get(self.home).status_code, 200)
        later = timezone.now() + access.SESSION_TTL + dt.timedelta(minutes=1)
        with mock.patch("django.utils.timezone.now", return_value=later):
            r = self.client.get(self.home, follow=True)
        self.assertEqual(r.redirect_chain, [(self.sign_in_page, 302)])
        self.assertContains(r, "Your session has ended")
        self.assertContains(r, "Email me a sign-in link")

    def test_a_session_whose_expiry_has_passed_is_refused(self) -> None:
        sign_in(self.client, self.contact)
        session = self.client.session
        session[PORTAL_KEY] = {**session[PORTAL_KEY], "expires": timezone.now().timestamp() - 1}
        session.save()
        self.assertRedirects(self.client.get(self.home), self.sign_in_page)

    def test_a_contact_removed_from_the_client_loses_access(self) -> None:
        sign_in(self.client, self.contact)
        self.contact.delete()
        self.assertRedirects(self.client.get(self.home), self.sign_in_page)

    def test_sign_out_ends_the_session_and_says_so(self) -> None:
        sign_in(self.client, self.contact)
        r = self.client.post(reverse("portal:sign-out"), follow=True)
        self.assertRedirects(r, self.sign_in_page)
        self.assertContains(r, "You have signed out.")
        self.assertNotIn(PORTAL_KEY, self.client.session.keys())
        self.assertRedirects(self.client.get(self.home), self.sign_in_page)

    def test_sign_out_is_post_only(self) -> None:
        sign_in(self.client, self.contact)
        self.assertEqual(self.client.get(reverse("portal:sign-out")).status_code, 405)
        self.assertEqual(self.client.get(self.home).status_code, 200)

    def test_sign_out_needs_the_csrf_token(self) -> None:
        http = HttpClient(enforce_csrf_checks=True)
        sign_in(http, self.contact)
        self.assertEqual(http.post(reverse("portal:sign-out")).status_code, 403)
        self.assertEqual(http.get(self.home).status_code, 200)
        token = http.get(self.home).context["csrf_token"]
        r = http.post(reverse("portal:sign-out"), {"csrfmiddlewaretoken": token})
        self.assertRedirects(r, self.sign_in_page)
        self.assertRedirects(http.get(self.home), self.sign_in_page)

    def test_sign_out_without_a_session_is_harmless(self) -> None:
        r = self.client.post(reverse("portal:sign-out"))
        self.assertContains(r, "You have signed out.")

    def test_a_staff_session_is_no_portal_session(self) -> None:
        self.client.force_login(self.owner)
        self.assertEqual(self.client.get(self.home).status_code, 403)

    def test_signing_in_keeps_no_old_session_key(self) -> None:
        self.client.get(self.sign_in_page)
        session = self.client.session
        session["x"] = 1
        session.save()
        before = session.session_key
        sign_in(self.client, self.contact)
        self.assertNotEqual(self.client.session.session_key, before)
