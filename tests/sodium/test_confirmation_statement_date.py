"""Client.confirmation_statement_date: the form, the client page, Liquid, schedules on it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.test import SimpleTestCase
from django.utils import timezone

from sodium import recurring
from sodium.messaging.context import client_context
from sodium.models import ActivityEvent, Client, Recurrence, Task
from sodium.schedules import client_dates
from sodium.schedules.errors import ClientDateMissing
from sodium.schedules.rules import Anchor, ClientDateSchedule
from sodium.services.recurrences import create_recurrence
from tests import factories as f
from tests.base import BaseTestCase

D = dt.date
LONDON = ZoneInfo("Europe/London")


def at(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(6), tzinfo=LONDON)


class ClientFormTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.manager)
        self.valid = {
            "name": "Copperleaf Consulting Ltd",
            "reference": "COPP01",
            "type": "limited_company",
            "vat_periods": "none",
        }

    def test_a_new_client_keeps_its_confirmation_statement_date(self) -> None:
        r = self.client.post(
            "/clients/new/", {**self.valid, "confirmation_statement_date": "2026-03-14"}
        )
        client = Client.objects.get(practice=self.practice, reference="COPP01")
        self.assertRedirects(r, f"/clients/{client.pk}/")
        self.assertEqual(client.confirmation_statement_date, D(2026, 3, 14))

    def test_editing_sets_and_clears_it_and_logs_the_change(self) -> None:
        acme = f.ClientFactory(practice=self.practice, reference="ACME")
        data = {**self.valid, "reference": "ACME", "confirmation_statement_date": "2025-11-02"}
        self.client.post(f"/clients/{acme.pk}/edit/", data)
        acme.refresh_from_db()
        self.assertEqual(acme.confirmation_statement_date, D(2025, 11, 2))
        event = ActivityEvent.objects.get(client=acme, verb="client.updated")
        self.assertIn("confirmation statement date", event.summary)
        self.client.post(f"/clients/{acme.pk}/edit/", {**data, "confirmation_statement_date": ""})
        acme.refresh_from_db()
        self.assertIsNone(acme.confirmation_statement_date)

    def test_it_refuses_a_date_that_is_not_one(self) -> None:
        for value in ("2026-02-30", "next March"):
            with self.subTest(value=value):
                r = self.client.post(
                    "/clients/new/", {**self.valid, "confirmation_statement_date": value}
                )
                self.assertEqual(r.status_code, 200)
                self.assertIn("confirmation_statement_date", r.context["form"].errors)
                self.assertContains(r, "Enter a valid date.")
        self.assertFalse(Client.objects.filter(reference="COPP01").exists())

    def test_the_form_offers_it_as_a_date_beside_the_year_end(self) -> None:
        r = self.client.get("/clients/new/")
        html = r.content.decode()
        self.assertIn('type="date" name="confirmation_statement_date"', html)
        self.assertIn("the anniversary of incorporation or of the last statement", html)
        self.assertLess(html.index('name="year_end_month"'), html.index('name="vat_periods"'))
        self.assertLess(
            html.index('name="vat_periods"'), html.index('name="confirmation_statement_date"')
        )
        self.assertLess(html.index('name="confirmation_statement_date"'), html.index("People"))


class ClientPageTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.staff)

    def test_it_shows_the_review_date_and_the_next_deadline(self) -> None:
        review = client_dates.months_after(timezone.localdate(), -1)
        acme = f.ClientFactory(practice=self.practice, confirmation_statement_date=review)
        due = acme.next_confirmation_statement_due()
        self.assertGreaterEqual(due, timezone.localdate())
        r = self.client.get(f"/clients/{acme.pk}/")
        self.assertContains(r, "Confirmation statement")
        self.assertContains(r, f"Review date {review.day} {review:%b %Y}")
        self.assertContains(r, f"Due {due.day} {due:%b %Y}")

    def test_without_one_it_shows_a_dash(self) -> None:
        acme = f.ClientFactory(practice=self.practice)
        r = self.client.get(f"/clients/{acme.pk}/")
        self.assertContains(r, "<dt>Confirmation statement</dt><dd>—</dd>", html=False)
        self.assertNotContains(r, "Review date")


class NextDeadlineTests(SimpleTestCase):
    def due(self, review: D | None, after: D) -> D | None:
        return Client(confirmation_statement_date=review).next_confirmation_statement_due(after)

    def test_it_is_14_days_after_this_years_review_date(self) -> None:
        self.assertEqual(self.due(D(2020, 3, 20), D(2026, 1, 10)), D(2026, 4, 3))
        self.assertEqual(self.due(D(2020, 3, 20), D(2026, 4, 3)), D(2026, 4, 3))
        self.assertEqual(self.due(D(2020, 3, 20), D(2026, 4, 4)), D(2027, 4, 3))

    def test_last_years_review_still_running_counts(self) -> None:
        self.assertEqual(self.due(D(2024, 12, 28), D(2026, 1, 5)), D(2026, 1, 11))

    def test_none_without_a_date(self) -> None:
        self.assertIsNone(self.due(None, D(2026, 1, 5)))


class ScheduleOnTheFieldTests(BaseTestCase):
    def test_a_schedule_on_it_gives_dates_for_a_client_with_it_and_a_reason_without(self) -> None:
        schedule = ClientDateSchedule(Anchor.CONFIRMATION_STATEMENT_DUE)
        dated = f.ClientFactory(practice=self.practice, confirmation_statement_date=D(2021, 5, 9))
        dated.refresh_from_db()  # the date as the database gives it back
        found = schedule.next(2, after=D(2026, 1, 1), client=dated)
        self.assertEqual([o.date for o in found], [D(2026, 5, 23), D(2027, 5, 23)])
        self.assertEqual([o.anchor for o in found], [D(2026, 5, 9), D(2027, 5, 9)])
        undated = f.ClientFactory(practice=self.practice)
        with self.assertRaisesMessage(ClientDateMissing, "no confirmation statement date"):
            schedule.next(1, after=D(2026, 1, 1), client=undated)

    def test_a_recurrence_on_it_makes_tasks_due_on_the_deadline_and_skips_the_undated(
        self,
    ) -> None:
        secretarial = f.ServiceFactory(practice=self.practice, name="Company secretarial")
        dated = f.ClientFactory(
            practice=self.practice, name="Acme Ltd", confirmation_statement_date=D(2019, 7, 1)
        )
        undated = f.ClientFactory(practice=self.practice, name="Bolt Ltd")
        for client in (dated, undated):
            f.ClientServiceFactory(client=client, service=secretarial)
        recurrence = create_recurrence(
            practice=self.practice,
            actor=self.manager,
            now=at("2026-06-01"),
            name="Confirmation statements",
            service=secretarial,
            schedule={
                "kind": "client_date",
                "anchor": "confirmation_statement_due",
                "offset": -14,
                "unit": "days",
            },
            task_name="{{ client.name }} confirmation statement {{ period.label }}",
            due_rule=Recurrence.DueRule.CONFIRMATION_STATEMENT,
            client_selection=Recurrence.Clients.SERVICE,
        )
        recurring.generate_due(self.practice, at("2026-07-02"))
        task = Task.objects.get(recurrence=recurrence)
        self.assertEqual(task.client, dated)
        self.assertEqual(task.start_date, D(2026, 7, 1))  # the review date
        self.assertEqual(task.due_date, D(2026, 7, 15))  # 14 days later
        recurrence.refresh_from_db()
        self.assertIn(
            {"client": undated.pk, "name": "Bolt Ltd", "reason": "no confirmation statement date"},
            recurrence.last_skips,
        )


class LiquidVariableTests(BaseTestCase):
    def test_messages_can_name_the_date(self) -> None:
        acme = f.ClientFactory(practice=self.practice, confirmation_statement_date=D(2026, 3, 14))
        context = client_context(practice=self.practice, client=acme, contacts=[])
        self.assertEqual(context["client"]["confirmation_statement_date"], "14 March 2026")
        bolt = f.ClientFactory(practice=self.practice)
        context = client_context(practice=self.practice, client=bolt, contacts=[])
        self.assertEqual(context["client"]["confirmation_statement_date"], "")
