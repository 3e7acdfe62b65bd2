"""Panels that apps add to core pages (the task page shows the workflow), without the core
importing the apps. A panel is a function (request, task) -> (template name, context) or None.
"""

from __future__ import annotations

from collections.abc import Callable
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
