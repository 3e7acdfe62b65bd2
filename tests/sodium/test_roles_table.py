"""The roles table: docs/roles.md and the Members page both show sodium/roles.py as it is."""

from __future__ import annotations

from io import StringIO
from unittest import mock

from django.core.management import call_command
from django.test import SimpleTestCase

from sodium.roles import PERMISSIONS, Perm, Role, roles_markdown, roles_table
from tests.base import BaseTestCase


class RolesDocTests(SimpleTestCase):
    def test_docs_roles_md_is_up_to_date(self) -> None:
        out = StringIO()
        call_command("roles_table", "--check", stdout=out)
        self.assertIn("up to date", out.getvalue())

    def test_the_table_follows_the_permissions(self) -> None:
        row = dict(roles_table())["Import ledgers, run checks and dismiss findings"]
        self.assertEqual(row, [r in PERMISSIONS[Perm.WORK_CHECKS] for r in Role.values])
        with mock.patch.dict(PERMISSIONS, {Perm.WORK_CHECKS: frozenset({Role.OWNER})}):
            row = dict(roles_table())["Import ledgers, run checks and dismiss findings"]
            self.assertEqual(row, [True, False, False, False, False, False])
            self.assertIn(
                "| Import ledgers, run checks and dismiss findings | yes |  |", roles_markdown()
            )


class MembersPageRolesTests(BaseTestCase):
    def test_the_members_page_shows_what_each_role_may_do(self) -> None:
        self.client.force_login(self.admin)
        r = self.client.get("/settings/members/")
        self.assertContains(r, "What each role may do")
        self.assertContains(r, "Import ledgers, run checks and dismiss findings")
        self.assertContains(r, 'aria-label="Yes"')
