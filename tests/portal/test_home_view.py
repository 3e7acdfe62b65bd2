"""The portal home page: only the signed-in person's clients' items, waiting and done."""

from __future__ import annotations

import datetime as dt

from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from portal.views.common import item_url
from sodium.models import Practice
from tests import factories as f
from tests.base import BaseTestCase
from tests.portal.helpers import make_step, sign_in, template_for
from workflows.models import Step

S = Step.Status


class PortalHomeTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.template = template_for(cls.practice, cls.owner)
        cls.acme = f.ClientFactory(practice=cls.practice, name="Acme Ltd")
        cls.bolt = f.ClientFactory(practice=cls.practice, name="Bolt Bakery")
        cls.ellie = f.ContactFactory(
            client=cls.acme, first_name="Ellie", last_name="Ali", email="ellie@x.example"
        )
        cls.omar = f.ContactFactory(
            client=cls.bolt, first_name="Omar", last_name="Shah", email="omar@x.example"
        )

    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        self.url = reverse("portal:home")

    def step(self, client, name: str, **fields) -> Step:
        fields.setdefault("type", "document_request")
        fields.setdefault("status", S.IN_PROGRESS)
        fields.setdefault("settings", {"title": name})  # what the client sees it as
        return make_step(client, self.template, self.owner, name=name, **fields)

    def test_it_lists_waiting_and_done_items_of_the_contacts_client(self) -> None:
        self.step(self.acme, "Bank statements", sub_status="awaiting_response")
        self.step(
            self.acme,
            "Approve draft accounts",
            type="document_approval",
            sub_status="awaiting_response",
        )
        self.step(
            self.acme,
            "Confirm entries",
            type="client_confirmation",
            status=S.DONE,
            sub_status="confirmed",
        )
        sign_in(self.client, self.ellie)
        r = self.client.get(self.url)
        self.assertTemplateUsed(r, "portal/home.html")
        waiting = [i.step.name for i in r.context["waiting"]]
        done = [i.step.name for i in r.context["done"]]
        self.assertEqual(waiting, ["Approve draft accounts", "Bank statements"])  # newest first
        self.assertEqual(done, ["Confirm entries"])
        self.assertContains(r, "Waiting for your documents")
        self.assertContains(r, "Waiting for your approval")
        self.assertContains(r, "Confirmed")
        self.assertContains(r, 'class="chip chip-portal-warn"')
        self.assertContains(r, 'class="chip chip-portal-ok"')

    def test_it_leaves_out_other_step_types_and_statuses(self) -> None:
        self.step(self.acme, "Internal review", type="simple")
        self.step(self.acme, "Welcome email", type="email", status=S.DONE)
        self.step(self.acme, "Not sent yet", status=S.READY)
        self.step(self.acme, "Blocked request", status=S.BLOCKED)
        self.step(self.acme, "Skipped request", status=S.SKIPPED)
        sign_in(self.client, self.ellie)
        r = self.client.get(self.url)
        self.assertEqual((r.context["waiting"], r.context["done"]), ([], []))
        for name in (
            "Internal review",
            "Welcome email",
            "Not sent yet",
            "Blocked",
            "Skipped",
            "Send welcome email",
            "Prepare draft",
        ):
            self.assertNotContains(r, name)
        self.assertContains(
            r, "Nothing is waiting for you. We'll email you when we need something."
        )

    def test_a_contact_sees_none_of_another_clients_items(self) -> None:
        self.step(self.acme, "Acme statements")
        self.step(self.bolt, "Bolt statements")
        self.step(self.bolt, "Bolt approval", type="document_approval", status=S.DONE)
        sign_in(self.client, self.ellie)
        r = self.client.get(self.url)
        self.assertContains(r, "Acme statements")
        self.assertNotContains(r, "Bolt")

    def test_a_person_at_two_clients_sees_both_with_client_names(self) -> None:
        f.ContactFactory(client=self.bolt, first_name="Ellie", email="ELLIE@x.example")
        self.step(self.acme, "Acme statements")
        self.step(self.bolt, "Bolt statements")
        sign_in(self.client, self.ellie)
        r = self.client.get(self.url)
        self.assertEqual(
            {i.step.name for i in r.context["waiting"]}, {"Acme statements", "Bolt statements"}
        )
        self.assertTrue(r.context["several_clients"])
        self.assertContains(r, "Acme Ltd")
        self.assertContains(r, "Bolt Bakery")

    def test_one_client_needs_no_client_name(self) -> None:
        self.step(self.acme, "Acme statements")
        sign_in(self.client, self.ellie)
        r = self.client.get(self.url)
        self.assertFalse(r.context["several_clients"])
        self.assertNotContains(r, "· Acme Ltd")

    def test_the_same_email_at_another_practice_sees_nothing_of_it(self) -> None:
        rival_client = f.ClientFactory(practice=self.other_practice, name="Rival Client")
        f.ContactFactory(client=rival_client, email="ellie@x.example")
        make_step(
            rival_client,
            template_for(self.other_practice, self.outsider),
            self.outsider,
            name="Rival statements",
            type="document_request",
            status=S.IN_PROGRESS,
            settings={"title": "Rival statements"},
        )
        self.step(self.acme, "Acme statements")
        sign_in(self.client, self.ellie)
        r = self.client.get(self.url)
        self.assertContains(r, "Acme statements")
        self.assertNotContains(r, "Rival")

    def test_a_contact_of_another_practice_gets_nothing_here(self) -> None:
        rival_client = f.ClientFactory(practice=self.other_practice, name="Rival Client")
        rival = f.ContactFactory(client=rival_client, first_name="Zed", last_name="Rival")
        self.step(self.acme, "Acme statements")
        make_step(
            rival_client,
            template_for(self.other_practice, self.outsider),
            self.outsider,
            name="Rival statements",
            type="document_request",
            status=S.IN_PROGRESS,
            settings={"title": "Rival statements"},
        )
        sign_in(self.client, rival)
        r = self.client.get(self.url)
        self.assertContains(r, "Rival statements")
        self.assertContains(r, "Secure client portal of Rival Accountants")
        self.assertNotContains(r, "Acme")
        self.assertNotContains(r, "Ledger")

    def test_it_shows_deadlines_and_overdue_in_red(self) -> None:
        today = timezone.localdate()
        self.step(self.acme, "Late statements", deadline=today - dt.timedelta(days=2))
        self.step(self.acme, "Payroll records", deadline=today + dt.timedelta(days=5))
        self.step(
            self.acme,
            "Submitted receipts",
            deadline=today - dt.timedelta(days=2),
            sub_status="submitted",
        )
        sign_in(self.client, self.ellie)
        r = self.client.get(self.url)
        overdue = {i.step.name: i.overdue for i in r.context["waiting"]}
        self.assertEqual(overdue, {"Late statements": True, "Payroll records": False})
        # Overdue first; a submitted request waits on the practice, not the client.
        self.assertEqual([i.step.name for i in r.context["waiting"]][0], "Late statements")
        self.assertEqual([i.step.name for i in r.context["with_us"]], ["Submitted receipts"])
        self.assertContains(r, '<span class="small text-danger">Overdue · was due', count=1)
        self.assertContains(r, "Due <time")
        self.assertContains(r, "Sent — we are reviewing it")

    def test_it_wears_the_practice_branding(self) -> None:
        Practice.objects.filter(pk=self.practice.pk).update(
            primary_colour="#aa3300", logo="logos/ledger.png"
        )
        sign_in(self.client, self.ellie)
        r = self.client.get(self.url)
        self.assertContains(r, "--brand: #aa3300")
        self.assertContains(r, reverse("sodium:practice-logo", args=[self.practice.slug]))
        self.assertContains(r, "Secure client portal of Ledger &amp; Co")
        self.assertContains(r, "Sign out")
        self.assertContains(r, "Ellie Ali")
        self.assertNotContains(r, 'class="sidebar"')  # no staff navigation

    def test_a_light_brand_colour_gets_dark_text(self) -> None:
        Practice.objects.filter(pk=self.practice.pk).update(primary_colour="#ffe066")
        sign_in(self.client, self.ellie)
        r = self.client.get(self.url)
        self.assertContains(r, "--brand-contrast: #1b2430; --brand-text: #1b2430")

    def test_it_runs_a_fixed_number_of_queries(self) -> None:
        sign_in(self.client, self.ellie)
        self.step(self.acme, "One")
        with self.assertNumQueries(5) as few:
            self.client.get(self.url)
        for n in range(6):
            self.step(self.acme, f"More {n}", status=S.IN_PROGRESS if n % 2 else S.DONE)
        with self.assertNumQueries(len(few.captured_queries)):
            r = self.client.get(self.url)
        self.assertEqual(len(r.context["waiting"]) + len(r.context["done"]), 7)

    def test_it_is_not_cached_by_browsers(self) -> None:
        sign_in(self.client, self.ellie)
        self.assertIn("no-store", self.client.get(self.url)["Cache-Control"])

    def test_items_link_to_their_pages(self) -> None:
        step = self.step(self.acme, "Bank statements")
        sign_in(self.client, self.ellie)
        r = self.client.get(self.url)
        url = item_url(step.pk)
        self.assertEqual(url, f"/portal/items/{step.pk}/")
        self.assertContains(
            r, f'<a class="row-title portal-item-link" href="{url}">Bank statements</a>'
        )
