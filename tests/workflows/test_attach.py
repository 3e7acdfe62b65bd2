"""workflows.attach: a template copied into tasks, the copy's independence from the template,
per-task customisation through the engine, and bulk attaching."""

from __future__ import annotations

from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext

from sodium.models import ActivityEvent, Task
from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.wf_factories import chain_template, email_step, simple_step
from workflows import attach, building, customise, engine
from workflows.models import (
    ChecklistItem,
    Step,
    StepDependency,
    StepGroup,
    TemplateChecklistItem,
    TemplateStep,
    WorkflowTemplate,
)

S = Step.Status
DELAY = "workflows.tasks.run_step_task.delay"
CONFIRMATION = {
    "message": "Please confirm all accounting entries have been made.",
    "button_text": "Confirm",
    "thank_you": "Thank you, we will carry on.",
}
COPIED_FIELDS = (
    "name",
    "description",
    "type",
    "mode",
    "position",
    "settings",
    "content_block_id",
    "subject",
    "body",
    "to_recipients",
    "cc_recipients",
    "assignment_rule",
)


class TemplateMixin:
    """A two-group template with every kind of content worth copying."""

    def build_template(self) -> WorkflowTemplate:
        actor = self.manager
        self.block = building.save_content_block(
            practice=self.practice,
            actor=actor,
            name="Confirm entries",
            subject="Please confirm, {{ client.name }}",
            body="Click {{ action_link }}",
        )
        template = building.create_template(
            practice=self.practice, actor=actor, name="Year end", first_group="Records"
        )
        records = template.groups.get()
        filing = building.add_group(template, actor=actor, name="Filing")
        self.t_prepare = building.add_step(
            records,
            actor=actor,
            checklist=["Bank rec", "Accruals"],
            **simple_step(description="Draft the accounts from the records."),
        )
        self.t_welcome = building.add_step(
            records,
            actor=actor,
            **email_step(cc_recipients=["member:client_manager", "email:files@ledger.example"]),
        )
        self.t_confirm = building.add_step(
            records,
            actor=actor,
            depends_on=[self.t_prepare],
            name="Confirm entries",
            type="client_confirmation",
            mode="manual",
            content_block=self.block,
            to_recipients=["contact:director"],
            settings=CONFIRMATION,
            assignment_rule="client_manager",
        )
        self.t_file = building.add_step(
            filing, actor=actor, checklist=["Sign"], **simple_step(name="File accounts")
        )
        self.t_notify = building.add_step(
            filing,
            actor=actor,
            depends_on=[self.t_file],
            **email_step(
                name="Tell the client it is filed", subject="Filed", body="Your accounts are filed."
            ),
        )
        return template

    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(
            practice=self.practice, name="Acme Ltd", client_manager=self.manager
        )
        self.task = f.TaskFactory(client=self.acme, owner=self.staff, status="planned")
        self.template = self.build_template()

    def copy_of(self, template_step: TemplateStep, task: Task | None = None) -> Step:
        return Step.objects.get(task=task or self.task, source=template_step)


