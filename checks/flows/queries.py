"""Reads for check-based flows; every function takes the practice and filters by it."""

from __future__ import annotations

import dataclasses
import datetime as dt

from dateutil.relativedelta import relativedelta
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Min,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, NullIf, RowNumber
from django.shortcuts import get_object_or_404

from checks.models import (
    Finding,
    Flow,
    FlowCheck,
    FlowClient,
    FlowRun,
    FlowRunCheck,
    FlowRunNote,
    FlowRunSnapshot,
    FlowTemplate,
)
from sodium.models import ActivityEvent, Client, Practice, User

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


# --- flow-dashboard: the dashboard, the flows list and a flow's page ---------------------------

SECTION_SIZE = 25
OPEN = (R.NOT_STARTED, R.IN_PROGRESS, R.IN_REVIEW)
_PEOPLE = ("assignee", "reviewer", "second_reviewer")


@dataclasses.dataclass(frozen=True)
class RunFilters:
    """The dashboard's filters: ids chosen in its form (None: anyone / any)."""

    assignee_id: int | None = None
    reviewer_id: int | None = None
    template_id: int | None = None
    client_id: int | None = None
    tag_id: int | None = None


def filtered_runs(practice: Practice, filters: RunFilters) -> QuerySet[FlowRun]:
    """Return the practice's runs that match the filters (any status).

    The reviewer filter matches either reviewer of a run; the tag filter the run's client's
    tags.
    """
    runs = FlowRun.objects.filter(practice=practice)
    if filters.assignee_id:
        runs = runs.filter(assignee_id=filters.assignee_id)
    if filters.reviewer_id:
        runs = runs.filter(
            Q(reviewer_id=filters.reviewer_id) | Q(second_reviewer_id=filters.reviewer_id)
        )
    if filters.template_id:
        runs = runs.filter(flow__template_id=filters.template_id)
    if filters.client_id:
        runs = runs.filter(client_id=filters.client_id)
    if filters.tag_id:
        runs = runs.filter(
            client_id__in=Client.tags.through.objects.filter(tag_id=filters.tag_id).values(
                "client_id"
            )
        )
    return runs


def section_bounds(today: dt.date) -> dict[str, Q]:
    """Return the dashboard's sections of open runs by due date, as filters: overdue (due
    before today), due within 7 days (today to a week on), upcoming (later)."""
    week = today + relativedelta(days=7)
    return {
        "overdue": Q(due_date__lt=today),
        "soon": Q(due_date__gte=today, due_date__lte=week),
        "upcoming": Q(due_date__gt=week),
    }


def dashboard_counts(
    practice: Practice, filters: RunFilters, today: dt.date, month_start: dt.datetime
) -> dict[str, int]:
    """Return the dashboard's counts in one query: open runs per section, runs in review,
    and runs completed since `month_start` (the practice's month's first moment)."""
    open_q = Q(status__in=OPEN)
    counts = {
        name: Count("id", filter=open_q & bound) for name, bound in section_bounds(today).items()
    }
    # Only open runs and this month's complete ones are counted: years of finished runs are
    # not read.
    counted = Q(status__in=OPEN) | Q(status=R.COMPLETE, completed_at__gte=month_start)
    return (
        filtered_runs(practice, filters)
        .filter(counted)
        .aggregate(
            **counts,
            in_review=Count("id", filter=Q(status=R.IN_REVIEW)),
            complete_month=Count("id", filter=Q(status=R.COMPLETE, completed_at__gte=month_start)),
        )
    )


@dataclasses.dataclass
class RunRow:
    """One dashboard row: a run's figures and names, read without building its models."""

    pk: int
    flow_id: int
    flow_name: str
    client_name: str
    period_start: dt.date
    period_end: dt.date
    due_date: dt.date
    status: str
    review_stage: int
    approved: bool
    checks_done: int
    checks_total: int
    assignee: str
    reviewer: str
    second_reviewer: str

    @property
    def status_label(self) -> str:
        return R(self.status).label


