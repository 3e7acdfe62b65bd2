"""The content block library: built-in and own blocks, Liquid checks on save, the preview."""

from __future__ import annotations

import datetime as dt

from portal.content import DEFAULTS
from sodium.messaging import builtins
from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.wf_factories import chain_template
from workflows import attach, building
from workflows.models import ContentBlock, TemplateStep

HTMX = {"HX-Request": "true"}
RECORDS = "Dear {{ contacts.main.first_name | default: 'client' }},\n\nPlease send {{ task.name }}."


class ContentBlockTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.block = building.save_content_block(
            practice=self.practice,
            actor=self.manager,
            name="Records request",
            subject="Records for {{ client.name }}",
            body=RECORDS,
        )
        self.client.force_login(self.manager)

    def edit_url(self, block: ContentBlock) -> str:
        return f"/content-blocks/{block.pk}/"

    def use_in_a_step(self, block: ContentBlock) -> TemplateStep:
        template = building.create_template(practice=self.practice, actor=self.manager, name="YE")
        return building.add_step(
            template.groups.get(),
            actor=self.manager,
            name="Ask for records",
            type="email",
            mode="automatic",
            content_block=block,
            to_recipients=["contact:main"],
        )


class ContentBlockListTests(ContentBlockTestCase):
    def test_it_lists_own_blocks_and_the_built_in_emails_apart(self) -> None:
        r = self.client.get("/content-blocks/")
        self.assertEqual(r.status_code, 200)
        self.assertTemplateUsed(r, "sodium/messaging/content_block_list.html")
        html = r.content.decode()
        own, builtin = html.index("Your content blocks"), html.index("Built-in emails")
        self.assertLess(own, html.index("Records request"))
        self.assertLess(html.index("Records request"), builtin)
        for name, _subject, _body in DEFAULTS.values():
            self.assertGreater(html.index(name), builtin)
        # The heading, then a tag per built-in email.
        self.assertContains(r, "Built-in", count=1 + len(builtins.BUILTINS))

    def test_opening_the_library_writes_nothing(self) -> None:
        with self.assertNumQueries(5):
            r = self.client.get("/content-blocks/")
        self.assertContains(r, "Default wording", count=len(builtins.BUILTINS))
        self.assertFalse(
            ContentBlock.objects.filter(practice=self.practice).exclude(system_key="").exists()
        )

    def test_a_saved_copy_replaces_the_default_in_the_list(self) -> None:
        self.client.post(
            "/content-blocks/built-in/portal.sign_in/",
            {"name": "Sign-in link", "subject": "Sign in", "body": "{{ action_link }}"},
        )
        copy = ContentBlock.objects.get(practice=self.practice, system_key="portal.sign_in")
        html = self.client.get("/content-blocks/").content.decode()
        self.assertIn(f"/content-blocks/{copy.pk}/", html)
        self.assertNotIn("/content-blocks/built-in/portal.sign_in/", html)
        self.assertIn("/content-blocks/built-in/portal.confirmation/", html)
        self.assertEqual(html.count("Default wording"), len(builtins.BUILTINS) - 1)

    def test_it_counts_the_steps_using_a_block(self) -> None:
        self.use_in_a_step(self.block)
        self.assertContains(self.client.get("/content-blocks/"), "1 step")

    def test_it_never_shows_another_practices_blocks(self) -> None:
        ContentBlock.objects.create(
            practice=self.other_practice, name="Rival Secret Block", subject="x", body="y"
        )
        self.assertNotContains(self.client.get("/content-blocks/"), "Rival Secret")

    def test_staff_cannot_open_the_library(self) -> None:
        self.client.force_login(self.staff)
        self.assertEqual(self.client.get("/content-blocks/").status_code, 403)
        self.assertEqual(self.client.get(self.edit_url(self.block)).status_code, 403)
        r = self.client.post("/content-blocks/preview/", {"subject": "x", "body": "y"})
        self.assertEqual(r.status_code, 403)


