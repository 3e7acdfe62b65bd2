"""The task page's workflow panel and its step actions (attach, done, skip, restore, retry),
and the workflow's column on the task list.

The step actions serve the task page's forms (redirect back) and the focus panel (htmx: the
re-rendered panel, see workflows.views.focus).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRefresh

from sodium import engine as core_engine
from sodium import queries as core_queries
from sodium.models import Task
from sodium.roles import Perm, role_can
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest
from workflows import attach, engine, queries
from workflows.views import focus

CARD = "workflows/_task_workflow.html"


def _card_context(request: HttpRequest, task: Task) -> dict:
    practice = request.practice
    groups = queries.task_workflow(practice, task)
    steps = [s for g in groups for s in g.step_list]
    queries.mark_resendable(practice, steps, request.user, request.membership)
    progress = queries.progress_of_steps(steps)
    return {
        "task": task,
        "groups": groups,
        "progress": progress,
        "ready_to_complete": queries.ready_to_complete(task, progress),
        "automatic_wait": queries.automatic_wait(practice, task),
        "templates": queries.active_templates(practice),
        "can_edit": role_can(request.membership.role, Perm.EDIT_TASKS),
    }


def task_workflow_panel(request: HttpRequest, task: Task):
    """The workflow card on the task page (registered with sodium.panels)."""
    return CARD, _card_context(request, task)


@require_GET
@vary_on_headers("HX-Request")
@role_required(Perm.VIEW_PRACTICE)
def task_workflow_card(request: HtmxHttpRequest, task_id: int) -> HttpResponse:
    """The workflow card's body again, for the task page to refresh after a panel action."""
    task = core_queries.get_task(request.practice, task_id)
    if not request.htmx:
        return redirect("sodium:task-detail", task_id=task.pk)
    return render(request, f"{CARD}#workflow-body", _card_context(request, task))


def task_list_progress(request: HttpRequest, tasks: list[Task]) -> dict[int, str]:
    """Each task row's progress bar and counts, and its "Steps" button (one query a page)."""
    progress = queries.progress_for_task_list(request.practice, [t.pk for t in tasks])
    cell = get_template("workflows/focus/_task_cell.html")
    # Without the request: the cell needs nothing of it, and a request would run every
    # context processor again for each of the page's rows.
    return {
        task.pk: cell.render(
            {
                "task": task,
                "progress": progress[task.pk],
                "ready": queries.ready_to_complete(task, progress[task.pk]),
            }
        )
        for task in tasks
    }


@require_POST
@role_required(Perm.EDIT_TASKS)
def attach_workflow(request: HttpRequest, task_id: int) -> HttpResponse:
    task = core_queries.get_task(request.practice, task_id)
    template_id = request.POST.get("template", "")
    if not (template_id.isascii() and template_id.isdigit()) or len(template_id) > 18:
        messages.error(request, "Choose a workflow template.")
        return redirect("sodium:task-detail", task_id=task.pk)
    template = queries.get_active_template(request.practice, int(template_id))
    try:
        steps = attach.attach_template(task, template, actor=request.user)
    except attach.AttachError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Attached {template.name}: {len(steps)} steps.")
    return redirect("sodium:task-detail", task_id=task.pk)


def _step_action(request: HttpRequest, step_id: int, action, done_message: str) -> HttpResponse:
    step = queries.get_step(request.practice, step_id)
    flash = error = ""
    try:
        action(step, actor=request.user)
    except (engine.InvalidTransition, engine.WorkflowError) as exc:
        error = str(exc)
    else:
        flash = done_message.format(step=step.name)
    return focus.respond(request, step.task, flash=flash, error=error)


@require_POST
@role_required(Perm.EDIT_TASKS)
def step_complete(request: HtmxHttpRequest, step_id: int) -> HttpResponse:
    """Mark a simple step done; with unticked checklist items only once the person confirms
    (the `confirm` field: the button's hx-confirm, or the page this answers without it)."""
    step = queries.get_step(request.practice, step_id)
    confirmed = request.POST.get("confirm") == "1"
    try:
        engine.complete_step(step, actor=request.user, require_checklist=not confirmed)
    except engine.UntickedChecklist as exc:
        if request.htmx:
            return focus.render_panel(
                request, step.task, changed=False, confirm_step=step.pk, confirm=exc
            )
        return render(
            request,
            "workflows/step_confirm_done.html",
            {"step": step, "confirm": exc, "next": focus.safe_next(request)},
        )
    except (engine.InvalidTransition, engine.WorkflowError) as exc:
        return focus.respond(request, step.task, error=str(exc))
    return focus.respond(request, step.task, flash=f"Marked “{step.name}” done.")


@require_POST
@role_required(Perm.EDIT_TASKS)
def task_complete(request: HtmxHttpRequest, task_id: int) -> HttpResponse:
    """Complete a task whose steps are all finished (offered on the task page and the panel)."""
    task = core_queries.get_task(request.practice, task_id)
    try:
        task = engine.complete_task(task, actor=request.user)
    except (engine.WorkflowError, core_engine.InvalidTransition) as exc:
        return focus.respond(request, task, error=str(exc))
    messages.success(request, f"Completed “{task.name}”: every step is finished.")
    if request.htmx:  # the task's status shows all over the page (and the list's filters)
        return HttpResponseClientRefresh()
    return focus.back(request, task)


@require_POST
@role_required(Perm.EDIT_TASKS)
def step_retry(request: HttpRequest, step_id: int) -> HttpResponse:
    return _step_action(request, step_id, engine.retry_step, "Retrying “{step}”.")


@require_POST
@role_required(Perm.EDIT_TASKS)
def step_skip(request: HttpRequest, step_id: int) -> HttpResponse:
    return _step_action(request, step_id, engine.skip_step, "Skipped “{step}”.")


@require_POST
@role_required(Perm.EDIT_TASKS)
def step_restore(request: HttpRequest, step_id: int) -> HttpResponse:
    return _step_action(request, step_id, engine.restore_step, "Restored “{step}”.")
