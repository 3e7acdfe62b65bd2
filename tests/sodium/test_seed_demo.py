from __future__ import annotations

from io import StringIO

from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone
from django_scopes import scopes_disabled

from sodium import demo, demo_recurring, recurring
from sodium.models import (
    ActivityEvent,
    Client,
    Contact,
    Membership,
    Practice,
    Recurrence,
    Service,
    Tag,
    Task,
    Team,
)
from sodium.roles import Role
from sodium.schedules import client_dates
from sodium.schedules.practice import today_for, working_calendar
from sodium.schedules.rules import schedule_from_json
from sodium.schedules.working_days import Rule
from workflows.models import Step, WorkflowTemplate


class SeedDemoTests(TestCase):
    """`seed_demo` once for the class (building the demo is most of its time)."""

    @classmethod
    def setUpTestData(cls) -> None:
        out = StringIO()
        call_command("seed_demo", stdout=out)
        cls.output = out.getvalue()

    def test_it_builds_a_realistic_practice_and_says_how_to_sign_in(self) -> None:
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
        self.assertIn(demo.DEMO_MANAGER_EMAIL, self.output)
        self.assertIn(demo.DEMO_PASSWORD, self.output)
        manager = Membership.objects.with_scopes_disabled().get(
            practice=practice, user__email=demo.DEMO_MANAGER_EMAIL
        )
        self.assertEqual(manager.role, Role.MANAGER)

    def test_running_it_again_changes_nothing(self) -> None:
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
        # Through the sign-in form: django-axes wants the request that authenticate() gets.
        r = self.client.post(
            "/sign-in/", {"username": demo.DEMO_MANAGER_EMAIL, "password": demo.DEMO_PASSWORD}
        )
        self.assertRedirects(r, "/", fetch_redirect_response=False)
        r = self.client.get("/clients/")
        self.assertContains(r, "Hartley &amp; Finch")
        self.assertEqual(r.context["page"].paginator.count, 42)

    def test_every_demo_person_signs_in_with_the_password_alone(self) -> None:
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

    def test_every_demo_year_end_is_a_real_date(self) -> None:
        import calendar

        with scopes_disabled():
            for day, month in Client.objects.values_list("year_end_day", "year_end_month"):
                self.assertLessEqual(day, calendar.monthrange(2023, month)[1], (day, month))


