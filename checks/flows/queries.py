"""Reads for check-based flows; every function takes the practice and filters by it."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from checks.models import Flow, FlowRun, FlowTemplate
from sodium.models import Practice, User

R = FlowRun.Status


def get_run(practice: Practice, run_id: int) -> FlowRun:
    """Return the practice's run `run_id` with its flow and client (404 otherwise)."""
    return get_object_or_404(
        FlowRun.objects.filter(practice=practice).select_related(
            "flow", "client", "assignee", "reviewer", "second_reviewer"
        ),
        pk=run_id,
    )


def get_flow(practice: Practice, flow_id: int) -> Flow:
    return get_object_or_404(Flow.objects.filter(practice=practice), pk=flow_id)


def runs_waiting_on(practice: Practice, user: User) -> QuerySet[FlowRun]:
    """Return the runs waiting on `user`: theirs to start, work or complete once approved,
    or in review with them."""
    return FlowRun.objects.filter(practice=practice).filter(
        Q(assignee=user, status__in=[R.NOT_STARTED, R.IN_PROGRESS])
        | Q(assignee=user, status=R.IN_REVIEW, approved=True)
        | Q(status=R.IN_REVIEW, approved=False, review_stage=1, reviewer=user)
        | Q(status=R.IN_REVIEW, approved=False, review_stage=2, second_reviewer=user)
    )


# --- flow-creator: flow templates --------------------------------------------------------------


def flow_templates(practice: Practice, *, include_archived: bool = False) -> list[FlowTemplate]:
    """Return the practice's flow templates (built-in copies and its own) with their checks,
    by name; the archived ones too when asked."""
    found = FlowTemplate.objects.filter(practice=practice)
    if not include_archived:
        found = found.filter(archived=False)
    return list(found.prefetch_related("checks").order_by("name"))


def get_flow_template(practice: Practice, template_id: int) -> FlowTemplate:
    """Return the practice's flow template `template_id` with its checks (404 otherwise)."""
    return get_object_or_404(
        FlowTemplate.objects.filter(practice=practice).prefetch_related("checks"),
        pk=template_id,
    )
