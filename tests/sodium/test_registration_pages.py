"""What workflows registers on the core's pages: its steps in My work (/work/), the client
page's workflow progress and the dashboard's "Steps waiting on you"; each page costs the same
number of queries however many steps there are (no N+1)."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.test_focus_panel import HTMX, focus_url
from tests.workflows.test_my_steps import make_steps, set_step

WORK = reverse("sodium:my-work")


def queries_of(test, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        test.assertEqual(test.client.get(url).status_code, 200)
    return len(ctx.captured_queries)


class MyWorkTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        today = timezone.localdate()
        cls.acme = f.ClientFactory(practice=cls.practice, name="Acme Ltd")
        steps = make_steps(
            cls.practice, cls.staff, 3, client=cls.acme, name="VAT Q1",
            task_due=today + dt.timedelta(days=3),
        )  # fmt: skip
        cls.waiting = set_step(steps[1], status="in_progress", sub_status="awaiting_response")
        cls.failed = set_step(steps[2], status="failed", failure_reason="No address")
        cls.late = set_step(
            make_steps(cls.practice, cls.staff, 1, name="Payroll")[0],
            deadline=today - dt.timedelta(days=1),
        )
        make_steps(cls.practice, cls.manager, 2, name="Not mine")

    def test_it_lists_my_open_steps_soonest_due_first_with_status_words_and_colour(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(WORK)
        items = list(r.context["page"].object_list)
        self.assertEqual(
            [i.title for i in items],
            ["Payroll step 0", "VAT Q1 step 0", "VAT Q1 step 1", "VAT Q1 step 2"],
        )
        self.assertContains(r, '<span class="chip chip-tone-warn">In progress: awaiting response')
        self.assertContains(r, '<span class="chip chip-tone-danger">Failed</span>')
        self.assertContains(r, "overdue")
        self.assertNotContains(r, "Not mine")

    def test_each_step_opens_its_task_in_the_focus_panel_with_a_page_to_fall_back_on(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(WORK)
        task = self.waiting.task
        self.assertContains(
            r,
            f'href="{reverse("sodium:task-detail", args=[task.pk])}" '
            f'hx-get="{focus_url(task)}" hx-target="#focus-panel"',
        )
        self.assertContains(r, '<div id="focus-panel" class="focus-host"></div>')

    def test_htmx_gets_only_the_table(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(WORK, headers=HTMX)
        self.assertContains(r, 'id="work-table"')
        self.assertNotContains(r, "<html")

    def test_someone_with_nothing_to_do_sees_the_empty_state(self) -> None:
        self.client.force_login(self.admin)
        self.assertContains(self.client.get(WORK), "Nothing waiting on you")

    def test_it_hides_other_practices_work(self) -> None:
        self.client.force_login(self.outsider)
        r = self.client.get(WORK)
        self.assertEqual(list(r.context["page"].object_list), [])

    def test_it_costs_the_same_queries_with_more_steps(self) -> None:
        self.client.force_login(self.staff)
        few = queries_of(self, WORK)
        make_steps(self.practice, self.staff, 6, name="More")
        with self.assertNumQueries(few):
            self.client.get(WORK)
        self.assertEqual(len(self.client.get(WORK).context["page"].object_list), 10)


class DashboardStepsCardTests(BaseTestCase):
    def test_it_counts_my_steps_and_shows_the_five_due_soonest(self) -> None:
        make_steps(self.practice, self.staff, 7, name="Big job")
        self.client.force_login(self.staff)
        r = self.client.get("/")
        self.assertContains(r, 'Steps waiting on you <span class="count">7</span>')
        html = r.content.decode()
        card = html[html.index('id="dash-steps-heading"') :]
        card = card[: card.index("</section>")]
        self.assertEqual(card.count('hx-target="#focus-panel"'), 5)
        self.assertIn("2 more in", card)

    def test_it_says_so_when_nothing_waits(self) -> None:
        self.client.force_login(self.staff)
        self.assertContains(self.client.get("/"), "No step is waiting on you.")

    def test_it_costs_the_same_queries_with_more_steps(self) -> None:
        # Six, so the card counts (with fewer than five it counts the five it loaded).
        make_steps(self.practice, self.staff, 6, name="Small job")
        self.client.force_login(self.staff)
        few = queries_of(self, "/")
        make_steps(self.practice, self.staff, 8, name="Big job")
        with self.assertNumQueries(few):
            self.client.get("/")


class ClientWorkflowsPanelTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        self.url = reverse("sodium:client-detail", args=[self.acme.pk])

    def test_it_shows_each_open_tasks_progress_and_steps_waiting_on_the_client(self) -> None:
        steps = make_steps(self.practice, self.staff, 3, client=self.acme, name="VAT Q1")
        set_step(steps[0], status="in_progress", sub_status="awaiting_response")
        set_step(steps[1], status="done")
        self.client.force_login(self.staff)
        r = self.client.get(self.url)
        self.assertContains(r, "Workflow progress")
        self.assertContains(r, "1 waiting on the client")
        self.assertContains(r, "<strong>1/3</strong> done")
        self.assertContains(r, f'hx-get="{focus_url(steps[0].task)}" hx-target="#focus-panel"')
        self.assertContains(r, '<div id="focus-panel" class="focus-host"></div>')

    def test_a_client_without_open_tasks_gets_no_panel(self) -> None:
        self.client.force_login(self.staff)
        self.assertNotContains(self.client.get(self.url), "Workflow progress")

    def test_it_costs_the_same_queries_with_more_tasks_and_steps(self) -> None:
        make_steps(self.practice, self.staff, 2, client=self.acme, name="One")
        self.client.force_login(self.staff)
        few = queries_of(self, self.url)
        for name in ("Two", "Three", "Four"):
            make_steps(self.practice, self.staff, 4, client=self.acme, name=name)
        with self.assertNumQueries(few):
            r = self.client.get(self.url)
        self.assertEqual(r.content.decode().count('class="row client-workflow"'), 4)


class FocusShellTests(BaseTestCase):
    """Workflows' step panel renders inside the core's focus shell, slid out or as a page."""

    def setUp(self) -> None:
        super().setUp()
        self.task = make_steps(self.practice, self.staff, 1, name="VAT Q1")[0].task
        self.client.force_login(self.staff)

    def test_slid_out_it_has_the_shells_close_button_and_labelled_dialog(self) -> None:
        r = self.client.get(focus_url(self.task), headers=HTMX)
        self.assertTemplateUsed(r, "sodium/focus/_shell.html")
        self.assertContains(r, 'role="dialog" aria-modal="false" aria-labelledby="focus-title"')
        task_page = reverse("sodium:task-detail", args=[self.task.pk])
        self.assertContains(r, f'<a class="btn btn-ghost focus-close" href="{task_page}"')
        self.assertNotContains(r, "<html")

    def test_as_a_page_it_sits_under_breadcrumbs_with_its_own_title(self) -> None:
        r = self.client.get(focus_url(self.task))
        self.assertTemplateUsed(r, "sodium/focus/page.html")
        self.assertContains(r, "<title>VAT Q1 · Steps · Ledger &amp; Co</title>")
        task_page = reverse("sodium:task-detail", args=[self.task.pk])
        self.assertContains(
            r,
            f'<nav class="crumbs" aria-label="Breadcrumb"><a href="/tasks/">Tasks</a> / '
            f'<a href="{task_page}">VAT Q1</a></nav>',
        )
        self.assertNotContains(r, "focus-close")
