"""Putting customers on AR workflows and working their assignments: assign in bulk from the
customers tab (managers), assign one customer or unassign it (managers), pause and resume
(managers and the customer's own AR specialist)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from collections_ar import assigning, engine, queries
from collections_ar.errors import ARError
from collections_ar.forms import CustomerFilterForm
from collections_ar.models import ARWorkflow
from sodium.roles import Perm
from sodium.schedules.practice import today_for
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest

REFUSALS_NAMED = 5  # refused customers named in the summary; the rest are counted


def summary_message(summary: assigning.AssignSummary) -> str:
    """Return what a bulk assignment did, in one sentence.

    "Assigned 12; moved 3 from other workflows; 2 already on it; refused 1: Acme (no mobile)".
    """
    parts = [f"Assigned {len(summary.assigned)}"]
    if summary.moved:
        n = len(summary.moved)
        parts.append(f"moved {n} from {'other workflows' if n != 1 else 'another workflow'}")
    if summary.unchanged:
        parts.append(f"{len(summary.unchanged)} already on it")
    if summary.refused:
        named = ", ".join(f"{c.client.name} ({why})" for c, why in summary.refused[:REFUSALS_NAMED])
        more = len(summary.refused) - REFUSALS_NAMED
        parts.append(
            f"refused {len(summary.refused)}: {named}" + (f" and {more} more" if more > 0 else "")
        )
    return "; ".join(parts) + "."


def _posted_workflow(request: HtmxHttpRequest) -> ARWorkflow | None:
    raw = request.POST.get("to_workflow", "")
    if not raw.isdigit():
        return None
    try:
        return queries.get_workflow_for_user(request.membership, int(raw))
    except Http404:  # another practice's or a deleted workflow: "choose one"
        return None


def _assign(request: HtmxHttpRequest, customers, workflow: ARWorkflow) -> None:
    try:
        summary = assigning.assign_workflow(customers, workflow, actor=request.user)
    except ARError as exc:
        messages.error(request, " ".join(exc.errors.values()))
        return
    text = summary_message(summary)
    (messages.warning if summary.refused else messages.success)(request, text)


@require_POST
@role_required(Perm.MANAGE_AR)
def customers_assign(request: HtmxHttpRequest) -> HttpResponse:
    """Assign the chosen customers, or every one the filters match, to an ON workflow."""
    membership = request.membership
    form = CustomerFilterForm(
        request.POST,
        specialists=queries.specialists_for(membership),
        workflows=queries.workflow_choices_for(membership),
        statuses=queries.statuses_for_user(membership),
    )
    filters = form.filters()
    back = reverse("collections_ar:customers")
    if filters.is_set:
        back += "?" + urlencode(filters.as_params())
    workflow = _posted_workflow(request)
    if workflow is None:
        messages.error(request, "Choose the workflow to assign.")
        return redirect(back)
    every = request.POST.get("all_matching") == "1"
    ids = [int(v) for v in request.POST.getlist("customer") if v.isdigit()]
    if not every and not ids:
        messages.error(request, "Choose the customers to assign, or all that match.")
        return redirect(back)
    today = today_for(request.practice)
    customers = queries.customers_to_assign(membership, ids, today, filters if every else None)
    if not customers:
        messages.error(request, "No customer matches: nothing was assigned.")
        return redirect(back)
    _assign(request, customers, workflow)
    return redirect(back)


@require_POST
@role_required(Perm.MANAGE_AR)
def customer_workflow_assign(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    """Put one customer on an ON workflow (moving it off the one it is on)."""
    customer = queries.get_customer_for_user(request.membership, customer_id)
    workflow = _posted_workflow(request)
    if workflow is None:
        messages.error(request, "Choose the workflow to assign.")
    else:
        _assign(request, [customer], workflow)
    return redirect("collections_ar:customer", customer_id=customer.pk)


@require_POST
@role_required(Perm.WORK_AR)
def assignment_pause(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    """Pause the customer's workflow, with an optional reason."""
    assignment = queries.get_live_assignment_for_user(request.membership, customer_id)
    reason = request.POST.get("reason", "").strip()[:200]
    try:
        engine.pause_assignment(assignment, actor=request.user, reason=reason)
    except ARError as exc:
        messages.error(request, " ".join(exc.errors.values()))
    else:
        messages.success(request, f"Paused “{assignment.workflow.name}”.")
    return redirect("collections_ar:customer", customer_id=customer_id)


@require_POST
@role_required(Perm.WORK_AR)
def assignment_resume(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    """Resume the customer's paused workflow by the practice's rule."""
    assignment = queries.get_live_assignment_for_user(request.membership, customer_id)
    try:
        engine.resume_assignment(assignment, actor=request.user)
    except ARError as exc:
        messages.error(request, " ".join(exc.errors.values()))
    else:
        messages.success(request, f"Resumed “{assignment.workflow.name}”.")
    return redirect("collections_ar:customer", customer_id=customer_id)


@require_POST
@role_required(Perm.MANAGE_AR)
def assignment_unassign(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    """Take the customer off its workflow for good (what was still to come is cancelled)."""
    assignment = queries.get_live_assignment_for_user(request.membership, customer_id)
    engine.unassign(assignment, actor=request.user, note="unassigned by hand")
    messages.success(request, f"Took the customer off “{assignment.workflow.name}”.")
    return redirect("collections_ar:customer", customer_id=customer_id)
