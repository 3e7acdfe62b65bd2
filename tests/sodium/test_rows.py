"""sodium.rows: the engine's single-row insert, update and fetch, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils import timezone
from django_scopes import ScopeError, scopes_disabled

from sodium import rows
from sodium.models import ActivityEvent, MessageEvent, OutboundMessage, Task
from sodium.tenancy import current_practice_id, practice_scope
from tests import factories as f
from tests.base import BaseTestCase


def _message(practice, key: str, subject: str = "Hello") -> OutboundMessage:
    return OutboundMessage(
        practice=practice, idempotency_key=key, to=["ann@example.com"], subject=subject
    )


class InsertTests(BaseTestCase):
    def test_it_inserts_the_row_and_sets_its_pk(self) -> None:
        event = ActivityEvent(
            practice=self.practice, verb="test.insert", summary="Inserted", data={"a": [1, 2]}
        )
        self.assertTrue(rows.insert(event))
        self.assertIsNotNone(event.pk)
        self.assertFalse(event._state.adding)
        stored = ActivityEvent.objects.get(pk=event.pk)
        self.assertEqual(stored.verb, "test.insert")
        self.assertEqual(stored.data, {"a": [1, 2]})
        self.assertEqual(stored.created_at, event.created_at)

    def test_it_skips_a_row_whose_unique_value_exists(self) -> None:
        first = _message(self.practice, "step:1:send", subject="First")
        self.assertTrue(rows.insert(first, unique="idempotency_key"))
        second = _message(self.practice, "step:1:send", subject="Second")
        self.assertFalse(rows.insert(second, unique="idempotency_key"))
        self.assertIsNone(second.pk)
        stored = OutboundMessage.objects.get(idempotency_key="step:1:send")
        self.assertEqual((stored.pk, stored.subject), (first.pk, "First"))
        self.assertEqual(OutboundMessage.objects.count(), 1)

    def test_then_runs_on_the_inserted_row_only(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("a data-modifying WITH needs PostgreSQL")
        event = (
            "INSERT INTO sodium_messageevent (practice_id, message_id, event, detail, created_at)"
        )
        then = (f"{event} SELECT %s, new.id, 'queued', '', now() FROM new", [self.practice.pk])
        first = _message(self.practice, "step:2:send")
        self.assertTrue(rows.insert(first, unique="idempotency_key", then=then))
        self.assertFalse(
            rows.insert(_message(self.practice, "step:2:send"), unique="idempotency_key", then=then)
        )
        events = MessageEvent.objects.values_list("message_id", "event")
        self.assertEqual(list(events), [(first.pk, "queued")])


class UpdateTests(BaseTestCase):
    def test_it_writes_only_the_named_fields(self) -> None:
        task = f.TaskFactory(client__practice=self.practice, name="Accounts", description="old")
        task.name = "Accounts 2026"
        task.description = "changed in memory only"
        rows.update(task, ["name"])
        stored = Task.objects.get(pk=task.pk)
        self.assertEqual((stored.name, stored.description), ("Accounts 2026", "old"))


class FetchTests(BaseTestCase):
    def test_it_builds_instances_with_converted_values(self) -> None:
        due = dt.date(2027, 1, 31)
        task = f.TaskFactory(client__practice=self.practice, name="VAT Q4", due_date=due)
        ActivityEvent.objects.create(
            practice=self.practice, verb="x", summary="y", task=task, data={"k": "v"}
        )
        [fetched] = rows.fetch(Task, "SELECT * FROM sodium_task WHERE id = %s", [task.pk])
        self.assertEqual((fetched.pk, fetched.name, fetched.due_date), (task.pk, "VAT Q4", due))
        self.assertEqual(fetched.client_id, task.client_id)
        self.assertFalse(fetched._state.adding)
        [event] = rows.fetch(
            ActivityEvent, "SELECT * FROM sodium_activityevent WHERE task_id = %s", [task.pk]
        )
        self.assertEqual(event.data, {"k": "v"})
        self.assertTrue(timezone.is_aware(event.created_at))

    def test_it_maps_columns_by_name_whatever_their_order(self) -> None:
        task = f.TaskFactory(client__practice=self.practice, name="Payroll")
        table = connection.ops.quote_name("sodium_task")
        columns = [fld.column for fld in Task._meta.concrete_fields][::-1]
        sql = f"SELECT {', '.join(columns)} FROM {table} WHERE id = %s"
        [fetched] = rows.fetch(Task, sql, [task.pk])
        self.assertEqual((fetched.pk, fetched.name), (task.pk, "Payroll"))
        self.assertEqual(fetched.practice_id, self.practice.pk)

    def test_it_returns_nothing_for_no_rows(self) -> None:
        self.assertEqual(rows.fetch(Task, "SELECT * FROM sodium_task WHERE id = %s", [0]), [])


class CurrentPracticeIdTests(BaseTestCase):
    def setUp(self) -> None:
        pass  # no blanket scopes_disabled: these tests are about the scope itself

    def test_it_returns_the_practice_in_scope(self) -> None:
        with practice_scope(self.practice):
            self.assertEqual(current_practice_id(), self.practice.pk)
        with practice_scope(self.other_practice.pk):
            self.assertEqual(current_practice_id(), self.other_practice.pk)

    def test_it_refuses_to_run_without_a_scope(self) -> None:
        with self.assertRaises(ScopeError):
            current_practice_id()

    def test_it_means_no_filter_when_scopes_are_disabled(self) -> None:
        with practice_scope(self.practice), scopes_disabled():
            self.assertIsNone(current_practice_id())


class JoinedTests(BaseTestCase):
    def test_it_builds_the_base_row_with_its_relations(self) -> None:
        client = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        task = f.TaskFactory(client=client, owner=self.staff, name="Accounts 2026")
        event = ActivityEvent.objects.create(
            practice=self.practice, verb="x", summary="y", task=task, data={"k": 1}
        )
        query = rows.joined(ActivityEvent, ["task", "task__client", "task__owner", "actor"])
        [found] = rows.fetch_joined(query, "WHERE t0.id = %s", [event.pk])
        self.assertEqual((found.pk, found.data), (event.pk, {"k": 1}))
        with self.assertNumQueries(0):  # everything came with the one query
            self.assertEqual(found.task.name, "Accounts 2026")
            self.assertEqual(found.task.client.name, "Acme Ltd")
            self.assertEqual(found.task.owner, self.staff)
            self.assertIsNone(found.actor)  # an empty nullable relation (LEFT JOIN)
            self.assertTrue(timezone.is_aware(found.created_at))

    def test_an_empty_relation_leaves_its_children_unset(self) -> None:
        event = ActivityEvent.objects.create(practice=self.practice, verb="x", summary="y")
        query = rows.joined(ActivityEvent, ["task", "task__client"])
        [found] = rows.fetch_joined(query, "WHERE t0.id = %s", [event.pk])
        self.assertIsNone(found.task)
        self.assertEqual(rows.fetch_joined(query, "WHERE t0.id = %s", [0]), [])
