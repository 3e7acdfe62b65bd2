"""The focus panel: a task's steps in a slide-out panel, worked through without leaving a list.

The panel's shell (host, chrome, script) is the core's (`sodium/focus.py`); this is the
workflow's content in it (`workflows/focus/panel.html` extends `sodium/focus/_shell.html`). It
is loaded by hx-get into the `#focus-panel` host of the task list, My steps, My work, the
dashboard, the client page and the task page. Every action in it (done, checklist, skip,
retry, review a submission, send a document for approval, send from the composer) answers an
htmx request with the re-rendered panel, an out-of-band swap of the task row's progress
(`#task-<id>-progress`) and an `HX-Trigger: {"task-progress": {"task": <id>}}` header that
other parts of the page (My steps, My work, the task page's workflow card) refresh on.
Without htmx the same URLs redirect back (PRG).

The client-facing parts of a step (submissions to review, documents to send for approval) and
their two actions belong to the portal, which adds them through workflows.panels when it loads
(the engine never imports the portal); its views answer with `respond` / `render_panel` below.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from sodium import queries as core_queries
from sodium.focus import render_focus_page
from sodium.models import Task
from sodium.roles import Perm, role_can
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest
from workflows import customise, queries, step_types
from workflows.models import Mode, Step
from workflows.panels import extend_focus_panel

PANEL = "workflows/focus/panel.html"
PROGRESS = "workflows/focus/_progress.html"


def is_composable_type(value: str) -> bool:
    """Return whether steps of this type send, when manual, from the composer."""
    return step_types.is_registered(value) and step_types.get(value).composable


def can_compose(step: Step) -> bool:
    """Return whether the step's email is sent by a person from the composer, now.

    Which types are sent that way is their declaration's (StepTypeSpec.composable).
    """
    return (
        is_composable_type(step.type)
        and step.mode == Mode.MANUAL
        and step.status == Step.Status.READY
    )


def task_changed_header(task: Task) -> str:
    return json.dumps({"task-progress": {"task": task.pk}})


# --- reading the panel -------------------------------------------------------------------------


def panel_context(request: HtmxHttpRequest, task: Task, **extra: Any) -> dict[str, Any]:
    """Return everything the panel shows, in a fixed number of queries whatever the steps."""
    groups, steps = queries.focus_panel(request.practice, task)
    for step in steps:
        step.composable = can_compose(step)
    queries.mark_resendable(request.practice, steps, request.user, request.membership)
    added = extend_focus_panel(request, task, steps)
    progress = queries.progress_of_steps(steps)
    return {
        "task": task,
        "groups": groups,
        "step_count": len(steps),
        "progress": progress,
        "ready_to_complete": queries.ready_to_complete(task, progress),
        "automatic_wait": queries.automatic_wait(request.practice, task),
        "can_edit": role_can(request.membership.role, Perm.EDIT_TASKS),
        "next_url": reverse("workflows:focus", kwargs={"task_id": task.pk}),
        "close_url": reverse("sodium:task-detail", kwargs={"task_id": task.pk}),
        **added,
        **extra,
    }


def render_panel(
    request: HtmxHttpRequest, task: Task, *, changed: bool = True, **extra: Any
) -> HttpResponse:
    """Render the panel partial; after a change, add the row's progress (out of band) and the
    task-progress event."""
    context = panel_context(request, task, **extra)
    response = render(request, PANEL, context)
    if changed:
        oob = render_to_string(
            PROGRESS,
            {
                "task_id": task.pk,
                "progress": context["progress"],
                "ready": context["ready_to_complete"],
                "oob": True,
            },
            request=request,
        )
        response.content += oob.encode()
        response["HX-Trigger"] = task_changed_header(task)
    return response


def safe_next(request: HtmxHttpRequest) -> str:
    """Return the form's `next` when it is a page of this site, else ""."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def back(request: HtmxHttpRequest, task: Task) -> HttpResponse:
    """Redirect to the form's `next` (a page of this site), else to the task page."""
    target = safe_next(request)
    if target:
        return redirect(target)
    return redirect("sodium:task-detail", task_id=task.pk)


def respond(
    request: HtmxHttpRequest, task: Task, *, flash: str = "", error: str = ""
) -> HttpResponse:
    """Answer a step action: the re-rendered panel for htmx, else a redirect back (PRG)."""
    if request.htmx:
        return render_panel(request, task, changed=not error, flash=flash, error=error)
    if error:
        messages.error(request, error)
    elif flash:
        messages.success(request, flash)
    return back(request, task)


@require_GET
@vary_on_headers("HX-Request")
@role_required(Perm.VIEW_PRACTICE)
def focus(request: HtmxHttpRequest, task_id: int) -> HttpResponse:
    """Show a task's steps: the slide-out panel for htmx, a page of its own otherwise."""
    task = core_queries.get_task(request.practice, task_id, related=("client",))
    if request.htmx and not request.htmx.history_restore_request:
        return render_panel(request, task, changed=False)
    return render_focus_page(
        request,
        PANEL,
        panel_context(request, task, as_page=True),
        title=f"{task.name} · Steps",
        crumbs=(
            ("Tasks", reverse("sodium:task-list")),
            (task.name, reverse("sodium:task-detail", kwargs={"task_id": task.pk})),
        ),
    )


# --- actions -----------------------------------------------------------------------------------


@require_POST
@role_required(Perm.EDIT_TASKS)
def checklist_tick(request: HtmxHttpRequest, step_id: int) -> HttpResponse:
    """Tick (done=1) or untick a checklist item; htmx gets the step's fragment back."""
    step = queries.get_step(request.practice, step_id)
    try:
        item_id = int(request.POST.get("item", ""))
    except ValueError:
        raise Http404("No such checklist item.") from None
    item = queries.get_checklist_item(step, item_id)
    item = customise.set_checklist_item(
        item, actor=request.user, done=request.POST.get("done") == "1"
    )
    if not request.htmx:
        return back(request, step.task)
    if request.POST.get("from") == "card":  # ticked on the task page's workflow card
        from workflows.views import task_panel

        return render(
            request,
            f"{task_panel.CARD}#workflow-body",
            task_panel._card_context(request, step.task),
        )
    context = panel_context(request, step.task)
    context["step"] = next(s for g in context["groups"] for s in g.step_list if s.pk == step.pk)
    return render(request, f"{PANEL}#focus-step", context)
