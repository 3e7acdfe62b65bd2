"""The AR workflow builder: general settings, the actions (add by kind, change, reorder,
delete) with a live preview for a chosen customer, and the timeline preview."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from collections_ar import queries
from collections_ar.builder import editing, rules
from collections_ar.builder.forms import ActionForm, GeneralSettingsForm
from collections_ar.builder.timeline import build_timeline
from collections_ar.errors import ARError
from collections_ar.messages import ar_context, use_of
from collections_ar.models import ARAction, ARWorkflow
from sodium import liquid
from sodium.messaging.variables import token_groups
from sodium.models import Membership
from sodium.roles import Perm
from sodium.schedules.practice import today_for
from sodium.sms.segments import count_segments
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest

K = ARAction.Kind


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _day_labels(actions: list[ARAction]) -> dict[int, str]:
    """Return action id → "Day 7" (from the assigned date) or its due-date timing."""
    labels, day = {}, 0
    for action in actions:
        if action.base == ARAction.Base.ASSIGNED:
            day += action.days
            labels[action.pk] = f"Day {day}"
        else:
            labels[action.pk] = action.timing_label.capitalize()
    return labels


def _others(membership: Membership, workflow: ARWorkflow) -> list[ARWorkflow]:
    return [
        w
        for w in ARWorkflow.objects.filter(practice=membership.practice_id).order_by("name")
        if w.pk != workflow.pk
    ]


def _page_context(request: HtmxHttpRequest, workflow: ARWorkflow, **extra) -> dict:
    actions = queries.actions_of(workflow)
    customer = queries.get_preview_customer(request.membership, _int(request.GET.get("customer")))
    labels = _day_labels(actions)
    context = {
        "workflow": workflow,
        "actions": [(a, labels[a.pk]) for a in actions],
        "problems": rules.not_ready(workflow, actions),
        "kinds": K.choices,
        "customers": queries.preview_customers(request.membership),
        "customer": customer,
        "timeline": build_timeline(workflow, customer) if customer else None,
        "chain_from": list(
            ARWorkflow.objects.filter(practice=workflow.practice_id, continue_with=workflow)
            .order_by("name")
            .values_list("name", flat=True)
        ),
        "n_customers": workflow.customers.count(),
    }
    context.update(extra)
    if "general" not in context:
        context["general"] = GeneralSettingsForm(
            workflow=workflow, others=_others(request.membership, workflow)
        )
    return context


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_AR)
def workflow_builder(request: HtmxHttpRequest, workflow_id: int) -> HttpResponse:
    """Show the builder; POST saves the general settings ("Save changes")."""
    workflow = queries.get_workflow_for_user(request.membership, workflow_id)
    template = "collections_ar/workflow_builder.html"
    if request.method == "GET":
        restoring = request.htmx and request.htmx.history_restore_request
        if request.htmx and not restoring and request.GET.get("part") == "timeline":
            template += "#timeline"
        return render(request, template, _page_context(request, workflow))
    form = GeneralSettingsForm(
        request.POST, workflow=workflow, others=_others(request.membership, workflow)
    )
    if form.is_valid():
        try:
            editing.update_workflow(
                workflow,
                actor=request.user,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                continue_with=form.target(),
            )
        except ARError as exc:
            for field, error in exc.errors.items():
                form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, "Saved your changes.")
            return redirect("collections_ar:workflow", workflow_id=workflow.pk)
    workflow.refresh_from_db()
    return render(request, template, _page_context(request, workflow, general=form))


# --- one action ------------------------------------------------------------------------------


def _form(request: HtmxHttpRequest, kind: str, action: ARAction | None = None) -> ActionForm:
    members = queries.specialists_for(request.membership)
    return ActionForm(
        request.POST if request.method == "POST" else None,
        kind=kind,
        action=action,
        blocks=queries.content_blocks_for(request.membership),
        statuses=queries.statuses_for_user(request.membership),
        members=members,
    )


def _preview(request: HtmxHttpRequest, form: ActionForm, workflow: ARWorkflow) -> dict:
    """Render the message being edited for the chosen customer (or the examples)."""
    fields = form.action_fields()
    block = fields["content_block"]
    subject, body = (block.subject, block.body) if block else (fields["subject"], fields["body"])
    customer = queries.get_preview_customer(
        request.membership, _int(request.POST.get("preview_customer"))
    )
    from sodium.messaging.preview import examples

    if customer is not None:
        context = ar_context(
            practice=request.practice, customer=customer, today=today_for(request.practice)
        )
    else:
        context = examples(request.practice, use_of(form.kind))
    out = {"preview_customer": customer}
    try:
        rendered = liquid.render_message(subject, body, context)
    except liquid.TemplateError as exc:
        out["preview_problem"] = str(exc)
        return out
    out["preview"] = rendered
    if form.kind == K.SMS:
        out["preview_segments"] = count_segments(rendered.text).label
    return out


def _action_page(request, workflow, form, *, action=None, status=200, **extra) -> HttpResponse:
    context = {
        "workflow": workflow,
        "form": form,
        "action": action,
        "kind": form.kind,
        "kind_label": K(form.kind).label,
        "token_groups": token_groups(use_of(form.kind)) if "body" in form.fields else [],
        "customers": queries.preview_customers(request.membership),
        **extra,
    }
    return render(request, "collections_ar/action_form.html", context, status=status)


def _save(request, workflow, form, call, success: str, action=None) -> HttpResponse:
    if not form.is_valid():
        return _action_page(request, workflow, form, action=action)
    if request.POST.get("preview"):
        return _action_page(
            request, workflow, form, action=action, **_preview(request, form, workflow)
        )
    try:
        call(form.action_fields())
    except ARError as exc:
        for field, error in exc.errors.items():
            form.add_error(field if field in form.fields else None, error)
        return _action_page(request, workflow, form, action=action)
    messages.success(request, success)
    return redirect("collections_ar:workflow", workflow_id=workflow.pk)


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_AR)
def action_new(request: HtmxHttpRequest, workflow_id: int) -> HttpResponse:
    """Add an action of the kind chosen (?kind=email); Preview renders it, Add saves it."""
    workflow = queries.get_workflow_for_user(request.membership, workflow_id)
    kind = request.GET.get("kind") or request.POST.get("kind")
    if kind not in K.values:
        messages.error(request, "Choose what the new action does.")
        return redirect("collections_ar:workflow", workflow_id=workflow.pk)
    form = _form(request, kind)
    if request.method == "GET":
        return _action_page(request, workflow, form)

    def call(fields):
        fields.pop("kind")
        return editing.add_action(workflow, actor=request.user, kind=kind, **fields)

    return _save(request, workflow, form, call, f"Added “{K(kind).label}”.")


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_AR)
def action_edit(request: HtmxHttpRequest, workflow_id: int, action_id: int) -> HttpResponse:
    """Change one action; Preview renders it for a chosen customer."""
    workflow = queries.get_workflow_for_user(request.membership, workflow_id)
    action = queries.get_action_for_user(request.membership, workflow, action_id)
    form = _form(request, action.kind, action)
    if request.method == "GET":
        return _action_page(request, workflow, form, action=action)

    def call(fields):
        fields.pop("kind")
        return editing.update_action(action, actor=request.user, **fields)

    return _save(request, workflow, form, call, f"Saved “{action.get_kind_display()}”.", action)


@require_POST
@role_required(Perm.MANAGE_AR)
def action_delete(request: HtmxHttpRequest, workflow_id: int, action_id: int) -> HttpResponse:
    """Delete one action (the last of an ON workflow is refused)."""
    workflow = queries.get_workflow_for_user(request.membership, workflow_id)
    action = queries.get_action_for_user(request.membership, workflow, action_id)
    label = action.get_kind_display()
    try:
        editing.delete_action(action, actor=request.user)
    except ARError as exc:
        messages.error(request, " ".join(exc.errors.values()))
    else:
        messages.success(request, f"Deleted “{label}”.")
    return redirect("collections_ar:workflow", workflow_id=workflow.pk)


@require_POST
@role_required(Perm.MANAGE_AR)
def action_move(request: HtmxHttpRequest, workflow_id: int, action_id: int) -> HttpResponse:
    """Move one action up or down."""
    workflow = queries.get_workflow_for_user(request.membership, workflow_id)
    action = queries.get_action_for_user(request.membership, workflow, action_id)
    up = request.POST.get("direction") != "down"
    editing.move_action(action, actor=request.user, up=up)
    messages.success(request, f"Moved “{action.get_kind_display()}” {'up' if up else 'down'}.")
    return redirect("collections_ar:workflow", workflow_id=workflow.pk)
