"""ContentBlock moves from workflows to the core with its rows: migrate back and forth.

Runs on the configured database; run it on PostgreSQL too (DATABASE_URL=postgres://…).
"""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import TransactionTestCase

BEFORE = [
    ("sodium", "0006_reencode_stored_logos"),
    ("workflows", "0004_practice_index_covered_by_composites"),
]
AFTER = [
    ("sodium", "0008_content_block_table_and_channel"),
    ("workflows", "0005_content_block_moves_to_core"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _tables() -> set[str]:
    return set(connection.introspection.table_names())


class ContentBlockMoveMigrationTests(TransactionTestCase):
    def tearDown(self) -> None:
        # Leave the database as every other test expects it: fully migrated.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        super().tearDown()

    def _rows_before(self, apps):
        Practice = apps.get_model("sodium", "Practice")
        Block = apps.get_model("workflows", "ContentBlock")
        Template = apps.get_model("workflows", "WorkflowTemplate")
        Group = apps.get_model("workflows", "TemplateGroup")
        TemplateStep = apps.get_model("workflows", "TemplateStep")
        practice = Practice._base_manager.create(name="Hartley & Finch", slug="hartley-finch")
        block = Block._base_manager.create(
            practice=practice, name="VAT reminder", subject="VAT for {{ client.name }}", body="b"
        )
        copy = Block._base_manager.create(
            practice=practice,
            name="Portal: sign-in link",
            subject="Sign in",
            body="Hello",
            system_key="portal.sign_in",
        )
        template = Template._base_manager.create(practice=practice, name="VAT")
        group = Group._base_manager.create(practice=practice, template=template, name="G")
        step = TemplateStep._base_manager.create(
            practice=practice, group=group, name="Remind", content_block=block
        )
        return block, copy, step

    def test_rows_survive_the_move_and_the_way_back(self) -> None:
        old = _migrate(BEFORE)
        self.assertIn("workflows_contentblock", _tables())
        block, copy, step = self._rows_before(old)

        new = _migrate(AFTER)
        tables = _tables()
        self.assertIn("sodium_contentblock", tables)
        self.assertNotIn("workflows_contentblock", tables)
        Block = new.get_model("sodium", "ContentBlock")
        moved = Block._base_manager.get(pk=block.pk)
        self.assertEqual(
            (moved.name, moved.subject, moved.body, moved.channel),
            ("VAT reminder", "VAT for {{ client.name }}", "b", "email"),
        )
        self.assertEqual(Block._base_manager.get(pk=copy.pk).system_key, "portal.sign_in")
        TemplateStep = new.get_model("workflows", "TemplateStep")
        self.assertEqual(
            TemplateStep._base_manager.select_related("content_block")
            .get(pk=step.pk)
            .content_block.name,
            "VAT reminder",
        )
        # The unique constraints came along: a second copy of a built-in text is refused.
        from django.db import IntegrityError, transaction

        with self.assertRaises(IntegrityError), transaction.atomic():
            Block._base_manager.create(
                practice_id=moved.practice_id,
                name="Another copy",
                subject="s",
                body="b",
                system_key="portal.sign_in",
            )

        back = _migrate(BEFORE)
        self.assertIn("workflows_contentblock", _tables())
        self.assertNotIn("sodium_contentblock", _tables())
        OldBlock = back.get_model("workflows", "ContentBlock")
        self.assertEqual(OldBlock._base_manager.get(pk=block.pk).name, "VAT reminder")
        OldStep = back.get_model("workflows", "TemplateStep")
        self.assertEqual(OldStep._base_manager.get(pk=step.pk).content_block_id, block.pk)
