"""Error pages: a signed-in member keeps their practice's navigation and brand."""

from __future__ import annotations

from django.urls import reverse

from tests.base import BaseTestCase


class ErrorPageShellTests(BaseTestCase):
    def test_a_forbidden_page_keeps_the_members_navigation_and_practice_brand(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(reverse("sodium:practice-settings"))
        self.assertEqual(r.status_code, 403)
        self.assertContains(r, "You can't do that here", status_code=403)
        self.assertContains(r, '<nav class="sidebar" aria-label="Main">', status_code=403)
        self.assertContains(r, '<span class="brand-name">Ledger &amp; Co</span>', status_code=403)
        self.assertNotContains(r, "auth-logo", status_code=403)

    def test_a_missing_page_keeps_the_members_navigation(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get("/clients/999999/")
        self.assertEqual(r.status_code, 404)
        self.assertContains(r, '<nav class="sidebar" aria-label="Main">', status_code=404)

    def test_a_visitor_who_is_not_signed_in_sees_the_plain_card(self) -> None:
        r = self.client.get("/no-such-page/")
        self.assertEqual(r.status_code, 404)
        self.assertContains(r, "auth-logo", status_code=404)
        self.assertNotContains(r, 'class="sidebar"', status_code=404)
