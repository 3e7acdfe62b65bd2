"""Task pages: the list with its filters, creating, editing and moving tasks."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sodium.models import ActivityEvent, Task
from tests import factories as f
from tests.base import BaseTestCase

S = Task.Status
LIST_URL = reverse("sodium:task-list")
CREATE_URL = reverse("sodium:task-create")


class TaskListViewTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        bakery = f.ClientFactory(practice=self.practice, name="Harbour Bakery")
        plumbing = f.ClientFactory(practice=self.practice, name="Zed Plumbing")
        f.TaskFactory(client=bakery, name="Bakery accounts", owner=self.staff)
        f.TaskFactory(client=plumbing, name="Plumbing VAT", owner=self.manager)
        f.TaskFactory(client=plumbing, name="Plumbing payroll", owner=self.staff, status=S.DONE)
        f.TaskFactory(client=self.other_client, name="Rival Secret Task")
        self.client.force_login(self.staff)

    def test_it_shows_open_tasks_by_default(self) -> None:
        r = self.client.get(LIST_URL)
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "sodium/task_list.html")
        self.assertContains(r, "Bakery accounts")
        self.assertContains(r, "Plumbing VAT")
        self.assertNotContains(r, "Plumbing payroll")

    def test_it_hides_other_practices_tasks(self) -> None:
        r = self.client.get(LIST_URL, {"status": "all"})
        self.assertContains(r, "Bakery accounts")
        self.assertNotContains(r, "Rival Secret Task")

    def test_it_shows_finished_tasks_with_all(self) -> None:
        r = self.client.get(LIST_URL, {"status": "all"})
        self.assertContains(r, "Plumbing payroll")
        self.assertContains(r, "Plumbing VAT")

    def test_it_filters_by_one_status(self) -> None:
        r = self.client.get(LIST_URL, {"status": S.DONE})
        self.assertContains(r, "Plumbing payroll")
        self.assertNotContains(r, "Bakery accounts")
        self.assertNotContains(r, "Plumbing VAT")

    def test_it_filters_to_my_tasks(self) -> None:
        r = self.client.get(LIST_URL, {"owner": "me"})
        self.assertContains(r, "Bakery accounts")
        self.assertNotContains(r, "Plumbing VAT")

    def test_it_searches_by_client_name(self) -> None:
        r = self.client.get(LIST_URL, {"q": "harbour"})
        self.assertContains(r, "Bakery accounts")
        self.assertNotContains(r, "Plumbing VAT")

    def test_it_returns_only_the_table_for_htmx(self) -> None:
        r = self.client.get(LIST_URL, {"q": "harbour"}, headers={"HX-Request": "true"})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, 'id="task-table"')
        self.assertContains(r, "Bakery accounts")
        self.assertNotContains(r, "Plumbing VAT")
        self.assertNotContains(r, "<html")

    def test_it_returns_the_whole_page_without_htmx(self) -> None:
        r = self.client.get(LIST_URL)
        self.assertContains(r, 'id="task-table"')
        self.assertContains(r, "<html")

    def test_it_asks_anonymous_visitors_to_sign_in(self) -> None:
        self.client.logout()
        r = self.client.get(LIST_URL)
        self.assertRedirects(r, f"{reverse('sodium:login')}?next={LIST_URL}")


class TaskListQueryCountTests(BaseTestCase):
    def _add_tasks(self, count: int) -> None:
        service = f.ServiceFactory(practice=self.practice)
        for _ in range(count):
            f.TaskFactory(
                client=f.ClientFactory(practice=self.practice), owner=self.staff, service=service
            )

    def test_it_runs_the_same_queries_for_3_and_30_tasks(self) -> None:
        self.client.force_login(self.staff)
        self._add_tasks(3)
        with CaptureQueriesContext(connection) as small:
            r = self.client.get(LIST_URL)
        self.assertEqual(r.status_code, 200)
        self._add_tasks(27)
        with self.assertNumQueries(len(small)):
            r = self.client.get(LIST_URL)
        self.assertEqual(len(r.context["page"].object_list), 25)


class TaskCreateViewTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client_row = f.ClientFactory(practice=self.practice, name="Harbour Bakery")
        self.today = dt.date(2025, 4, 1)

    def _data(self, **overrides) -> dict:
        data = {
            "client": self.client_row.pk,
            "name": "Year-end accounts",
            "owner": self.staff.pk,
            "start_date": self.today.isoformat(),
            "due_date": (self.today + dt.timedelta(days=30)).isoformat(),
            "description": "",
        }
        data.update(overrides)
        return data

    def test_it_shows_the_form_to_staff(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.get(CREATE_URL)
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "sodium/task_form.html")

    def test_it_creates_a_task(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.post(CREATE_URL, self._data(), follow=True)
        task = Task.objects.get(name="Year-end accounts")
        self.assertRedirects(r, reverse("sodium:task-detail", args=[task.pk]))
        self.assertContains(r, "Created Year-end accounts.")
        self.assertEqual(task.practice, self.practice)
        self.assertEqual(task.client, self.client_row)
        self.assertEqual(task.owner, self.staff)
        self.assertEqual(task.status, S.PLANNED)
        self.assertTrue(
            ActivityEvent.objects.filter(task=task, verb="task.created", actor=self.staff).exists()
        )

    def test_it_refuses_a_due_date_before_the_start(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.post(
            CREATE_URL, self._data(due_date=(self.today - dt.timedelta(days=1)).isoformat())
        )
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "sodium/task_form.html")
        self.assertFormError(
            r.context["form"], "due_date", "The due date cannot be before the start date."
        )
        self.assertFalse(Task.objects.filter(name="Year-end accounts").exists())

    def test_it_refuses_a_client_of_another_practice(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.post(CREATE_URL, self._data(client=self.other_client.pk))
        self.assertEqual(r.status_code, 200)
        self.assertTrue(r.context["form"].has_error("client", code="invalid_choice"))
        self.assertFalse(Task.objects.filter(name="Year-end accounts").exists())
        self.assertFalse(Task.objects.filter(client=self.other_client).exists())

    def test_it_refuses_an_owner_from_another_practice(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.post(CREATE_URL, self._data(owner=self.outsider.pk))
        self.assertEqual(r.status_code, 200)
        self.assertTrue(r.context["form"].has_error("owner", code="invalid_choice"))
        self.assertFalse(Task.objects.filter(name="Year-end accounts").exists())

    def test_it_forbids_an_ar_specialist(self) -> None:
        self.client.force_login(self.ar_specialist)
        self.assertEqual(self.client.get(CREATE_URL).status_code, 403)
        r = self.client.post(CREATE_URL, self._data())
        self.assertEqual(r.status_code, 403)
        self.assertFalse(Task.objects.filter(name="Year-end accounts").exists())


class TaskEditViewTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client_row = f.ClientFactory(practice=self.practice)
        self.task = f.TaskFactory(
            client=self.client_row,
            name="VAT Q1",
            owner=self.staff,
            start_date=dt.date(2025, 4, 1),
            due_date=dt.date(2025, 5, 7),
        )
        self.url = reverse("sodium:task-edit", args=[self.task.pk])
        self.client.force_login(self.staff)

    def _data(self, **overrides) -> dict:
        data = {
            "name": "VAT Q1",
            "owner": self.staff.pk,
            "start_date": "2025-04-01",
            "due_date": "2025-05-07",
            "description": "",
        }
        data.update(overrides)
        return data

    def test_it_shows_the_form_without_the_client(self) -> None:
        r = self.client.get(self.url)
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "sodium/task_form.html")
        self.assertNotIn("client", r.context["form"].fields)

    def test_it_saves_changes_and_logs_them(self) -> None:
        r = self.client.post(
            self.url, self._data(name="VAT Q2", owner=self.manager.pk), follow=True
        )
        self.assertRedirects(r, reverse("sodium:task-detail", args=[self.task.pk]))
        self.assertContains(r, "Saved the task.")
        self.task.refresh_from_db()
        self.assertEqual((self.task.name, self.task.owner), ("VAT Q2", self.manager))
        self.assertEqual(self.task.client, self.client_row)
        event = ActivityEvent.objects.get(task=self.task, verb="task.updated")
        self.assertIn("name", event.summary)

    def test_it_refuses_a_due_date_before_the_start(self) -> None:
        r = self.client.post(self.url, self._data(name="VAT Q2", due_date="2025-03-01"))
        self.assertEqual(r.status_code, 200)
        self.assertFormError(
            r.context["form"], "due_date", "The due date cannot be before the start date."
        )
        self.task.refresh_from_db()
        self.assertEqual(self.task.name, "VAT Q1")
        self.assertFalse(ActivityEvent.objects.filter(task=self.task).exists())

    def test_it_forbids_an_ar_specialist(self) -> None:
        self.client.force_login(self.ar_specialist)
        r = self.client.post(self.url, self._data(name="VAT Q2"))
        self.assertEqual(r.status_code, 403)
        self.task.refresh_from_db()
        self.assertEqual(self.task.name, "VAT Q1")


class TaskStatusViewTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.task = f.TaskFactory(client=f.ClientFactory(practice=self.practice))
        self.url = reverse("sodium:task-status", args=[self.task.pk])
        self.detail_url = reverse("sodium:task-detail", args=[self.task.pk])
        self.client.force_login(self.staff)

    def _set_status(self, status: str) -> None:
        Task.objects.filter(pk=self.task.pk).update(status=status)

    def test_it_moves_the_task_and_says_so(self) -> None:
        r = self.client.post(self.url, {"status": S.IN_PROGRESS}, follow=True)
        self.assertRedirects(r, self.detail_url)
        self.assertContains(r, "The task is now in progress.")
        self.task.refresh_from_db()
        self.assertEqual(self.task.status, S.IN_PROGRESS)
        self.assertTrue(
            ActivityEvent.objects.filter(
                task=self.task,
                verb="task.status",
                actor=self.staff,
                old_status=S.PLANNED,
                new_status=S.IN_PROGRESS,
            ).exists()
        )

    def test_it_refuses_a_forbidden_move_with_a_message(self) -> None:
        self._set_status(S.DONE)
        r = self.client.post(self.url, {"status": S.ON_HOLD}, follow=True)
        self.assertRedirects(r, self.detail_url)
        self.assertContains(r, "A task that is done cannot become on hold.")
        self.assertNotContains(r, "The task is now")
        self.task.refresh_from_db()
        self.assertEqual(self.task.status, S.DONE)
        self.assertFalse(ActivityEvent.objects.filter(task=self.task, verb="task.status").exists())

    def test_it_answers_get_with_405(self) -> None:
        r = self.client.get(self.url)
        self.assertEqual(r.status_code, 405)
        self.task.refresh_from_db()
        self.assertEqual(self.task.status, S.PLANNED)

    def test_it_forbids_an_ar_specialist(self) -> None:
        self.client.force_login(self.ar_specialist)
        r = self.client.post(self.url, {"status": S.IN_PROGRESS})
        self.assertEqual(r.status_code, 403)
        self.task.refresh_from_db()
        self.assertEqual(self.task.status, S.PLANNED)

    def test_it_offers_the_allowed_moves_on_the_task_page(self) -> None:
        self._set_status(S.ON_HOLD)
        r = self.client.get(self.detail_url)
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "sodium/task_detail.html")
        self.assertContains(r, ">Resume</button>")
        self.assertNotContains(r, ">Mark done</button>")