class ContentBlockEditTests(ContentBlockTestCase):
    def test_the_editor_has_the_token_picker_and_a_preview(self) -> None:
        r = self.client.get("/content-blocks/new/")
        self.assertContains(r, 'data-insert-token="{{ client.name }}"')
        self.assertContains(r, 'data-insert-token="{{ contacts.main.first_name }}"')
        self.assertContains(r, "<code>{{ task.due_date }}</code>")  # readable without JS
        self.assertContains(r, 'id="block-preview"')
        self.assertContains(r, "js/sodium.js")

    def test_it_creates_a_block(self) -> None:
        r = self.client.post(
            "/content-blocks/new/",
            {"name": "VAT reminder", "subject": "VAT for {{ client.name }}", "body": "Due soon."},
        )
        block = ContentBlock.objects.get(practice=self.practice, name="VAT reminder")
        self.assertRedirects(r, self.edit_url(block))
        self.assertEqual(block.subject, "VAT for {{ client.name }}")

    def test_a_syntax_error_is_shown_under_the_field_and_nothing_is_saved(self) -> None:
        r = self.client.post(
            "/content-blocks/new/",
            {"name": "Broken", "subject": "Hi", "body": "Hello {% if client.name %} there"},
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Syntax error")
        self.assertContains(r, 'class="field has-error"')
        self.assertFalse(ContentBlock.objects.filter(name="Broken").exists())

    def test_an_unknown_variable_is_shown_under_the_field(self) -> None:
        r = self.client.post(
            "/content-blocks/new/",
            {"name": "Typo", "subject": "For {{ client.nmae }}", "body": "Hello"},
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Unknown variable “client.nmae”.")
        self.assertFalse(ContentBlock.objects.filter(name="Typo").exists())

    def test_it_edits_a_block(self) -> None:
        r = self.client.post(
            self.edit_url(self.block),
            {"name": "Records request", "subject": "Your records", "body": "Please send them."},
        )
        self.assertRedirects(r, self.edit_url(self.block))
        self.block.refresh_from_db()
        self.assertEqual(
            (self.block.subject, self.block.body), ("Your records", "Please send them.")
        )

    def test_names_are_unique_in_the_practice(self) -> None:
        other = building.save_content_block(
            practice=self.practice, actor=self.manager, name="Other", subject="s", body="b"
        )
        r = self.client.post(
            self.edit_url(other), {"name": "records request", "subject": "s", "body": "b"}
        )
        self.assertContains(r, "There is already a content block with that name.")

    def test_built_in_emails_can_be_edited_and_the_first_save_makes_the_copy(self) -> None:
        url = "/content-blocks/built-in/portal.sign_in/"
        page = self.client.get(url)
        self.assertContains(page, "cannot be deleted")
        self.assertContains(page, DEFAULTS["portal.sign_in"][0])
        self.assertNotContains(page, "/delete/")
        self.assertFalse(ContentBlock.objects.filter(system_key="portal.sign_in").exists())
        r = self.client.post(
            url, {"name": "Sign-in link", "subject": "Sign in", "body": "{{ action_link }}"}
        )
        sign_in = ContentBlock.objects.get(practice=self.practice, system_key="portal.sign_in")
        self.assertRedirects(r, self.edit_url(sign_in))
        self.assertEqual((sign_in.subject, sign_in.name), ("Sign in", "Sign-in link"))
        # Once saved, the built-in address leads to the practice's copy.
        self.assertRedirects(self.client.get(url), self.edit_url(sign_in))
        self.client.post(
            self.edit_url(sign_in),
            {"name": sign_in.name, "subject": "Sign in again", "body": "{{ action_link }}"},
        )
        sign_in.refresh_from_db()
        self.assertEqual((sign_in.subject, sign_in.system_key), ("Sign in again", "portal.sign_in"))

    def test_a_broken_built_in_email_is_refused_and_nothing_is_saved(self) -> None:
        r = self.client.post(
            "/content-blocks/built-in/portal.sign_in/",
            {"name": "Sign in", "subject": "Sign in", "body": "{% if %}"},
        )
        self.assertContains(r, "Syntax error")
        self.assertContains(r, 'class="field has-error"')
        self.assertFalse(ContentBlock.objects.filter(system_key="portal.sign_in").exists())

    def test_another_practices_copy_of_a_built_in_email_is_never_shown(self) -> None:
        building.save_content_block(
            practice=self.other_practice,
            actor=self.outsider,
            block=builtins.default_block(self.other_practice, "portal.sign_in"),
            name="Rival sign in",
            subject="Rival subject",
            body="Rival wording {{ action_link }}",
        )
        page = self.client.get("/content-blocks/built-in/portal.sign_in/")
        self.assertEqual(page.status_code, 200)
        self.assertNotContains(page, "Rival")
        self.assertContains(page, DEFAULTS["portal.sign_in"][0])
        library = self.client.get("/content-blocks/")
        self.assertNotContains(library, "Rival")
        self.assertContains(library, "Default wording", count=len(builtins.BUILTINS))

    def test_an_unknown_built_in_email_is_a_404(self) -> None:
        r = self.client.get("/content-blocks/built-in/portal.nothing/")
        self.assertEqual(r.status_code, 404)


class ContentBlockDeleteTests(ContentBlockTestCase):
    def test_an_unused_block_is_deleted(self) -> None:
        r = self.client.post(f"/content-blocks/{self.block.pk}/delete/", follow=True)
        self.assertRedirects(r, "/content-blocks/")
        self.assertContains(r, "Deleted the content block Records request.")
        self.assertFalse(ContentBlock.objects.filter(pk=self.block.pk).exists())

    def test_a_block_used_by_steps_is_refused_with_a_readable_message(self) -> None:
        step = self.use_in_a_step(self.block)
        r = self.client.post(f"/content-blocks/{self.block.pk}/delete/", follow=True)
        self.assertRedirects(r, self.edit_url(self.block))
        self.assertContains(r, "Records request is used by 1 step (YE: Ask for records).")
        self.assertContains(r, "Choose other content for it first")
        self.assertTrue(ContentBlock.objects.filter(pk=self.block.pk).exists())
        self.assertEqual(step.content_block_id, self.block.pk)

    def test_a_block_used_by_a_running_task_is_refused(self) -> None:
        step = self.use_in_a_step(self.block)
        task = f.TaskFactory(client=f.ClientFactory(practice=self.practice), name="YE 2026")
        attach.attach_template(task, step.group.template, actor=self.manager)
        building.delete_step(step, actor=self.manager)
        r = self.client.post(f"/content-blocks/{self.block.pk}/delete/", follow=True)
        self.assertContains(r, "YE 2026: Ask for records")
        self.assertTrue(ContentBlock.objects.filter(pk=self.block.pk).exists())

    def test_built_in_emails_cannot_be_deleted(self) -> None:
        sign_in = building.save_content_block(
            practice=self.practice,
            actor=self.manager,
            block=builtins.default_block(self.practice, "portal.sign_in"),
            name="Sign in",
            subject="Sign in",
            body="{{ action_link }}",
        )
        r = self.client.post(f"/content-blocks/{sign_in.pk}/delete/", follow=True)
        self.assertContains(r, "is a built-in email")
        self.assertTrue(ContentBlock.objects.filter(pk=sign_in.pk).exists())

    def test_get_changes_nothing(self) -> None:
        self.assertEqual(
            self.client.get(f"/content-blocks/{self.block.pk}/delete/").status_code, 405
        )
        self.assertEqual(self.client.get("/content-blocks/preview/").status_code, 405)
        self.client.get(self.edit_url(self.block))
        self.block.refresh_from_db()
        self.assertEqual(self.block.body, RECORDS)

    def test_staff_cannot_delete(self) -> None:
        self.client.force_login(self.staff)
        r = self.client.post(f"/content-blocks/{self.block.pk}/delete/")
        self.assertEqual(r.status_code, 403)
        self.assertTrue(ContentBlock.objects.filter(pk=self.block.pk).exists())


class PreviewTests(ContentBlockTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Widgets Ltd")
        f.ContactFactory(client=self.acme, first_name="Ellie", last_name="Ali", is_main=True)
        f.TaskFactory(
            client=self.acme,
            name="Year-end accounts 2026",
            due_date=dt.date(2026, 12, 31),
        )

    def preview(self, **data):
        return self.client.post("/content-blocks/preview/", data, headers=HTMX)

    def test_it_renders_for_a_real_client_and_their_latest_task(self) -> None:
        r = self.preview(
            subject="Records for {{ client.name }}",
            body=RECORDS + " Due {{ task.due_date }}.",
            preview_client=str(self.acme.pk),
        )
        self.assertEqual(r.status_code, 200)
        self.assertNotContains(r, "<html")
        self.assertContains(r, 'id="block-preview"')
        self.assertContains(r, "Records for Acme Widgets Ltd")
        self.assertContains(r, "Dear Ellie")  # inside the iframe's srcdoc, escaped once
        self.assertContains(r, "Please send Year-end accounts 2026. Due 31 December 2026.")
        self.assertContains(r, 'sandbox=""')

    def test_without_a_client_it_uses_the_examples(self) -> None:
        r = self.preview(subject="For {{ client.name }}", body="Hi {{ contacts.main.first_name }}")
        self.assertContains(r, "For Acorn Bakery Ltd")
        self.assertContains(r, "With example values")

    def test_it_shows_the_problems_of_a_broken_template(self) -> None:
        r = self.preview(
            subject="For {{ client.nmae }}",
            body="Hello {% if client.name %}",
            preview_client=str(self.acme.pk),
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Subject: Unknown variable “client.nmae”.")
        self.assertContains(r, "Body: Syntax error")
        self.assertContains(r, 'role="alert"')

    def test_values_are_escaped_in_the_html_body(self) -> None:
        self.acme.name = "<b>Bold</b> & Co"
        self.acme.save(update_fields=["name"])
        r = self.preview(subject="x", body="{{ client.name }}", preview_client=str(self.acme.pk))
        # Escaped by Liquid, then again for the srcdoc attribute.
        self.assertContains(r, "&amp;lt;b&amp;gt;Bold&amp;lt;/b&amp;gt; &amp;amp; Co")

    def test_another_practices_client_is_never_used(self) -> None:
        r = self.preview(subject="For {{ client.name }}", preview_client=str(self.other_client.pk))
        self.assertNotContains(r, "Rival Secret Client")
        self.assertContains(r, "With example values")

    def test_the_step_editor_previews_its_own_fields(self) -> None:
        r = self.preview(
            prefix="s42",
            **{"s42-subject": "Hello {{ client.name }}", "s42-body": "Body"},
            preview_client=str(self.acme.pk),
        )
        self.assertContains(r, 'id="s42-preview"')
        self.assertContains(r, "Hello Acme Widgets Ltd")

    def test_without_javascript_the_preview_is_a_page(self) -> None:
        r = self.client.post(
            "/content-blocks/preview/", {"subject": "Hi {{ client.name }}", "body": "x"}
        )
        self.assertContains(r, "<html")
        self.assertContains(r, "Hi Acorn Bakery Ltd")

    def test_the_editor_keeps_the_chosen_client_after_a_failed_save(self) -> None:
        r = self.client.post(
            self.edit_url(self.block),
            {
                "name": "Records request",
                "subject": "For {{ client.name }}",
                "body": "{{ oops }}",
                "preview_client": str(self.acme.pk),
            },
        )
        self.assertContains(r, "Unknown variable “oops”.")
        self.assertContains(r, f'<option value="{self.acme.pk}" selected>')
        self.assertContains(r, "For Acme Widgets Ltd")


class StepEditorPickerTests(BaseTestCase):
    def test_the_step_editor_uses_the_same_picker(self) -> None:
        template = chain_template(self.practice, self.manager)
        email = TemplateStep.objects.get(group__template=template, type="email")
        self.client.force_login(self.manager)
        r = self.client.get(f"/workflows/templates/steps/{email.pk}/edit/", headers=HTMX)
        self.assertContains(r, 'data-insert-token="{{ client.name }}"')
        self.assertContains(r, "Insert a variable")
        self.assertContains(r, f'name="prefix" value="s{email.pk}"')


class OldAddressTests(ContentBlockTestCase):
    def test_the_library_still_answers_at_its_workflows_addresses(self) -> None:
        for url in (
            "/workflows/content-blocks/",
            "/workflows/content-blocks/new/",
            f"/workflows/content-blocks/{self.block.pk}/",
            "/workflows/content-blocks/built-in/portal.sign_in/",
        ):
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 200)

    def test_the_nav_marks_the_library_current_at_both_addresses(self) -> None:
        for url in ("/content-blocks/", "/workflows/content-blocks/"):
            with self.subTest(url=url):
                r = self.client.get(url)
                self.assertContains(r, '<a href="/content-blocks/" aria-current="page">')
