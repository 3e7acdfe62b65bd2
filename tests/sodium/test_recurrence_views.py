"""The recurring-work pages: list, editor, live preview, pause and resume."""

from __future__ import annotations

import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

from django.urls import reverse

from sodium.models import Recurrence
from sodium.recurrence_forms import RecurrenceForm
from sodium.services.recurrences import create_recurrence
from tests import factories as f
from tests.base import BaseTestCase

NOW = dt.datetime(2026, 12, 2, 10, tzinfo=ZoneInfo("Europe/London"))
MONTHLY_25TH = {
    "name": "Monthly payroll",
    "kind": "calendar",
    "frequency": "monthly",
    "interval": "1",
    "monthly_on": "day",
    "month_day": "25",
    "start": "2026-12-01",
    "ends": "never",
    "working_day_rule": "before",
    "client_selection": "all",
    "task_name": "{{ client.name }} payroll {{ period.label }}",
    "lead_days": "3",
    "due_rule": "offset",
    "due_offset": "3",
    "due_unit": "days",
    "owner_rule": "client_manager",
    "offset": "0",
    "unit": "days",
    "side": "after",
}


def vat_post(**changes) -> dict[str, str]:
    data = {
        **MONTHLY_25TH,
        "name": "Quarterly VAT",
        "kind": "client_date",
        "anchor": "vat_period_end",
        "offset": "7",
        "unit": "days",
        "side": "after",
        "working_day_rule": "after",
        "due_rule": "vat_return",
        "task_name": "{{ client.name }} VAT {{ period.label }}",
        "lead_days": "0",
        "start": "",
    }
    data.update(changes)
    return data


class RecurrenceViewTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        clock = mock.patch("django.utils.timezone.now", return_value=NOW)
        clock.start()
        self.addCleanup(clock.stop)
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd", vat_periods="q_mar")
        self.bolt = f.ClientFactory(practice=self.practice, name="Bolt Ltd", vat_periods="q_apr")
        self.cole = f.ClientFactory(practice=self.practice, name="Cole & Sons", vat_periods="none")
        self.client.force_login(self.manager)


class RecurrenceListTests(RecurrenceViewTestCase):
    def test_it_shows_an_empty_state_with_a_way_to_start(self) -> None:
        r = self.client.get(reverse("sodium:recurrence-list"))
        self.assertContains(r, "No recurring work yet")
        self.assertContains(r, reverse("sodium:recurrence-create"))

    def test_it_lists_recurrences_in_words_with_their_state(self) -> None:
        create_recurrence(
            practice=self.practice,
            actor=self.manager,
            name="Monthly payroll",
            schedule={
                "kind": "calendar",
                "frequency": "monthly",
                "start": "2026-12-01",
                "month_day": 25,
            },
            working_day_rule="before",
            task_name="{{ client.name }} payroll",
            client_selection=Recurrence.Clients.ALL,
        )
        r = self.client.get(reverse("sodium:recurrence-list"))
        self.assertContains(r, "Monthly payroll")
        self.assertContains(r, "Monthly on the 25th, moved to the working day before")
        self.assertContains(r, "All active clients")
        self.assertContains(r, "Active")
        self.assertContains(r, "Within a minute")  # a new recurrence runs at the next sweep
        midnight = dt.datetime(2026, 12, 3, tzinfo=ZoneInfo("Europe/London"))
        Recurrence.objects.filter(practice=self.practice).update(next_run_at=midnight)
        self.assertContains(self.client.get(reverse("sodium:recurrence-list")), "Thu 3 Dec 2026")

    def test_staff_are_refused_and_other_practices_hidden(self) -> None:
        self.client.force_login(self.staff)
        self.assertEqual(self.client.get(reverse("sodium:recurrence-list")).status_code, 403)
        self.client.force_login(self.outsider)
        recurrence = create_recurrence(
            practice=self.practice,
            actor=self.manager,
            name="Ours",
            schedule={"kind": "calendar", "frequency": "daily", "start": "2026-12-01"},
            task_name="x",
            client_selection=Recurrence.Clients.ALL,
        )
        r = self.client.get(reverse("sodium:recurrence-edit", args=[recurrence.pk]))
        self.assertEqual(r.status_code, 404)


