"""Reads for check-based flows; every function takes the practice and filters by it."""

from __future__ import annotations

import dataclasses

from django.db.models import Case, Count, F, Q, QuerySet, When, Window
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404

from checks.models import (
    Finding,
    Flow,
    FlowRun,
    FlowRunCheck,
    FlowRunNote,
    FlowRunSnapshot,
    FlowTemplate,
)
from sodium.models import ActivityEvent, Practice, User

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


# --- flow-runs: the run page, its focus panel and the work list --------------------------------

FINDINGS_SHOWN = 10  # a built-in check's open findings listed on its card (then a link)
RUN_MOVE_VERBS = ("flow_run.status", "flow_run.approved")
_SEVERITY_FIRST = Case(
    When(severity=Finding.Severity.RED, then=0),
    When(severity=Finding.Severity.AMBER, then=1),
    default=2,
)


@dataclasses.dataclass
class RunPage:
    """Everything the run page shows, read in a fixed number of queries."""

    run: FlowRun
    checks: list[FlowRunCheck]
    snapshots: list[FlowRunSnapshot]
    events: list[ActivityEvent]
    run_notes: list[FlowRunNote]


def run_checks_of(run: FlowRun) -> list[FlowRunCheck]:
    """Return the run's checks in order, with who completed them."""
    return list(
        FlowRunCheck.objects.filter(practice_id=run.practice_id, run=run).select_related(
            "completed_by"
        )
    )


def run_page(practice: Practice, run: FlowRun, *, findings: bool = True) -> RunPage:
    """Return the run's checks, each with `.findings` (its first open ones, built-in checks
    only), `.open_count` and `.note_list`; its history and its run-level notes.

    Six queries whatever the number of checks (four with `findings=False`): the checks, the
    open findings (ten per check, by a window), their counts, the notes, the snapshots and
    the activity events of the run and its checks (not the run's moves: the snapshots show them).
    """
    checks = run_checks_of(run)
    keys = {c.check_key for c in checks if c.check_key}
    shown: dict[str, list[Finding]] = {}
    counts: dict[str, int] = {}
    if findings and keys:
        open_ones = Finding.objects.filter(
            practice=practice, client_id=run.client_id, status=Finding.Status.OPEN
        ).filter(check_key__in=keys)
        ranked = (
            open_ones.annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=[F("check_key")],
                    order_by=[_SEVERITY_FIRST, F("pk").asc()],
                )
            )
            .filter(rank__lte=FINDINGS_SHOWN)
            .order_by("check_key", "rank")
        )
        for finding in ranked:
            shown.setdefault(finding.check_key, []).append(finding)
        counts = dict(open_ones.values_list("check_key").annotate(n=Count("id")).order_by())
    notes: dict[int | None, list[FlowRunNote]] = {}
    for note in FlowRunNote.objects.filter(practice=practice, run=run).select_related("author"):
        notes.setdefault(note.run_check_id, []).append(note)
    for check in checks:
        check.findings = shown.get(check.check_key, []) if check.check_key else []
        check.open_count = counts.get(check.check_key, 0) if check.check_key else 0
        check.note_list = notes.get(check.pk, [])
    snapshots = list(
        FlowRunSnapshot.objects.filter(practice=practice, run=run).select_related("actor")
    )
    check_ids = [c.pk for c in checks]
    events = list(
        ActivityEvent.objects.filter(practice=practice, client_id=run.client_id)
        .filter(
            Q(object_type="checks.flowrun", object_id=run.pk)
            | Q(object_type="checks.flowruncheck", object_id__in=check_ids)
        )
        # The run's own moves are its snapshots (with the score); the rest is shown as is.
        .exclude(verb__in=RUN_MOVE_VERBS)
        .select_related("actor")
        .order_by("created_at", "id")[:200]
    )
    return RunPage(run, checks, snapshots, events, notes.get(None, []))


def get_run_check(run: FlowRun, check_id: int) -> FlowRunCheck:
    """Return the run's check `check_id` (404 for another run's or practice's)."""
    return get_object_or_404(
        FlowRunCheck.objects.filter(practice_id=run.practice_id, run=run), pk=check_id
    )


def get_run_note_file(run: FlowRun, note_id: int) -> FlowRunNote:
    """Return the run's note `note_id` that carries a file (404 otherwise)."""
    return get_object_or_404(
        FlowRunNote.objects.filter(practice_id=run.practice_id, run=run).exclude(stored_name=""),
        pk=note_id,
    )


def run_work_items_for(practice: Practice, user: User, limit: int) -> list[FlowRun]:
    """Return the first `limit` runs waiting on `user`, soonest due first, with their flow
    and client (one query)."""
    return list(
        runs_waiting_on(practice, user)
        .select_related("flow", "client")
        .order_by("due_date", "id")[:limit]
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
