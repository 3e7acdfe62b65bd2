"""Message uses: each editor shows, and each save accepts, exactly its use's variables; a
new use registered by an app shows in the picker, the validation and the generated doc."""

from __future__ import annotations

from sodium import liquid
from sodium.messaging import builtins, variables
from sodium.messaging.docs import variables_markdown
from tests.base import BaseTestCase
from tests.sodium import throwaway_messages as throwaway
from workflows import building
from workflows.building import TemplateError
from workflows.context import STEP_EMAIL


class NewUseTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        throwaway.register()
        self.addCleanup(throwaway.unregister)
        self.client.force_login(self.staff)

    def test_the_picker_data_lists_exactly_the_new_uses_variables(self) -> None:
        for url in ("/messaging/variables.json", "/workflows/liquid-variables.json"):
            with self.subTest(url=url):
                r = self.client.get(url, {"use": throwaway.USE})
                paths = [v["path"] for v in r.json()["variables"]]
                self.assertIn("invoice.number", paths)
                self.assertIn("client.name", paths)
                self.assertNotIn("task.name", paths)
                self.assertNotIn("step.title", paths)

    def test_the_picker_groups_are_the_uses_groups(self) -> None:
        keys = [g.key for g in variables.token_groups(throwaway.USE)]
        self.assertEqual(keys, ["practice", "client", "contacts", "invoice", "today"])

    def test_validation_accepts_its_variables_and_refuses_others(self) -> None:
        known = variables.known_paths(throwaway.USE)
        self.assertEqual(liquid.validate("Owed {{ invoice.amount_due }}", known), [])
        self.assertEqual(liquid.validate("Hi {{ contacts.main.first_name }}", known), [])
        problems = liquid.validate("For {{ task.name }}", known)
        self.assertTrue(problems)
        self.assertIn("task.name", " ".join(problems))

    def test_a_block_saved_for_the_use_is_checked_against_it(self) -> None:
        with self.assertRaises(TemplateError):
            building.save_content_block(
                practice=self.practice,
                actor=self.manager,
                name="Reminder",
                subject="Invoice {{ invoice.number }}",
                body="For {{ task.name }}",
                use=throwaway.USE,
            )
        block = building.save_content_block(
            practice=self.practice,
            actor=self.manager,
            name="Reminder",
            subject="Invoice {{ invoice.number }}",
            body="{{ invoice.amount_due }} is due.",
            use=throwaway.USE,
        )
        self.assertTrue(block.pk)

    def test_the_generated_doc_lists_the_use_and_its_group(self) -> None:
        text = variables_markdown()
        self.assertIn("| Invoice reminder | `throwaway.invoice_reminder` | email, sms |", text)
        self.assertIn("| `{{ invoice.number }}` | The invoice's number | INV-0042 |", text)

    def test_its_sample_context_fills_its_variables(self) -> None:
        sample = variables.sample_context(throwaway.USE)
        rendered = liquid.render_message("{{ invoice.number }}", "{{ client.name }}", sample)
        self.assertEqual(rendered.subject, "INV-0042")
        self.assertNotIn("task", sample)

    def test_an_unknown_use_answers_404(self) -> None:
        r = self.client.get("/messaging/variables.json", {"use": "nope.nothing"})
        self.assertEqual(r.status_code, 404)

    def test_it_is_gone_once_unregistered(self) -> None:
        throwaway.unregister()
        self.assertNotIn(throwaway.USE, [u.key for u in variables.uses()])
        self.assertNotIn("invoice.amount_due", variables.known_paths(None))


class EditorUseTests(BaseTestCase):
    """The content block editors show the variables of the block's own use."""

    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.manager)

    def test_a_built_in_sign_in_text_shows_no_task_variables(self) -> None:
        r = self.client.get("/workflows/content-blocks/built-in/portal.sign_in/")
        self.assertContains(r, "<code>{{ contact.first_name }}</code>")
        self.assertNotContains(r, "<code>{{ task.name }}</code>")
        self.assertContains(r, 'name="use" value="portal.sign_in"')

    def test_an_own_block_shows_step_variables_but_not_portal_notice_ones(self) -> None:
        r = self.client.get("/workflows/content-blocks/new/")
        self.assertContains(r, "<code>{{ task.name }}</code>")
        self.assertNotContains(r, "<code>{{ reason }}</code>")
        self.assertNotContains(r, "<code>{{ contact.first_name }}</code>")

    def test_saving_the_sign_in_copy_with_a_task_variable_is_refused(self) -> None:
        name, subject, body = (lambda b: (b.name, b.subject, b.body))(
            builtins.get_builtin("portal.sign_in")
        )
        r = self.client.post(
            "/workflows/content-blocks/built-in/portal.sign_in/",
            {"name": name, "subject": subject, "body": body + " {{ task.name }}"},
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "task.name")
        from sodium.models import ContentBlock

        self.assertFalse(ContentBlock.objects.filter(system_key="portal.sign_in").exists())

    def test_saving_an_own_block_with_a_returned_submission_reason_is_refused(self) -> None:
        with self.assertRaises(TemplateError):
            building.save_content_block(
                practice=self.practice,
                actor=self.manager,
                name="Odd",
                subject="s",
                body="{{ reason }}",
                use=STEP_EMAIL,
            )

    def test_the_preview_validates_against_the_posted_use(self) -> None:
        data = {"subject": "Hi", "body": "For {{ task.name }}"}
        r = self.client.post(
            "/workflows/content-blocks/preview/",
            {**data, "use": "portal.sign_in"},
            headers={"HX-Request": "true"},
        )
        self.assertContains(r, "task.name")
        r = self.client.post(
            "/workflows/content-blocks/preview/", data, headers={"HX-Request": "true"}
        )
        self.assertNotContains(r, "preview-problems")
