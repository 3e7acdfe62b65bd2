"""workflows.building and the step model's rules: what a template step may be, dependencies
without loops, cloning, ordering, groups and content blocks."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from sodium.models import ActivityEvent
from tests.base import BaseTestCase
from tests.workflows.wf_factories import email_step, simple_step
from workflows import building, step_types
from workflows.models import (
    ContentBlock,
    TemplateChecklistItem,
    TemplateDependency,
    TemplateGroup,
    TemplateStep,
    WorkflowTemplate,
)

CONFIRMATION = {
    "message": "Please confirm all accounting entries have been made.",
    "button_text": "Confirm",
    "thank_you": "Thank you.",
}


class TemplateMixin:
    def setUp(self) -> None:
        super().setUp()
        self.template = building.create_template(
            practice=self.practice, actor=self.manager, name="Year end"
        )
        self.group = self.template.groups.get()

    def add(self, **fields) -> TemplateStep:
        return building.add_step(self.group, actor=self.manager, **fields)

    def steps(self) -> TemplateStep:
        return TemplateStep.objects.filter(group__template=self.template)


class StepModeRulesTests(TemplateMixin, BaseTestCase):
    def unsaved(self, **fields) -> TemplateStep:
        base = {
            "name": "Send draft accounts",
            "subject": "Draft",
            "body": "Attached.",
            "to_recipients": ["contact:main"],
        }
        base.update(fields)
        return TemplateStep(practice=self.practice, group=self.group, **base)

    def test_full_clean_refuses_an_automatic_document_approval(self) -> None:
        step = self.unsaved(type="document_approval", mode="automatic")
        with self.assertRaises(ValidationError) as caught:
            step.full_clean()
        self.assertIn("mode", caught.exception.message_dict)
        self.assertIn("always manual", " ".join(caught.exception.message_dict["mode"]))

    def test_full_clean_refuses_an_automatic_simple_step(self) -> None:
        step = TemplateStep(
            practice=self.practice,
            group=self.group,
            name="Prepare",
            type="simple",
            mode="automatic",
        )
        with self.assertRaises(ValidationError) as caught:
            step.full_clean()
        self.assertIn("mode", caught.exception.message_dict)

    def test_full_clean_accepts_the_manual_versions(self) -> None:
        self.unsaved(type="document_approval", mode="manual").full_clean()
        TemplateStep(
            practice=self.practice, group=self.group, name="Prepare", type="simple", mode="manual"
        ).full_clean()

    def test_the_type_declaration_refuses_an_automatic_document_approval(self) -> None:
        # The database no longer names the portal's types: the declaration decides, and
        # clean, the forms and the engine (workflows.engine._runnable) all ask it.
        self.assertTrue(step_types.mode_errors("document_approval", "automatic"))
        self.assertEqual(step_types.mode_errors("document_approval", "manual"), [])

    def test_the_database_refuses_an_automatic_simple_step(self) -> None:
        with self.assertRaises(IntegrityError), transaction.atomic():
            TemplateStep.objects.create(
                practice=self.practice,
                group=self.group,
                name="Prepare",
                type="simple",
                mode="automatic",
            )
        self.assertFalse(self.steps().exists())

    def test_add_step_refuses_an_automatic_document_approval(self) -> None:
        with self.assertRaises(building.TemplateError) as caught:
            self.add(
                name="Approve",
                type="document_approval",
                mode="automatic",
                subject="Please approve",
                body="Attached",
                to_recipients=["contact:main"],
            )
        self.assertIn("mode", caught.exception.errors)
        self.assertFalse(self.steps().exists())


class AddStepValidationTests(TemplateMixin, BaseTestCase):
    def assert_refused(self, field: str, fragment: str, **fields) -> None:
        with self.assertRaises(building.TemplateError) as caught:
            self.add(**fields)
        errors = caught.exception.errors
        self.assertIn(field, errors)
        self.assertIn(fragment, " ".join(errors[field]))
        self.assertFalse(self.steps().exists())

    def test_a_valid_email_step_is_saved_with_its_checklist_and_an_event(self) -> None:
        step = building.add_step(
            self.group, actor=self.manager, checklist=["One", " ", "Two"], **email_step()
        )
        self.assertEqual(step.position, 1)
        self.assertEqual(
            list(step.checklist.values_list("text", "position")), [("One", 1), ("Two", 2)]
        )
        self.assertTrue(
            ActivityEvent.objects.filter(verb="template.step_added", object_id=step.pk).exists()
        )

    def test_an_email_without_recipients_is_refused(self) -> None:
        self.assert_refused(
            "to_recipients", "Choose at least one recipient", **email_step(to_recipients=[])
        )

    def test_an_email_without_content_is_refused(self) -> None:
        self.assert_refused(
            "body",
            "Choose a content block or write the subject and body",
            **email_step(subject="", body=""),
        )
        self.assert_refused("body", "Choose a content block", **email_step(body="  "))

    def test_an_unknown_recipient_token_is_refused(self) -> None:
        self.assert_refused(
            "to_recipients",
            "There is no contact role “cousin”",
            **email_step(to_recipients=["contact:cousin"]),
        )
        self.assert_refused(
            "to_recipients",
            "There is no team role “janitor”",
            **email_step(to_recipients=["member:janitor"]),
        )
        self.assert_refused(
            "cc_recipients", "is not a recipient", **email_step(cc_recipients=["somebody"])
        )

    def test_a_bad_email_token_is_refused(self) -> None:
        self.assert_refused(
            "to_recipients",
            "“not-an-address” is not an email address",
            **email_step(to_recipients=["email:not-an-address"]),
        )

    def test_a_liquid_syntax_error_in_the_subject_is_refused(self) -> None:
        self.assert_refused("subject", "Syntax error", **email_step(subject="Hi {{ client.name"))

    def test_an_unknown_variable_in_the_body_is_refused(self) -> None:
        self.assert_refused(
            "body",
            "Unknown variable “client.nickname”",
            **email_step(body="Dear {{ client.nickname }}"),
        )

    def test_an_unknown_filter_is_refused(self) -> None:
        self.assert_refused(
            "body", "Unknown filter “shout”", **email_step(body="Dear {{ client.name | shout }}")
        )

    def test_a_client_confirmation_needs_message_button_and_thank_you(self) -> None:
        with self.assertRaises(building.TemplateError) as caught:
            self.add(**email_step(name="Confirm", type="client_confirmation", settings={}))
        errors = caught.exception.errors
        self.assertIn("Give the message the client confirms.", errors["settings.message"])
        self.assertIn("Give the button text.", errors["settings.button_text"])
        self.assertIn("Give the thank-you message.", errors["settings.thank_you"])
        self.assertFalse(self.steps().exists())

    def test_a_complete_client_confirmation_is_saved(self) -> None:
        step = self.add(
            **email_step(name="Confirm", type="client_confirmation", settings=CONFIRMATION)
        )
        self.assertEqual(TemplateStep.objects.get(pk=step.pk).settings, CONFIRMATION)

    def test_a_chase_with_a_bad_interval_is_refused(self) -> None:
        for every_days in (0, 91, "7", None, True):
            with self.subTest(every_days=every_days):
                chase = {
                    "enabled": True,
                    "every_days": every_days,
                    "max_times": 3,
                    "subject": "Reminder",
                    "body": "Please confirm.",
                }
                self.assert_refused(
                    "settings.chase.every_days",
                    "Chase every 1 to 90 days",
                    **email_step(
                        name="Confirm",
                        type="client_confirmation",
                        settings={**CONFIRMATION, "chase": chase},
                    ),
                )

    def test_a_chase_with_a_good_interval_is_saved(self) -> None:
        chase = {
            "enabled": True,
            "every_days": 7,
            "max_times": 3,
            "subject": "Reminder",
            "body": "Please confirm, {{ client.name }}.",
        }
        step = self.add(
            **email_step(
                name="Confirm",
                type="client_confirmation",
                settings={**CONFIRMATION, "chase": chase},
            )
        )
        self.assertEqual(step.settings["chase"]["every_days"], 7)

    def test_a_specific_assignment_needs_the_member(self) -> None:
        self.assert_refused(
            "specific_assignee", "Choose the member", **simple_step(assignment_rule="specific")
        )

    def test_a_step_needs_a_name(self) -> None:
        self.assert_refused("name", "Give the step a name", **simple_step(name="  "))

    def test_update_step_validates_the_same_way_and_changes_nothing_when_refused(self) -> None:
        step = self.add(**email_step())
        with self.assertRaises(building.TemplateError):
            building.update_step(step, actor=self.manager, body="{{ nope }}")
        self.assertIn("Welcome aboard.", TemplateStep.objects.get(pk=step.pk).body)
        with self.assertRaises(building.TemplateError):
            building.update_step(step, actor=self.manager, practice=self.other_practice)


class DependencyTests(TemplateMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.a = self.add(**simple_step(name="Gather records"))
        self.b = self.add(**simple_step(name="Prepare draft"))
        self.c = self.add(**simple_step(name="Partner review"))

    def deps(self) -> set[tuple[str, str]]:
        return set(
            TemplateDependency.objects.filter(step__group=self.group).values_list(
                "step__name", "depends_on__name"
            )
        )

    def test_it_sets_and_replaces_dependencies(self) -> None:
        building.set_dependencies(self.c, actor=self.manager, depends_on=[self.a, self.b])
        self.assertEqual(
            self.deps(), {("Partner review", "Gather records"), ("Partner review", "Prepare draft")}
        )
        building.set_dependencies(self.c, actor=self.manager, depends_on=[self.b])
        self.assertEqual(self.deps(), {("Partner review", "Prepare draft")})

    def test_a_two_step_loop_is_refused_naming_the_steps(self) -> None:
        building.set_dependencies(self.b, actor=self.manager, depends_on=[self.a])
        with self.assertRaises(building.TemplateError) as caught:
            building.set_dependencies(self.a, actor=self.manager, depends_on=[self.b])
        self.assertEqual(
            str(caught.exception),
            "That would make a loop: Gather records → Prepare draft → Gather records.",
        )
        self.assertEqual(caught.exception.errors["depends_on"], [str(caught.exception)])
        self.assertEqual(self.deps(), {("Prepare draft", "Gather records")})

    def test_a_longer_loop_is_refused_naming_every_step(self) -> None:
        building.set_dependencies(self.b, actor=self.manager, depends_on=[self.a])
        building.set_dependencies(self.c, actor=self.manager, depends_on=[self.b])
        with self.assertRaises(building.TemplateError) as caught:
            building.set_dependencies(self.a, actor=self.manager, depends_on=[self.c])
        message = str(caught.exception)
        self.assertTrue(message.startswith("That would make a loop: "))
        for name in ("Gather records", "Prepare draft", "Partner review"):
            self.assertIn(name, message)
        self.assertEqual(len(self.deps()), 2)

    def test_a_diamond_is_not_a_loop(self) -> None:
        d = self.add(**simple_step(name="File"))
        building.set_dependencies(self.b, actor=self.manager, depends_on=[self.a])
        building.set_dependencies(self.c, actor=self.manager, depends_on=[self.a])
        building.set_dependencies(d, actor=self.manager, depends_on=[self.b, self.c])
        self.assertEqual(len(self.deps()), 4)

    def test_a_step_cannot_depend_on_itself(self) -> None:
        with self.assertRaisesMessage(building.TemplateError, "cannot depend on itself"):
            building.set_dependencies(self.a, actor=self.manager, depends_on=[self.a])
        self.assertEqual(self.deps(), set())

    def test_a_step_cannot_depend_on_another_groups_step(self) -> None:
        other_group = building.add_group(self.template, actor=self.manager, name="Filing")
        elsewhere = building.add_step(other_group, actor=self.manager, **simple_step(name="File"))
        with self.assertRaises(building.TemplateError) as caught:
            building.set_dependencies(self.a, actor=self.manager, depends_on=[elsewhere])
        self.assertIn("depends_on", caught.exception.errors)
        self.assertFalse(TemplateDependency.objects.exists())

    def test_add_step_refuses_a_dependency_from_another_group_and_saves_nothing(self) -> None:
        other_group = building.add_group(self.template, actor=self.manager, name="Filing")
        with self.assertRaises(building.TemplateError):
            building.add_step(
                other_group, actor=self.manager, depends_on=[self.a], **simple_step(name="File")
            )
        self.assertFalse(TemplateStep.objects.filter(name="File").exists())


class CloneTemplateTests(TemplateMixin, BaseTestCase):
    def test_it_copies_groups_steps_checklists_and_dependencies(self) -> None:
        block = building.save_content_block(
            practice=self.practice, actor=self.manager, name="Welcome", subject="Hi", body="Hello"
        )
        self.group.name = "Records"
        self.group.save()
        prepare = self.add(checklist=["Bank rec", "Accruals"], **simple_step())
        send = self.add(
            depends_on=[prepare],
            **email_step(
                subject="",
                body="",
                content_block=block,
                cc_recipients=["member:task_owner"],
                assignment_rule="specific",
                specific_assignee=self.staff,
            ),
        )
        filing = building.add_group(self.template, actor=self.manager, name="Filing")
        building.add_step(filing, actor=self.manager, **simple_step(name="File"))

        copy = building.clone_template(self.template, actor=self.manager)

        self.assertEqual(copy.name, "Year end (copy)")
        self.assertNotEqual(copy.pk, self.template.pk)
        self.assertEqual(
            [(g.name, g.position) for g in copy.groups.all()], [("Records", 1), ("Filing", 2)]
        )
        originals = list(self.steps().order_by("group__position", "position"))
        copies = list(
            TemplateStep.objects.filter(group__template=copy).order_by(
                "group__position", "position"
            )
        )
        self.assertEqual(len(copies), 3)
        fields = (
            "name",
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
            "specific_assignee_id",
        )
        for old, new in zip(originals, copies, strict=True):
            self.assertNotEqual(old.pk, new.pk)
            self.assertEqual(new.group.template_id, copy.pk)
            for name in fields:
                self.assertEqual(getattr(new, name), getattr(old, name), name)
        new_prepare, new_send = copies[0], copies[1]
        self.assertEqual(
            list(new_prepare.checklist.values_list("text", flat=True)), ["Bank rec", "Accruals"]
        )
        dep = TemplateDependency.objects.get(step__group__template=copy)
        self.assertEqual((dep.step_id, dep.depends_on_id), (new_send.pk, new_prepare.pk))
        # The original keeps its own rows.
        self.assertEqual(TemplateDependency.objects.get(step=send).depends_on, prepare)
        self.assertEqual(prepare.checklist.count(), 2)
        self.assertEqual(TemplateChecklistItem.objects.count(), 4)

    def test_it_takes_a_new_name(self) -> None:
        copy = building.clone_template(self.template, actor=self.manager, name="VAT return")
        self.assertEqual(WorkflowTemplate.objects.get(pk=copy.pk).name, "VAT return")


class OrderingTests(TemplateMixin, BaseTestCase):
    def names(self) -> list[str]:
        return list(self.group.steps.order_by("position", "id").values_list("name", flat=True))

    def test_move_step_moves_a_step_up_and_down(self) -> None:
        first, second, third = (self.add(**simple_step(name=n)) for n in ("A", "B", "C"))
        building.move_step(third, actor=self.manager, offset=-1)
        self.assertEqual(self.names(), ["A", "C", "B"])
        building.move_step(first, actor=self.manager, offset=1)
        self.assertEqual(self.names(), ["C", "A", "B"])
        self.assertEqual(
            list(self.group.steps.order_by("position").values_list("position", flat=True)),
            [1, 2, 3],
        )

    def test_move_step_stops_at_the_ends(self) -> None:
        first = self.add(**simple_step(name="A"))
        self.add(**simple_step(name="B"))
        building.move_step(first, actor=self.manager, offset=-1)
        self.assertEqual(self.names(), ["A", "B"])

    def test_move_group_reorders_groups(self) -> None:
        building.add_group(self.template, actor=self.manager, name="Second")
        third = building.add_group(self.template, actor=self.manager, name="Third")
        building.move_group(third, actor=self.manager, offset=-2)
        self.assertEqual(
            list(self.template.groups.order_by("position").values_list("name", flat=True)),
            ["Third", "Steps", "Second"],
        )


class GroupTests(TemplateMixin, BaseTestCase):
    def test_delete_group_refuses_the_last_group(self) -> None:
        with self.assertRaisesMessage(building.TemplateError, "at least one group"):
            building.delete_group(self.group, actor=self.manager)
        self.assertTrue(TemplateGroup.objects.filter(pk=self.group.pk).exists())

    def test_delete_group_removes_a_group_with_its_steps(self) -> None:
        extra = building.add_group(self.template, actor=self.manager, name="Filing")
        building.add_step(extra, actor=self.manager, **simple_step(name="File"))
        building.delete_group(extra, actor=self.manager)
        self.assertEqual(list(self.template.groups.values_list("name", flat=True)), ["Steps"])
        self.assertFalse(TemplateStep.objects.filter(name="File").exists())

    def test_rename_group(self) -> None:
        building.rename_group(self.group, actor=self.manager, name="Records")
        self.assertEqual(TemplateGroup.objects.get(pk=self.group.pk).name, "Records")


class ContentBlockTests(BaseTestCase):
    def save(self, **overrides) -> ContentBlock:
        fields = {
            "practice": self.practice,
            "actor": self.manager,
            "name": "Welcome",
            "subject": "Welcome, {{ client.name }}",
            "body": "Dear {{ contacts.main.first_name | default: 'client' }}",
        }
        fields.update(overrides)
        return building.save_content_block(**fields)

    def test_it_saves_a_valid_block(self) -> None:
        block = self.save()
        self.assertEqual(
            ContentBlock.objects.get(pk=block.pk).subject, "Welcome, {{ client.name }}"
        )

    def test_it_refuses_liquid_problems_with_field_errors(self) -> None:
        with self.assertRaises(building.TemplateError) as caught:
            self.save(subject="Hi {% if %}", body="{{ client.nickname }}")
        errors = caught.exception.errors
        self.assertIn("Syntax error", " ".join(errors["subject"]))
        self.assertIn("Unknown variable “client.nickname”", " ".join(errors["body"]))
        self.assertFalse(ContentBlock.objects.exists())

    def test_it_refuses_a_name_already_used_in_the_practice_whatever_the_case(self) -> None:
        self.save()
        with self.assertRaises(building.TemplateError) as caught:
            self.save(name="WELCOME", subject="Other")
        self.assertIn("name", caught.exception.errors)
        self.assertEqual(ContentBlock.objects.count(), 1)

    def test_another_practice_may_use_the_same_name(self) -> None:
        self.save()
        self.save(practice=self.other_practice, actor=self.outsider)
        self.assertEqual(ContentBlock.objects.filter(name="Welcome").count(), 2)

    def test_editing_a_block_keeps_its_own_name_and_refuses_invalid_liquid(self) -> None:
        block = self.save()
        self.save(block=block, body="Hello {{ client.name }}")
        self.assertEqual(ContentBlock.objects.get(pk=block.pk).body, "Hello {{ client.name }}")
        with self.assertRaises(building.TemplateError):
            self.save(block=block, body="Hello {{ client.name ")
        self.assertEqual(ContentBlock.objects.get(pk=block.pk).body, "Hello {{ client.name }}")


class EditActivityTests(TemplateMixin, BaseTestCase):
    """Every edit of a template is on its audit trail, with who made it."""

    def verbs(self) -> list[str]:
        return list(
            ActivityEvent.objects.filter(actor=self.manager)
            .exclude(verb__in=["template.created", "template.step_added"])
            .order_by("id")
            .values_list("verb", flat=True)
        )

    def test_each_edit_records_an_event_by_its_actor(self) -> None:
        first = self.add(**simple_step(name="Gather records"))
        second = self.add(**simple_step(name="Prepare accounts"))
        building.update_template(self.template, actor=self.manager, name="Year end", description="")
        group = building.add_group(self.template, actor=self.manager, name="Review")
        building.rename_group(group, actor=self.manager, name="Partner review")
        building.move_group(group, actor=self.manager, offset=-1)
        building.update_step(first, actor=self.manager, name="Gather the records")
        building.move_step(second, actor=self.manager, offset=-1)
        building.delete_step(first, actor=self.manager)
        building.delete_group(group, actor=self.manager)

        self.assertEqual(
            self.verbs(),
            [
                "template.updated",
                "template.group_added",
                "template.group_renamed",
                "template.group_moved",
                "template.step_updated",
                "template.step_moved",
                "template.step_deleted",
                "template.group_deleted",
            ],
        )
        deleted = ActivityEvent.objects.get(verb="template.step_deleted")
        self.assertEqual(deleted.summary, "Deleted the step Gather the records from Year end")
        self.assertEqual(deleted.practice_id, self.practice.pk)
