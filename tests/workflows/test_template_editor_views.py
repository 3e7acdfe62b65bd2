"""The template editor's pages and in-place actions, through the test client."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sodium.models import ActivityEvent
from tests.base import BaseTestCase
from tests.workflows.wf_factories import chain_template, email_step, simple_step
from workflows import building, engine, queries
from workflows.models import (
    ContentBlock,
    TemplateChecklistItem,
    TemplateDependency,
    TemplateGroup,
    TemplateStep,
    WorkflowTemplate,
)

HTMX = {"HX-Request": "true"}


class EditorTestCase(BaseTestCase):
    """A manager signed in, and the chain template: a simple step, then an email after it."""

    def setUp(self) -> None:
        super().setUp()
        self.template = chain_template(self.practice, self.manager)
        self.group = self.template.groups.get()
        self.draft, self.email = list(self.group.steps.order_by("position"))
        self.client.force_login(self.manager)

    def step_data(self, step: TemplateStep, **overrides) -> dict:
        """Return the step form's POST data as the editor would send it unchanged."""
        p = f"s{step.pk}"
        data = {
            f"{p}-name": step.name,
            f"{p}-description": step.description,
            f"{p}-mode": step.mode,
            f"{p}-assignment_rule": step.assignment_rule,
            f"{p}-checklist": "\n".join(step.checklist.values_list("text", flat=True)),
            f"{p}-depends_on": [
                str(pk) for pk in step.dependencies.values_list("depends_on_id", flat=True)
            ],
        }
        if step.sends_email:
            data.update(
                {
                    f"{p}-content_source": "block" if step.content_block_id else "inline",
                    f"{p}-content_block": step.content_block_id or "",
                    f"{p}-subject": step.subject,
                    f"{p}-body": step.body,
                    f"{p}-to_recipients": [t for t in step.to_recipients if ":" in t],
                    f"{p}-cc_recipients": list(step.cc_recipients),
                }
            )
        data.update({f"{p}-{k}": v for k, v in overrides.items()})
        return data

    def edit_url(self, step: TemplateStep) -> str:
        return f"/workflows/templates/steps/{step.pk}/edit/"

    def build_large_template(self, name: str = "Big one") -> WorkflowTemplate:
        template = building.create_template(practice=self.practice, actor=self.manager, name=name)
        groups = [template.groups.get()] + [
            building.add_group(template, actor=self.manager, name=f"Phase {i}") for i in range(3)
        ]
        for group in groups:
            previous = None
            for i in range(6):
                fields = email_step(name=f"Email {group.pk}-{i}", cc_recipients=["member:assignee"])
                if i % 2:
                    fields = simple_step(name=f"Do {group.pk}-{i}")
                previous = building.add_step(
                    group,
                    actor=self.manager,
                    checklist=["One", "Two"],
                    depends_on=[previous] if previous else [],
                    **fields,
                )
        return template


class TemplateListTests(EditorTestCase):
    def test_it_lists_active_templates_with_their_counts(self) -> None:
        r = self.client.get("/workflows/templates/")
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Year end")
        self.assertContains(r, '<td class="right">2</td>', html=False)
        self.assertTemplateUsed(r, "workflows/template_list.html")

    def test_archived_templates_have_their_own_tab(self) -> None:
        engine.set_template_status(self.template, actor=self.manager, status="archived")
        active = self.client.get("/workflows/templates/")
        self.assertNotContains(active, "Year end")
        self.assertContains(active, "No workflow templates yet")
        archived = self.client.get("/workflows/templates/?status=archived")
        self.assertContains(archived, "Year end")

    def test_it_shows_an_empty_state_with_a_new_template_button(self) -> None:
        self.template.delete()
        r = self.client.get("/workflows/templates/")
        self.assertContains(r, "No workflow templates yet")
        self.assertContains(r, 'href="/workflows/templates/new/"')

    def test_it_never_shows_another_practices_templates(self) -> None:
        rival = chain_template(self.other_practice, self.outsider)
        WorkflowTemplate.objects.filter(pk=rival.pk).update(name="Rival Template")
        r = self.client.get("/workflows/templates/")
        self.assertNotContains(r, "Rival Template")

    def test_staff_cannot_open_the_editor(self) -> None:
        self.client.force_login(self.staff)
        self.assertEqual(self.client.get("/workflows/templates/").status_code, 403)
        self.assertEqual(
            self.client.get(f"/workflows/templates/{self.template.pk}/").status_code, 403
        )

    def test_it_runs_the_same_queries_for_few_and_many_templates(self) -> None:
        with CaptureQueriesContext(connection) as few:
            self.client.get("/workflows/templates/")
        for i in range(5):
            self.build_large_template(f"Big {i}")
        with CaptureQueriesContext(connection) as many:
            r = self.client.get("/workflows/templates/")
        self.assertContains(r, "Big 4")
        self.assertEqual(len(few), len(many))


