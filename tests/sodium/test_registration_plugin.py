"""An app adds a navigation entry, a client-page panel, a dashboard card and work items by
registration alone: the throwaway module registers one of each (no edit to the core) and each
shows up on its page, and goes away when it is unregistered."""

from __future__ import annotations

import datetime as dt

from django.test import override_settings
from django.urls import reverse

from tests import factories as f
from tests.base import BaseTestCase
from tests.sodium import throwaway_registrations as throwaway


@override_settings(TEMPLATES=throwaway.template_settings())
class ThrowawayRegistrationTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        throwaway.register()
        self.addCleanup(throwaway.unregister)
        self.client_row = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        self.task = f.TaskFactory(
            client=self.client_row,
            owner=self.manager,
            name="Accounts 2026",
            due_date=dt.date(2026, 1, 5),
        )

    def nav_labels(self, r) -> list[str]:
        return [e.label for e in r.context["nav"]()["main"]]

    def test_the_nav_entry_shows_in_its_place_for_those_allowed_and_marks_its_pages(self) -> None:
        self.client.force_login(self.manager)
        r = self.client.get(reverse("sodium:notification-list"))
        labels = self.nav_labels(r)
        self.assertEqual(labels.index("Reminders"), labels.index("My steps") + 1)
        self.assertContains(r, 'href="/notifications/" aria-current="page">Reminders</a>', 2)
        self.client.force_login(self.staff)  # no manage_templates
        self.assertNotIn("Reminders", self.nav_labels(self.client.get("/")))

    def test_the_client_panel_shows_on_the_client_page_unless_it_answers_none(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(reverse("sodium:client-detail", args=[self.client_row.pk]))
        self.assertContains(r, '<section class="card" id="throwaway-client-panel">')
        self.assertContains(r, "Reminders for Acme Ltd")
        quiet = f.ClientFactory(practice=self.practice, name="Quiet Ltd")
        r = self.client.get(reverse("sodium:client-detail", args=[quiet.pk]))
        self.assertNotContains(r, "throwaway-client-panel")

    def test_the_dashboard_card_shows_on_the_dashboard(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get("/")
        self.assertContains(r, "Reminders at Ledger &amp; Co")

    def test_the_work_items_join_my_work_soonest_due_first(self) -> None:
        self.client.force_login(self.manager)
        r = self.client.get(reverse("sodium:my-work"))
        items = list(r.context["page"].object_list)
        self.assertEqual([i.title for i in items], ["Call about Accounts 2026"])
        self.assertContains(r, '<span class="chip chip-tone-warn">To call</span>')
        self.assertContains(r, "Reminder · Acme Ltd")

    def test_unregistered_everything_is_gone(self) -> None:
        throwaway.unregister()
        self.client.force_login(self.manager)
        self.assertNotIn("Reminders", self.nav_labels(self.client.get("/")))
        r = self.client.get(reverse("sodium:client-detail", args=[self.client_row.pk]))
        self.assertNotContains(r, "throwaway-client-panel")
        self.assertNotContains(self.client.get("/"), "throwaway-dashboard-card")
        r = self.client.get(reverse("sodium:my-work"))
        self.assertNotContains(r, "Call about Accounts 2026")
        self.assertContains(r, "Nothing waiting on you")
