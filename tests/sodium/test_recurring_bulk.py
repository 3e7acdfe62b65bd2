"""Recurring generation in bulk: a fixed number of queries for any number of clients, the
tasks' writes the same as one `create_task`'s, and the period claim scoped to its practice."""

from __future__ import annotations

import datetime as dt
import inspect
import re
from unittest import mock

from django.apps import apps
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from sodium import engine, recurring, recurring_rows
from sodium.models import ActivityEvent, Recurrence, RecurrenceOccurrence, Task, Timer
from sodium.services.recurrences import create_recurrence
from tests import factories as f
from tests.base import BaseTestCase
from tests.sodium.test_recurring import at
from tests.sodium.test_sql_scoping import ScopedSqlMixin
from tests.workflows.wf_factories import chain_template
from workflows.models import ChecklistItem, Step, StepDependency

WEEKLY = {"kind": "calendar", "frequency": "weekly", "start": "2026-01-05", "weekdays": ["mo"]}
RUN = "workflows.tasks.run_step_task.delay"


class BulkGenerationQueriesTests(BaseTestCase):
    def recurrence_for(self, n_clients: int, **fields) -> Recurrence:
        practice = f.PracticeFactory(name=f"Practice of {n_clients}")
        owner = f.MembershipFactory(practice=practice, role="owner").user
        for _ in range(n_clients):
            f.ClientFactory(practice=practice, client_manager=owner)
        values = {
            "name": "Weekly books",
            "schedule": WEEKLY,
            "task_name": "{{ client.name }} books {{ period.label }}",
            "due_rule": Recurrence.DueRule.OFFSET,
            "due_offset": 5,
            "client_selection": Recurrence.Clients.ALL,
            "owner_rule": Recurrence.OwnerRule.CLIENT_MANAGER,
            "workflow_template_id": chain_template(practice, owner).pk,
        }
        values.update(fields)
        return create_recurrence(practice=practice, actor=owner, now=at("2026-01-01"), **values)

    def generate(self, recurrence: Recurrence) -> int:
        with CaptureQueriesContext(connection) as queries, mock.patch(RUN):
            created = recurring.generate_due(recurrence.practice, at("2026-01-05"))
        self.assertEqual(created, Task.objects.filter(recurrence=recurrence).count())
        return len(queries)

    def test_generating_for_20_clients_costs_the_queries_of_5(self) -> None:
        five, twenty = self.recurrence_for(5), self.recurrence_for(20)
        self.assertEqual(self.generate(five), self.generate(twenty))
        tasks = Task.objects.filter(recurrence=twenty)
        self.assertEqual(tasks.count(), 20)
        # Everything each task gets came with it: its period, event, timer and workflow.
        self.assertEqual(
            RecurrenceOccurrence.objects.filter(recurrence=twenty, task__in=tasks).count(), 20
        )
        self.assertEqual(
            ActivityEvent.objects.filter(task__in=tasks, verb="task.created").count(), 20
        )
        self.assertEqual(
            Timer.objects.filter(kind=engine.START_TIMER, target_id__in=tasks).count(), 20
        )
        self.assertEqual(Step.objects.filter(task__in=tasks).count(), 40)
        self.assertEqual(StepDependency.objects.filter(step__task__in=tasks).count(), 20)
        self.assertEqual(ChecklistItem.objects.filter(step__task__in=tasks).count(), 40)

    def test_a_client_whose_name_comes_out_empty_is_skipped_and_the_rest_made(self) -> None:
        recurrence = self.recurrence_for(3, task_name="{{ client.reference }}")
        blank = recurrence.practice.clients.order_by("pk").first()
        blank.reference = ""
        blank.save(update_fields=["reference"])
        self.generate(recurrence)
        made = Task.objects.filter(recurrence=recurrence)
        self.assertEqual(made.count(), 2)
        self.assertFalse(made.filter(client=blank).exists())
        # Not claimed either: the skip leaves no occurrence row behind.
        self.assertFalse(RecurrenceOccurrence.objects.filter(client=blank).exists())
        recurrence.refresh_from_db()
        self.assertEqual(len(recurrence.last_skips), 1)
        self.assertEqual(recurrence.last_skips[0]["client"], blank.pk)
        self.assertIn("does not render", recurrence.last_skips[0]["reason"])

    def test_a_write_failing_half_way_leaves_no_task_and_no_claimed_period(self) -> None:
        recurrence = self.recurrence_for(3)
        fail = mock.patch.object(
            Timer.objects, "bulk_create", side_effect=DatabaseError("disk full")
        )
        with fail:
            self.generate(recurrence)
        self.assertFalse(Task.objects.filter(recurrence=recurrence).exists())
        self.assertFalse(RecurrenceOccurrence.objects.filter(recurrence=recurrence).exists())
        self.assertFalse(
            ActivityEvent.objects.filter(practice=recurrence.practice, verb="task.created").exists()
        )
        recurrence.refresh_from_db()
        self.assertEqual(recurrence.last_skips[-1]["reason"], "tasks not created: disk full")
        with mock.patch(RUN):  # retried an hour later, in full
            recurring.generate_due(recurrence.practice, at("2026-01-05", 8))
        self.assertEqual(Task.objects.filter(recurrence=recurrence).count(), 3)


def _row(obj, *skip: str) -> dict:
    return {
        field.attname: getattr(obj, field.attname)
        for field in obj._meta.concrete_fields
        if field.attname not in skip
    }