class TemplateCreateTests(EditorTestCase):
    def test_it_creates_a_template_with_one_group_and_opens_it(self) -> None:
        r = self.client.post(
            "/workflows/templates/new/", {"name": "VAT return", "description": "Quarterly"}
        )
        template = WorkflowTemplate.objects.get(practice=self.practice, name="VAT return")
        self.assertRedirects(r, f"/workflows/templates/{template.pk}/")
        self.assertEqual(template.description, "Quarterly")
        self.assertEqual(template.groups.count(), 1)

    def test_a_blank_name_is_shown_in_place_and_nothing_is_created(self) -> None:
        r = self.client.post("/workflows/templates/new/", {"name": "  "})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "This field is required.")
        self.assertEqual(WorkflowTemplate.objects.filter(practice=self.practice).count(), 1)

    def test_it_edits_the_name_and_description(self) -> None:
        url = f"/workflows/templates/{self.template.pk}/edit/"
        self.assertContains(self.client.get(url), 'value="Year end"')
        r = self.client.post(url, {"name": "Year-end accounts", "description": "Ltd companies"})
        self.assertRedirects(r, f"/workflows/templates/{self.template.pk}/")
        self.template.refresh_from_db()
        self.assertEqual(
            (self.template.name, self.template.description), ("Year-end accounts", "Ltd companies")
        )


class TemplatePageTests(EditorTestCase):
    def test_it_shows_groups_and_steps_in_order_with_their_settings(self) -> None:
        r = self.client.get(f"/workflows/templates/{self.template.pk}/")
        self.assertEqual(r.status_code, 200)
        html = r.content.decode()
        self.assertLess(html.index("Prepare draft accounts"), html.index("Send welcome email"))
        self.assertContains(r, "Simple step")
        self.assertContains(r, "Send email")
        self.assertContains(r, "Automatic")
        self.assertContains(r, "Task owner")
        self.assertContains(r, "Main contact")
        self.assertContains(r, "2 checklist items")
        self.assertContains(r, '<span class="muted">After:</span> Prepare draft accounts')

    def test_the_add_step_button_goes_to_the_wizard_when_it_exists(self) -> None:
        r = self.client.get(f"/workflows/templates/{self.template.pk}/")
        url = reverse("workflows:wizard-start", kwargs={"group_id": self.group.pk})
        self.assertContains(r, f'href="{url}"')

    def test_it_runs_the_same_queries_for_a_small_and_a_large_template(self) -> None:
        large = self.build_large_template()
        self.assertEqual(TemplateStep.objects.filter(group__template=large).count(), 24)
        with CaptureQueriesContext(connection) as small_q:
            self.client.get(f"/workflows/templates/{self.template.pk}/")
        with CaptureQueriesContext(connection) as large_q:
            r = self.client.get(f"/workflows/templates/{large.pk}/")
        self.assertContains(r, "Phase 2")
        self.assertEqual(len(small_q), len(large_q))

    def test_htmx_gets_only_the_groups(self) -> None:
        r = self.client.get(f"/workflows/templates/{self.template.pk}/", headers=HTMX)
        self.assertContains(r, 'id="template-groups"')
        self.assertNotContains(r, "<html")

    def test_get_never_changes_anything(self) -> None:
        urls = [
            "/workflows/templates/",
            f"/workflows/templates/{self.template.pk}/",
            f"/workflows/templates/{self.template.pk}/edit/",
            f"/workflows/templates/groups/{self.group.pk}/rename/",
            self.edit_url(self.email),
        ]
        post_only = [
            f"/workflows/templates/{self.template.pk}/clone/",
            f"/workflows/templates/{self.template.pk}/status/",
            f"/workflows/templates/{self.template.pk}/groups/new/",
            f"/workflows/templates/groups/{self.group.pk}/move/",
            f"/workflows/templates/groups/{self.group.pk}/delete/",
            f"/workflows/templates/steps/{self.email.pk}/move/",
            f"/workflows/templates/steps/{self.email.pk}/delete/",
        ]

        def snapshot():
            return (
                list(WorkflowTemplate.objects.values_list("pk", "name", "status", "updated_at")),
                list(TemplateGroup.objects.values_list("pk", "name", "position")),
                list(TemplateStep.objects.values_list("pk", "name", "position", "settings")),
                TemplateDependency.objects.count(),
                TemplateChecklistItem.objects.count(),
                ActivityEvent.objects.count(),
            )

        before = snapshot()
        for url in urls:
            self.assertEqual(self.client.get(url).status_code, 200, url)
            self.assertEqual(self.client.get(url, headers=HTMX).status_code, 200, url)
        for url in post_only:
            self.assertEqual(self.client.get(url).status_code, 405, url)
        self.assertEqual(snapshot(), before)


