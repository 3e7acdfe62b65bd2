from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sodium.models import ActivityEvent, Client
from tests import factories as f
from tests.base import BaseTestCase

HTMX = {"HX-Request": "true"}


class ClientListTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.vat = f.TagFactory(practice=self.practice, name="VAT registered")
        self.acme = f.ClientFactory(
            practice=self.practice, name="Acme Widgets Ltd", reference="ACME01", tags=[self.vat]
        )
        self.bolt = f.ClientFactory(practice=self.practice, name="Bolt Bakery", reference="BOLT")
        f.ContactFactory(
            client=self.bolt, first_name="Priya", last_name="Shah", email="priya@bolt.example"
        )
        self.client.force_login(self.staff)

    def test_it_lists_the_practices_clients(self) -> None:
        r = self.client.get("/clients/")
        self.assertTemplateUsed(r, "sodium/client_list.html")
        self.assertContains(r, "Acme Widgets Ltd")
        self.assertContains(r, "Bolt Bakery")
        self.assertNotContains(r, "Rival Secret Client")

    def test_it_searches_names_references_and_contacts(self) -> None:
        for term, expected, absent in [
            ("acme", "Acme Widgets", "Bolt Bakery"),
            ("bolt", "Bolt Bakery", "Acme Widgets"),
            ("priya@bolt", "Bolt Bakery", "Acme Widgets"),
            ("Shah", "Bolt Bakery", "Acme Widgets"),
        ]:
            with self.subTest(term=term):
                r = self.client.get("/clients/", {"q": term})
                self.assertContains(r, expected)
                self.assertNotContains(r, absent)

    def test_it_filters_by_tag(self) -> None:
        r = self.client.get("/clients/", {"tag": self.vat.pk})
        self.assertContains(r, "Acme Widgets")
        self.assertNotContains(r, "Bolt Bakery")

    def test_it_hides_archived_clients_unless_asked(self) -> None:
        Client.objects.filter(pk=self.bolt.pk).update(status=Client.Status.ARCHIVED)
        self.assertNotContains(self.client.get("/clients/"), "Bolt Bakery")
        self.assertContains(self.client.get("/clients/", {"status": "archived"}), "Bolt Bakery")

    def test_it_says_when_nothing_matches(self) -> None:
        r = self.client.get("/clients/", {"q": "zzz-no-such"})
        self.assertContains(r, "No clients match")

    def test_it_paginates_25_a_page(self) -> None:
        f.ClientFactory.create_batch(30, practice=self.practice)
        first = self.client.get("/clients/")
        self.assertEqual(len(first.context["page"].object_list), 25)
        self.assertContains(first, "Page 1 of 2")
        second = self.client.get("/clients/", {"page": 2})
        self.assertEqual(len(second.context["page"].object_list), 7)
        # A page number out of range shows the last page rather than an error.
        self.assertEqual(self.client.get("/clients/", {"page": 99}).status_code, 200)

    def test_it_returns_only_the_table_for_htmx(self) -> None:
        r = self.client.get("/clients/", {"q": "acme"}, headers=HTMX)
        self.assertContains(r, 'id="client-table"')
        self.assertNotContains(r, "<html")
        self.assertEqual(r["Vary"], "HX-Request, Cookie")

    def test_it_runs_the_same_number_of_queries_whatever_the_row_count(self) -> None:
        with CaptureQueriesContext(connection) as few:
            self.client.get("/clients/")
        for _i in range(20):
            c = f.ClientFactory(practice=self.practice, tags=[self.vat])
            f.ContactFactory(client=c)
            f.TaskFactory(client=c)
        with self.assertNumQueries(len(few)):
            self.client.get("/clients/")


class ClientCreateTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.staff)
        self.valid = {
            "name": "Copperleaf Consulting Ltd",
            "reference": "COPP01",
            "type": "limited_company",
            "year_end_day": "31",
            "year_end_month": "3",
            "vat_periods": "q_mar",
            "client_manager": self.manager.pk,
        }

    def test_it_creates_a_client_and_logs_it(self) -> None:
        r = self.client.post("/clients/new/", self.valid)
        client = Client.objects.get(practice=self.practice, reference="COPP01")
        self.assertRedirects(r, f"/clients/{client.pk}/")
        self.assertEqual(client.client_manager, self.manager)
        self.assertEqual(client.year_end_label, "31 March")
        self.assertTrue(ActivityEvent.objects.filter(client=client, verb="client.created").exists())

    def test_it_refuses_a_reference_used_by_another_client_in_any_case(self) -> None:
        f.ClientFactory(practice=self.practice, reference="copp01")
        r = self.client.post("/clients/new/", self.valid)
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Another client already uses the reference COPP01.")
        self.assertEqual(Client.objects.filter(practice=self.practice).count(), 1)

    def test_it_allows_a_reference_another_practice_uses(self) -> None:
        f.ClientFactory(practice=self.other_practice, reference="COPP01")
        r = self.client.post("/clients/new/", self.valid)
        self.assertEqual(r.status_code, 302)

    def test_it_refuses_an_impossible_year_end(self) -> None:
        r = self.client.post(
            "/clients/new/", {**self.valid, "year_end_day": "30", "year_end_month": "2"}
        )
        self.assertContains(r, "February has only 28 days.")
        self.assertFalse(Client.objects.filter(reference="COPP01").exists())

    def test_it_refuses_half_a_year_end(self) -> None:
        r = self.client.post("/clients/new/", {**self.valid, "year_end_day": ""})
        self.assertContains(r, "Give both the day and the month of the year end.")

    def test_it_refuses_a_manager_from_another_practice(self) -> None:
        r = self.client.post("/clients/new/", {**self.valid, "client_manager": self.outsider.pk})
        self.assertEqual(r.status_code, 200)
        self.assertTrue(r.context["form"].errors["client_manager"])
        self.assertFalse(Client.objects.filter(reference="COPP01").exists())

    def test_it_shows_required_field_errors(self) -> None:
        r = self.client.post("/clients/new/", {})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "This field is required.")

    def test_an_ar_specialist_may_not_add_clients(self) -> None:
        self.client.force_login(self.ar_specialist)
        self.assertEqual(self.client.post("/clients/new/", self.valid).status_code, 403)
        self.assertFalse(Client.objects.filter(reference="COPP01").exists())


class ClientEditTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.tag = f.TagFactory(practice=self.practice)
        self.acme = f.ClientFactory(practice=self.practice, name="Acme", reference="ACME")
        self.client.force_login(self.manager)

    def test_it_saves_changes_and_logs_the_fields(self) -> None:
        r = self.client.post(
            f"/clients/{self.acme.pk}/edit/",
            {
                "name": "Acme Holdings",
                "reference": "ACME",
                "type": "llp",
                "vat_periods": "none",
                "tags": [self.tag.pk],
            },
        )
        self.assertRedirects(r, f"/clients/{self.acme.pk}/")
        self.acme.refresh_from_db()
        self.assertEqual(self.acme.name, "Acme Holdings")
        self.assertEqual(list(self.acme.tags.all()), [self.tag])
        event = ActivityEvent.objects.get(client=self.acme, verb="client.updated")
        self.assertIn("name", event.summary)
        self.assertIn("tags", event.summary)

    def test_it_keeps_its_own_reference(self) -> None:
        r = self.client.post(
            f"/clients/{self.acme.pk}/edit/",
            {"name": "Acme", "reference": "acme", "type": "llp", "vat_periods": "none"},
        )
        self.assertEqual(r.status_code, 302)

    def test_archiving_and_restoring_is_post_only_and_logged(self) -> None:
        url = f"/clients/{self.acme.pk}/status/"
        self.assertEqual(self.client.get(url).status_code, 405)
        self.client.post(url, {"status": "archived"})
        self.acme.refresh_from_db()
        self.assertEqual(self.acme.status, "archived")
        self.client.post(url, {"status": "active"})
        self.acme.refresh_from_db()
        self.assertEqual(self.acme.status, "active")
        self.assertEqual(ActivityEvent.objects.filter(verb="client.status").count(), 2)

    def test_an_unknown_status_changes_nothing(self) -> None:
        r = self.client.post(f"/clients/{self.acme.pk}/status/", {"status": "deleted"}, follow=True)
        self.assertContains(r, "Unknown client status.")
        self.acme.refresh_from_db()
        self.assertEqual(self.acme.status, "active")


class ClientDetailTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(
            practice=self.practice, name="Acme", client_manager=self.manager
        )
        self.service = f.ServiceFactory(practice=self.practice, name="Payroll")
        self.client.force_login(self.staff)

    def test_it_shows_contacts_services_tasks_and_activity(self) -> None:
        f.ContactFactory(client=self.acme, first_name="Zoe", last_name="Ng")
        f.ClientServiceFactory(client=self.acme, service=self.service)
        f.TaskFactory(client=self.acme, name="Year-end accounts 2026")
        f.ActivityEventFactory(practice=self.practice, client=self.acme, summary="Rang the client")
        r = self.client.get(f"/clients/{self.acme.pk}/")
        for text in ("Zoe Ng", "Payroll", "Year-end accounts 2026", "Rang the client"):
            self.assertContains(r, text)

    def test_it_adds_and_removes_a_service(self) -> None:
        self.client.post(
            f"/clients/{self.acme.pk}/services/new/",
            {"service": self.service.pk, "service_manager": self.manager.pk},
        )
        cs = self.acme.client_services.get()
        self.assertEqual(cs.service_manager, self.manager)
        r = self.client.post(
            f"/clients/{self.acme.pk}/services/new/", {"service": self.service.pk}, follow=True
        )
        self.assertContains(r, "already has Payroll")
        self.client.post(f"/clients/{self.acme.pk}/services/{cs.pk}/delete/")
        self.assertFalse(self.acme.client_services.exists())

    def test_it_refuses_a_service_from_another_practice(self) -> None:
        theirs = f.ServiceFactory(practice=self.other_practice)
        r = self.client.post(
            f"/clients/{self.acme.pk}/services/new/", {"service": theirs.pk}, follow=True
        )
        self.assertContains(r, "Choose a service from the catalogue.")
        self.assertFalse(self.acme.client_services.exists())


class ClientPageTaskOrderTests(BaseTestCase):
    def test_open_tasks_come_before_finished_ones(self) -> None:
        import datetime as dt

        from sodium.models import Task

        client = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        done = f.TaskFactory(
            client=client, name="Old VAT", status=Task.Status.DONE, due_date=dt.date(2025, 1, 7)
        )
        later = f.TaskFactory(client=client, name="Next VAT", due_date=dt.date(2027, 2, 7))
        sooner = f.TaskFactory(client=client, name="This VAT", due_date=dt.date(2026, 12, 7))
        self.client.force_login(self.staff)
        r = self.client.get(reverse("sodium:client-detail", args=[client.pk]))
        self.assertEqual([t.pk for t in r.context["tasks"]], [sooner.pk, later.pk, done.pk])
