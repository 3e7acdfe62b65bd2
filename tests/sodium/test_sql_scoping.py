"""Every hand-written SQL statement is scoped to one practice, and names no table by hand.

Each statement is run for `practice` beside rows of `other_practice` shaped to match it (rows
the database would accept but that cross tenants: another practice's dependency on our step,
its contact on our client, its checklist item on our template step). Each test shows the
other practice's rows untouched or not returned, and the captured SQL shows the practice
filter of every table the statement reads or writes.
"""

from __future__ import annotations

import inspect
import re
from unittest import mock

from django.apps import apps
from django.db import DatabaseError, connection
from django.test import SimpleTestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sodium import outbox, recurring_rows, rows, sql, timers
from sodium.models import Contact, MessageEvent, OutboundMessage, Task, User
from sodium.sms import messages as sms
from sodium.tenancy import practice_scope
from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.wf_factories import chain_template, email_step, simple_step
from workflows import attach, building, engine, handlers
from workflows.models import (
    ChecklistItem,
    Step,
    StepDependency,
    TemplateChecklistItem,
    TemplateDependency,
    TemplateStep,
)

S = Step.Status
RUN = "workflows.tasks.run_step_task.delay"
DELIVER = "sodium.tasks.deliver_message_task.delay"


class ScopedSqlMixin:
    def assert_scoped(self, statement: str, alias: str, practice_id: int) -> None:
        """Assert `statement` filters `alias` (the table's own name when "") by practice."""
        column = connection.ops.quote_name("practice_id")
        qualified = f"{alias}.{column}" if alias else column
        pattern = rf"(?<![\w.]){re.escape(qualified)} = '?{practice_id}'?(?!\d)"
        self.assertRegex(statement, pattern, f"{qualified} is not scoped to {practice_id}")

    def captured(self, context: CaptureQueriesContext, *words: str) -> list[str]:
        """Return the captured statements containing every one of `words`."""
        return [q["sql"] for q in context.captured_queries if all(w in q["sql"] for w in words)]


def q(text: str) -> str:
    return connection.ops.quote_name(text)


class ChainsInTwoPractices(ScopedSqlMixin, BaseTestCase):
    """A manual step → automatic email chain attached to a task in each practice."""

    def setUp(self) -> None:
        super().setUp()
        self.mine = self.chain(self.practice, self.manager)
        self.theirs = self.chain(self.other_practice, self.outsider)

    def chain(self, practice, actor) -> tuple[Step, Step]:
        client = f.ClientFactory(practice=practice)
        f.ContactFactory(client=client, first_name="Ann", email=f"ann{practice.pk}@x.example")
        task = f.TaskFactory(client=client, owner=actor, status="in_progress")
        with mock.patch(RUN):
            prepare, email = attach.attach_template(
                task, chain_template(practice, actor), actor=actor
            )
        return prepare, email

    def complete_mine(self) -> CaptureQueriesContext:
        prepare = self.mine[0]
        with (
            practice_scope(self.practice),
            CaptureQueriesContext(connection) as context,
            mock.patch(RUN),
        ):
            engine.complete_step(prepare, actor=self.manager)
        return context


class LockStepTests(ChainsInTwoPractices):
    def test_it_finds_no_step_of_another_practice(self) -> None:
        theirs = self.theirs[0]
        with practice_scope(self.practice), CaptureQueriesContext(connection) as context:
            self.assertIsNone(engine._locked_step(theirs.pk))
            with self.assertRaises(Step.DoesNotExist):
                engine.lock_step(theirs)
            with self.assertRaises(Step.DoesNotExist):
                engine.complete_step(theirs, actor=self.manager)
        theirs.refresh_from_db()
        self.assertEqual(theirs.status, S.READY)
        [statement, *_] = self.captured(context, "FOR UPDATE", "t0") or self.captured(
            context, q("workflows_step") + " t0"
        )
        self.assert_scoped(statement, "t0", self.practice.pk)

    def test_without_a_scope_it_locks_in_the_steps_own_practice(self) -> None:
        # Scopes disabled (tests, scripts): the filter is the step's own practice, never none.
        theirs = self.theirs[0]
        with CaptureQueriesContext(connection) as context:
            locked = engine._locked_step(theirs.pk)
        self.assertEqual(locked.pk, theirs.pk)
        self.assert_scoped(context.captured_queries[-1]["sql"], "t0", self.other_practice.pk)

    def test_a_tasks_practice_lookup_names_the_steps_own_practice_whatever_the_scope(
        self,
    ) -> None:
        # Cross-tenant by design (a worker task carries only the step's id), and the one
        # step statement with no practice filter: it reads nothing but the practice.
        with practice_scope(self.practice):
            self.assertEqual(engine.practice_of_step(self.theirs[1].pk), self.other_practice.pk)
            self.assertEqual(engine.practice_of_step(self.mine[1].pk), self.practice.pk)
        missing = Step.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
        self.assertIsNone(engine.practice_of_step(missing))


