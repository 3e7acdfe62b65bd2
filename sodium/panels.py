"""Panels that apps add to core pages, without the core importing the apps: the task page
(the workflow), the client page (its tasks' workflows) and the dashboard (steps waiting on you).
A panel is a function of the request and the page's object, (request, task) or (request,
client) or (request,), giving (template name, context) or None; register it in the app's
`AppConfig.ready`. Apps also add columns to the task list (the workflow's progress) the same way.
The side navigation is `sodium/nav.py`, a person's work list `sodium/work.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from sodium.models import Client, Task

TaskPanel = Callable[[HttpRequest, Task], tuple[str, dict[str, Any]] | None]
TASK_PANELS: list[TaskPanel] = []


def register_task_panel(panel: TaskPanel) -> None:
    if panel not in TASK_PANELS:
        TASK_PANELS.append(panel)


def render_task_panels(request: HttpRequest, task: Task) -> list[SafeString]:
    """Render every registered panel for the task page, in registration order."""
    return _render_all(request, (panel(request, task) for panel in TASK_PANELS))


# --- columns that apps add to the task list ----------------------------------------------------

# fn(request, tasks) -> {task id: HTML}, called once per page with every task of the page, so
# an app can load what it shows for the whole page in a fixed number of queries.
TaskListExtension = Callable[[HttpRequest, list[Task]], dict[int, str]]


@dataclass(frozen=True)
class TaskListColumn:
    heading: str
    render: TaskListExtension


TASK_LIST_EXTENSIONS: list[TaskListColumn] = []


def register_task_list_extension(fn: TaskListExtension, *, heading: str = "") -> None:
    """Add a column to the task list; `fn` returns each task's cell as HTML."""
    if all(c.render is not fn for c in TASK_LIST_EXTENSIONS):
        TASK_LIST_EXTENSIONS.append(TaskListColumn(heading, fn))


def render_task_list_extensions(request: HttpRequest, tasks: list[Task]) -> list[str]:
    """Give every task `.list_cells` (one HTML cell per registered column, in order) and
    return the columns' headings."""
    cells = [column.render(request, tasks) if tasks else {} for column in TASK_LIST_EXTENSIONS]
    for task in tasks:
        task.list_cells = [mark_safe(c.get(task.pk, "")) for c in cells]
    return [column.heading for column in TASK_LIST_EXTENSIONS]


# --- panels on the client page and cards on the dashboard --------------------------------------

ClientPanel = Callable[[HttpRequest, Client], tuple[str, dict[str, Any]] | None]
CLIENT_PANELS: list[ClientPanel] = []

DashboardCard = Callable[[HttpRequest], tuple[str, dict[str, Any]] | None]
DASHBOARD_CARDS: list[DashboardCard] = []


def register_client_panel(panel: ClientPanel) -> None:
    """Add a panel to the client page; it answers None when it has nothing to show."""
    if panel not in CLIENT_PANELS:
        CLIENT_PANELS.append(panel)


def unregister_client_panel(panel: ClientPanel) -> None:
    if panel in CLIENT_PANELS:
        CLIENT_PANELS.remove(panel)


def register_dashboard_card(card: DashboardCard) -> None:
    """Add a card to the dashboard; it answers None when it has nothing to show."""
    if card not in DASHBOARD_CARDS:
        DASHBOARD_CARDS.append(card)


def unregister_dashboard_card(card: DashboardCard) -> None:
    if card in DASHBOARD_CARDS:
        DASHBOARD_CARDS.remove(card)


def _render_all(request: HttpRequest, results) -> list[SafeString]:
    out = []
    for result in results:
        if result is not None:
            template, context = result
            out.append(mark_safe(render_to_string(template, context, request=request)))
    return out


def render_client_panels(request: HttpRequest, client: Client) -> list[SafeString]:
    """Render every registered client-page panel, in registration order."""
    return _render_all(request, (panel(request, client) for panel in CLIENT_PANELS))


def render_dashboard_cards(request: HttpRequest) -> list[SafeString]:
    """Render every registered dashboard card, in registration order."""
    return _render_all(request, (card(request) for card in DASHBOARD_CARDS))