class AttachCopyTests(TemplateMixin, BaseTestCase):
    def test_it_copies_the_groups_in_order(self) -> None:
        attach.attach_template(self.task, self.template, actor=self.manager)
        groups = list(StepGroup.objects.filter(task=self.task))
        self.assertEqual([(g.name, g.position) for g in groups], [("Records", 1), ("Filing", 2)])
        self.assertTrue(all(g.template_id == self.template.pk for g in groups))
        self.assertEqual(
            [s.name for s in groups[1].steps.all()],
            ["File accounts", "Tell the client it is filed"],
        )

    def test_it_copies_every_config_field_of_every_step(self) -> None:
        steps = attach.attach_template(self.task, self.template, actor=self.manager)
        self.assertEqual(len(steps), 5)
        for ts in TemplateStep.objects.filter(group__template=self.template):
            with self.subTest(step=ts.name):
                copy = self.copy_of(ts)
                for name in COPIED_FIELDS:
                    self.assertEqual(getattr(copy, name), getattr(ts, name), name)
                self.assertEqual(copy.group.name, ts.group.name)
                self.assertEqual(copy.practice_id, self.practice.pk)
        confirm = self.copy_of(self.t_confirm)
        self.assertEqual(confirm.settings, CONFIRMATION)
        self.assertEqual(confirm.content_block, self.block)
        welcome = self.copy_of(self.t_welcome)
        self.assertEqual(
            (welcome.mode, welcome.cc_recipients),
            ("automatic", ["member:client_manager", "email:files@ledger.example"]),
        )

    def test_it_copies_checklists_unticked_and_in_order(self) -> None:
        attach.attach_template(self.task, self.template, actor=self.manager)
        items = ChecklistItem.objects.filter(step=self.copy_of(self.t_prepare))
        self.assertEqual(
            [(i.text, i.position, i.done) for i in items],
            [("Bank rec", 1, False), ("Accruals", 2, False)],
        )
        self.assertEqual(
            list(
                ChecklistItem.objects.filter(step=self.copy_of(self.t_file)).values_list(
                    "text", flat=True
                )
            ),
            ["Sign"],
        )
        self.assertEqual(ChecklistItem.objects.filter(step__task=self.task).count(), 3)

    def test_it_copies_dependencies_between_the_copies(self) -> None:
        attach.attach_template(self.task, self.template, actor=self.manager)
        pairs = set(
            StepDependency.objects.filter(step__task=self.task).values_list(
                "step__name", "depends_on__name"
            )
        )
        self.assertEqual(
            pairs,
            {
                ("Confirm entries", "Prepare draft accounts"),
                ("Tell the client it is filed", "File accounts"),
            },
        )
        for dep in StepDependency.objects.filter(step__task=self.task):
            self.assertEqual(dep.depends_on.task_id, self.task.pk)

    def test_steps_without_dependencies_are_ready_and_the_rest_blocked(self) -> None:
        attach.attach_template(self.task, self.template, actor=self.manager)
        statuses = dict(Step.objects.filter(task=self.task).values_list("name", "status"))
        self.assertEqual(
            statuses,
            {
                "Prepare draft accounts": S.READY,
                "Send welcome email": S.READY,
                "Confirm entries": S.BLOCKED,
                "File accounts": S.READY,
                "Tell the client it is filed": S.BLOCKED,
            },
        )
        self.assertIsNotNone(self.copy_of(self.t_prepare).ready_at)
        self.assertIsNone(self.copy_of(self.t_confirm).ready_at)

    def test_it_records_one_attach_event_per_task(self) -> None:
        attach.attach_template(self.task, self.template, actor=self.manager)
        event = ActivityEvent.objects.get(task=self.task, verb="workflow.attached")
        self.assertEqual(event.actor, self.manager)
        self.assertEqual(event.client, self.acme)
        self.assertEqual(
            (event.object_type, event.object_id), ("workflows.workflowtemplate", self.template.pk)
        )
        self.assertEqual(event.summary, "Attached the workflow Year end (5 steps)")

    def test_the_same_template_can_be_attached_to_two_tasks_independently(self) -> None:
        second = f.TaskFactory(client=self.acme, owner=self.admin)
        attach.attach_template_to_tasks([self.task, second], self.template, actor=self.manager)
        self.assertEqual(Step.objects.filter(task=self.task).count(), 5)
        self.assertEqual(Step.objects.filter(task=second).count(), 5)
        self.assertEqual(self.copy_of(self.t_prepare, second).assignee, self.admin)
        deps = StepDependency.objects.filter(step__task=second)
        self.assertTrue(all(d.depends_on.task_id == second.pk for d in deps))


