"""Per-task customisation of a task's own workflow copy: reassign a step, edit its content,
add a one-off step. The template the task came from is never touched."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from sodium import queries as core_queries
from sodium.roles import Perm
from sodium.tenancy import role_required
from workflows import customise, engine, handlers, queries, step_types
from workflows.forms import OneOffStepForm, ReassignStepForm, TaskStepContentForm


def _back(step_or_task_id: int) -> HttpResponse:
    return redirect("sodium:task-detail", task_id=step_or_task_id)


@require_http_methods(["GET", "POST"])
@role_required(Perm.EDIT_TASKS)
def step_reassign(request: HttpRequest, step_id: int) -> HttpResponse:
    step = queries.get_step(request.practice, step_id)
    initial = {"assignee": step.assignee_id, "team": step.assignee_team_id}
    form = ReassignStepForm(
        request.POST if request.method == "POST" else None,
        practice=request.practice,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            customise.reassign_step(
                step,
                actor=request.user,
                assignee=form.cleaned_data["assignee"],
                team=form.cleaned_data["team"],
            )
        except engine.WorkflowError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Reassigned “{step.name}”.")
            return _back(step.task_id)
    return render(
        request,
        "workflows/step_customise.html",
        {"step": step, "the_task": step.task, "form": form, "title": f"Reassign “{step.name}”"},
    )


@require_http_methods(["GET", "POST"])
@role_required(Perm.EDIT_TASKS)
def step_edit(request: HttpRequest, step_id: int) -> HttpResponse:
    step = queries.get_step(request.practice, step_id)
    extra = [t[len("email:") :] for t in step.to_recipients if t.startswith("email:")]
    # The form opens on what the step would send: its block, its own text, or its type's
    # default email (customise.edit_step keeps that link when they come back unchanged).
    subject, body = handlers.step_content(step) if step.sends_email else ("", "")
    initial = {
        "name": step.name,
        "description": step.description,
        "subject": subject,
        "body": body,
        "extra_to": ", ".join(extra),
        "to_recipients": [t for t in step.to_recipients if not t.startswith("email:")],
        "cc_recipients": [t for t in step.cc_recipients if not t.startswith("email:")],
    }
    form = TaskStepContentForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        sends_email=step.sends_email,
    )
    if request.method == "POST" and form.is_valid():
        try:
            customise.edit_step(step, actor=request.user, **form.engine_fields())
        except engine.WorkflowError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved “{form.cleaned_data['name']}” for this task.")
            return _back(step.task_id)
    uses_block = step.sends_email and bool(step.content_block_id)
    return render(
        request,
        "workflows/step_customise.html",
        {
            "step": step,
            "the_task": step.task,
            "form": form,
            "title": f"Edit “{step.name}” for this task",
            "note": "Changes apply to this task only; the template stays as it is.",
            "email_block": step.content_block if uses_block else None,
            "default_email": step.type in handlers.DEFAULT_CONTENT
            and not uses_block
            and not (step.subject.strip() and step.body.strip()),
            "token_groups": step_types.email_token_groups(step.type) if step.sends_email else [],
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Perm.EDIT_TASKS)
def task_add_step(request: HttpRequest, task_id: int) -> HttpResponse:
    task = core_queries.get_task(request.practice, task_id)
    form = OneOffStepForm(request.POST if request.method == "POST" else None, task=task)
    if not form.fields["group"].queryset.exists():
        messages.error(request, "Attach a workflow first; one-off steps go into its groups.")
        return _back(task.pk)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        config = {
            "name": data["name"],
            "type": data["type"],
            "mode": data["mode"],
            "assignment_rule": "specific" if data["assignee"] else "unassigned",
        }
        if data["type"] == "email":
            config.update(
                subject=data["subject"],
                body=data["body"],
                to_recipients=list(data["to_recipients"]),
            )
        try:
            step = engine.add_step(
                task,
                group=data["group"],
                actor=request.user,
                depends_on=list(data["depends_on"]),
                assignee=data["assignee"],
                **config,
            )
        except engine.WorkflowError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Added “{step.name}” to this task.")
            return _back(task.pk)
    return render(
        request,
        "workflows/step_customise.html",
        {
            "the_task": task,
            "form": form,
            "title": "Add a step to this task",
            "note": "The step is added to this task only; the template stays as it is.",
        },
    )