class RecurrenceCreateTests(RecurrenceViewTestCase):
    def test_it_saves_a_calendar_recurrence_from_the_form(self) -> None:
        r = self.client.post(reverse("sodium:recurrence-create"), MONTHLY_25TH)
        recurrence = Recurrence.objects.get(practice=self.practice)
        self.assertRedirects(r, reverse("sodium:recurrence-edit", args=[recurrence.pk]))
        self.assertEqual(recurrence.schedule["frequency"], "monthly")
        self.assertEqual(recurrence.schedule["month_day"], 25)
        self.assertEqual(recurrence.schedule["start"], "2026-12-01")
        self.assertEqual(recurrence.working_day_rule, "before")
        self.assertEqual(recurrence.lead_days, 3)
        self.assertEqual(recurrence.created_by, self.manager)

    def test_it_saves_a_client_date_recurrence_with_an_offset_before(self) -> None:
        self.client.post(
            reverse("sodium:recurrence-create"),
            vat_post(side="before", offset="2", unit="weeks", due_rule="none"),
        )
        schedule = Recurrence.objects.get(practice=self.practice).schedule
        self.assertEqual(
            (schedule["kind"], schedule["anchor"], schedule["offset"], schedule["unit"]),
            ("client_date", "vat_period_end", -2, "weeks"),
        )

    def test_show_preview_saves_nothing_and_shows_the_dates(self) -> None:
        r = self.client.post(reverse("sodium:recurrence-create"), {**MONTHLY_25TH, "preview": "1"})
        self.assertEqual(r.status_code, 200)
        self.assertFalse(Recurrence.objects.filter(practice=self.practice).exists())
        # 25 Dec 2026 is a Friday and Christmas Day: moved to Thursday 24th.
        self.assertContains(r, "Thu 24 Dec 2026")
        self.assertContains(r, "moved from Fri 25 Dec 2026 (Christmas Day)")
        self.assertContains(r, "created 21 Dec")

    def test_a_date_that_never_comes_is_a_field_error_and_saves_nothing(self) -> None:
        data = {**MONTHLY_25TH, "frequency": "yearly", "month": "2", "month_day": "31"}
        r = self.client.post(reverse("sodium:recurrence-create"), data)
        self.assertContains(r, "February has no day 31: it would never happen.")
        self.assertFalse(Recurrence.objects.filter(practice=self.practice).exists())

    def test_an_end_before_the_start_is_refused(self) -> None:
        data = {**MONTHLY_25TH, "ends": "on", "end": "2026-11-01"}
        r = self.client.post(reverse("sodium:recurrence-create"), data)
        self.assertContains(r, "The end is before the start.")
        self.assertFalse(Recurrence.objects.filter(practice=self.practice).exists())

    def test_ending_after_a_count_needs_the_count(self) -> None:
        r = self.client.post(reverse("sodium:recurrence-create"), {**MONTHLY_25TH, "ends": "after"})
        self.assertContains(r, "Enter how many times.")
        self.assertFalse(Recurrence.objects.filter(practice=self.practice).exists())

    def test_a_task_name_that_does_not_render_is_refused(self) -> None:
        data = {**MONTHLY_25TH, "task_name": "{{ client.name "}
        r = self.client.post(reverse("sodium:recurrence-create"), data)
        self.assertEqual(r.status_code, 200)
        self.assertIn("task_name", r.context["form"].errors)
        self.assertFalse(Recurrence.objects.filter(practice=self.practice).exists())

    def test_a_weekly_schedule_needs_a_day(self) -> None:
        data = {**MONTHLY_25TH, "frequency": "weekly"}
        r = self.client.post(reverse("sodium:recurrence-create"), data)
        self.assertContains(r, "Choose at least one day of the week.")

    def test_saturdays_skipped_never_happen(self) -> None:
        data = {
            **MONTHLY_25TH,
            "frequency": "weekly",
            "weekdays": ["sa"],
            "working_day_rule": "skip",
        }
        r = self.client.post(reverse("sodium:recurrence-create"), data)
        self.assertContains(r, "Every date falls on a non-working day and would be skipped.")
        self.assertFalse(Recurrence.objects.filter(practice=self.practice).exists())

    def test_another_practices_tag_is_not_a_choice(self) -> None:
        tag = f.TagFactory(practice=self.other_practice)
        data = {**MONTHLY_25TH, "client_selection": "tag", "tag": str(tag.pk)}
        r = self.client.post(reverse("sodium:recurrence-create"), data)
        self.assertIn("tag", r.context["form"].errors)
        self.assertFalse(Recurrence.objects.filter(practice=self.practice).exists())

    def test_chosen_clients_are_saved(self) -> None:
        data = {**MONTHLY_25TH, "client_selection": "chosen", "clients": [str(self.bolt.pk)]}
        self.client.post(reverse("sodium:recurrence-create"), data)
        recurrence = Recurrence.objects.get(practice=self.practice)
        self.assertEqual(list(recurrence.clients.all()), [self.bolt])


