"""The task page's workflow panel and its step actions (attach, done, skip, restore, retry)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from sodium import queries as core_queries
from sodium.models import Task
from sodium.roles import Perm, role_can
from sodium.tenancy import role_required
from workflows import attach, engine, queries


def task_workflow_panel(request: HttpRequest, task: Task):
    """The workflow card on the task page (registered with sodium.panels)."""
    practice = request.practice
    return (
        "workflows/_task_workflow.html",
        {
            "task": task,
            "groups": queries.task_workflow(practice, task),
            "progress": engine.progress(task),
            "templates": queries.active_templates(practice),
            "can_edit": role_can(request.membership.role, Perm.EDIT_TASKS),
        },
    )


@require_POST
@role_required(Perm.EDIT_TASKS)
def attach_workflow(request: HttpRequest, task_id: int) -> HttpResponse:
    task = core_queries.get_task(request.practice, task_id)
    try:
        template = queries.get_active_template(request.practice, int(request.POST["template"]))
    except (KeyError, ValueError):
        messages.error(request, "Choose a workflow template.")
        return redirect("sodium:task-detail", task_id=task.pk)
    try:
        steps = attach.attach_template(task, template, actor=request.user)
    except attach.AttachError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Attached {template.name}: {len(steps)} steps.")
    return redirect("sodium:task-detail", task_id=task.pk)


def _step_action(request: HttpRequest, step_id: int, action, done_message: str) -> HttpResponse:
    step = queries.get_step(request.practice, step_id)
    try:
        action(step, actor=request.user)
    except (engine.InvalidTransition, engine.WorkflowError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done_message.format(step=step.name))
    return redirect("sodium:task-detail", task_id=step.task_id)


@require_POST
@role_required(Perm.EDIT_TASKS)
def step_complete(request: HttpRequest, step_id: int) -> HttpResponse:
    return _step_action(request, step_id, engine.complete_step, "Marked “{step}” done.")


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
