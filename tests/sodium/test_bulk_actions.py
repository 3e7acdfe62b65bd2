"""Bulk actions on the task list: reassign, change status, set due date; who may; tenancy;
the summary; bad input; and a fixed number of queries whatever the number of tasks."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sodium import bulk
from sodium.models import ActivityEvent, Task, Timer
from tests import factories as f
from tests.base import BaseTestCase

S = Task.Status
BULK_URL = reverse("sodium:task-bulk")
SUMMARY_URL = reverse("sodium:task-bulk-summary")
LIST_URL = reverse("sodium:task-list")


class BulkTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(practice=self.practice, name="ACME Ltd")
        self.vat = f.TaskFactory(client=self.acme, name="VAT Q3", owner=self.staff)
        self.accounts = f.TaskFactory(client=self.acme, name="Accounts", owner=self.staff)
        self.done = f.TaskFactory(client=self.acme, name="Payroll", owner=self.staff, status=S.DONE)
        self.theirs = f.TaskFactory(client=self.other_client, name="Rival Secret Task")

    def post(self, action: str, tasks: list[Task] = (), follow: bool = True, **data):
        payload = {"action": action, "task": [str(t.pk) for t in tasks], **data}
        return self.client.post(BULK_URL, payload, follow=follow)


class ReassignTests(BulkTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.manager)

    def test_it_reassigns_the_chosen_tasks_and_records_each(self) -> None:
        r = self.post("reassign", [self.vat, self.accounts], **{"reassign-owner": self.manager.pk})
        self.assertRedirects(r, SUMMARY_URL)
        self.assertContains(r, f"Gave 2 tasks to {self.manager}.")
        for task in (self.vat, self.accounts):
            task.refresh_from_db()
            self.assertEqual(task.owner, self.manager)
            event = ActivityEvent.objects.get(task=task, verb="task.updated")
            self.assertEqual(event.actor, self.manager)
            self.assertEqual(event.summary, f"Owner: {self.staff} → {self.manager}")
            self.assertEqual(event.data, {"bulk": True})

    def test_it_refuses_finished_tasks_and_tasks_already_theirs(self) -> None:
        r = self.post("reassign", [self.vat, self.done], **{"reassign-owner": self.staff.pk})
        self.assertContains(r, f"Gave no tasks to {self.staff}. 2 refused.")
        self.assertContains(r, f"is already owned by {self.staff}")
        self.assertContains(r, "is done; reopen it first")
        self.assertFalse(ActivityEvent.objects.filter(verb="task.updated").exists())

    def test_it_can_leave_tasks_unassigned(self) -> None:
        r = self.post("reassign", [self.vat], **{"reassign-owner": "nobody"})
        self.assertContains(r, "Left 1 task unassigned.")
        self.vat.refresh_from_db()
        self.assertIsNone(self.vat.owner)

    def test_it_refuses_an_owner_who_is_not_a_member(self) -> None:
        r = self.post("reassign", [self.vat], follow=False, **{"reassign-owner": self.outsider.pk})
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "sodium/task_list.html")
        self.assertContains(r, "Choose a member of this practice.")
        # The ticks are kept: the person fixes the owner and presses the button again.
        self.assertRegex(r.content.decode(), rf'id="bulk-task-{self.vat.pk}"[^>]* checked>')
        self.assertNotRegex(r.content.decode(), rf'id="bulk-task-{self.accounts.pk}"[^>]* checked>')
        self.vat.refresh_from_db()
        self.assertEqual(self.vat.owner, self.staff)


class StatusTests(BulkTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.manager)

    def test_it_moves_tasks_through_the_machine_and_refuses_forbidden_moves(self) -> None:
        on_hold = f.TaskFactory(client=self.acme, name="Hold me", status=S.ON_HOLD)
        r = self.post("status", [self.vat, self.done, on_hold], **{"status-status": S.ON_HOLD})
        self.assertContains(r, "Moved 1 task to on hold. 2 refused.")
        self.assertContains(r, "is done and cannot become on hold")
        self.assertContains(r, "is already on hold")
        self.vat.refresh_from_db()
        self.done.refresh_from_db()
        self.assertEqual(self.vat.status, S.ON_HOLD)
        self.assertEqual(self.done.status, S.DONE)
        event = ActivityEvent.objects.get(task=self.vat, verb="task.status")
        self.assertEqual((event.old_status, event.new_status), (S.PLANNED, S.ON_HOLD))
        self.assertEqual(event.actor, self.manager)
        self.assertEqual(event.client_id, self.acme.pk)

    def test_done_sets_completed_at_and_reopening_clears_it(self) -> None:
        self.post("status", [self.vat], **{"status-status": S.DONE})
        self.vat.refresh_from_db()
        self.assertIsNotNone(self.vat.completed_at)
        self.post("status", [self.vat], **{"status-status": S.IN_PROGRESS})
        self.vat.refresh_from_db()
        self.assertEqual(self.vat.status, S.IN_PROGRESS)
        self.assertIsNone(self.vat.completed_at)

    def test_starting_runs_the_task_started_hooks_in_bulk(self) -> None:
        from sodium import engine

        many = mock.Mock()
        one = mock.Mock()
        with mock.patch.object(engine, "TASK_STARTED_HOOKS", [one]):
            with mock.patch.dict(engine.TASKS_STARTED_HOOKS, {one: many}, clear=True):
                self.post("status", [self.vat, self.accounts], **{"status-status": S.IN_PROGRESS})
        one.assert_not_called()
        (tasks,), _ = many.call_args
        self.assertEqual({t.pk for t in tasks}, {self.vat.pk, self.accounts.pk})

    def test_a_cancelled_task_reopened_gets_its_start_timer_back(self) -> None:
        later = dt.date.today() + dt.timedelta(days=10)
        cancelled = f.TaskFactory(client=self.acme, status=S.CANCELLED, start_date=later)
        self.post("status", [cancelled], **{"status-status": S.PLANNED})
        self.assertTrue(Timer.objects.filter(key=f"task:{cancelled.pk}:start").exists())
        self.post("status", [cancelled], **{"status-status": S.CANCELLED})
        self.assertFalse(Timer.objects.filter(key=f"task:{cancelled.pk}:start").exists())

    def test_an_unknown_status_is_a_form_error(self) -> None:
        r = self.post("status", [self.vat], follow=False, **{"status-status": "lost"})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Change status: Select a valid choice.")
        self.vat.refresh_from_db()
        self.assertEqual(self.vat.status, S.PLANNED)


class DueDateTests(BulkTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.manager)

    def test_it_sets_the_due_date_and_refuses_one_before_a_start(self) -> None:
        self.accounts.start_date = dt.date(2026, 5, 1)
        self.accounts.save(update_fields=["start_date"])
        self.vat.start_date = None
        self.vat.save(update_fields=["start_date"])
        r = self.post("due", [self.vat, self.accounts], **{"due-due_date": "2026-04-30"})
        self.assertContains(r, "Set 1 task due on 30 Apr 2026. 1 refused.")
        self.assertContains(r, "starts on 1 May 2026, after that date")
        self.vat.refresh_from_db()
        self.assertEqual(self.vat.due_date, dt.date(2026, 4, 30))
        event = ActivityEvent.objects.get(task=self.vat, verb="task.updated")
        self.assertIn("Due date:", event.summary)
        self.assertIn("→ 30 Apr 2026", event.summary)

    def test_a_bad_date_is_a_form_error(self) -> None:
        r = self.post("due", [self.vat], follow=False, **{"due-due_date": "31/02/2026"})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Set due date: Enter a valid date.")


class SelectionTests(BulkTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.manager)

    def test_another_practices_task_is_refused_and_never_changed(self) -> None:
        r = self.post("status", [self.vat, self.theirs], **{"status-status": S.ON_HOLD})
        self.assertContains(r, "Moved 1 task to on hold. 1 refused.")
        self.assertContains(r, "1 task")
        self.assertContains(r, "was not found in this practice and left alone")
        self.assertNotContains(r, "Rival Secret")
        self.theirs.refresh_from_db()
        self.assertEqual(self.theirs.status, S.PLANNED)
        self.assertFalse(ActivityEvent.objects.filter(task=self.theirs).exists())

    def test_all_matching_reevaluates_the_filter_on_the_server(self) -> None:
        r = self.post(
            "status",
            [],
            all_matching="1",
            q="acme",
            status="open",
            **{"status-status": S.ON_HOLD},
        )
        self.assertContains(r, "Moved 2 tasks to on hold.")
        self.assertEqual(
            set(Task.objects.filter(status=S.ON_HOLD).values_list("pk", flat=True)),
            {self.vat.pk, self.accounts.pk},
        )
        self.theirs.refresh_from_db()
        self.assertEqual(self.theirs.status, S.PLANNED)

    def test_all_on_the_page_without_javascript_uses_the_pages_tasks(self) -> None:
        r = self.post(
            "status",
            [],
            all_page="1",
            page_task=[str(self.vat.pk), str(self.accounts.pk)],
            **{"status-status": S.ON_HOLD},
        )
        self.assertContains(r, "Moved 2 tasks to on hold.")

    def test_it_refuses_a_filter_matching_more_than_the_cap(self) -> None:
        with mock.patch.object(bulk, "MAX_TASKS", 1):
            r = self.post(
                "status", [], follow=False, all_matching="1", **{"status-status": S.ON_HOLD}
            )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "This would change more than 1 tasks")
        self.assertFalse(Task.objects.filter(status=S.ON_HOLD).exists())

    def test_nothing_ticked_is_a_clear_error(self) -> None:
        r = self.post("status", [], follow=False, **{"status-status": S.ON_HOLD})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Tick the tasks to change")

    def test_an_unknown_action_or_ids_no_column_holds_are_clear_errors(self) -> None:
        r = self.client.post(BULK_URL, {"action": "explode", "task": ["9" * 30, "x"]})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Choose what to do with the tasks.")
        self.assertContains(r, "Tick the tasks to change")

    def test_get_is_refused(self) -> None:
        self.assertEqual(self.client.get(BULK_URL).status_code, 405)

    def test_the_summary_without_a_run_goes_back_to_the_list(self) -> None:
        self.assertRedirects(self.client.get(SUMMARY_URL), LIST_URL)

    def test_the_summary_stays_with_its_practice(self) -> None:
        self.post("status", [self.vat], **{"status-status": S.ON_HOLD})
        session = self.client.session
        session[bulk_session_key()]["practice"] = self.other_practice.pk
        session.save()
        self.assertRedirects(self.client.get(SUMMARY_URL), LIST_URL)

    def test_the_summary_links_back_to_the_filtered_list(self) -> None:
        r = self.post("status", [self.vat], q="acme", **{"status-status": S.ON_HOLD})
        self.assertContains(r, f'href="{LIST_URL}?q=acme"')


def bulk_session_key() -> str:
    from sodium.views.bulk import SESSION_KEY

    return SESSION_KEY


class PermissionTests(BulkTestCase):
    def test_staff_change_only_their_own_and_unassigned_tasks(self) -> None:
        mine = self.vat
        unassigned = f.TaskFactory(client=self.acme, name="Nobody's", owner=None)
        managers = f.TaskFactory(client=self.acme, name="Manager's", owner=self.manager)
        self.client.force_login(self.staff)
        r = self.post("status", [mine, unassigned, managers], **{"status-status": S.ON_HOLD})
        self.assertContains(r, "Moved 2 tasks to on hold. 1 refused.")
        self.assertContains(
            r, f"is owned by {self.manager}; staff change only their own or unassigned tasks"
        )
        managers.refresh_from_db()
        self.assertEqual(managers.status, S.PLANNED)

    def test_managers_change_anyones_tasks(self) -> None:
        managers = f.TaskFactory(client=self.acme, owner=self.admin)
        self.client.force_login(self.manager)
        r = self.post("status", [managers], **{"status-status": S.ON_HOLD})
        self.assertContains(r, "Moved 1 task to on hold.")

    def test_ar_roles_may_not_bulk_edit_and_see_no_bar(self) -> None:
        self.client.force_login(self.ar_specialist)
        r = self.post("status", [self.vat], follow=False, **{"status-status": S.ON_HOLD})
        self.assertEqual(r.status_code, 403)
        self.vat.refresh_from_db()
        self.assertEqual(self.vat.status, S.PLANNED)
        page = self.client.get(LIST_URL)
        self.assertNotContains(page, 'id="bulk-form"')

    def test_the_bar_is_on_the_list_for_staff_and_in_the_htmx_partial(self) -> None:
        self.client.force_login(self.staff)
        page = self.client.get(LIST_URL)
        self.assertContains(page, 'id="bulk-form"')
        self.assertContains(page, "Attach a workflow template")
        self.assertContains(page, "You can change your own and unassigned tasks")
        self.client.force_login(self.manager)
        self.assertNotContains(self.client.get(LIST_URL), "You can change your own")
        self.client.force_login(self.staff)
        partial = self.client.get(LIST_URL, {"q": "acme"}, headers={"HX-Request": "true"})
        self.assertContains(partial, 'id="bulk-form"')
        self.assertContains(partial, '<input type="hidden" name="q" value="acme">')
        self.assertNotContains(partial, "<html")


class BulkQueryCountTests(BaseTestCase):
    """The same number of queries for 3 and for 30 tasks, for each core action."""

    def _tasks(self, n: int) -> list[Task]:
        client = f.ClientFactory(practice=self.practice)
        return [f.TaskFactory(client=client, owner=self.staff, start_date=None) for _ in range(n)]

    def _count(self, n: int, data: dict) -> int:
        tasks = self._tasks(n)
        payload = {"task": [str(t.pk) for t in tasks], **data}
        with CaptureQueriesContext(connection) as queries:
            r = self.client.post(BULK_URL, payload)
        self.assertRedirects(r, SUMMARY_URL, fetch_redirect_response=False)
        return len(queries)

    def _assert_fixed(self, data: dict) -> None:
        self.client.force_login(self.manager)
        small = self._count(3, data)
        large = self._count(30, data)
        self.assertEqual(small, large)

    def test_reassign(self) -> None:
        self._assert_fixed({"action": "reassign", "reassign-owner": self.manager.pk})

    def test_change_status(self) -> None:
        self._assert_fixed({"action": "status", "status-status": S.IN_PROGRESS})

    def test_set_due_date(self) -> None:
        self._assert_fixed({"action": "due", "due-due_date": "2030-01-31"})

    def test_the_summary_page(self) -> None:
        self.client.force_login(self.manager)
        self._count(3, {"action": "status", "status-status": S.ON_HOLD})
        with CaptureQueriesContext(connection) as small:
            self.client.get(SUMMARY_URL)
        self._count(30, {"action": "status", "status-status": S.ON_HOLD})
        with self.assertNumQueries(len(small)):
            r = self.client.get(SUMMARY_URL)
        self.assertContains(r, "Moved 30 tasks to on hold.")
