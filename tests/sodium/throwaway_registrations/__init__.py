"""A throwaway app's navigation entry, client-page panel, dashboard card and work items,
registered the way an app does it in its AppConfig.ready, with no edit to the core: the test
`tests/sodium/test_registration_plugin.py` checks each shows up on its page and goes away when
unregistered. Its templates live beside it (`template_settings()` adds the folder)."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest

from sodium import nav, panels, work
from sodium.models import Client, Task, User
from sodium.roles import Perm

TEMPLATES = Path(__file__).parent / "templates"


def template_settings() -> list[dict]:
    """The project's TEMPLATES with this module's folder added (for override_settings)."""
    out = copy.deepcopy(settings.TEMPLATES)
    out[0]["DIRS"] = [*out[0]["DIRS"], TEMPLATES]
    return out


ENTRY = nav.NavEntry(
    "throwaway-reminders",
    "Reminders",
    "sodium:notification-list",  # any page of the site will do for a throwaway entry
    order=45,
    permission=Perm.MANAGE_TEMPLATES,
    current=("/notifications/",),
)


def client_panel(request: HttpRequest, client: Client) -> tuple[str, dict] | None:
    if client.name.startswith("Quiet"):
        return None  # a panel with nothing to say says nothing
    return "throwaway/client_panel.html", {"client": client}


def dashboard_card(request: HttpRequest) -> tuple[str, dict]:
    return "throwaway/dashboard_card.html", {"practice": request.practice}


def work_items(request: HttpRequest, user: User) -> list[work.WorkItem]:
    """One item per open task the user owns, in one query."""
    tasks = Task.objects.filter(
        practice=request.practice, owner=user, status__in=Task.OPEN_STATUSES
    ).select_related("client")
    return [
        work.WorkItem(
            title=f"Call about {task.name}",
            kind="Reminder",
            subtitle=task.client.name,
            url=f"/tasks/{task.pk}/",
            due=task.due_date or dt.date(2030, 1, 1),
            status="To call",
            tone="warn",
        )
        for task in tasks
    ]


def register() -> None:
    nav.register(ENTRY)
    panels.register_client_panel(client_panel)
    panels.register_dashboard_card(dashboard_card)
    work.register_work_source(work_items)


def unregister() -> None:
    nav.unregister(ENTRY.key)
    panels.unregister_client_panel(client_panel)
    panels.unregister_dashboard_card(dashboard_card)
    work.unregister_work_source(work_items)