class DemoRecurrencesTests(TestCase):
    """The demo's recurrences, a year back: each past period's task once, history done through
    the engine, and work still coming up (sodium/demo_recurring.py, workflows/demo.py)."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.practice = demo.build_demo()

    def setUp(self) -> None:
        scopes = scopes_disabled()
        scopes.__enter__()
        self.addCleanup(scopes.__exit__, None, None, None)
        self.today = today_for(self.practice)
        self.recurrences = {r.name: r for r in Recurrence.objects.filter(practice=self.practice)}

    def recurring_tasks(self, name: str):
        return Task.objects.filter(practice=self.practice, recurrence=self.recurrences[name])

    def test_vat_accounts_payroll_and_confirmation_statements_recur(self) -> None:
        templates = dict(
            WorkflowTemplate.objects.filter(practice=self.practice).values_list("pk", "name")
        )
        expected = {
            # name: (anchor or frequency, working-day rule, due rule, template)
            demo_recurring.VAT: ("vat_period_end", "after", "vat_return", "VAT return"),
            demo_recurring.ACCOUNTS: ("year_end", "after", "accounts", "Year-end accounts"),
            demo_recurring.PAYROLL: ("monthly", "before", "offset", "Monthly payroll"),
            demo_recurring.CONFIRMATION_STATEMENTS: (
                "confirmation_statement_due",
                "none",
                "confirmation_statement",
                None,
            ),
        }
        self.assertEqual(set(self.recurrences), set(expected))
        for name, (when, rule, due, template) in expected.items():
            with self.subTest(name=name):
                r = self.recurrences[name]
                self.assertEqual(r.schedule.get("anchor") or r.schedule.get("frequency"), when)
                self.assertEqual((r.working_day_rule, r.due_rule), (rule, due))
                self.assertEqual(templates.get(r.workflow_template_id), template)
                self.assertFalse(r.paused)
                self.assertTrue(self.recurring_tasks(name).exists())
        self.assertEqual(self.recurrences[demo_recurring.PAYROLL].schedule["month_day"], 25)
        self.assertEqual(self.recurrences[demo_recurring.VAT].tag.name, "VAT registered")

    def test_every_vat_client_has_one_task_for_each_vat_period_of_the_year(self) -> None:
        vat = self.recurrences[demo_recurring.VAT]
        schedule = schedule_from_json(vat.schedule)
        since = today_for(self.practice, vat.created_at)
        self.assertLessEqual(since, client_dates.months_after(self.today, -12))
        clients = Client.objects.filter(practice=self.practice, tags__name="VAT registered")
        self.assertGreater(clients.count(), 20)
        for client in clients:
            with self.subTest(client=client.name):
                periods = [
                    o.anchor
                    for o in schedule.occurrences(
                        since,
                        self.today + relativedelta(days=1),
                        rule=Rule(vat.working_day_rule),
                        calendar=working_calendar(self.practice),
                        client=client,
                    )
                ]
                self.assertGreaterEqual(len(periods), 1 if client.vat_periods == "annual" else 4)
                made = list(
                    self.recurring_tasks(demo_recurring.VAT)
                    .filter(client=client, start_date__lte=self.today)
                    .order_by("period_end")
                    .values_list("period_end", flat=True)
                )
                self.assertEqual(made, periods)  # each past period once: none missing, no twin

    def test_history_is_done_through_the_engine_and_upcoming_work_is_planned(self) -> None:
        tasks = Task.objects.filter(practice=self.practice, recurrence__isnull=False)
        long_past = tasks.filter(due_date__lt=self.today - demo_recurring.SETTLED_AFTER)
        self.assertGreater(long_past.count(), 100)
        self.assertFalse(long_past.exclude(status=Task.Status.DONE).exists())
        started = tasks.filter(start_date__lte=self.today).exclude(pk__in=long_past)
        self.assertTrue(started.exists())
        self.assertFalse(started.exclude(status=Task.Status.IN_PROGRESS).exists())
        upcoming = tasks.filter(start_date__gt=self.today)
        self.assertTrue(upcoming.exists(), "some recurring work is coming up")
        self.assertFalse(upcoming.exclude(status=Task.Status.PLANNED).exists())
        # Each done task went planned → in progress → done, each move an event.
        done = long_past.values_list("pk", flat=True)
        moves = ActivityEvent.objects.filter(task__in=done, verb="task.status")
        self.assertEqual(moves.count(), 2 * len(done))
        # Finished history keeps no workflow; current and upcoming VAT work runs one.
        self.assertFalse(Step.objects.filter(task__in=done).exists())
        open_vat = self.recurring_tasks(demo_recurring.VAT).exclude(status=Task.Status.DONE)
        self.assertTrue(open_vat.exists())
        self.assertFalse(open_vat.filter(steps__isnull=True).exists())

    def test_companies_have_a_review_date_and_their_statements_fall_due_14_days_after(
        self,
    ) -> None:
        companies = Client.objects.filter(
            practice=self.practice, type__in=[Client.Type.LIMITED_COMPANY, Client.Type.LLP]
        )
        self.assertFalse(companies.filter(confirmation_statement_date__isnull=True).exists())
        statements = self.recurring_tasks(demo_recurring.CONFIRMATION_STATEMENTS)
        self.assertTrue(statements.exists())
        for task in statements:
            self.assertEqual(
                task.due_date, client_dates.confirmation_statement_due_date(task.period_end)
            )

    def test_the_next_sweep_creates_nothing_more(self) -> None:
        before = Task.objects.filter(practice=self.practice).count()
        self.assertEqual(recurring.generate_due(self.practice, timezone.now()), 0)
        self.assertEqual(Task.objects.filter(practice=self.practice).count(), before)