class AttachRefusalTests(TemplateMixin, BaseTestCase):
    def assert_nothing_attached(self) -> None:
        self.assertFalse(StepGroup.objects.filter(task=self.task).exists())
        self.assertFalse(Step.objects.filter(task=self.task).exists())
        self.assertFalse(ActivityEvent.objects.filter(verb="workflow.attached").exists())

    def test_an_archived_template_cannot_be_attached(self) -> None:
        engine.set_template_status(self.template, actor=self.manager, status="archived")
        with self.assertRaisesMessage(attach.AttachError, "Archived"):
            attach.attach_template(self.task, self.template, actor=self.manager)
        self.assert_nothing_attached()

    def test_another_practices_template_cannot_be_attached(self) -> None:
        theirs = building.create_template(
            practice=self.other_practice, actor=self.outsider, name="Theirs"
        )
        building.add_step(theirs.groups.get(), actor=self.outsider, **simple_step())
        with self.assertRaisesMessage(attach.AttachError, "another practice"):
            attach.attach_template(self.task, theirs, actor=self.manager)
        self.assert_nothing_attached()

    def test_a_template_cannot_be_attached_to_another_practices_task(self) -> None:
        their_task = f.TaskFactory(client=self.other_client)
        with self.assertRaises(attach.AttachError):
            attach.attach_template_to_tasks(
                [self.task, their_task], self.template, actor=self.manager
            )
        self.assert_nothing_attached()
        self.assertFalse(Step.objects.filter(task=their_task).exists())