class UnblockDependentsTests(ChainsInTwoPractices):
    def test_it_unblocks_its_own_dependent(self) -> None:
        self.complete_mine()
        self.assertEqual(Step.objects.get(pk=self.mine[1].pk).status, S.READY)

    def test_it_leaves_another_practices_step_blocked(self) -> None:
        # Our dependency row naming their step: read in our practice, it would unblock it.
        StepDependency.objects.create(
            practice=self.practice, step=self.theirs[1], depends_on=self.mine[0]
        )
        self.complete_mine()
        self.assertEqual(Step.objects.get(pk=self.theirs[1].pk).status, S.BLOCKED)
        self.assertEqual(Step.objects.get(pk=self.mine[1].pk).status, S.READY)

    def test_it_does_not_wait_for_another_practices_step(self) -> None:
        # A dependency on a step outside the practice is no dependency: our step is unblocked
        # once its own practice's dependencies are finished.
        StepDependency.objects.create(
            practice=self.practice, step=self.mine[1], depends_on=self.theirs[0]
        )
        context = self.complete_mine()
        self.assertEqual(Step.objects.get(pk=self.mine[1].pk).status, S.READY)
        [waiting] = self.captured(context, "NOT IN")
        self.assert_scoped(waiting, "d", self.practice.pk)
        self.assert_scoped(waiting, "p", self.practice.pk)

    def test_every_statement_carries_the_practice_filter(self) -> None:
        StepDependency.objects.create(
            practice=self.practice, step=self.mine[1], depends_on=self.theirs[0]
        )
        context = self.complete_mine()
        dependency = q("workflows_stepdependency")
        [dependents] = self.captured(context, "count(*)", f"{dependency} d")
        self.assert_scoped(dependents, "d", self.practice.pk)
        self.assert_scoped(dependents, "o", self.practice.pk)
        [blocked] = self.captured(context, f"SELECT * FROM {q('workflows_step')} WHERE")
        self.assert_scoped(blocked, "", self.practice.pk)
        [waiting] = self.captured(context, "NOT IN")
        self.assert_scoped(waiting, "p", self.practice.pk)


class StepWriteTests(ChainsInTwoPractices):
    def test_a_transition_writes_its_step_inside_its_practice(self) -> None:
        context = self.complete_mine()
        writes = self.captured(context, f"UPDATE {q('workflows_step')} SET")
        self.assertEqual(len(writes), 2)  # the step done, its dependent ready
        for write in writes:
            self.assert_scoped(write, "", self.practice.pk)

    def test_handler_reads_are_scoped(self) -> None:
        service = f.ServiceFactory(practice=self.other_practice)
        with CaptureQueriesContext(connection) as context:
            self.assertIsNone(rows.get(type(service), service.pk, practice_id=self.practice.pk))
        self.assert_scoped(context.captured_queries[-1]["sql"], "", self.practice.pk)


class RenderDraftTests(ChainsInTwoPractices):
    def test_it_reads_no_contact_of_another_practice(self) -> None:
        email = self.mine[1]
        # Their contact row naming our client: the contacts statement must not return it.
        Contact.objects.create(
            practice=self.other_practice,
            client_id=email.task.client_id,
            first_name="Mallory",
            last_name="Rival",
            email="mallory@rival.example",
            is_main=True,
        )
        step = engine.lock_step(email)
        with CaptureQueriesContext(connection) as context:
            draft = handlers.render_draft(step)
        self.assertEqual(draft.to, [f"ann{self.practice.pk}@x.example"])
        self.assertNotIn("mallory@rival.example", draft.to + draft.cc)
        [contacts] = self.captured(context, f"FROM {q('sodium_contact')}")
        self.assert_scoped(contacts, "", self.practice.pk)


