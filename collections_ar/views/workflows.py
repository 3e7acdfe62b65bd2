"""The AR workflows dashboard: every workflow with its switch, create, clone, delete and the
practice's default."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collections_ar import engine, queries
from collections_ar.builder import editing
from collections_ar.builder.forms import WorkflowForm
from collections_ar.errors import ARError
from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest


@require_GET
@role_required(Perm.MANAGE_AR)
def workflow_list(request: HtmxHttpRequest) -> HttpResponse:
    """List the practice's AR workflows: ON/OFF, actions, customers, chain and default."""
    workflows = queries.workflows_for_user(request.membership)
    context = {
        "workflows": workflows,
        "n_on": sum(1 for w in workflows if w.is_on),
        "form": WorkflowForm(),
    }
    return render(request, "collections_ar/workflow_list.html", context)


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_AR)
def workflow_new(request: HtmxHttpRequest) -> HttpResponse:
    """Create an empty workflow (OFF) and open it in the builder."""
    form = WorkflowForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            workflow = editing.create_workflow(
                request.practice,
                actor=request.user,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
            )
        except ARError as exc:
            for field, error in exc.errors.items():
                form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, f"Created “{workflow.name}”. Now add its first action.")
            return redirect("collections_ar:workflow", workflow_id=workflow.pk)
    return render(request, "collections_ar/workflow_new.html", {"form": form})


def _back(request: HtmxHttpRequest, default: str = "collections_ar:workflows", **kw):
    if request.POST.get("next") == "builder" and kw:
        return redirect("collections_ar:workflow", **kw)
    return redirect(default)


@require_POST
@role_required(Perm.MANAGE_AR)
def workflow_clone(request: HtmxHttpRequest, workflow_id: int) -> HttpResponse:
    """Copy a workflow with its actions as "Copy of …", OFF, and open the copy."""
    workflow = queries.get_workflow_for_user(request.membership, workflow_id)
    copy = editing.clone_workflow(workflow, actor=request.user)
    messages.success(request, f"Made “{copy.name}”, a copy of “{workflow.name}”. It is off.")
    return redirect("collections_ar:workflow", workflow_id=copy.pk)


@require_POST
@role_required(Perm.MANAGE_AR)
def workflow_switch(request: HtmxHttpRequest, workflow_id: int) -> HttpResponse:
    """Switch a workflow ON or OFF (`on` = 1 or 0)."""
    workflow = queries.get_workflow_for_user(request.membership, workflow_id)
    on = request.POST.get("on") == "1"
    try:
        engine.switch_workflow(workflow, actor=request.user, on=on)
    except ARError as exc:
        messages.error(
            request,
            f"“{workflow.name}” stays {'off' if on else 'on'}: " + " ".join(exc.errors.values()),
        )
    else:
        if on:
            messages.success(request, f"“{workflow.name}” is ON: it can be assigned to customers.")
        else:
            messages.success(
                request,
                f"“{workflow.name}” is OFF: it cannot be newly assigned; customers already on "
                "it carry on.",
            )
    return _back(request, workflow_id=workflow.pk)


@require_POST
@role_required(Perm.MANAGE_AR)
def workflow_delete(request: HtmxHttpRequest, workflow_id: int) -> HttpResponse:
    """Delete a workflow that no customer is on and nothing continues with."""
    workflow = queries.get_workflow_for_user(request.membership, workflow_id)
    name = workflow.name
    try:
        editing.delete_workflow(workflow, actor=request.user)
    except ARError as exc:
        messages.error(request, " ".join(exc.errors.values()))
        return _back(request, workflow_id=workflow.pk)
    messages.success(request, f"Deleted “{name}”.")
    return redirect("collections_ar:workflows")


@require_POST
@role_required(Perm.MANAGE_AR)
def workflow_default(request: HtmxHttpRequest, workflow_id: int) -> HttpResponse:
    """Make a workflow (ON) the one new customers get."""
    workflow = queries.get_workflow_for_user(request.membership, workflow_id)
    try:
        editing.set_default_workflow(workflow, request.practice, actor=request.user)
    except ARError as exc:
        messages.error(request, " ".join(exc.errors.values()))
    else:
        messages.success(request, f"New customers now go on “{workflow.name}”.")
    return redirect("collections_ar:workflows")
