"""My steps (open steps assigned to me or my teams, across tasks) and the managers' overview."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.test_focus_panel import HTMX, focus_url
from workflows import attach, building
from workflows.models import Step

MY_STEPS = reverse("workflows:my-steps")
OVERVIEW = reverse("workflows:overview")
TODAY = timezone.localdate


def make_steps(
    practice, owner, n: int, *, task_due: dt.date | None = None, client=None, name="Job"
):
    """A task due `task_due` with `n` ready simple steps assigned to `owner`."""
    with scopes_disabled():
        template = building.create_template(practice=practice, actor=owner, name=f"{name} template")
        group = template.groups.get()
        for i in range(n):
            building.add_step(
                group, actor=owner, name=f"{name} step {i}", type="simple", mode="manual"
            )
        task = f.TaskFactory(
            client=client or f.ClientFactory(practice=practice),
            owner=owner,
            name=name,
            due_date=task_due or TODAY() + dt.timedelta(days=10),
        )
        return attach.attach_template(task, template, actor=owner)


def set_step(step: Step, **fields) -> Step:
    with scopes_disabled():
        Step.objects.filter(pk=step.pk).update(**fields)
        step.refresh_from_db()
    return step


class MyStepsTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        p, staff = cls.practice, cls.staff
        today = TODAY()
        a = make_steps(p, staff, 5, task_due=today + dt.timedelta(days=20), name="VAT Q1")
        cls.ready = a[0]
        cls.in_progress = set_step(a[1], status="in_progress", sub_status="awaiting_response")
        cls.failed = set_step(a[2], status="failed", failure_reason="No address")
        cls.blocked = set_step(a[3], status="blocked")
        cls.done = set_step(a[4], status="done")
        b = make_steps(p, staff, 2, task_due=today + dt.timedelta(days=30), name="Payroll")
        # The step's own deadline wins over its task's due date: this one sorts first.
        cls.deadline = set_step(b[0], deadline=today - dt.timedelta(days=2))
        cls.late_task = b[1]
        cls.team = f.TeamFactory(practice=p, name="Accounts team")
        with scopes_disabled():
            cls.team.members.add(staff)
        c = make_steps(p, cls.manager, 2, task_due=today + dt.timedelta(days=5), name="Year end")
        cls.team_step = set_step(c[0], assignee=None, assignee_team=cls.team)
        cls.managers_step = c[1]
        other_team = f.TeamFactory(practice=p, name="Payroll team")
        cls.other_team_step = set_step(
            make_steps(p, cls.manager, 1, name="Other team job")[0],
            assignee=None,
            assignee_team=other_team,
        )

    def names(self, r) -> list[str]:
        return [s.name for s in r.context["page"].object_list]

    def test_it_lists_my_open_steps_and_my_teams_soonest_due_first(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(MY_STEPS)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(
            self.names(r),
            [
                "Payroll step 0",  # deadline two days ago
                "Year end step 0",  # team step, task due in 5 days
                "VAT Q1 step 0",
                "VAT Q1 step 1",
                "VAT Q1 step 2",
                "Payroll step 1",  # task due in 30 days
            ],
        )
        self.assertContains(r, "Team Accounts team")
        self.assertNotContains(r, "Other team job")
        self.assertNotContains(r, "Year end step 1")  # the manager's own

    def test_it_sorts_latest_due_first(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(MY_STEPS, {"sort": "-due"})
        self.assertEqual(self.names(r)[0], "Payroll step 1")
        self.assertEqual(self.names(r)[-1], "Payroll step 0")
        self.assertContains(r, 'aria-sort="descending"')

    def test_it_filters_by_status(self) -> None:
        self.client.force_login(self.staff)
        for status, expected in (
            ("failed", ["VAT Q1 step 2"]),
            ("in_progress", ["VAT Q1 step 1"]),
            ("blocked", ["VAT Q1 step 3"]),
        ):
            with self.subTest(status=status):
                self.assertEqual(
                    self.names(self.client.get(MY_STEPS, {"status": status})), expected
                )
        everything = self.names(self.client.get(MY_STEPS, {"status": "all"}))
        self.assertIn("VAT Q1 step 3", everything)
        self.assertNotIn("VAT Q1 step 4", everything)  # done
        self.assertEqual(len(self.names(self.client.get(MY_STEPS, {"status": "nonsense"}))), 6)

    def test_each_row_opens_the_focus_panel_and_shows_status_and_due_date(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(MY_STEPS)
        task = self.in_progress.task
        self.assertContains(
            r, f'href="{reverse("sodium:task-detail", args=[task.pk])}" hx-get="{focus_url(task)}"'
        )
        self.assertContains(r, '<span class="chip chip-sub">Awaiting response</span>')
        self.assertContains(r, '<div id="focus-panel" class="focus-host"></div>')
        html = r.content.decode()
        row = html[html.index(f'id="my-step-{self.deadline.pk}"') :]
        row = row[: row.index("</tr>")]
        # Overdue in words and in the danger colour, and whose date it is (the step's own).
        self.assertIn("chip-due-overdue", row)
        self.assertRegex(row, r">Overdue \d+ days?<")
        self.assertIn("· this step", row)

    def test_it_returns_only_the_table_for_htmx_and_refreshes_on_panel_actions(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(MY_STEPS, {"status": "failed"}, headers=HTMX)
        self.assertNotContains(r, "<html")
        self.assertContains(r, 'id="my-steps-table"')
        self.assertContains(r, 'hx-trigger="task-progress from:body"')
        self.assertContains(r, 'hx-get="/workflows/my-steps/?status=failed"')
        self.assertIn("HX-Request", r["Vary"])

    def test_it_paginates(self) -> None:
        make_steps(self.practice, self.staff, 30, name="Big job")
        self.client.force_login(self.staff)
        r = self.client.get(MY_STEPS)
        self.assertEqual(len(self.names(r)), 25)
        self.assertContains(r, "Page 1 of 2")
        self.assertEqual(len(self.names(self.client.get(MY_STEPS, {"page": 2}))), 11)

    def test_someone_with_nothing_to_do_sees_an_empty_state(self) -> None:
        self.client.force_login(self.admin)
        self.assertContains(self.client.get(MY_STEPS), "Nothing to do here")

    def test_it_never_shows_another_practices_steps(self) -> None:
        self.client.force_login(self.outsider)
        r = self.client.get(MY_STEPS, {"status": "all"})
        self.assertEqual(self.names(r), [])


class MyStepsQueryCountTests(BaseTestCase):
    def test_it_runs_the_same_queries_for_3_and_30_rows(self) -> None:
        team = f.TeamFactory(practice=self.practice)
        team.members.add(self.staff)
        self.client.force_login(self.staff)
        make_steps(self.practice, self.staff, 3)
        with CaptureQueriesContext(connection) as small:
            r = self.client.get(MY_STEPS)
        self.assertEqual(len(r.context["page"].object_list), 3)
        steps = make_steps(self.practice, self.manager, 27)
        Step.objects.filter(pk__in=[s.pk for s in steps]).update(assignee=None, assignee_team=team)
        with self.assertNumQueries(len(small)):
            r = self.client.get(MY_STEPS)
        self.assertEqual(len(r.context["page"].object_list), 25)


class OverviewTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        p, today = cls.practice, TODAY()
        late = make_steps(p, cls.staff, 3, task_due=today - dt.timedelta(days=10), name="Late job")
        cls.oldest = late[0]
        set_step(late[1], status="done")
        cls.late_blocked = set_step(late[2], status="blocked")
        soon = make_steps(
            p, cls.manager, 2, task_due=today + dt.timedelta(days=10), name="Soon job"
        )
        cls.past_deadline = set_step(soon[0], deadline=today - dt.timedelta(days=3))
        cls.on_time = soon[1]
        now = timezone.now()
        waiting = make_steps(p, cls.staff, 3, name="Client job")
        cls.waiting_long = set_step(
            waiting[0],
            status="in_progress",
            sub_status="awaiting_response",
            type="client_confirmation",
            started_at=now - dt.timedelta(days=9),
            chase_count=2,
        )
        cls.waiting_short = set_step(
            waiting[1],
            status="in_progress",
            sub_status="rejected",
            type="document_request",
            started_at=now - dt.timedelta(days=1),
        )
        cls.submitted = set_step(
            waiting[2],
            status="in_progress",
            sub_status="submitted",
            type="document_request",
            started_at=now - dt.timedelta(days=20),
        )

    def test_managers_see_overdue_steps_oldest_first(self) -> None:
        self.client.force_login(self.manager)
        r = self.client.get(OVERVIEW)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(
            [s.name for s in r.context["overdue"]],
            ["Late job step 0", "Late job step 2", "Soon job step 0"],
        )
        self.assertEqual(r.context["overdue_total"], 3)
        self.assertContains(r, "10 days late")
        self.assertContains(r, self.staff.full_name)

    def test_managers_see_steps_due_today_apart_from_the_overdue(self) -> None:
        today = TODAY()
        own = make_steps(self.practice, self.staff, 2, name="Today job")
        set_step(own[0], deadline=today)  # its own deadline is today
        set_step(own[1], deadline=today + dt.timedelta(days=1))  # tomorrow: not listed
        of_task = make_steps(self.practice, self.manager, 1, task_due=today, name="Task today")
        done = make_steps(self.practice, self.staff, 1, name="Done today")
        set_step(done[0], deadline=today, status="done")
        self.client.force_login(self.manager)
        r = self.client.get(OVERVIEW)
        self.assertEqual(
            sorted(s.name for s in r.context["due_today"]), [of_task[0].name, own[0].name]
        )
        self.assertEqual(r.context["due_today_total"], 2)
        self.assertNotIn(own[0].name, [s.name for s in r.context["overdue"]])
        section = r.content.decode().split('id="overview-today"')[1].split("</section>")[0]
        self.assertIn('<span class="chip chip-due chip-due-today">Due today</span>', section)
        self.assertIn("this step", section)
        self.assertIn("the task", section)

    def test_managers_see_what_awaits_clients_longest_first(self) -> None:
        self.client.force_login(self.manager)
        r = self.client.get(OVERVIEW)
        # Submitted documents wait for us, not for the client.
        self.assertEqual(
            [s.name for s in r.context["waiting"]], ["Client job step 0", "Client job step 1"]
        )
        self.assertContains(r, "chased 2×")
        self.assertContains(r, "9 days")

    def test_staff_may_not_see_it(self) -> None:
        for user in (self.staff, self.ar_specialist):
            self.client.force_login(user)
            self.assertEqual(self.client.get(OVERVIEW).status_code, 403)

    def test_the_nav_links_it_for_managers_only(self) -> None:
        self.client.force_login(self.manager)
        r = self.client.get(MY_STEPS)
        self.assertContains(r, f'href="{OVERVIEW}"')
        self.assertContains(r, f'href="{MY_STEPS}" aria-current="page">My steps')
        self.client.force_login(self.staff)
        self.assertNotContains(self.client.get(MY_STEPS), f'href="{OVERVIEW}"')

    def test_it_runs_the_same_queries_whatever_the_rows(self) -> None:
        self.client.force_login(self.manager)
        with CaptureQueriesContext(connection) as small:
            self.client.get(OVERVIEW)
        today = TODAY()
        make_steps(self.practice, self.staff, 20, task_due=today - dt.timedelta(days=1))
        make_steps(self.practice, self.staff, 20, name="More")
        Step.objects.filter(task__name="More").update(
            status="in_progress", sub_status="awaiting_response", started_at=timezone.now()
        )
        with self.assertNumQueries(len(small)):
            r = self.client.get(OVERVIEW)
        self.assertEqual(r.context["overdue_total"], 23)
        self.assertEqual(r.context["waiting_total"], 22)
        make_steps(self.practice, self.staff, 20, task_due=today, name="Today")
        with self.assertNumQueries(len(small)):
            r = self.client.get(OVERVIEW)
        self.assertEqual(r.context["due_today_total"], 20)
