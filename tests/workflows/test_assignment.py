"""workflows.assignment: each assignment rule resolved from the task, client and service,
directly and through attaching a template."""

from __future__ import annotations

from sodium.models import ActivityEvent
from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.wf_factories import simple_step
from workflows import assignment, attach, building
from workflows.models import AssignmentRule, Step

R = AssignmentRule


class ResolveTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.team = f.TeamFactory(practice=self.practice, name="Accounts team")
        self.service = f.ServiceFactory(practice=self.practice, name="Year-end accounts")
        self.acme = f.ClientFactory(
            practice=self.practice,
            name="Acme Ltd",
            client_manager=self.manager,
            partner=self.owner,
            associate=self.staff,
        )
        f.ClientServiceFactory(client=self.acme, service=self.service, service_manager=self.admin)
        self.task = f.TaskFactory(
            client=self.acme, owner=self.staff, team=self.team, service=self.service
        )
        self.bare_client = f.ClientFactory(practice=self.practice, name="Bare Bones Ltd")
        self.bare_task = f.TaskFactory(client=self.bare_client, owner=None, team=None, service=None)

    def assert_nobody(self, who: assignment.Assignment, note: str) -> None:
        self.assertIsNone(who.user)
        self.assertIsNone(who.team)
        self.assertEqual(who.note, note)

    def test_task_owner_resolves_to_the_owner(self) -> None:
        who = assignment.resolve(R.TASK_OWNER, self.task)
        self.assertEqual((who.user, who.team, who.note), (self.staff, None, ""))

    def test_task_owner_without_an_owner_says_so(self) -> None:
        self.assert_nobody(
            assignment.resolve(R.TASK_OWNER, self.bare_task), "The task has no owner."
        )

    def test_specific_resolves_to_the_chosen_member(self) -> None:
        who = assignment.resolve(R.SPECIFIC, self.task, specific=self.ar_manager)
        self.assertEqual((who.user, who.note), (self.ar_manager, ""))

    def test_specific_without_a_member_says_so(self) -> None:
        self.assert_nobody(
            assignment.resolve(R.SPECIFIC, self.task, specific=None),
            "The member this step was assigned to has left.",
        )

    def test_client_roles_resolve_to_the_clients_people(self) -> None:
        for rule, person in [
            (R.CLIENT_MANAGER, self.manager),
            (R.CLIENT_PARTNER, self.owner),
            (R.CLIENT_ASSOCIATE, self.staff),
        ]:
            with self.subTest(rule=rule):
                who = assignment.resolve(rule, self.task)
                self.assertEqual((who.user, who.team, who.note), (person, None, ""))

    def test_client_roles_nobody_holds_name_the_client(self) -> None:
        for rule, label in [
            (R.CLIENT_MANAGER, "client manager"),
            (R.CLIENT_PARTNER, "partner"),
            (R.CLIENT_ASSOCIATE, "associate"),
        ]:
            with self.subTest(rule=rule):
                self.assert_nobody(
                    assignment.resolve(rule, self.bare_task), f"Bare Bones Ltd has no {label}."
                )

    def test_service_manager_resolves_to_the_manager_of_the_clients_service(self) -> None:
        who = assignment.resolve(R.SERVICE_MANAGER, self.task)
        self.assertEqual((who.user, who.note), (self.admin, ""))

    def test_service_manager_passed_in_is_used_without_a_lookup(self) -> None:
        with self.assertNumQueries(0):
            who = assignment.resolve(R.SERVICE_MANAGER, self.task, service_manager=self.owner)
        self.assertEqual(who.user, self.owner)

    def test_service_manager_on_a_task_without_a_service_says_so(self) -> None:
        self.assert_nobody(
            assignment.resolve(R.SERVICE_MANAGER, self.bare_task),
            "The task is not for a service, so it has no service manager.",
        )

    def test_service_manager_of_a_service_nobody_manages_names_service_and_client(self) -> None:
        payroll = f.ServiceFactory(practice=self.practice, name="Payroll")
        f.ClientServiceFactory(client=self.acme, service=payroll, service_manager=None)
        task = f.TaskFactory(client=self.acme, owner=self.staff, service=payroll)
        self.assert_nobody(
            assignment.resolve(R.SERVICE_MANAGER, task), "Nobody manages Payroll for Acme Ltd."
        )

    def test_task_team_resolves_to_the_team(self) -> None:
        who = assignment.resolve(R.TASK_TEAM, self.task)
        self.assertEqual((who.user, who.team, who.note), (None, self.team, ""))

    def test_task_team_without_a_team_says_so(self) -> None:
        self.assert_nobody(assignment.resolve(R.TASK_TEAM, self.bare_task), "The task has no team.")

    def test_unassigned_leaves_it_for_anyone(self) -> None:
        self.assert_nobody(
            assignment.resolve(R.UNASSIGNED, self.task), "Left unassigned for anyone to pick up."
        )

    def test_every_rule_is_handled(self) -> None:
        for rule in R.values:
            with self.subTest(rule=rule):
                who = assignment.resolve(rule, self.task, specific=self.staff)
                self.assertNotEqual(who.note, "Unknown assignment rule.")