class RecurrencePreviewTests(RecurrenceViewTestCase):
    def preview(self, data):
        return self.client.post(
            reverse("sodium:recurrence-preview"), data, headers={"HX-Request": "true"}
        )

    def test_it_groups_clients_by_stagger_and_lists_who_is_skipped(self) -> None:
        r = self.preview(vat_post())
        self.assertNotContains(r, "<html")
        self.assertContains(r, 'id="recurrence-preview"')
        self.assertContains(r, "7 days after the last day of each VAT period, moved to the")
        self.assertContains(r, "Every quarter 7 days after the last day of the client")
        # Acme (Mar/Jun/Sep/Dec): 31 Dec 2026 + 7 days = Thu 7 Jan 2027.
        self.assertContains(r, "Thu 7 Jan 2027")
        self.assertContains(r, "Acme Ltd VAT Oct–Dec 2026")
        # Bolt (Jan/Apr/Jul/Oct): 31 Jan 2027 + 7 = Sun 7 Feb → Mon 8 Feb.
        self.assertContains(r, "Mon 8 Feb 2027")
        self.assertContains(r, "moved from Sun 7 Feb 2027 (Sunday)")
        self.assertContains(r, "Cole &amp; Sons</strong> — skipped: no VAT periods")
        # Two groups of twelve dates (one per stagger), and the skipped client.
        self.assertEqual(r.content.count(b'<section class="rec-group">'), 2)
        self.assertEqual(r.content.count(b'<span class="rec-date">'), 24)
        self.assertContains(r, "3 clients · 2 date patterns")
        self.assertFalse(Recurrence.objects.filter(practice=self.practice).exists())

    def test_it_names_the_fields_to_fix_instead_of_dates(self) -> None:
        r = self.preview({**MONTHLY_25TH, "month_day": "", "name": "", "task_name": ""})
        self.assertContains(r, "Fix these to see the dates")
        self.assertContains(r, "Task name: This field is required.")
        self.assertContains(r, "Choose a day from 1 to 31.")
        self.assertNotContains(r, "Name:")  # a preview needs no name yet

    def test_it_refuses_get(self) -> None:
        self.assertEqual(self.client.get(reverse("sodium:recurrence-preview")).status_code, 405)