class CloneAndArchiveTests(EditorTestCase):
    def test_clone_copies_everything_and_opens_the_copy(self) -> None:
        self.email.content_block = building.save_content_block(
            practice=self.practice, actor=self.manager, name="Hello", subject="Hi", body="Hello"
        )
        self.email.save(update_fields=["content_block"])
        building.add_group(self.template, actor=self.manager, name="Filing")
        r = self.client.post(f"/workflows/templates/{self.template.pk}/clone/")
        copy = WorkflowTemplate.objects.exclude(pk=self.template.pk).get(practice=self.practice)
        self.assertRedirects(r, f"/workflows/templates/{copy.pk}/")
        self.assertEqual(copy.name, "Year end (copy)")
        self.assertEqual(list(copy.groups.values_list("name", flat=True)), ["Steps", "Filing"])
        steps = list(TemplateStep.objects.filter(group__template=copy).order_by("position"))
        self.assertEqual([s.name for s in steps], ["Prepare draft accounts", "Send welcome email"])
        self.assertEqual(
            list(steps[0].checklist.values_list("text", flat=True)), ["Bank rec", "Accruals"]
        )
        self.assertEqual(
            list(steps[1].dependencies.values_list("depends_on_id", flat=True)), [steps[0].pk]
        )
        self.assertEqual(steps[1].to_recipients, ["contact:main"])
        self.assertEqual(steps[1].content_block_id, self.email.content_block_id)
        self.assertNotIn(steps[0].pk, {self.draft.pk, self.email.pk})

    def test_htmx_clone_redirects_the_browser_to_the_copy(self) -> None:
        r = self.client.post(f"/workflows/templates/{self.template.pk}/clone/", headers=HTMX)
        copy = WorkflowTemplate.objects.exclude(pk=self.template.pk).get(practice=self.practice)
        self.assertEqual(r["HX-Redirect"], f"/workflows/templates/{copy.pk}/")

    def test_archive_hides_it_from_attaching_and_restore_brings_it_back(self) -> None:
        url = f"/workflows/templates/{self.template.pk}/status/"
        r = self.client.post(url, {"status": "archived"}, follow=True)
        self.assertContains(r, "It can no longer be attached to tasks.")
        self.assertContains(r, "This template is archived")
        self.assertNotIn(self.template, queries.active_templates(self.practice))
        self.client.post(url, {"status": "active"})
        self.assertIn(self.template, queries.active_templates(self.practice))

    def test_an_unknown_status_changes_nothing(self) -> None:
        self.client.post(f"/workflows/templates/{self.template.pk}/status/", {"status": "done"})
        self.template.refresh_from_db()
        self.assertEqual(self.template.status, "active")

    def test_staff_cannot_clone_or_archive(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.post(f"/workflows/templates/{self.template.pk}/clone/")
        self.assertEqual(r.status_code, 403)
        r = self.client.post(
            f"/workflows/templates/{self.template.pk}/status/", {"status": "archived"}
        )
        self.assertEqual(r.status_code, 403)
        self.assertEqual(WorkflowTemplate.objects.filter(practice=self.practice).count(), 1)
        self.template.refresh_from_db()
        self.assertEqual(self.template.status, "active")


class GroupActionTests(EditorTestCase):
    def test_it_adds_a_group_and_returns_the_groups(self) -> None:
        r = self.client.post(
            f"/workflows/templates/{self.template.pk}/groups/new/",
            {"new-group-name": "Review"},
            headers=HTMX,
        )
        self.assertContains(r, 'id="template-groups"')
        self.assertContains(r, "Added the group Review.")
        self.assertNotContains(r, "<html")
        self.assertEqual(
            list(self.template.groups.values_list("name", flat=True)), ["Steps", "Review"]
        )

    def test_a_blank_group_name_is_shown_in_place(self) -> None:
        r = self.client.post(
            f"/workflows/templates/{self.template.pk}/groups/new/",
            {"new-group-name": ""},
            headers=HTMX,
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "This field is required.")
        self.assertEqual(self.template.groups.count(), 1)

    def test_without_htmx_adding_a_group_redirects_to_it(self) -> None:
        r = self.client.post(
            f"/workflows/templates/{self.template.pk}/groups/new/", {"new-group-name": "Review"}
        )
        group = self.template.groups.get(name="Review")
        self.assertRedirects(r, f"/workflows/templates/{self.template.pk}/#group-{group.pk}")

    def test_it_renames_a_group_in_place(self) -> None:
        url = f"/workflows/templates/groups/{self.group.pk}/rename/"
        form = self.client.get(url, headers=HTMX)
        self.assertContains(form, f'id="group-{self.group.pk}"')
        self.assertContains(form, 'value="Steps"')
        self.assertNotContains(form, "<html")
        r = self.client.post(url, {f"g{self.group.pk}-name": "Preparation"}, headers=HTMX)
        self.assertContains(r, "Renamed the group to Preparation.")
        self.assertNotContains(r, "<html")
        self.group.refresh_from_db()
        self.assertEqual(self.group.name, "Preparation")

    def test_the_rename_form_works_without_javascript(self) -> None:
        r = self.client.get(f"/workflows/templates/groups/{self.group.pk}/rename/")
        self.assertContains(r, "<html")
        self.assertContains(r, "Group name")

    def test_it_moves_groups_up_and_down(self) -> None:
        review = building.add_group(self.template, actor=self.manager, name="Review")
        r = self.client.post(
            f"/workflows/templates/groups/{review.pk}/move/", {"direction": "up"}, headers=HTMX
        )
        self.assertContains(r, 'id="template-groups"')
        self.assertEqual(
            list(self.template.groups.order_by("position").values_list("name", flat=True)),
            ["Review", "Steps"],
        )
        html = r.content.decode()
        self.assertLess(
            html.index(f'id="group-{review.pk}"'), html.index(f'id="group-{self.group.pk}"')
        )
        self.client.post(f"/workflows/templates/groups/{review.pk}/move/", {"direction": "down"})
        self.assertEqual(
            list(self.template.groups.order_by("position").values_list("name", flat=True)),
            ["Steps", "Review"],
        )

    def test_it_deletes_a_group_with_its_steps(self) -> None:
        review = building.add_group(self.template, actor=self.manager, name="Review")
        building.add_step(review, actor=self.manager, **simple_step(name="Partner review"))
        r = self.client.post(f"/workflows/templates/groups/{review.pk}/delete/", headers=HTMX)
        self.assertContains(r, "Deleted the group Review and its steps.")
        self.assertFalse(TemplateGroup.objects.filter(pk=review.pk).exists())
        self.assertFalse(TemplateStep.objects.filter(name="Partner review").exists())

    def test_deleting_the_last_group_is_refused_where_it_was_asked(self) -> None:
        r = self.client.post(f"/workflows/templates/groups/{self.group.pk}/delete/", headers=HTMX)
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "A template needs at least one group.")
        html = r.content.decode()
        card = html.index(f'id="group-{self.group.pk}"')
        self.assertGreater(html.index("A template needs at least one group."), card)
        self.assertTrue(TemplateGroup.objects.filter(pk=self.group.pk).exists())

    def test_staff_cannot_change_groups(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.post(
            f"/workflows/templates/{self.template.pk}/groups/new/", {"new-group-name": "X"}
        )
        self.assertEqual(r.status_code, 403)
        r = self.client.post(f"/workflows/templates/groups/{self.group.pk}/delete/")
        self.assertEqual(r.status_code, 403)
        self.assertEqual(self.template.groups.count(), 1)


class StepActionTests(EditorTestCase):
    def test_it_moves_a_step_and_returns_the_group(self) -> None:
        r = self.client.post(
            f"/workflows/templates/steps/{self.email.pk}/move/", {"direction": "up"}, headers=HTMX
        )
        self.assertContains(r, f'id="group-{self.group.pk}"')
        self.assertNotContains(r, "<html")
        self.assertEqual(
            list(self.group.steps.order_by("position").values_list("pk", flat=True)),
            [self.email.pk, self.draft.pk],
        )
        html = r.content.decode()
        self.assertLess(html.index("Send welcome email"), html.index("Prepare draft accounts"))

    def test_it_deletes_a_step(self) -> None:
        r = self.client.post(f"/workflows/templates/steps/{self.draft.pk}/delete/", headers=HTMX)
        self.assertContains(r, "Deleted the step Prepare draft accounts.")
        self.assertNotContains(r, "After:")
        self.assertFalse(TemplateStep.objects.filter(pk=self.draft.pk).exists())

    def test_without_htmx_deleting_redirects_to_the_group(self) -> None:
        r = self.client.post(f"/workflows/templates/steps/{self.draft.pk}/delete/")
        self.assertRedirects(r, f"/workflows/templates/{self.template.pk}/#group-{self.group.pk}")

    def test_staff_cannot_change_steps(self) -> None:
        self.client.force_login(self.staff)
        self.assertEqual(
            self.client.post(f"/workflows/templates/steps/{self.draft.pk}/delete/").status_code,
            403,
        )
        self.assertEqual(self.client.get(self.edit_url(self.draft)).status_code, 403)
        self.assertTrue(TemplateStep.objects.filter(pk=self.draft.pk).exists())


class StepEditTests(EditorTestCase):
    def test_the_edit_button_opens_the_form_in_the_group(self) -> None:
        r = self.client.get(self.edit_url(self.email), headers=HTMX)
        self.assertContains(r, f'id="group-{self.group.pk}"')
        self.assertContains(r, "Edit “Send welcome email”")
        self.assertContains(r, 'value="contact:main"')
        self.assertContains(r, "data-insert-token")  # the token picker
        self.assertNotContains(r, "<html")

    def test_without_javascript_the_form_opens_on_the_full_page(self) -> None:
        r = self.client.get(self.edit_url(self.email))
        self.assertContains(r, "<html")
        self.assertContains(r, "Edit “Send welcome email”")

    def test_it_saves_the_step_its_recipients_checklist_and_dependencies(self) -> None:
        data = self.step_data(
            self.email,
            name="Send the welcome pack",
            description="First contact",
            mode="manual",
            to_recipients=["contact:main", "member:client_manager"],
            to_extra="boss@acme.example, books@acme.example",
            cc_recipients=["member:assignee"],
            checklist="Attach the engagement letter\n\n  Check the address  ",
            depends_on=[],
            assignment_rule="specific",
            specific_assignee=str(self.staff.pk),
        )
        r = self.client.post(self.edit_url(self.email), data, headers=HTMX)
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Saved the step Send the welcome pack.")
        self.assertNotContains(r, "<html")
        self.email.refresh_from_db()
        self.assertEqual(self.email.name, "Send the welcome pack")
        self.assertEqual(self.email.description, "First contact")
        self.assertEqual(self.email.mode, "manual")
        self.assertEqual(
            self.email.to_recipients,
            [
                "contact:main",
                "member:client_manager",
                "email:boss@acme.example",
                "email:books@acme.example",
            ],
        )
        self.assertEqual(self.email.cc_recipients, ["member:assignee"])
        self.assertEqual(self.email.specific_assignee, self.staff)
        self.assertEqual(
            list(self.email.checklist.values_list("text", flat=True)),
            ["Attach the engagement letter", "Check the address"],
        )
        self.assertFalse(self.email.dependencies.exists())
        self.assertContains(r, "boss@acme.example")
        self.assertContains(r, self.staff.full_name)

    def test_choosing_a_content_block_clears_the_inline_email(self) -> None:
        block = building.save_content_block(
            practice=self.practice, actor=self.manager, name="Welcome", subject="Hi", body="Hi"
        )
        data = self.step_data(self.email, content_source="block", content_block=str(block.pk))
        self.client.post(self.edit_url(self.email), data, headers=HTMX)
        self.email.refresh_from_db()
        self.assertEqual(
            (self.email.content_block, self.email.subject, self.email.body), (block, "", "")
        )

    def test_another_practices_content_block_cannot_be_chosen(self) -> None:
        with_other = ContentBlock.objects.create(
            practice=self.other_practice, name="Rival", subject="x", body="y"
        )
        data = self.step_data(self.email, content_source="block", content_block=str(with_other.pk))
        r = self.client.post(self.edit_url(self.email), data, headers=HTMX)
        self.assertContains(r, "Select a valid choice.")
        self.email.refresh_from_db()
        self.assertIsNone(self.email.content_block_id)

    def test_a_loop_is_refused_under_the_dependencies_and_nothing_is_saved(self) -> None:
        data = self.step_data(self.draft, name="Renamed", depends_on=[str(self.email.pk)])
        r = self.client.post(self.edit_url(self.draft), data, headers=HTMX)
        self.assertEqual(r.status_code, 200)
        # The message names the steps as typed: the new name is in the loop.
        message = "That would make a loop: Renamed → Send welcome email → Renamed."
        self.assertContains(r, message)
        html = r.content.decode()
        self.assertLess(html.index("Starts after"), html.index(message))
        self.assertLess(html.index(message), html.index("Checklist"))
        self.draft.refresh_from_db()
        self.assertEqual(self.draft.name, "Prepare draft accounts")  # all or nothing
        self.assertFalse(self.draft.dependencies.exists())

    def test_every_problem_is_shown_next_to_its_field(self) -> None:
        data = self.step_data(
            self.email,
            body="Hello {{ client.nmae }}",
            to_recipients=[],
            to_extra="not-an-address",
            assignment_rule="specific",
            specific_assignee="",
        )
        r = self.client.post(self.edit_url(self.email), data, headers=HTMX)
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Unknown variable “client.nmae”.")
        self.assertContains(r, "“not-an-address” is not an email address.")
        self.assertContains(r, "Choose the member for this step.")
        self.email.refresh_from_db()
        self.assertEqual(self.email.body, email_step()["body"])

    def test_a_liquid_syntax_error_is_shown_under_the_body(self) -> None:
        data = self.step_data(self.email, body="Hello {% if client.name %}")
        r = self.client.post(self.edit_url(self.email), data, headers=HTMX)
        self.assertContains(r, "Syntax error")

    def test_document_request_settings_are_saved(self) -> None:
        step = building.add_step(
            self.group,
            actor=self.manager,
            name="Bank statements",
            type="document_request",
            mode="automatic",
            to_recipients=["contact:main"],
            settings={"title": "Statements", "deadline_days": 7, "kept": "yes"},
        )
        r = self.client.get(self.edit_url(step), headers=HTMX)
        self.assertContains(r, "The practice&#x27;s built-in email for this type")
        data = self.step_data(
            step,
            content_source="default",
            title="All bank statements",
            request_description="Every account, every month",
            deadline_days="14",
        )
        r = self.client.post(self.edit_url(step), data, headers=HTMX)
        self.assertContains(r, "Saved the step")
        step.refresh_from_db()
        self.assertEqual(
            step.settings,
            {
                "title": "All bank statements",
                "request_description": "Every account, every month",
                "deadline_days": 14,
                "kept": "yes",
            },
        )
        self.assertContains(r, "Built-in email")

    def test_a_document_request_needs_a_title(self) -> None:
        step = building.add_step(
            self.group,
            actor=self.manager,
            name="Bank statements",
            type="document_request",
            mode="automatic",
            to_recipients=["contact:main"],
            settings={"title": "Statements"},
        )
        data = self.step_data(step, content_source="default", title="")
        r = self.client.post(self.edit_url(step), data, headers=HTMX)
        self.assertContains(r, "Give the request title.")

    def test_approval_chasing_is_saved(self) -> None:
        step = building.add_step(
            self.group,
            actor=self.manager,
            name="Approve accounts",
            type="document_approval",
            mode="manual",
            to_recipients=["contact:main"],
        )
        page = self.client.get(self.edit_url(step), headers=HTMX)
        self.assertContains(page, "Chase the client until they answer")
        data = self.step_data(
            step,
            content_source="default",
            category="Accounts",
            chase_enabled="on",
            chase_every_days="5",
            chase_max_times="2",
            chase_subject="",
            chase_body="",
        )
        r = self.client.post(self.edit_url(step), data, headers=HTMX)
        self.assertContains(r, "Saved the step")
        step.refresh_from_db()
        self.assertEqual(step.settings["category"], "Accounts")
        self.assertEqual(
            step.settings["chase"],
            {"enabled": True, "every_days": 5, "max_times": 2, "subject": "", "body": ""},
        )

    def test_confirmation_settings_and_chasing_are_saved(self) -> None:
        step = building.add_step(
            self.group,
            actor=self.manager,
            name="Confirm filing",
            type="client_confirmation",
            mode="automatic",
            to_recipients=["contact:main"],
            settings={"message": "OK?", "button_text": "Yes", "thank_you": "Thanks"},
        )
        data = self.step_data(
            step,
            content_source="default",
            message="Please confirm we may file.",
            button_text="Yes, file them",
            thank_you="Thank you.",
            notify_assignee="on",
            chase_enabled="on",
            chase_every_days="3",
            chase_max_times="4",
            chase_subject="Reminder: {{ step.name }}",
            chase_body="Dear {{ contacts.main.first_name }}, please confirm.",
        )
        r = self.client.post(self.edit_url(step), data, headers=HTMX)
        self.assertContains(r, "Saved the step")
        step.refresh_from_db()
        self.assertEqual(step.settings["message"], "Please confirm we may file.")
        self.assertEqual(step.settings["button_text"], "Yes, file them")
        self.assertTrue(step.settings["notify_assignee"])
        self.assertEqual(
            step.settings["chase"],
            {
                "enabled": True,
                "every_days": 3,
                "max_times": 4,
                "subject": "Reminder: {{ step.name }}",
                "body": "Dear {{ contacts.main.first_name }}, please confirm.",
            },
        )

    def test_chasing_needs_its_interval(self) -> None:
        step = building.add_step(
            self.group,
            actor=self.manager,
            name="Confirm filing",
            type="client_confirmation",
            mode="manual",
            to_recipients=["contact:main"],
            settings={"message": "OK?", "button_text": "Yes", "thank_you": "Thanks"},
        )
        data = self.step_data(
            step,
            content_source="default",
            message="OK?",
            button_text="Yes",
            thank_you="Thanks",
            chase_enabled="on",
            chase_every_days="",
            chase_max_times="3",
        )
        r = self.client.post(self.edit_url(step), data, headers=HTMX)
        self.assertContains(r, "Chase every 1 to 90 days.")
        step.refresh_from_db()
        self.assertNotIn("chase", step.settings)

    def test_approval_steps_have_no_automatic_mode(self) -> None:
        step = building.add_step(
            self.group,
            actor=self.manager,
            name="Approve accounts",
            type="document_approval",
            mode="manual",
            to_recipients=["contact:main"],
        )
        r = self.client.get(self.edit_url(step), headers=HTMX)
        self.assertNotContains(r, f'name="s{step.pk}-mode"')
        self.assertContains(r, "someone picks the document to send")
        data = self.step_data(step, content_source="default", mode="automatic")
        self.client.post(self.edit_url(step), data, headers=HTMX)
        step.refresh_from_db()
        self.assertEqual(step.mode, "manual")

    def test_simple_steps_have_no_email_fields(self) -> None:
        r = self.client.get(self.edit_url(self.draft), headers=HTMX)
        self.assertNotContains(r, f'name="s{self.draft.pk}-subject"')
        self.assertContains(r, "Bank rec\nAccruals")

    def test_without_htmx_a_save_redirects_and_errors_show_on_the_page(self) -> None:
        ok = self.client.post(self.edit_url(self.draft), self.step_data(self.draft, name="Draft"))
        self.assertRedirects(ok, f"/workflows/templates/{self.template.pk}/#group-{self.group.pk}")
        bad = self.client.post(self.edit_url(self.draft), self.step_data(self.draft, name=""))
        self.assertEqual(bad.status_code, 200)
        self.assertContains(bad, "<html")
        self.assertContains(bad, "This field is required.")
