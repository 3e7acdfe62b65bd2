"""Reads for check-based flows; every function takes the practice and filters by it."""

from __future__ import annotations

import dataclasses
import datetime as dt

from dateutil.relativedelta import relativedelta
from django.db.models import CharField, Count, F, Min, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf
from django.shortcuts import get_object_or_404

from checks.models import Flow, FlowCheck, FlowClient, FlowRun
from sodium.models import Client, Practice, User

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


# --- flow-dashboard: the dashboard, the flows list and a flow's page ---------------------------

SECTION_SIZE = 50
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