class RecurrenceEditTests(RecurrenceViewTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.post(reverse("sodium:recurrence-create"), vat_post())
        self.recurrence = Recurrence.objects.get(practice=self.practice)
        self.url = reverse("sodium:recurrence-edit", args=[self.recurrence.pk])

    def test_the_editor_starts_from_the_saved_recurrence(self) -> None:
        r = self.client.get(self.url)
        form = r.context["form"]
        self.assertEqual(form.initial["kind"], "client_date")
        self.assertEqual(form.initial["offset"], 7)
        self.assertEqual(form.initial["anchor"], "vat_period_end")
        self.assertContains(r, "Quarterly VAT")

    def test_saving_changes_the_recurrence(self) -> None:
        r = self.client.post(self.url, vat_post(name="VAT returns", offset="10"))
        self.assertRedirects(r, self.url)
        self.recurrence.refresh_from_db()
        self.assertEqual(self.recurrence.name, "VAT returns")
        self.assertEqual(self.recurrence.schedule["offset"], 10)

    def test_pause_and_resume(self) -> None:
        self.client.post(reverse("sodium:recurrence-pause", args=[self.recurrence.pk]))
        self.recurrence.refresh_from_db()
        self.assertTrue(self.recurrence.paused)
        self.assertContains(self.client.get(self.url), "Paused: no tasks are created.")
        self.client.post(reverse("sodium:recurrence-resume", args=[self.recurrence.pk]))
        self.recurrence.refresh_from_db()
        self.assertFalse(self.recurrence.paused)

    def test_pause_refuses_get(self) -> None:
        r = self.client.get(reverse("sodium:recurrence-pause", args=[self.recurrence.pk]))
        self.assertEqual(r.status_code, 405)
        self.recurrence.refresh_from_db()
        self.assertFalse(self.recurrence.paused)

    def test_the_last_runs_skips_are_shown(self) -> None:
        Recurrence.objects.filter(pk=self.recurrence.pk).update(
            last_skips=[{"client": self.cole.pk, "name": "Cole & Sons", "reason": "no VAT periods"}]
        )
        self.assertContains(self.client.get(self.url), "Cole &amp; Sons: skipped: no VAT periods")


class ClientPageRecurringWorkTests(RecurrenceViewTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.vat = f.ServiceFactory(practice=self.practice, name="VAT returns")
        f.ClientServiceFactory(client=self.acme, service=self.vat)
        f.ClientServiceFactory(client=self.cole, service=self.vat)
        for data, chosen in (
            (vat_post(client_selection="service", service=str(self.vat.pk)), None),
            ({**MONTHLY_25TH, "name": "Bolt payroll", "client_selection": "chosen"}, self.bolt),
        ):
            if chosen:
                data["clients"] = [str(chosen.pk)]
            form = RecurrenceForm(data, practice=self.practice)
            self.assertTrue(form.is_valid(), form.errors)
            create_recurrence(
                practice=self.practice,
                actor=self.manager,
                clients=form.chosen_clients(),
                **form.fields_for_save(),
            )

    def test_it_shows_the_clients_recurring_work_and_next_dates(self) -> None:
        r = self.client.get(reverse("sodium:client-detail", args=[self.acme.pk]))
        self.assertContains(r, "Recurring work")
        self.assertContains(r, "Quarterly VAT")
        self.assertContains(r, "Every quarter 7 days after the last day of the client")
        self.assertContains(r, "Thu 7 Jan 2027")
        self.assertContains(r, "Oct–Dec 2026 · due 7 Feb 2027")
        self.assertNotContains(r, "Bolt payroll")  # chosen for Bolt only

    def test_a_client_missing_the_date_sees_why_it_is_skipped(self) -> None:
        r = self.client.get(reverse("sodium:client-detail", args=[self.cole.pk]))
        self.assertContains(r, "Skipped: no VAT periods.")

    def test_chosen_clients_see_their_recurrence_moved_off_christmas(self) -> None:
        r = self.client.get(reverse("sodium:client-detail", args=[self.bolt.pk]))
        self.assertContains(r, "Bolt payroll")
        self.assertContains(r, "moved from Fri 25 Dec 2026 (Christmas Day)")
        self.assertNotContains(r, "Quarterly VAT")

    def test_staff_see_the_work_without_editor_links(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(reverse("sodium:client-detail", args=[self.acme.pk]))
        self.assertContains(r, "Quarterly VAT")
        self.assertNotContains(r, reverse("sodium:recurrence-list"))

    def test_the_panel_costs_the_same_queries_for_more_recurrences(self) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        url = reverse("sodium:client-detail", args=[self.acme.pk])
        self.client.get(url)
        with CaptureQueriesContext(connection) as two:
            self.client.get(url)
        for n in range(3):
            form = RecurrenceForm(
                {**MONTHLY_25TH, "name": f"Extra {n}", "month_day": str(n + 1)},
                practice=self.practice,
            )
            self.assertTrue(form.is_valid(), form.errors)
            create_recurrence(practice=self.practice, actor=self.manager, **form.fields_for_save())
        with CaptureQueriesContext(connection) as five:
            r = self.client.get(url)
        self.assertContains(r, "Extra 2")
        self.assertEqual(len(five), len(two))


class OwnerRuleTests(RecurrenceViewTestCase):
    def test_a_task_cannot_be_owned_by_its_owner_or_a_team(self) -> None:
        from sodium.services.recurrences import RecurrenceInvalid

        for rule in ("task_owner", "task_team"):
            r = self.client.post(
                reverse("sodium:recurrence-create"), {**MONTHLY_25TH, "owner_rule": rule}
            )
            self.assertIn("owner_rule", r.context["form"].errors)
            with self.assertRaises(RecurrenceInvalid) as raised:
                create_recurrence(
                    practice=self.practice,
                    actor=self.manager,
                    name="x",
                    schedule={"kind": "calendar", "frequency": "daily", "start": "2026-12-01"},
                    task_name="x",
                    owner_rule=rule,
                )
            self.assertIn("owner_rule", raised.exception.message_dict)
        self.assertFalse(Recurrence.objects.filter(practice=self.practice).exists())


class CustomClientDateTests(RecurrenceViewTestCase):
    def test_another_client_date_is_offered_only_when_the_client_has_one(self) -> None:
        form = RecurrenceForm(practice=self.practice)
        self.assertNotIn("custom", [value for value, _ in form.fields["anchor"].choices])
        dates = [("incorporated_on", "Incorporated on")]
        with mock.patch("sodium.recurrence_forms.client_date_fields", return_value=dates):
            form = RecurrenceForm(practice=self.practice)
        self.assertIn("custom", [value for value, _ in form.fields["anchor"].choices])
        self.assertIn(("incorporated_on", "Incorporated on"), form.fields["date_field"].choices)