def _name(person: str):
    """A person's name as `User.__str__` gives it (the full name, else the email)."""
    return Coalesce(
        NullIf(F(f"{person}__full_name"), Value("")),
        F(f"{person}__email"),
        output_field=CharField(),
    )


def dashboard_section(
    practice: Practice, filters: RunFilters, today: dt.date, name: str, page: int
) -> list[RunRow]:
    """Return one page (`SECTION_SIZE` runs, soonest due first) of a section's open runs,
    with their flow's and client's names and their people's."""
    offset = (page - 1) * SECTION_SIZE
    # The page's ids first (one table, sorted, limited), then only those rows joined: joining
    # every open run to its flow, client and people before the limit costs more.
    ids = (
        filtered_runs(practice, filters)
        .filter(section_bounds(today)[name], status__in=OPEN)
        .order_by("due_date", "id")
        .values("pk")[offset : offset + SECTION_SIZE]
    )
    rows = (
        FlowRun.objects.filter(practice=practice, pk__in=ids)
        .order_by("due_date", "id")
        .values_list(
            "pk", "flow_id", "flow__name", "client__name", "period_start", "period_end",
            "due_date", "status", "review_stage", "approved", "checks_done", "checks_total",
        )
        .annotate(a=_name("assignee"), r=_name("reviewer"), s=_name("second_reviewer"))
    )  # fmt: skip
    return [RunRow(*(v if v is not None else "" for v in row)) for row in rows]


def flows_for_list(practice: Practice) -> QuerySet[Flow]:
    """Return the practice's flows, newest first, with their template."""
    return (
        Flow.objects.filter(practice=practice)
        .select_related("template")
        .order_by("-created_at", "-id")
    )


def flow_figures(practice: Practice, flow_ids: list[int]) -> dict[int, dict]:
    """Return per flow: its clients' count and earliest next date, and its runs by status
    ({flow id: {"clients": n, "next_date": date, "runs": {status: n}}}), in two queries."""
    out: dict[int, dict] = {pk: {"clients": 0, "next_date": None, "runs": {}} for pk in flow_ids}
    for row in (
        FlowClient.objects.filter(practice=practice, flow_id__in=flow_ids)
        .values("flow_id")
        .annotate(n=Count("id"), next_date=Min("next_date"))
        .order_by()
    ):
        out[row["flow_id"]].update(clients=row["n"], next_date=row["next_date"])
    for row in (
        FlowRun.objects.filter(practice=practice, flow_id__in=flow_ids)
        .values("flow_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        out[row["flow_id"]]["runs"][row["status"]] = row["n"]
    return out


def flow_clients_of(flow: Flow) -> list[FlowClient]:
    """Return the flow's clients with their team, by client name."""
    return list(
        FlowClient.objects.filter(practice_id=flow.practice_id, flow=flow)
        .select_related("client", *_PEOPLE)
        .order_by("client__name", "id")
    )


def flow_checks_of(flow: Flow) -> list[FlowCheck]:
    """Return the flow's checks in order, with their custom check."""
    return list(
        FlowCheck.objects.filter(practice_id=flow.practice_id, flow=flow)
        .select_related("custom_check")
        .order_by("position", "id")
    )


def flow_runs_of(flow: Flow) -> QuerySet[FlowRun]:
    """Return the flow's runs, latest period first, with their client and people."""
    return (
        FlowRun.objects.filter(practice_id=flow.practice_id, flow=flow)
        .select_related("client", *_PEOPLE)
        .order_by("-period_start", "client__name", "id")
    )


def get_flow_run(flow: Flow, run_id: int) -> FlowRun:
    """Return the flow's run `run_id` (404 for another flow's or practice's)."""
    return get_object_or_404(
        FlowRun.objects.filter(practice_id=flow.practice_id, flow=flow).select_related("client"),
        pk=run_id,
    )
