"""Content blocks including other blocks: {% render "signature" %} renders, loops are refused."""

from __future__ import annotations

from django.urls import reverse

from sodium import liquid, liquid_blocks
from sodium.messaging import blocks
from sodium.models import ContentBlock
from sodium.tenancy import practice_scope
from tests import factories as f
from tests.base import BaseTestCase
from tests.workflows.wf_factories import chain_template, email_step
from workflows import attach, handlers

SIGNATURE = "Kind regards,\n{{ practice.name }}"


class BlockIncludeTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.signature = self.save("Signature", SIGNATURE)

    def save(self, name: str, body: str, block: ContentBlock | None = None) -> ContentBlock:
        return blocks.save_content_block(
            practice=self.practice,
            actor=self.manager,
            name=name,
            subject="Hello" if block is None else block.subject,
            body=body,
            block=block,
        )

    def refused(self, name: str, body: str, block: ContentBlock | None = None) -> list[str]:
        with self.assertRaises(blocks.BlockError) as caught:
            self.save(name, body, block)
        return caught.exception.errors["body"]

    def test_a_block_renders_the_block_it_includes(self) -> None:
        reminder = self.save(
            "VAT reminder",
            'Dear {{ client.name }},\n\nYour VAT is due.\n\n{% render "signature" %}',
        )
        context = {"client": {"name": "Acorn <Bakery>"}, "practice": {"name": "Ledger & Co"}}
        with practice_scope(self.practice):
            out = liquid.render_message(reminder.subject, reminder.body, context)
        self.assertTrue(out.text.endswith("Kind regards,\nLedger & Co"), out.text)
        self.assertIn("Dear Acorn <Bakery>", out.text)
        # The HTML part escapes the included block's values as it does the block's own.
        self.assertIn("Ledger &amp; Co", out.html)
        self.assertIn("Acorn &lt;Bakery&gt;", out.html)

    def test_includes_nest_and_use_the_practice_given_to_blocks_of(self) -> None:
        self.save("Footer", '{% render "Signature" %}\nRegistered in England.')
        context = {"practice": {"name": "Ledger & Co"}}
        with liquid_blocks.blocks_of(self.practice):
            text = liquid.render_string('Bye.\n{% render "footer" %}', context)
        self.assertEqual(text, "Bye.\nKind regards,\nLedger & Co\nRegistered in England.")

    def test_another_practices_block_is_never_included(self) -> None:
        ContentBlock.objects.create(practice=self.other_practice, name="Rival", body="secret")
        with practice_scope(self.practice), self.assertRaises(liquid.TemplateError) as caught:
            liquid.render_string('{% render "Rival" %}', {})
        self.assertEqual(str(caught.exception), "There is no content block named “Rival”.")

    def test_an_unknown_block_is_refused_at_save(self) -> None:
        problems = self.refused("Chaser", 'Please reply.\n{% render "Signatur" %}')
        self.assertIn("There is no content block named “Signatur”.", problems)
        self.assertFalse(ContentBlock.objects.filter(name="Chaser").exists())

    def test_a_block_including_itself_is_refused(self) -> None:
        problems = self.refused("Signature", '{% render "signature" %}', block=self.signature)
        self.assertEqual(problems, ["A content block cannot include itself."])
        self.assertEqual(ContentBlock.objects.get(pk=self.signature.pk).body, SIGNATURE)

    def test_a_loop_of_blocks_is_refused_with_its_path(self) -> None:
        self.save("Footer", '{% render "Signature" %}')
        problems = self.refused("Signature", '{% render "Footer" %}', block=self.signature)
        self.assertEqual(len(problems), 1)
        self.assertIn("That would make a loop: “Signature” → “Footer” → “Signature”", problems[0])
        self.assertEqual(ContentBlock.objects.get(pk=self.signature.pk).body, SIGNATURE)

    def test_renaming_a_block_others_include_is_refused(self) -> None:
        self.save("Footer", '{% render "Signature" %}')
        with self.assertRaises(blocks.BlockError) as caught:
            self.save("Sign-off", SIGNATURE, block=self.signature)
        self.assertIn(
            "“Footer” includes this block as “Signature”", caught.exception.errors["body"][0]
        )

    def test_deleting_a_block_others_include_is_refused_and_keeps_it(self) -> None:
        self.save("Footer", '{% render "Signature" %}')
        self.save("Letterhead", "Ledger & Co")  # includes nothing: deleted as before
        letterhead = ContentBlock.objects.get(practice=self.practice, name="Letterhead")
        self.client.force_login(self.manager)
        url = reverse("sodium:content-block-delete", args=[self.signature.pk])
        r = self.client.post(url, follow=True)
        self.assertContains(r, "Signature is included by “Footer”.")
        self.assertTrue(ContentBlock.objects.filter(pk=self.signature.pk).exists())
        self.client.post(reverse("sodium:content-block-delete", args=[letterhead.pk]))
        self.assertFalse(ContentBlock.objects.filter(pk=letterhead.pk).exists())

    def test_a_loop_that_got_in_anyway_fails_the_render_with_a_message(self) -> None:
        ContentBlock.objects.create(practice=self.practice, name="A", body='{% render "B" %}')
        ContentBlock.objects.create(practice=self.practice, name="B", body='{% render "A" %}')
        with practice_scope(self.practice), self.assertRaises(liquid.TemplateError) as caught:
            liquid.render_string('{% render "A" %}', {})
        self.assertIn("nests too deeply", str(caught.exception))

    def test_include_is_still_refused_and_a_variable_name_is_refused(self) -> None:
        self.assertIn("not supported", self.refused("X", '{% include "signature" %}')[0])
        self.assertIn("by its name in quotes", self.refused("Y", "{% render signature %}")[0])


class BlockIncludeEditorTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        blocks.save_content_block(
            practice=self.practice,
            actor=self.manager,
            name="Signature",
            subject="",
            body=SIGNATURE,
        )
        self.client.force_login(self.manager)

    def test_the_editor_saves_an_include_and_shows_a_loop_under_the_body(self) -> None:
        r = self.client.post(
            "/content-blocks/new/",
            {"name": "Footer", "subject": "Hi", "body": 'Thanks.\n{% render "Signature" %}'},
        )
        self.assertEqual(r.status_code, 302)
        signature = ContentBlock.objects.get(practice=self.practice, name="Signature")
        r = self.client.post(
            f"/content-blocks/{signature.pk}/",
            {"name": "Signature", "subject": "Sign-off", "body": '{% render "Footer" %}'},
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, 'class="field has-error"')
        self.assertContains(r, "That would make a loop")
        self.assertEqual(ContentBlock.objects.get(pk=signature.pk).body, SIGNATURE)


class StepEmailIncludeTests(BaseTestCase):
    def test_a_step_email_sends_the_block_it_includes(self) -> None:
        blocks.save_content_block(
            practice=self.practice,
            actor=self.manager,
            name="Signature",
            subject="S",
            body=SIGNATURE,
        )
        # Another practice's block of the same name is never the one included.
        ContentBlock.objects.create(practice=self.other_practice, name="Signature", body="Rival")
        body = 'Welcome aboard.\n\n{% render "Signature" %}'
        template = chain_template(self.practice, self.manager, second=email_step(body=body))
        task = f.TaskFactory(practice=self.practice)
        email = attach.attach_template(task, template, actor=self.manager)[1]
        draft = handlers.render_draft(email)  # scopes are off here: blocks_of names the practice
        self.assertEqual(draft.problems, [])
        self.assertTrue(draft.body.endswith(f"Kind regards,\n{self.practice.name}"), draft.body)
