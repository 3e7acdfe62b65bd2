"""Panels that apps add to core pages (the task page shows the workflow), without the core
importing the apps. A panel is a function (request, task) -> (template name, context) or None.
Apps also add columns to the task list (the workflow's progress) the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from sodium.models import Task

TaskPanel = Callable[[HttpRequest, Task], tuple[str, dict[str, Any]] | None]
TASK_PANELS: list[TaskPanel] = []


def register_task_panel(panel: TaskPanel) -> None:
    if panel not in TASK_PANELS:
        TASK_PANELS.append(panel)


def render_task_panels(request: HttpRequest, task: Task) -> list[SafeString]:
    """Render every registered panel for the task page, in registration order."""
    out = []
    for panel in TASK_PANELS:
        result = panel(request, task)
        if result is not None:
            template, context = result
            out.append(mark_safe(render_to_string(template, context, request=request)))
    return out


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