class AttachAssignmentTests(BaseTestCase):
    """A template with one step per rule, attached to a fully staffed and a bare task."""

    def setUp(self) -> None:
        super().setUp()
        self.team = f.TeamFactory(practice=self.practice, name="Accounts team")
        self.service = f.ServiceFactory(practice=self.practice, name="Year-end accounts")
        self.acme = f.ClientFactory(
            practice=self.practice,
            name="Acme Ltd",
            client_manager=self.manager,
            partner=self.owner,
            associate=self.staff,
        )
        f.ClientServiceFactory(client=self.acme, service=self.service, service_manager=self.admin)
        self.bare_client = f.ClientFactory(practice=self.practice, name="Bare Bones Ltd")
        self.template = building.create_template(
            practice=self.practice, actor=self.manager, name="Everyone"
        )
        group = self.template.groups.get()
        for rule in R.values:
            extra = {"specific_assignee": self.ar_specialist} if rule == R.SPECIFIC else {}
            building.add_step(
                group,
                actor=self.manager,
                **simple_step(name=f"Step for {rule}", assignment_rule=rule, **extra),
            )

    def steps_by_rule(self, steps: list[Step]) -> dict[str, Step]:
        return {s.assignment_rule: Step.objects.get(pk=s.pk) for s in steps}

    def attach_event(self, task):
        return ActivityEvent.objects.get(task=task, verb="workflow.attached")

    def test_each_step_goes_to_the_person_or_team_its_rule_names(self) -> None:
        task = f.TaskFactory(
            client=self.acme, owner=self.manager, team=self.team, service=self.service
        )
        steps = self.steps_by_rule(attach.attach_template(task, self.template, actor=self.owner))
        expected = {
            R.TASK_OWNER: (self.manager, None),
            R.SPECIFIC: (self.ar_specialist, None),
            R.CLIENT_MANAGER: (self.manager, None),
            R.CLIENT_PARTNER: (self.owner, None),
            R.CLIENT_ASSOCIATE: (self.staff, None),
            R.SERVICE_MANAGER: (self.admin, None),
            R.TASK_TEAM: (None, self.team),
            R.UNASSIGNED: (None, None),
        }
        self.assertEqual(set(steps), set(expected))
        for rule, (user, team) in expected.items():
            with self.subTest(rule=rule):
                self.assertEqual((steps[rule].assignee, steps[rule].assignee_team), (user, team))
        for rule in set(expected) - {R.UNASSIGNED}:
            self.assertEqual(steps[rule].assignment_note, "")
        self.assertEqual(
            steps[R.UNASSIGNED].assignment_note, "Left unassigned for anyone to pick up."
        )
        self.assertEqual(
            self.attach_event(task).summary, "Attached the workflow Everyone (8 steps)"
        )

    def test_rules_with_nobody_leave_the_step_unassigned_with_a_note(self) -> None:
        task = f.TaskFactory(client=self.bare_client, owner=None, team=None, service=None)
        # The chosen member left: their steps keep the rule but nobody is set.
        self.template.groups.get().steps.filter(assignment_rule=R.SPECIFIC).update(
            specific_assignee=None
        )
        steps = self.steps_by_rule(attach.attach_template(task, self.template, actor=self.owner))
        expected_notes = {
            R.TASK_OWNER: "The task has no owner.",
            R.SPECIFIC: "The member this step was assigned to has left.",
            R.CLIENT_MANAGER: "Bare Bones Ltd has no client manager.",
            R.CLIENT_PARTNER: "Bare Bones Ltd has no partner.",
            R.CLIENT_ASSOCIATE: "Bare Bones Ltd has no associate.",
            R.SERVICE_MANAGER: "The task is not for a service, so it has no service manager.",
            R.TASK_TEAM: "The task has no team.",
            R.UNASSIGNED: "Left unassigned for anyone to pick up.",
        }
        for rule, note in expected_notes.items():
            with self.subTest(rule=rule):
                self.assertIsNone(steps[rule].assignee)
                self.assertIsNone(steps[rule].assignee_team)
                self.assertEqual(steps[rule].assignment_note, note)
        # Seven rules found nobody; "unassigned" is deliberate, so it is not counted.
        self.assertEqual(
            self.attach_event(task).summary,
            "Attached the workflow Everyone (8 steps); 7 step(s) have nobody to assign",
        )

    def test_a_service_nobody_manages_is_noted_through_attach(self) -> None:
        payroll = f.ServiceFactory(practice=self.practice, name="Payroll")
        f.ClientServiceFactory(client=self.acme, service=payroll, service_manager=None)
        task = f.TaskFactory(client=self.acme, owner=self.manager, team=self.team, service=payroll)
        steps = self.steps_by_rule(attach.attach_template(task, self.template, actor=self.owner))
        self.assertIsNone(steps[R.SERVICE_MANAGER].assignee)
        self.assertEqual(
            steps[R.SERVICE_MANAGER].assignment_note, "Nobody manages Payroll for Acme Ltd."
        )
        self.assertIn("1 step(s) have nobody to assign", self.attach_event(task).summary)

    def test_each_task_in_a_bulk_attach_gets_its_own_people(self) -> None:
        other = f.ClientFactory(practice=self.practice, name="Other Ltd", client_manager=self.admin)
        first = f.TaskFactory(client=self.acme, owner=self.manager)
        second = f.TaskFactory(client=other, owner=self.staff)
        attach.attach_template_to_tasks([first, second], self.template, actor=self.owner)
        got = {
            (s.task_id, s.assignment_rule): s.assignee_id
            for s in Step.objects.filter(assignment_rule__in=[R.TASK_OWNER, R.CLIENT_MANAGER])
        }
        self.assertEqual(
            got,
            {
                (first.pk, R.TASK_OWNER): self.manager.pk,
                (first.pk, R.CLIENT_MANAGER): self.manager.pk,
                (second.pk, R.TASK_OWNER): self.staff.pk,
                (second.pk, R.CLIENT_MANAGER): self.admin.pk,
            },
        )
