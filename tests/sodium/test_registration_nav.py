"""The side navigation by registration: the core's entries and workflows' in the same order,
for the same roles, highlighted on the same pages as when nav.html named them itself."""

from __future__ import annotations

import re

from django.test import RequestFactory

from sodium import nav
from tests.base import BaseTestCase

MAIN_FOR_MANAGERS = [
    "Dashboard", "Clients", "Tasks", "My work", "My steps", "Recurring work", "Overview",
    "Data health", "Flows", "Messages", "Workflows", "Content blocks",
]  # fmt: skip


class NavigationTests(BaseTestCase):
    def shown(self, user, path: str) -> dict:
        request = RequestFactory().get(path)
        request.user = user
        request.membership = self.memberships[
            next(role for role, m in self.memberships.items() if m.user == user)
        ]
        return nav.entries_for(request)

    def current(self, user, path: str) -> list[str]:
        sections = self.shown(user, path)
        return [e.label for s in sections.values() for e in s if e.current]

    def test_managers_see_every_main_entry_in_the_usual_order(self) -> None:
        main = self.shown(self.manager, "/")["main"]
        self.assertEqual([e.label for e in main], MAIN_FOR_MANAGERS)
        self.assertEqual(main[4].url, "/workflows/my-steps/")

    def test_staff_do_not_see_the_template_builders_entries_nor_the_practice_section(self) -> None:
        sections = self.shown(self.staff, "/")
        self.assertEqual(
            [e.label for e in sections["main"]],
            [
                "Dashboard",
                "Clients",
                "Tasks",
                "My work",
                "My steps",
                "Data health",
                "Flows",
                "Messages",
            ],  # fmt: skip
        )
        self.assertEqual(sections["practice"], [])

    def test_the_practice_section_follows_each_permission(self) -> None:
        owner = [e.label for e in self.shown(self.owner, "/")["practice"]]
        self.assertEqual(owner, ["Members", "Teams", "Services", "Tags", "Branding & settings"])
        manager = [e.label for e in self.shown(self.manager, "/")["practice"]]
        self.assertEqual(manager, ["Teams", "Services", "Tags"])

    def test_each_page_marks_its_entry_current(self) -> None:
        for path, expected in (
            ("/", ["Dashboard"]),
            ("/clients/12/", ["Clients"]),
            ("/tasks/3/edit/", ["Tasks"]),
            ("/work/", ["My work"]),
            ("/workflows/my-steps/", ["My steps"]),
            ("/workflows/overview/", ["Overview"]),
            ("/workflows/templates/4/", ["Workflows"]),
            ("/workflows/wizard/new/", ["Workflows"]),
            ("/workflows/templates/4/wizard/abc/", ["Workflows"]),
            ("/content-blocks/7/", ["Content blocks"]),
            ("/workflows/content-blocks/7/", ["Content blocks"]),
            ("/messages/", ["Messages"]),
            ("/checks/", ["Data health"]),
            ("/checks/clients/3/", ["Data health"]),
            ("/checks/library/", ["Data health"]),
            ("/checks/flows/", ["Flows"]),
            ("/checks/flows/4/edit/", ["Flows"]),
            ("/checks/flows/runs/5/", ["Flows"]),
            ("/settings/members/", ["Members"]),
            ("/settings/practice/", ["Branding & settings"]),
            ("/settings/practice/logo/", []),  # exact, as before
            ("/account/", []),
        ):
            with self.subTest(path=path):
                self.assertEqual(self.current(self.owner, path), expected)

    def test_the_page_renders_the_entries_in_both_navigations(self) -> None:
        self.client.force_login(self.manager)
        html = self.client.get("/workflows/my-steps/").content.decode()
        self.assertEqual(
            html.count('<a href="/workflows/my-steps/" aria-current="page">My steps</a>'), 2
        )
        sidebar = html[html.index('<nav class="sidebar"') :]
        labels = re.findall(r'<li><a href="[^"]+"(?: aria-current="page")?>([^<]+)</a>', sidebar)
        self.assertEqual(labels, [*MAIN_FOR_MANAGERS, "Teams", "Services", "Tags"])
        self.assertIn('<p class="nav-heading">Practice</p>', sidebar)