class CreateTasksTests(BaseTestCase):
    def fields(self, client) -> dict:
        return {
            "name": "VAT return",
            "owner_id": self.staff.pk,
            "start_date": dt.date(2026, 3, 2),
            "due_date": dt.date(2026, 3, 9),
            "period_label": "March 2026",
        }

    def test_it_writes_what_create_task_writes(self) -> None:
        one = f.ClientFactory(practice=self.practice)
        many = f.ClientFactory(practice=self.practice)
        single = engine.create_task(
            practice=self.practice, client=one, actor=self.manager, **self.fields(one)
        )
        [bulk] = engine.create_tasks(
            practice=self.practice,
            actor=self.manager,
            tasks=[Task(client=many, **self.fields(many))],
        )
        self.assertIsNotNone(bulk.pk)
        per_task = ("id", "client_id", "task_id", "object_id", "target_id", "key", "created_at")
        self.assertEqual(
            _row(Task.objects.get(pk=bulk.pk), *per_task),
            _row(Task.objects.get(pk=single.pk), *per_task),
        )
        single_event = ActivityEvent.objects.get(task=single)
        bulk_event = ActivityEvent.objects.get(task=bulk)
        self.assertEqual(_row(bulk_event, *per_task), _row(single_event, *per_task))
        self.assertEqual((bulk_event.client_id, bulk_event.object_id), (many.pk, bulk.pk))
        single_timer = Timer.objects.get(key=f"task:{single.pk}:start")
        bulk_timer = Timer.objects.get(key=f"task:{bulk.pk}:start")
        self.assertEqual(_row(bulk_timer, *per_task), _row(single_timer, *per_task))
        self.assertEqual(bulk_timer.target_id, bulk.pk)

    def test_a_task_without_a_start_date_gets_no_start_timer(self) -> None:
        client = f.ClientFactory(practice=self.practice)
        dated, undated = engine.create_tasks(
            practice=self.practice,
            actor=None,
            tasks=[
                Task(client=client, name="Dated", start_date=dt.date(2026, 3, 2)),
                Task(client=client, name="Undated"),
            ],
        )
        keys = set(
            Timer.objects.filter(target_id__in=[dated.pk, undated.pk]).values_list("key", flat=True)
        )
        self.assertEqual(keys, {f"task:{dated.pk}:start"})
        self.assertEqual(ActivityEvent.objects.get(task=undated).actor_label, "")

    def test_three_statements_for_any_number_of_tasks(self) -> None:
        client = f.ClientFactory(practice=self.practice)

        def queries(n: int) -> int:
            tasks = [
                Task(client=client, name=f"T{i}", start_date=dt.date(2026, 3, 2)) for i in range(n)
            ]
            with CaptureQueriesContext(connection) as captured:
                engine.create_tasks(practice=self.practice, actor=None, tasks=tasks)
            return len([q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]])

        self.assertEqual(queries(2), 3)
        self.assertEqual(queries(30), 3)


class ClaimTests(ScopedSqlMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client_row = f.ClientFactory(practice=self.practice)
        self.recurrence = create_recurrence(
            practice=self.practice,
            actor=self.manager,
            now=at("2026-01-01"),
            name="Weekly books",
            schedule=WEEKLY,
            task_name="{{ client.name }}",
            due_rule=Recurrence.DueRule.NONE,
            client_selection=Recurrence.Clients.ALL,
        )

    def test_it_claims_a_period_once_and_only_for_the_practices_clients(self) -> None:
        mine, theirs = (self.client_row.pk, "2026-01-05"), (self.other_client.pk, "2026-01-05")
        with CaptureQueriesContext(connection) as context:
            first = recurring_rows.claim(self.recurrence, [mine, theirs, mine])
        self.assertEqual(list(first), [mine])
        self.assertEqual(recurring_rows.claim(self.recurrence, [mine, theirs]), {})
        stored = RecurrenceOccurrence.objects.filter(recurrence=self.recurrence)
        self.assertEqual(
            list(stored.values_list("practice_id", "client_id", "period_key")),
            [(self.practice.pk, *mine)],
        )
        [statement] = self.captured(context, "INSERT", "ON CONFLICT")
        self.assert_scoped(statement, "c", self.practice.pk)

    def test_link_writes_only_the_practices_occurrences(self) -> None:
        mine = recurring_rows.claim(self.recurrence, [(self.client_row.pk, "2026-01-05")])
        other_recurrence = Recurrence.objects.create(
            practice=self.other_practice, name="Theirs", schedule=WEEKLY, task_name="x"
        )
        theirs = RecurrenceOccurrence.objects.create(
            practice=self.other_practice,
            recurrence=other_recurrence,
            client=self.other_client,
            period_key="2026-01-05",
        )
        task = f.TaskFactory(client=self.client_row)
        [occurrence_id] = mine.values()
        with CaptureQueriesContext(connection) as context:
            recurring_rows.link(self.practice.pk, [(occurrence_id, task.pk), (theirs.pk, task.pk)])
        self.assertEqual(RecurrenceOccurrence.objects.get(pk=occurrence_id).task_id, task.pk)
        theirs.refresh_from_db()
        self.assertIsNone(theirs.task_id)
        [statement] = self.captured(context, "UPDATE")
        self.assert_scoped(statement, "", self.practice.pk)

    def test_the_module_names_tables_only_through_sodium_sql(self) -> None:
        tables = {m._meta.db_table for m in apps.get_models(include_auto_created=True)}
        source = inspect.getsource(recurring_rows)
        spelled = {t for t in tables if re.search(rf"\b{re.escape(t)}\b", source)}
        self.assertEqual(spelled, set())
        self.assertEqual(re.findall(r"\b(?:workflows|sodium|portal)_[a-z]+\b", source), [])
