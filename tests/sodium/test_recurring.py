"""Recurring tasks: generation from the sweep, once per client and period, whatever the clock."""

from __future__ import annotations

import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sodium import recurring, timers
from sodium.models import Recurrence, RecurrenceOccurrence, Task
from sodium.services.recurrences import (
    RecurrenceInvalid,
    create_recurrence,
    pause_recurrence,
    resume_recurrence,
    update_recurrence,
)
from tests import factories as f
from tests.base import BaseTestCase

LONDON = ZoneInfo("Europe/London")
VAT = {"kind": "client_date", "anchor": "vat_period_end", "offset": 1, "unit": "days"}
MONTHLY_1ST = {"kind": "calendar", "frequency": "monthly", "start": "2026-01-01", "month_day": 1}


def at(day: str, hour: int = 6) -> dt.datetime:
    """A moment on `day` in London (the sweep's `now`)."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=LONDON)


class RecurringTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.vat = f.ServiceFactory(practice=self.practice, name="VAT returns")
        self.acme = f.ClientFactory(
            practice=self.practice, name="Acme Ltd", vat_periods="q_mar", client_manager=self.staff
        )
        self.bolt = f.ClientFactory(practice=self.practice, name="Bolt Ltd", vat_periods="q_apr")
        for client in (self.acme, self.bolt):
            f.ClientServiceFactory(client=client, service=self.vat)

    def vat_recurrence(self, *, now: dt.datetime, **fields) -> Recurrence:
        values = {
            "name": "Quarterly VAT",
            "service": self.vat,
            "schedule": VAT,
            "task_name": "{{ client.name }} VAT {{ period.label }}",
            "lead_days": 0,
            "due_rule": Recurrence.DueRule.VAT_RETURN,
            "client_selection": Recurrence.Clients.SERVICE,
        }
        values.update(fields)
        return create_recurrence(practice=self.practice, actor=self.manager, now=now, **values)

    def tasks(self, recurrence: Recurrence) -> list[tuple[str, str, dt.date]]:
        return sorted(
            (t.client.name, t.period_label, t.start_date)
            for t in Task.objects.filter(recurrence=recurrence).select_related("client")
        )


class GenerationTests(RecurringTestCase):
    def test_it_creates_each_clients_period_with_name_dates_owner_and_period(self) -> None:
        recurrence = self.vat_recurrence(now=at("2026-06-20"))
        recurring.generate_due(self.practice, at("2026-07-02"))
        task = Task.objects.get(recurrence=recurrence, client=self.acme)
        self.assertEqual(task.name, "Acme Ltd VAT Apr–Jun 2026")
        self.assertEqual(task.start_date, dt.date(2026, 7, 1))
        self.assertEqual(task.due_date, dt.date(2026, 8, 7))  # one month and seven days
        self.assertEqual(
            (task.period_start, task.period_end), (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
        )
        self.assertEqual(task.owner, self.staff)  # the client manager
        self.assertEqual(task.service, self.vat)
        self.assertFalse(Task.objects.filter(recurrence=recurrence, client=self.bolt).exists())

    def test_running_twice_creates_the_same_tasks(self) -> None:
        recurrence = self.vat_recurrence(now=at("2026-06-20"))
        recurring.generate_due(self.practice, at("2026-08-02"))
        first = self.tasks(recurrence)
        recurrence.refresh_from_db()
        recurrence.next_run_at = at("2026-08-01")  # force it due again
        recurrence.save(update_fields=["next_run_at"])
        recurring.generate_due(self.practice, at("2026-08-02"))
        recurring.generate_due(self.practice, at("2026-08-02"))
        self.assertEqual(self.tasks(recurrence), first)
        self.assertEqual(len(first), 2)  # Acme's Apr–Jun, Bolt's May–Jul

    def test_after_a_40_day_outage_each_missed_period_is_created_once(self) -> None:
        recurrence = self.vat_recurrence(
            now=at("2026-01-01"),
            schedule={
                "kind": "calendar",
                "frequency": "weekly",
                "start": "2026-01-05",
                "weekdays": ["mo"],
            },
            due_rule=Recurrence.DueRule.OFFSET,
            due_offset=4,
            task_name="{{ client.name }} bookkeeping {{ period.label }}",
        )
        recurring.generate_due(self.practice, at("2026-01-05"))
        self.assertEqual(len(self.tasks(recurrence)), 2)
        # The clock jumps 40 days: the sweep never ran in between.
        recurring.generate_due(self.practice, at("2026-02-14"))
        mondays = sorted({start for _, _, start in self.tasks(recurrence)})
        self.assertEqual(mondays[0], dt.date(2026, 1, 5))
        self.assertEqual(mondays[-1], dt.date(2026, 2, 9))
        self.assertEqual(len(mondays), 6)
        self.assertEqual(len(self.tasks(recurrence)), 12)  # each Monday once for each client
        recurring.generate_due(self.practice, at("2026-02-14", 23))
        self.assertEqual(len(self.tasks(recurrence)), 12)

    def test_lead_time_creates_the_task_days_before_it_starts(self) -> None:
        recurrence = self.vat_recurrence(now=at("2026-06-01"), lead_days=5)
        recurring.generate_due(self.practice, at("2026-06-25"))
        self.assertEqual(self.tasks(recurrence), [])
        recurring.generate_due(self.practice, at("2026-06-26"))
        self.assertEqual(
            self.tasks(recurrence), [("Acme Ltd", "Apr–Jun 2026", dt.date(2026, 7, 1))]
        )
        # Bolt's May–Jul period starts 1 August: created on 27 July, not before.
        recurring.generate_due(self.practice, at("2026-07-26", 23))
        self.assertEqual(len(self.tasks(recurrence)), 1)
        recurring.generate_due(self.practice, at("2026-07-27", 0))
        self.assertEqual(len(self.tasks(recurrence)), 2)

    def test_an_idle_sweep_costs_the_same_queries_for_any_number_of_recurrences(self) -> None:
        self.vat_recurrence(now=at("2026-06-01"))
        recurring.generate_due(None, at("2026-06-02"))

        def idle_queries() -> int:
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(recurring.generate_due(None, at("2026-06-03")), 0)
            return len(queries)

        one = idle_queries()
        for n in range(5):
            self.vat_recurrence(now=at("2026-06-01"), name=f"VAT {n}")
        recurring.generate_due(None, at("2026-06-02"))
        self.assertEqual(idle_queries(), one)
        self.assertLessEqual(one, 3)

    def test_the_timer_sweep_runs_generation(self) -> None:
        recurrence = self.vat_recurrence(now=at("2026-06-20"))
        timers.sweep(at("2026-07-02"))
        self.assertEqual(len(self.tasks(recurrence)), 1)


class SelectionTests(RecurringTestCase):
    def test_a_client_added_to_the_tag_later_is_picked_up_at_the_next_generation(self) -> None:
        tag = f.TagFactory(practice=self.practice, name="Payroll")
        self.acme.tags.add(tag)
        recurrence = self.vat_recurrence(
            now=at("2026-01-01"),
            schedule=MONTHLY_1ST,
            client_selection=Recurrence.Clients.TAG,
            tag=tag,
            working_day_rule="after",
            due_rule=Recurrence.DueRule.OFFSET,
            due_offset=1,
            due_unit="weeks",
            task_name="{{ client.name }} payroll {{ period.label }}",
        )
        recurring.generate_due(self.practice, at("2026-01-02"))
        self.assertEqual(
            self.tasks(recurrence), [("Acme Ltd", "January 2026", dt.date(2026, 1, 2))]
        )
        self.bolt.tags.add(tag)
        recurring.generate_due(self.practice, at("2026-02-02"))
        # Bolt joins from February; January is not back-filled for it. 1 February is a
        # Sunday, moved to the working day after (1 January, a bank holiday, to the 2nd).
        self.assertEqual(
            self.tasks(recurrence),
            [
                ("Acme Ltd", "February 2026", dt.date(2026, 2, 2)),
                ("Acme Ltd", "January 2026", dt.date(2026, 1, 2)),
                ("Bolt Ltd", "February 2026", dt.date(2026, 2, 2)),
            ],
        )

    def test_a_client_without_a_year_end_is_skipped_with_a_reason(self) -> None:
        nobody = f.ClientFactory(
            practice=self.practice, name="No Date Ltd", year_end_day=None, year_end_month=None
        )
        recurrence = self.vat_recurrence(
            now=at("2026-03-01"),
            schedule={"kind": "client_date", "anchor": "year_end", "offset": 1, "unit": "days"},
            client_selection=Recurrence.Clients.ALL,
            due_rule=Recurrence.DueRule.ACCOUNTS,
            task_name="{{ client.name }} accounts {{ period.label }}",
        )
        recurring.generate_due(self.practice, at("2026-04-02"))
        recurrence.refresh_from_db()
        self.assertIn(
            {"client": nobody.pk, "name": "No Date Ltd", "reason": "no year end"},
            recurrence.last_skips,
        )
        task = Task.objects.get(recurrence=recurrence, client=self.acme)
        self.assertEqual(task.period_label, "year to 31 March 2026")
        self.assertEqual(task.due_date, dt.date(2026, 12, 31))
        self.assertFalse(Task.objects.filter(recurrence=recurrence, client=nobody).exists())


class LifecycleTests(RecurringTestCase):
    def weekly(self, **fields) -> Recurrence:
        return self.vat_recurrence(
            now=at("2026-01-01"),
            schedule={
                "kind": "calendar",
                "frequency": "weekly",
                "start": "2026-01-05",
                "weekdays": ["mo"],
                **fields,
            },
            due_rule=Recurrence.DueRule.NONE,
            client_selection=Recurrence.Clients.CHOSEN,
            task_name="Bookkeeping {{ period.label }}",
        )

    def test_pause_creates_nothing_and_resume_carries_on_from_today(self) -> None:
        recurrence = self.weekly()
        recurrence.clients.set([self.acme])
        recurring.generate_due(self.practice, at("2026-01-05"))
        pause_recurrence(recurrence, actor=self.manager)
        recurring.generate_due(self.practice, at("2026-01-27"))
        self.assertEqual(len(self.tasks(recurrence)), 1)
        resume_recurrence(recurrence, actor=self.manager, now=at("2026-01-28"))
        recurring.generate_due(self.practice, at("2026-02-02"))
        starts = sorted(start for _, _, start in self.tasks(recurrence))
        # The Mondays while paused (12, 19, 26 January) are not created.
        self.assertEqual(starts, [dt.date(2026, 1, 5), dt.date(2026, 2, 2)])

    def test_it_ends_after_n_occurrences(self) -> None:
        recurrence = self.weekly(count=3)
        recurrence.clients.set([self.acme])
        recurring.generate_due(self.practice, at("2026-03-01"))
        self.assertEqual(len(self.tasks(recurrence)), 3)
        recurrence.refresh_from_db()
        self.assertIsNone(recurrence.next_run_at)

    def test_editing_changes_the_next_generation_only(self) -> None:
        recurrence = self.weekly()
        recurrence.clients.set([self.acme])
        recurring.generate_due(self.practice, at("2026-01-05"))
        update_recurrence(
            recurrence,
            actor=self.manager,
            task_name="Books {{ period.label }}",
            now=at("2026-01-06"),
        )
        recurring.generate_due(self.practice, at("2026-01-12"))
        names = list(Task.objects.filter(recurrence=recurrence).values_list("name", flat=True))
        self.assertEqual(
            names, ["Bookkeeping week of 5 January 2026", "Books week of 12 January 2026"]
        )

    def test_a_period_another_sweep_made_is_not_made_again(self) -> None:
        recurrence = self.weekly()
        recurrence.clients.set([self.acme])
        RecurrenceOccurrence.objects.create(
            practice=self.practice, recurrence=recurrence, client=self.acme, period_key="2026-01-05"
        )
        # This sweep read the done periods before the other one committed its row.
        with mock.patch.object(recurring.RecurrenceOccurrence.objects, "filter") as done:
            done.return_value.values_list.return_value = []
            recurring.generate_due(self.practice, at("2026-01-05"))
        self.assertEqual(self.tasks(recurrence), [])
        self.assertEqual(RecurrenceOccurrence.objects.filter(recurrence=recurrence).count(), 1)
        recurrence.refresh_from_db()  # the lost race is no failure: the run went through
        self.assertEqual(recurrence.last_skips, [])
        self.assertEqual(recurrence.generated_until, dt.date(2026, 1, 5))


class ValidationTests(RecurringTestCase):
    def test_a_task_name_that_does_not_render_is_a_field_error(self) -> None:
        for bad in ("{{ client.name", "{{ client.nickname }}", "{% for x in %}", "  "):
            with self.subTest(bad=bad), self.assertRaises(RecurrenceInvalid) as caught:
                self.vat_recurrence(now=at("2026-01-01"), task_name=bad)
            self.assertIn("task_name", caught.exception.message_dict)
        self.assertFalse(Recurrence.objects.exists())

    def test_a_schedule_that_never_fires_is_a_field_error(self) -> None:
        with self.assertRaises(RecurrenceInvalid) as caught:
            self.vat_recurrence(
                now=at("2026-01-01"),
                schedule={**MONTHLY_1ST, "end": "2025-01-01"},
                due_rule=Recurrence.DueRule.NONE,
            )
        self.assertIn("schedule", caught.exception.message_dict)

    def test_a_statutory_deadline_needs_its_anchor(self) -> None:
        with self.assertRaises(RecurrenceInvalid) as caught:
            self.vat_recurrence(now=at("2026-01-01"), schedule=MONTHLY_1ST)
        self.assertIn("due_rule", caught.exception.message_dict)

    def test_a_good_recurrence_saves_and_is_due_at_the_next_sweep(self) -> None:
        recurrence = self.vat_recurrence(now=at("2026-01-01"))
        self.assertEqual(recurrence.next_run_at, at("2026-01-01"))
        self.assertEqual(recurrence.generated_until, dt.date(2025, 12, 31))

    def test_model_validation_gives_the_same_field_errors(self) -> None:
        from django.core.exceptions import ValidationError

        recurrence = Recurrence(
            practice=self.practice,
            name="Payroll",
            schedule=MONTHLY_1ST,
            task_name="{{ client.name | shout }}",
            due_rule=Recurrence.DueRule.NONE,
            client_selection=Recurrence.Clients.ALL,
        )
        with self.assertRaises(ValidationError) as caught:
            recurrence.full_clean()
        self.assertEqual(list(caught.exception.message_dict), ["task_name"])
        recurrence.task_name = "{{ client.name }} payroll"
        recurrence.full_clean()

    def test_another_practices_owner_tag_or_service_is_a_field_error(self) -> None:
        theirs = {
            "owner": {"owner_rule": Recurrence.OwnerRule.SPECIFIC, "owner": self.outsider},
            "tag": {
                "client_selection": Recurrence.Clients.TAG,
                "tag": f.TagFactory(practice=self.other_practice),
            },
            "service": {"service": f.ServiceFactory(practice=self.other_practice)},
        }
        for field, values in theirs.items():
            with self.subTest(field=field), self.assertRaises(RecurrenceInvalid) as caught:
                self.vat_recurrence(now=at("2026-01-01"), **values)
            self.assertIn(field, caught.exception.message_dict)
        ours = self.vat_recurrence(
            now=at("2026-01-01"), owner_rule=Recurrence.OwnerRule.SPECIFIC, owner=self.staff
        )
        self.assertEqual(ours.owner, self.staff)


class RobustnessTests(RecurringTestCase):
    def test_all_clients_means_the_practices_own_clients(self) -> None:
        recurrence = self.vat_recurrence(
            now=at("2026-06-20"), client_selection=Recurrence.Clients.ALL
        )
        self.other_client.vat_periods = "q_mar"
        self.other_client.save(update_fields=["vat_periods"])
        recurring.generate_due(None, at("2026-07-02"))
        self.assertEqual(
            self.tasks(recurrence), [("Acme Ltd", "Apr–Jun 2026", dt.date(2026, 7, 1))]
        )
        self.assertFalse(Task.objects.filter(client=self.other_client).exists())

    def test_a_broken_recurrence_does_not_stop_the_others(self) -> None:
        broken = self.vat_recurrence(now=at("2026-06-20"), name="Broken")
        working = self.vat_recurrence(now=at("2026-06-20"), name="Working")
        original = recurring.generate

        def generate(recurrence, now):
            if recurrence.pk == broken.pk:
                raise RuntimeError("boom")
            return original(recurrence, now)

        with mock.patch.object(recurring, "generate", side_effect=generate):
            recurring.generate_due(None, at("2026-07-02"))
        self.assertEqual(len(self.tasks(working)), 1)
        self.assertEqual(self.tasks(broken), [])
        broken.refresh_from_db()
        self.assertEqual(broken.next_run_at, at("2026-07-02", 7))  # tried again in an hour

    def test_a_stored_schedule_that_no_longer_reads_is_recorded_not_raised(self) -> None:
        recurrence = self.vat_recurrence(now=at("2026-06-20"))
        Recurrence.objects.filter(pk=recurrence.pk).update(schedule={"kind": "lunar"})
        recurring.generate_due(None, at("2026-07-02"))
        recurrence.refresh_from_db()
        self.assertIsNone(recurrence.next_run_at)
        self.assertIn("schedule", recurrence.last_skips[0]["reason"])
        self.assertEqual(self.tasks(recurrence), [])


class TaskNameVariablesTests(RecurringTestCase):
    def test_every_variable_of_the_use_is_filled(self) -> None:
        from sodium.messaging.variables import variables_of

        recurrence = self.vat_recurrence(now=at("2026-06-20"))
        period = recurring.Period(dt.date(2026, 4, 1), dt.date(2026, 6, 30), "Apr–Jun 2026")
        context = recurring.task_name_context(recurrence, self.acme, period, dt.date(2026, 7, 1))
        for var in variables_of(recurring.TASK_NAME_USE):
            with self.subTest(path=var.path):
                node = context
                for part in var.path.split("."):
                    self.assertIn(part, node)
                    node = node[part]
        self.assertEqual(context["service"]["name"], "VAT returns")
        self.assertEqual(context["period"]["end"], "30 June 2026")


class TaskPageTests(RecurringTestCase):
    def test_the_task_page_shows_the_recurrence_and_period_it_came_from(self) -> None:
        recurrence = self.vat_recurrence(now=at("2026-06-20"))
        recurring.generate_due(self.practice, at("2026-07-02"))
        task = Task.objects.get(recurrence=recurrence, client=self.acme)
        self.client.force_login(self.manager)
        response = self.client.get(reverse("sodium:task-detail", args=[task.pk]))
        self.assertContains(response, "<dt>Repeats</dt><dd>Quarterly VAT</dd>", html=True)
        self.assertContains(response, "Apr–Jun 2026")
        self.assertContains(response, "1 Apr 2026 – 30 Jun 2026")

    def test_a_task_made_by_hand_shows_no_recurrence(self) -> None:
        task = f.TaskFactory(practice=self.practice, client=self.acme)
        self.client.force_login(self.manager)
        response = self.client.get(reverse("sodium:task-detail", args=[task.pk]))
        self.assertNotContains(response, "Repeats")
