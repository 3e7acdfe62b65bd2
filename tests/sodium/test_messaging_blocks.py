"""Content blocks saved through the core: channels, the use's variables, built-in copies."""

from __future__ import annotations

from sodium.messaging import blocks, builtins
from sodium.messaging.blocks import BlockError
from sodium.models import ContentBlock
from tests.base import BaseTestCase


class SaveContentBlockTests(BaseTestCase):
    def save(self, **kwargs) -> ContentBlock:
        values = {"name": "Reminder", "subject": "", "body": "Hi {{ client.name }}"}
        return blocks.save_content_block(
            practice=self.practice, actor=self.manager, **{**values, **kwargs}
        )

    def test_an_sms_block_keeps_its_channel_and_has_no_subject(self) -> None:
        block = self.save(channel="sms")
        self.assertEqual(ContentBlock.objects.get(pk=block.pk).channel, "sms")
        with self.assertRaises(BlockError) as caught:
            self.save(name="Other", channel="sms", subject="A subject")
        self.assertEqual(caught.exception.errors["subject"], ["A text message has no subject."])

    def test_blocks_are_emails_unless_told(self) -> None:
        self.assertEqual(self.save(subject="S").channel, "email")

    def test_a_use_without_task_variables_refuses_them(self) -> None:
        with self.assertRaises(BlockError) as caught:
            self.save(body="{{ task.name }}", use="portal.sign_in")
        self.assertIn("body", caught.exception.errors)
        self.assertEqual(
            self.save(body="{{ task.name }}", use="workflows.step_email").body, "{{ task.name }}"
        )

    def test_saving_a_built_in_default_writes_the_practices_copy(self) -> None:
        default = builtins.default_block(self.practice, "portal.sign_in")
        first = self.save(block=default, name=default.name, subject="S", use="portal.sign_in")
        again = self.save(block=first, name=default.name, subject="S2", use="portal.sign_in")
        self.assertEqual(first.pk, again.pk)
        copy = ContentBlock.objects.get(system_key="portal.sign_in")
        self.assertEqual((copy.pk, copy.subject), (first.pk, "S2"))

    def test_a_name_in_use_is_refused_whatever_its_case(self) -> None:
        self.save(subject="S")
        with self.assertRaises(BlockError) as caught:
            self.save(name="REMINDER", subject="S")
        self.assertIn("name", caught.exception.errors)