class AttachTests(ScopedSqlMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.template = building.create_template(
            practice=self.practice, actor=self.manager, name="Year end"
        )
        group = self.template.groups.get()
        self.first = building.add_step(group, actor=self.manager, **simple_step())
        self.second = building.add_step(group, actor=self.manager, **email_step())
        self.task = f.TaskFactory(client__practice=self.practice, owner=self.manager)
        # Another practice's rows naming our template's steps.
        TemplateDependency.objects.create(
            practice=self.other_practice, step=self.second, depends_on=self.first
        )
        TemplateChecklistItem.objects.create(
            practice=self.other_practice, step=self.first, text="Their secret", position=1
        )

    def attach(self) -> CaptureQueriesContext:
        with practice_scope(self.practice), CaptureQueriesContext(connection) as context:
            attach.attach_template(self.task, self.template, actor=self.manager)
        return context

    def test_it_copies_no_dependency_or_checklist_of_another_practice(self) -> None:
        self.attach()
        steps = Step.objects.filter(task=self.task)
        self.assertEqual(steps.count(), 2)
        self.assertFalse(StepDependency.objects.filter(step__task=self.task).exists())
        self.assertFalse(ChecklistItem.objects.filter(step__task=self.task).exists())
        self.assertEqual(steps.get(source=self.second).status, S.READY)

    def test_it_copies_no_template_step_of_another_practice(self) -> None:
        theirs = TemplateStep.objects.create(
            practice=self.other_practice,
            group=f_group(self.other_practice, self.outsider),
            name="Their step",
            type="simple",
            mode="manual",
            position=1,
        )
        mine = self.attach()  # a group of ours to put the forged row in
        group_id = Step.objects.filter(task=self.task).first().group_id
        with CaptureQueriesContext(connection) as context:
            attach._insert_steps(
                self.practice.pk,
                [(self.task.pk, theirs.pk, group_id, None, None, "", 1)],
                timezone.now(),
            )
        self.assertFalse(Step.objects.filter(source=theirs).exists())
        [insert] = self.captured(context, f"INSERT INTO {q('workflows_step')}")
        self.assert_scoped(insert, "ts", self.practice.pk)
        self.assertTrue(self.captured(mine, f"INSERT INTO {q('workflows_step')}"))

    def test_every_statement_carries_the_practice_filter(self) -> None:
        context = self.attach()
        [steps] = self.captured(context, f"INSERT INTO {q('workflows_step')}")
        self.assert_scoped(steps, "ts", self.practice.pk)
        [dependencies] = self.captured(context, f"INSERT INTO {q('workflows_stepdependency')}")
        for alias in ("a", "b", "td"):
            self.assert_scoped(dependencies, alias, self.practice.pk)
        [checklists] = self.captured(context, f"INSERT INTO {q('workflows_checklistitem')}")
        for alias in ("s", "ci"):
            self.assert_scoped(checklists, alias, self.practice.pk)


def f_group(practice, actor):
    template = building.create_template(practice=practice, actor=actor, name="Theirs")
    return template.groups.get()


class OutboxTests(ScopedSqlMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        with mock.patch(DELIVER):
            self.theirs = outbox.queue_email(
                practice=self.other_practice,
                key="their:1",
                to=["them@rival.example"],
                subject="Theirs",
                text="Their text",
            )

    def test_a_claim_in_another_practice_sends_nothing(self) -> None:
        with CaptureQueriesContext(connection) as context:
            self.assertIsNone(outbox.deliver(self.theirs.pk, self.practice.pk))
        stored = OutboundMessage.objects.get(pk=self.theirs.pk)
        self.assertEqual((stored.status, stored.attempts), (OutboundMessage.Status.QUEUED, 0))
        [claim] = self.captured(context, f"UPDATE {q('sodium_outboundmessage')}")
        self.assert_scoped(claim, "", self.practice.pk)

    def test_a_task_with_only_the_id_claims_in_the_messages_practice(self) -> None:
        with CaptureQueriesContext(connection) as context:
            sent = outbox.deliver(self.theirs.pk)
        self.assertEqual(sent.status, OutboundMessage.Status.SENT)
        claim, record = self.captured(context, f"UPDATE {q('sodium_outboundmessage')}")
        self.assert_scoped(claim, "", self.other_practice.pk)
        self.assert_scoped(record, "", self.other_practice.pk)

    def test_recording_a_send_writes_nothing_in_another_practice(self) -> None:
        forged = OutboundMessage.objects.get(pk=self.theirs.pk)
        forged.practice_id = self.practice.pk
        with self.assertRaises(OutboundMessage.DoesNotExist):
            outbox._record_sent(forged, "provider-1")
        stored = OutboundMessage.objects.get(pk=self.theirs.pk)
        self.assertEqual((stored.status, stored.provider_message_id), ("queued", ""))
        self.assertFalse(MessageEvent.objects.filter(message=stored, event="sent").exists())


class RowsTests(ScopedSqlMixin, BaseTestCase):
    def test_update_writes_no_row_of_another_practice(self) -> None:
        theirs = f.TaskFactory(client=self.other_client, name="Their task")
        forged = Task.objects.get(pk=theirs.pk)
        forged.practice_id = self.practice.pk
        forged.name = "Overwritten"
        with CaptureQueriesContext(connection) as context:
            with self.assertRaises(DatabaseError):
                rows.update(forged, ["name"])
        self.assertEqual(Task.objects.get(pk=theirs.pk).name, "Their task")
        self.assert_scoped(context.captured_queries[-1]["sql"], "", self.practice.pk)

    def test_get_returns_no_row_of_another_practice(self) -> None:
        theirs = f.TaskFactory(client=self.other_client)
        self.assertIsNone(rows.get(Task, theirs.pk, practice_id=self.practice.pk))
        self.assertEqual(rows.get(Task, theirs.pk, practice_id=self.other_practice.pk), theirs)

    def test_get_of_a_tenant_row_needs_a_practice(self) -> None:
        with self.assertRaises(TypeError):
            rows.get(Task, 1)
        self.assertEqual(rows.get(User, self.owner.pk), self.owner)  # users span practices


class QueueMessageTests(BaseTestCase):
    def test_email_and_sms_share_one_insert(self) -> None:
        contact = f.ContactFactory(client__practice=self.practice, mobile="+447700900123")
        with mock.patch.object(outbox, "queue_message", wraps=outbox.queue_message) as shared:
            with mock.patch(DELIVER):
                outbox.queue_email(
                    practice=self.practice, key="e:1", to=["a@x.example"], subject="S", text="T"
                )
                sms.queue_sms(practice=self.practice, key="s:1", contact=contact, body="Hi")
        channels = [c.kwargs["channel"] for c in shared.call_args_list]
        self.assertEqual(channels, [OutboundMessage.Channel.EMAIL, OutboundMessage.Channel.SMS])


class HelperTests(SimpleTestCase):
    def test_names_come_from_the_model(self) -> None:
        s = sql.Table(Step, "s")
        self.assertEqual(str(s), f"{q('workflows_step')} s")
        self.assertEqual(s.task, f"s.{q('task_id')}")
        self.assertEqual(sql.Table(Step).pk, q("id"))
        self.assertEqual(sql.columns(Step, ["group", "status"]), f"{q('group_id')}, {q('status')}")

    def test_scoped_appends_one_filter_and_param_per_table(self) -> None:
        a, b = sql.Table(Step, "a"), sql.Table(StepDependency, "b")
        text, params = sql.scoped("WHERE a.x = %s", [7], 3, a, b)
        pid = q("practice_id")
        self.assertEqual(text, f"WHERE a.x = %s AND a.{pid} = %s AND b.{pid} = %s")
        self.assertEqual(params, [7, 3, 3])

    def test_scoped_refuses_no_practice_and_untenanted_tables(self) -> None:
        with self.assertRaises(ValueError):
            sql.scoped("WHERE 1 = 1", [], None, sql.Table(Step))
        with self.assertRaises(ValueError):
            sql.scoped("WHERE 1 = 1", [], 1)
        with self.assertRaises(ValueError):
            sql.scoped("WHERE 1 = 1", [], 1, sql.Table(User))


# The modules that run hand-written SQL: their statements name tables only through sodium.sql.
HAND_WRITTEN = (engine, attach, handlers, outbox, rows, timers, sms, sql, recurring_rows)


class NoLiteralTableNamesTests(SimpleTestCase):
    def test_no_module_with_hand_written_sql_spells_a_table_name(self) -> None:
        tables = {m._meta.db_table for m in apps.get_models(include_auto_created=True)}
        for module in HAND_WRITTEN:
            source = inspect.getsource(module)
            spelled = {t for t in tables if re.search(rf"\b{re.escape(t)}\b", source)}
            with self.subTest(module=module.__name__):
                self.assertEqual(spelled, set())

    def test_no_module_spells_a_prefixed_table_name_of_a_model_yet_to_come(self) -> None:
        # Catches a name the models do not have (a typo, a table added later) as well.
        for module in HAND_WRITTEN:
            source = inspect.getsource(module)
            found = re.findall(r"\b(?:workflows|sodium|portal)_[a-z]+\b", source)
            allowed = {"sodium_message_id", "sodium_outbox_sent_here"}  # metadata, not tables
            with self.subTest(module=module.__name__):
                self.assertEqual(set(found) - allowed, set())
