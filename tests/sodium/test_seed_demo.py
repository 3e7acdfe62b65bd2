from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.test import TestCase
from django_scopes import scopes_disabled

from sodium import demo
from sodium.models import Client, Contact, Membership, Practice, Service, Tag, Task, Team
from sodium.roles import Role


class SeedDemoTests(TestCase):
    def test_it_builds_a_realistic_practice_and_says_how_to_sign_in(self) -> None:
        out = StringIO()
        call_command("seed_demo", stdout=out)
        practice = Practice.objects.get(slug=demo.DEMO_SLUG)
        with scopes_disabled():
            clients = Client.objects.filter(practice=practice)
            self.assertGreaterEqual(clients.count(), 40)
            self.assertFalse(clients.filter(contacts__isnull=True).exists())
            self.assertGreaterEqual(Tag.objects.filter(practice=practice).count(), 4)
            self.assertTrue(Client.tags.through.objects.filter(client__practice=practice).exists())
            roles = set(Membership.objects.filter(practice=practice).values_list("role", flat=True))
            self.assertEqual(roles, set(Role.values))
            self.assertEqual(Membership.objects.filter(practice=practice).count(), 6)
            self.assertGreaterEqual(Team.objects.filter(practice=practice).count(), 2)
            self.assertGreaterEqual(Service.objects.filter(practice=practice).count(), 5)
            statuses = set(Task.objects.filter(practice=practice).values_list("status", flat=True))
            self.assertTrue({"planned", "in_progress", "done"} <= statuses)
            self.assertGreater(Contact.objects.filter(practice=practice, is_main=True).count(), 39)
        self.assertIn(demo.DEMO_MANAGER_EMAIL, out.getvalue())
        self.assertIn(demo.DEMO_PASSWORD, out.getvalue())
        manager = Membership.objects.with_scopes_disabled().get(
            practice=practice, user__email=demo.DEMO_MANAGER_EMAIL
        )
        self.assertEqual(manager.role, Role.MANAGER)

    def test_running_it_again_changes_nothing(self) -> None:
        call_command("seed_demo", stdout=StringIO())
        with scopes_disabled():
            counts = (Practice.objects.count(), Client.objects.count(), Task.objects.count())
        out = StringIO()
        call_command("seed_demo", stdout=out)
        self.assertIn("already exists", out.getvalue())
        with scopes_disabled():
            self.assertEqual(
                counts, (Practice.objects.count(), Client.objects.count(), Task.objects.count())
            )

    def test_the_demo_manager_can_sign_in_and_see_clients(self) -> None:
        call_command("seed_demo", stdout=StringIO())
        # Through the sign-in form: django-axes wants the request that authenticate() gets.
        r = self.client.post(
            "/sign-in/", {"username": demo.DEMO_MANAGER_EMAIL, "password": demo.DEMO_PASSWORD}
        )
        self.assertRedirects(r, "/", fetch_redirect_response=False)
        r = self.client.get("/clients/")
        self.assertContains(r, "Hartley &amp; Finch")
        self.assertEqual(r.context["page"].paginator.count, 42)

    def test_every_demo_person_signs_in_with_the_password_alone(self) -> None:
        call_command("seed_demo", stdout=StringIO())
        with scopes_disabled():
            emails = set(
                Membership.objects.filter(practice__slug=demo.DEMO_SLUG).values_list(
                    "user__email", flat=True
                )
            )
        for email in emails:
            with self.subTest(email=email):
                self.client.logout()
                r = self.client.post(
                    "/sign-in/", {"username": email, "password": demo.DEMO_PASSWORD}
                )
                self.assertRedirects(r, "/", fetch_redirect_response=False)
                r = self.client.get("/")
                self.assertEqual(r.status_code, 200, "no two-factor code or set-up asked")


class SeedDemoDatesTests(TestCase):
    def test_every_demo_year_end_is_a_real_date(self) -> None:
        import calendar

        call_command("seed_demo", stdout=StringIO())
        with scopes_disabled():
            for day, month in Client.objects.values_list("year_end_day", "year_end_month"):
                self.assertLessEqual(day, calendar.monthrange(2023, month)[1], (day, month))