class TemplateEditsLeaveCopiesAloneTests(TemplateMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        attach.attach_template(self.task, self.template, actor=self.manager)

    def test_changing_a_template_step_leaves_the_tasks_copy(self) -> None:
        building.update_step(
            self.t_welcome,
            actor=self.manager,
            subject="New subject",
            body="New body",
            to_recipients=["contact:billing"],
        )
        copy = self.copy_of(self.t_welcome)
        self.assertEqual(copy.subject, "Welcome, {{ client.name }}")
        self.assertIn("Welcome aboard.", copy.body)
        self.assertEqual(copy.to_recipients, ["contact:main"])

    def test_adding_a_template_step_does_not_add_it_to_the_task(self) -> None:
        building.add_step(
            self.t_prepare.group, actor=self.manager, **simple_step(name="Late addition")
        )
        self.assertEqual(Step.objects.filter(task=self.task).count(), 5)
        self.assertFalse(Step.objects.filter(task=self.task, name="Late addition").exists())

    def test_changing_a_template_checklist_leaves_the_tasks_checklist(self) -> None:
        building.set_checklist(self.t_prepare, actor=self.manager, items=["Only this"])
        self.assertEqual(
            list(
                ChecklistItem.objects.filter(step=self.copy_of(self.t_prepare)).values_list(
                    "text", flat=True
                )
            ),
            ["Bank rec", "Accruals"],
        )

    def test_deleting_a_template_step_keeps_the_tasks_copy(self) -> None:
        copy_pk = self.copy_of(self.t_file).pk
        building.delete_step(self.t_file, actor=self.manager)
        copy = Step.objects.get(pk=copy_pk)
        self.assertIsNone(copy.source_id)
        self.assertEqual(copy.name, "File accounts")
        self.assertEqual(ChecklistItem.objects.filter(step=copy).count(), 1)


class PerTaskCustomisationTests(TemplateMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.other_task = f.TaskFactory(client=self.acme, owner=self.staff)
        attach.attach_template_to_tasks(
            [self.task, self.other_task], self.template, actor=self.manager
        )
        self.template_rows_before = self.template_snapshot()

    def template_snapshot(self) -> list[tuple]:
        steps = list(
            TemplateStep.objects.filter(group__template=self.template)
            .order_by("pk")
            .values_list("pk", *COPIED_FIELDS, "specific_assignee_id")
        )
        items = list(
            TemplateChecklistItem.objects.filter(step__group__template=self.template)
            .order_by("pk")
            .values_list("step_id", "text", "position")
        )
        return [steps, items]

    def assert_template_untouched(self) -> None:
        self.assertEqual(self.template_snapshot(), self.template_rows_before)

    def test_skipping_a_step_touches_neither_the_template_nor_other_tasks(self) -> None:
        engine.skip_step(self.copy_of(self.t_welcome), actor=self.staff)
        self.assertEqual(self.copy_of(self.t_welcome).status, S.SKIPPED)
        self.assertEqual(self.copy_of(self.t_welcome, self.other_task).status, S.READY)
        self.assert_template_untouched()

    def test_reassigning_a_step_changes_only_this_tasks_copy(self) -> None:
        customise.reassign_step(
            self.copy_of(self.t_prepare), actor=self.manager, assignee=self.admin
        )
        self.assertEqual(self.copy_of(self.t_prepare).assignee, self.admin)
        self.assertEqual(self.copy_of(self.t_prepare, self.other_task).assignee, self.staff)
        event = ActivityEvent.objects.get(task=self.task, verb="step.reassigned")
        self.assertIn(str(self.admin), event.summary)
        self.assert_template_untouched()

    def test_reassigning_to_nobody_notes_it_is_for_anyone(self) -> None:
        customise.reassign_step(self.copy_of(self.t_prepare), actor=self.manager, assignee=None)
        copy = self.copy_of(self.t_prepare)
        self.assertIsNone(copy.assignee)
        self.assertEqual(copy.assignment_note, "Left unassigned for anyone to pick up.")

    def test_reassigning_a_finished_step_is_refused(self) -> None:
        prepare = self.copy_of(self.t_prepare)
        engine.complete_step(prepare, actor=self.staff)
        with self.assertRaises(engine.WorkflowError):
            customise.reassign_step(prepare, actor=self.manager, assignee=self.admin)
        self.assertEqual(self.copy_of(self.t_prepare).assignee, self.staff)

    def test_editing_a_steps_content_changes_only_this_tasks_copy(self) -> None:
        customise.edit_step(
            self.copy_of(self.t_welcome),
            actor=self.staff,
            subject="Welcome to Ledger & Co, {{ client.name }}",
            body="Hello Acme, a personal note.",
        )
        copy = self.copy_of(self.t_welcome)
        self.assertEqual(copy.subject, "Welcome to Ledger & Co, {{ client.name }}")
        self.assertEqual(copy.body, "Hello Acme, a personal note.")
        other = self.copy_of(self.t_welcome, self.other_task)
        self.assertEqual(other.subject, "Welcome, {{ client.name }}")
        self.assertTrue(ActivityEvent.objects.filter(task=self.task, verb="step.edited").exists())
        self.assert_template_untouched()

    def test_an_edit_that_breaks_the_step_is_refused_and_changes_nothing(self) -> None:
        with self.assertRaisesMessage(engine.WorkflowError, "Choose at least one recipient"):
            customise.edit_step(self.copy_of(self.t_welcome), actor=self.staff, to_recipients=[])
        with self.assertRaisesMessage(engine.WorkflowError, "Unknown variable"):
            customise.edit_step(
                self.copy_of(self.t_welcome), actor=self.staff, body="Hi {{ client.nickname }}"
            )
        copy = self.copy_of(self.t_welcome)
        self.assertEqual(copy.to_recipients, ["contact:main"])
        self.assertIn("Welcome aboard.", copy.body)
        self.assertFalse(ActivityEvent.objects.filter(verb="step.edited").exists())

    def test_editing_fields_outside_the_content_is_refused(self) -> None:
        with self.assertRaisesMessage(engine.WorkflowError, "status"):
            customise.edit_step(self.copy_of(self.t_welcome), actor=self.staff, status="done")
        self.assertEqual(self.copy_of(self.t_welcome).status, S.READY)

    def test_editing_a_finished_step_is_refused(self) -> None:
        prepare = self.copy_of(self.t_prepare)
        engine.complete_step(prepare, actor=self.staff)
        with self.assertRaises(engine.WorkflowError):
            customise.edit_step(prepare, actor=self.staff, name="Renamed")
        self.assertEqual(self.copy_of(self.t_prepare).name, "Prepare draft accounts")

    def test_a_one_off_step_waits_for_its_dependency_and_leaves_the_template(self) -> None:
        prepare = self.copy_of(self.t_prepare)
        extra = engine.add_step(
            self.task,
            group=prepare.group,
            actor=self.manager,
            depends_on=[prepare],
            assignee=self.admin,
            **simple_step(name="Call the client about stock"),
        )
        extra.refresh_from_db()
        self.assertEqual(
            (extra.status, extra.assignee, extra.source_id), (S.BLOCKED, self.admin, None)
        )
        self.assertEqual(extra.position, 4)  # after the group's last step
        self.assertEqual(Step.objects.filter(task=self.task).count(), 6)
        self.assertEqual(Step.objects.filter(task=self.other_task).count(), 5)
        self.assertTrue(ActivityEvent.objects.filter(task=self.task, verb="step.added").exists())

        engine.complete_step(prepare, actor=self.staff)
        extra.refresh_from_db()
        self.assertEqual(extra.status, S.READY)
        self.assert_template_untouched()

    def test_a_one_off_step_without_dependencies_is_ready_at_once(self) -> None:
        extra = engine.add_step(
            self.task,
            group=self.copy_of(self.t_file).group,
            actor=self.manager,
            **simple_step(name="One more thing"),
        )
        extra.refresh_from_db()
        self.assertEqual(extra.status, S.READY)
        self.assertEqual(extra.assignment_note, "Left unassigned for anyone to pick up.")

    def test_a_one_off_step_cannot_depend_on_another_group_or_use_another_tasks_group(
        self,
    ) -> None:
        records = self.copy_of(self.t_prepare).group
        with self.assertRaises(engine.WorkflowError):
            engine.add_step(
                self.task,
                group=records,
                actor=self.manager,
                depends_on=[self.copy_of(self.t_file)],
                **simple_step(name="X"),
            )
        with self.assertRaises(engine.WorkflowError):
            engine.add_step(
                self.task,
                group=self.copy_of(self.t_prepare, self.other_task).group,
                actor=self.manager,
                **simple_step(name="Y"),
            )
        self.assertFalse(Step.objects.filter(name__in=["X", "Y"]).exists())


class ChecklistTickTests(TemplateMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        attach.attach_template(self.task, self.template, actor=self.manager)
        self.item = ChecklistItem.objects.get(step__task=self.task, text="Bank rec")

    def test_ticking_records_who_and_when_and_unticking_clears_it(self) -> None:
        customise.set_checklist_item(self.item, actor=self.staff, done=True)
        self.item.refresh_from_db()
        self.assertEqual((self.item.done, self.item.done_by), (True, self.staff))
        self.assertIsNotNone(self.item.done_at)
        customise.set_checklist_item(self.item, actor=self.staff, done=False)
        self.item.refresh_from_db()
        self.assertEqual(
            (self.item.done, self.item.done_by, self.item.done_at), (False, None, None)
        )
        self.assertEqual(ActivityEvent.objects.filter(verb="checklist.ticked").count(), 2)

    def test_ticking_twice_records_once(self) -> None:
        customise.set_checklist_item(self.item, actor=self.staff, done=True)
        customise.set_checklist_item(self.item, actor=self.admin, done=True)
        self.item.refresh_from_db()
        self.assertEqual(self.item.done_by, self.staff)
        self.assertEqual(ActivityEvent.objects.filter(verb="checklist.ticked").count(), 1)


class BulkAttachTests(TemplateMixin, BaseTestCase):
    def tasks(self, n: int) -> list[Task]:
        return [f.TaskFactory(client=self.acme, owner=self.staff) for _ in range(n)]

    def queries_to_attach(self, tasks: list[Task]) -> int:
        """Count the statements attach sends, a bulk insert split by the backend as one.

        SQLite allows 999 parameters per statement, so Django splits one bulk_create into
        several INSERTs as rows grow; PostgreSQL sends each bulk_create as one statement.
        """
        with CaptureQueriesContext(connection) as ctx:
            attach.attach_template_to_tasks(tasks, self.template, actor=self.manager)
        statements = [q["sql"] for q in ctx.captured_queries]
        if connection.features.max_query_params is None:
            return len(statements)
        collapsed: list[str] = []
        for sql in statements:
            head = " ".join(sql.split()[:3])  # INSERT INTO "table"
            if not (sql.startswith("INSERT") and collapsed and collapsed[-1] == head):
                collapsed.append(head if sql.startswith("INSERT") else sql)
        return len(collapsed)

    def test_it_runs_the_same_number_of_queries_for_5_and_50_tasks(self) -> None:
        few = self.queries_to_attach(self.tasks(5))
        many = self.queries_to_attach(self.tasks(50))
        self.assertEqual(few, many)
        self.assertEqual(Step.objects.count(), 55 * 5)
        self.assertEqual(ChecklistItem.objects.count(), 55 * 3)
        self.assertEqual(StepDependency.objects.count(), 55 * 2)
        self.assertEqual(ActivityEvent.objects.filter(verb="workflow.attached").count(), 55)

    def test_service_manager_steps_stay_within_the_same_query_count(self) -> None:
        service = f.ServiceFactory(practice=self.practice, name="Accounts")
        f.ClientServiceFactory(client=self.acme, service=service, service_manager=self.admin)
        building.update_step(self.t_file, actor=self.manager, assignment_rule="service_manager")

        def tasks(n: int) -> list[Task]:
            return [f.TaskFactory(client=self.acme, service=service) for _ in range(n)]

        self.assertEqual(self.queries_to_attach(tasks(5)), self.queries_to_attach(tasks(50)))
        self.assertEqual(Step.objects.filter(source=self.t_file, assignee=self.admin).count(), 55)

    # Regression: a service without a manager was prefetched as None, which resolve() took for
    # "not looked up" and queried again for every such step of every task (an N+1).
    def test_a_service_nobody_manages_stays_within_the_same_query_count(self) -> None:
        service = f.ServiceFactory(practice=self.practice, name="Accounts")
        f.ClientServiceFactory(client=self.acme, service=service, service_manager=None)
        building.update_step(self.t_file, actor=self.manager, assignment_rule="service_manager")

        def tasks(n: int) -> list[Task]:
            return [f.TaskFactory(client=self.acme, service=service) for _ in range(n)]

        self.assertEqual(self.queries_to_attach(tasks(5)), self.queries_to_attach(tasks(50)))


class AttachRunsAutomaticStepsTests(TemplateMixin, BaseTestCase):
    def test_attaching_to_a_started_task_enqueues_its_ready_automatic_steps(self) -> None:
        started = f.TaskFactory(client=self.acme, owner=self.staff, status="in_progress")
        with mock.patch(DELAY) as delay, self.captureOnCommitCallbacks(execute=True):
            attach.attach_template(started, self.template, actor=self.manager)
        # Only "Send welcome email" is automatic and ready; the filing email is blocked.
        delay.assert_called_once_with(self.copy_of(self.t_welcome, started).pk)

    def test_attaching_to_a_planned_or_held_task_enqueues_nothing(self) -> None:
        for status in ("planned", "on_hold"):
            with self.subTest(status=status):
                task = f.TaskFactory(client=self.acme, owner=self.staff, status=status)
                with mock.patch(DELAY) as delay, self.captureOnCommitCallbacks(execute=True):
                    attach.attach_template(task, self.template, actor=self.manager)
                delay.assert_not_called()
                self.assertEqual(self.copy_of(self.t_welcome, task).status, S.READY)

    def test_starting_the_task_later_enqueues_them(self) -> None:
        from sodium.engine import change_task_status

        attach.attach_template(self.task, self.template, actor=self.manager)
        with mock.patch(DELAY) as delay, self.captureOnCommitCallbacks(execute=True):
            change_task_status(self.task, to="in_progress", actor=self.staff)
        delay.assert_called_once_with(self.copy_of(self.t_welcome).pk)


class TemplateStatusTests(BaseTestCase):
    def test_archiving_and_restoring_go_through_the_engine_and_unknown_states_are_refused(
        self,
    ) -> None:
        template = chain_template(self.practice, self.manager)
        engine.set_template_status(template, actor=self.manager, status="archived")
        template.refresh_from_db()
        self.assertEqual(template.status, "archived")
        with self.assertRaises(engine.InvalidTransition):
            engine.set_template_status(template, actor=self.manager, status="deleted")
        template.refresh_from_db()
        self.assertEqual(template.status, "archived")
