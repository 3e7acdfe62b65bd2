"""What apps add to the focus panel, without workflows importing the apps.

The panel shows every step of a task; the client-facing parts of a step (the submissions a
client sent, the versions of a document sent for approval, and the forms that act on them)
belong to the app that registers those step types (the portal). Such an app registers, when
it loads:

* an extension `fn(request, task, steps) -> dict | None`, called once per panel render with
  every step of the task: it annotates the steps it knows (in a fixed number of queries
  whatever the steps) and returns context the whole panel needs (or None);
* a template per step type, included in the step's part of the panel three times with `slot`
  set to where it is: "summary" (under the step's status and last email), "body" (under its
  checklist) and "actions" (among the step's buttons, only for users who may edit tasks). The
  template renders what belongs in each slot and nothing for the others.

The app's own views that act from the panel answer with `workflows.views.focus.respond` or
`render_panel`, so the panel, the row's progress and the task-progress event stay the same
for every action.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

from sodium.models import Task
from workflows.models import Step

FocusExtension = Callable[[HttpRequest, Task, list[Step]], dict[str, Any] | None]
FOCUS_EXTENSIONS: list[FocusExtension] = []
# step type -> template of the step's client-facing part in the panel
FOCUS_STEP_TEMPLATES: dict[str, str] = {}


def register_focus_extension(fn: FocusExtension) -> None:
    """Add `fn` to what every render of the focus panel calls (once, in registration order)."""
    if fn not in FOCUS_EXTENSIONS:
        FOCUS_EXTENSIONS.append(fn)


def register_focus_step_template(step_type: str, template_name: str) -> None:
    """Show `template_name` in the focus panel for every step of `step_type`."""
    FOCUS_STEP_TEMPLATES[str(step_type)] = template_name


def extend_focus_panel(request: HttpRequest, task: Task, steps: list[Step]) -> dict[str, Any]:
    """Give every step its `.focus_template` (or None), run every registered extension over
    the steps and return the context they add to the panel."""
    for step in steps:
        step.focus_template = FOCUS_STEP_TEMPLATES.get(step.type)
    context: dict[str, Any] = {}
    for fn in FOCUS_EXTENSIONS:
        context.update(fn(request, task, steps) or {})
    return context
