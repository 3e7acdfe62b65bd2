"""Reads for workflow pages; every function looks only inside the given practice."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import dateformat, timezone

from sodium import bounces
from sodium import engine as core_engine
from sodium.models import Membership, OutboundMessage, Practice, Task, Team, User
from sodium.roles import Perm, role_can
from workflows import step_types
from workflows.models import (
    ChecklistItem,
    Step,
    StepGroup,
    TemplateStep,
    WorkflowTemplate,
)

S = Step.Status
# Step.Status.values builds a new list on every read; templates read a progress's counts by
# status name (`progress.blocked`) many times a page.
_STATUS_VALUES = frozenset(S.values)


@dataclass
class Progress:
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def finished(self) -> int:
        return self.counts.get(S.DONE, 0) + self.counts.get(S.SKIPPED, 0)

    @property
    def percent(self) -> int:
        return round(100 * self.finished / self.total) if self.total else 0

    def __getattr__(self, name: str) -> int:
        if name in _STATUS_VALUES:
            return self.counts.get(name, 0)
        raise AttributeError(name)


def progress_for_tasks(task_ids: list[int]) -> dict[int, Progress]:
    """Return each task's step counts per status, in one query."""
    out = {task_id: Progress() for task_id in task_ids}
    rows = (
        Step.objects.filter(task_id__in=task_ids)
        .values_list("task_id", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for task_id, status, n in rows:
        out[task_id].counts[status] = n
    return out


def progress(task: Task) -> Progress:
    """Return the task's progress: counts per status and (done + skipped) / steps."""
    return progress_for_tasks([task.pk])[task.pk]


def get_step(practice: Practice, step_id: int) -> Step:
    """Return the practice's step `step_id` with its task, or raise Http404."""
    return get_object_or_404(
        Step.objects.filter(practice=practice).select_related("task", "task__client"),
        pk=step_id,
    )


def active_templates(practice: Practice) -> list[WorkflowTemplate]:
    """Return the templates a task may attach: active ones with at least one step."""
    has_steps = Exists(
        TemplateStep.objects.filter(practice=practice, group__template=OuterRef("pk"))
    )
    return list(
        WorkflowTemplate.objects.filter(
            has_steps, practice=practice, status=WorkflowTemplate.Status.ACTIVE
        )
    )


def get_active_template(practice: Practice, template_id: int) -> WorkflowTemplate:
    return get_object_or_404(
        WorkflowTemplate.objects.filter(practice=practice, status="active"), pk=template_id
    )


def task_workflow(practice: Practice, task: Task) -> list[StepGroup]:
    """Return the task's groups, each with `.step_list` (assignees, `.checklist_items`, last
    message), in four queries whatever the steps (three without steps)."""
    groups = list(StepGroup.objects.filter(practice=practice, task=task).order_by("position", "id"))
    steps = list(
        Step.objects.filter(practice=practice, task=task)
        .select_related("assignee", "assignee_team")
        .order_by("position", "id")
    )
    ids = [s.pk for s in steps]
    messages = bounces.last_messages(practice, "workflows.step", ids)
    # One query for every step's checklist, grouped here: prefetch_related("checklist") cost
    # twice the CPU of the query itself (a related manager and queryset per step).
    checklists: dict[int, list[ChecklistItem]] = {pk: [] for pk in ids}
    if ids:
        for item in ChecklistItem.objects.filter(practice=practice, step_id__in=ids).order_by(
            "step_id", "position", "id"
        ):
            checklists[item.step_id].append(item)
    for group in groups:
        group.step_list = [s for s in steps if s.group_id == group.pk]
    for step in steps:
        step.last_message = messages.get(step.pk)
        step.bounce = step.last_message.bounce if step.last_message else None
        step.checklist_items = items = checklists[step.pk]
        step.checklist_done = sum(1 for i in items if i.done)
        step.checklist_total = len(items)
        step.checklist_open = step.checklist_total - step.checklist_done
        # Asked before "Mark done" goes ahead (the server asks too, without the answer).
        step.unticked_question = (
            f"“{step.name}” has {step.checklist_open} unticked checklist "
            f"item{'s' if step.checklist_open != 1 else ''}. Mark it done anyway?"
            if step.checklist_open
            else ""
        )
    return groups


def ready_to_complete(task: Task, progress: Progress) -> bool:
    """Return whether every step of the task is finished (done or skipped) while the task is
    still open, so the page offers to complete it."""
    return bool(
        progress.total
        and progress.finished == progress.total
        and Task.Status.DONE in core_engine.TRANSITIONS.get(task.status, set())
    )


def automatic_wait(practice: Practice, task: Task) -> str:
    """Return why the task's ready automatic steps have not run yet ("" when they may run).

    They run once the task is in progress: a planned task starts on its start date (the start
    of that day in the practice's time zone), one on hold when it is resumed.
    """
    if core_engine.is_started(task):
        return ""
    if task.status == Task.Status.ON_HOLD:
        return "Runs when the task is resumed (it is on hold)."
    if task.status != Task.Status.PLANNED:
        return ""
    if task.start_date is None:
        return "Runs when the task is started (it has no start date)."
    today = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(practice.time_zone)).date()
    if task.start_date > today:
        return f"Runs when the task starts on {dateformat.format(task.start_date, 'D j M Y')}."
    return "Runs within a minute: the task's start date has come, so it is about to start."


# --- focus panel, task list progress, My steps, overview ---------------------------------------

SS = Step.SubStatus
# Steps someone has to act on; "blocked" joins them only when asked for.
OPEN_WORK = (S.READY, S.IN_PROGRESS, S.FAILED)
OPEN = (S.BLOCKED, S.READY, S.IN_PROGRESS, S.FAILED)


def awaiting_client() -> Q:
    """Return the filter for steps in progress and waiting for the client.

    A returned submission waits for a new one for the types that say so
    (StepTypeSpec.waits_when_rejected); read from the registry when asked, so it holds the
    types of every app loaded.
    """
    return Q(status=S.IN_PROGRESS, sub_status=SS.AWAITING_RESPONSE) | Q(
        status=S.IN_PROGRESS,
        type__in=step_types.values_where(lambda t: t.waits_when_rejected),
        sub_status=SS.REJECTED,
    )


@dataclass
class TaskProgress(Progress):
    """A task's step counts, with how many of its in-progress steps await the client."""

    waiting: int = 0

    @property
    def working(self) -> int:
        """Steps on the practice's side: ready, or in progress but not with the client."""
        return self.ready + self.in_progress - self.waiting


def progress_of_steps(steps: list[Step]) -> TaskProgress:
    """Return the progress of already-loaded steps (no query)."""
    out = TaskProgress()
    for step in steps:
        out.counts[step.status] = out.counts.get(step.status, 0) + 1
        if step.status == S.IN_PROGRESS and is_awaiting_client(step):
            out.waiting += 1
    return out


def is_awaiting_client(step: Step) -> bool:
    """Return whether the step waits on the client (the same test as awaiting_client())."""
    return step.status == S.IN_PROGRESS and (
        step.sub_status == SS.AWAITING_RESPONSE
        or (
            step.sub_status == SS.REJECTED
            and step_types.is_registered(step.type)
            and step_types.get(step.type).waits_when_rejected
        )
    )


def progress_for_task_list(practice: Practice, task_ids: list[int]) -> dict[int, TaskProgress]:
    """Return each task's progress and its steps awaiting the client, in one query."""
    out = {task_id: TaskProgress() for task_id in task_ids}
    if not task_ids:
        return out
    rows = (
        Step.objects.filter(practice=practice, task_id__in=task_ids)
        .values_list("task_id", "status")
        .annotate(n=Count("pk"), waiting=Count("pk", filter=awaiting_client()))
        .order_by()
    )
    for task_id, status, n, waiting in rows:
        out[task_id].counts[status] = n
        out[task_id].waiting += waiting
    return out


def focus_panel(practice: Practice, task: Task) -> tuple[list[StepGroup], list[Step]]:
    """Return the task's groups (each with `.step_list`) and all its steps, for the panel.

    Four queries whatever the number of steps: groups, steps with assignees, checklists, and
    the steps' emails (each step gets `.last_message` and `.checklist_items`).
    """
    groups = task_workflow(practice, task)
    return groups, [s for g in groups for s in g.step_list]


def may_resend(step: Step, user: User, membership: Membership, team_ids: list[int]) -> bool:
    """Return whether `user` may correct a bounced address and resend on `step`: its
    assignee (or a member of its team) or whoever may do so on anyone's step."""
    return (
        (step.assignee_id is not None and step.assignee_id == user.pk)
        or (step.assignee_team_id is not None and step.assignee_team_id in team_ids)
        or role_can(membership.role, Perm.RESEND_ANY_BOUNCE)
    )


def mark_resendable(
    practice: Practice, steps: list[Step], user: User, membership: Membership
) -> None:
    """Set `.may_resend` on the bounced steps of a page (a query only for team steps)."""
    bounced = [s for s in steps if getattr(s, "bounce", None)]
    if not bounced:
        return
    teams = team_ids_of(practice, user) if any(s.assignee_team_id for s in bounced) else []
    for step in bounced:
        step.may_resend = may_resend(step, user, membership, teams)


def get_bounced_step_for_user(
    practice: Practice, user: User, membership: Membership, step_id: int
) -> tuple[Step, OutboundMessage | None]:
    """Return the practice's step `step_id` and its last message when that bounced (else None).

    Raises Http404 for another practice's step, PermissionDenied unless `may_resend`.
    """
    step = get_step(practice, step_id)
    if not may_resend(step, user, membership, team_ids_of(practice, user)):
        raise PermissionDenied("Only the step's assignee or a manager can resend its email.")
    message = bounces.last_messages(practice, "workflows.step", [step.pk]).get(step.pk)
    return step, message if message is not None and message.bounce else None


def get_checklist_item(step: Step, item_id: int) -> ChecklistItem:
    """Return one checklist item of `step`, or raise Http404."""
    return get_object_or_404(
        ChecklistItem.objects.filter(practice_id=step.practice_id, step=step), pk=item_id
    )


def team_ids_of(practice: Practice, user: User) -> list[int]:
    """Return the ids of the practice's teams `user` belongs to."""
    return list(Team.objects.filter(practice=practice, members=user).values_list("pk", flat=True))


MY_STEP_FILTERS = {
    "": ("Ready, in progress or failed", OPEN_WORK),
    "ready": ("Ready", (S.READY,)),
    "in_progress": ("In progress", (S.IN_PROGRESS,)),
    "failed": ("Failed", (S.FAILED,)),
    "blocked": ("Blocked", (S.BLOCKED,)),
    "all": ("Everything open, blocked too", OPEN),
}


def steps_for_member(
    practice: Practice,
    user: User,
    *,
    status: str = "",
    newest_first: bool = False,
    team_ids: list[int] | None = None,
) -> QuerySet[Step]:
    """Return the open steps assigned to `user` or to one of their teams, across tasks.

    Sorted by due date: the step's deadline when it has one, else its task's due date
    (undated last). `status` is a key of MY_STEP_FILTERS. Each status is one range of the
    (practice, assignee, status) and (practice, assignee_team, status) indexes.
    """
    statuses = MY_STEP_FILTERS.get(status, MY_STEP_FILTERS[""])[1]
    if team_ids is None:
        team_ids = team_ids_of(practice, user)
    mine = Q(assignee=user)
    if team_ids:
        mine |= Q(assignee_team_id__in=team_ids)
    due = F("due")
    order = due.desc(nulls_last=True) if newest_first else due.asc(nulls_last=True)
    return (
        Step.objects.filter(practice=practice, status__in=statuses)
        .filter(mine)
        .annotate(due=Coalesce("deadline", "task__due_date"))
        .select_related("task", "task__client", "assignee", "assignee_team")
        .only(*ROW_FIELDS)
        .order_by(order, "task_id", "position", "id")
    )


# What a list row of steps shows; bodies, settings and recipients stay in the database.
ROW_FIELDS = (
    "practice_id",
    "name",
    "type",
    "mode",
    "position",
    "status",
    "sub_status",
    "deadline",
    "scheduled_for",
    "chase_count",
    "started_at",
    "ready_at",
    "task_id",
    "group_id",
    "assignee_id",
    "assignee_team_id",
    "assignment_note",
    "failure_reason",
    "task__id",
    "task__name",
    "task__status",
    "task__due_date",
    "task__client_id",
    "task__client__id",
    "task__client__name",
    "assignee__id",
    "assignee__full_name",
    "assignee__email",
    "assignee_team__id",
    "assignee_team__name",
)


def overdue_steps(practice: Practice, *, limit: int = 100) -> tuple[list[Step], int]:
    """Return the practice's open steps past their due date, oldest due first, and how many
    there are in all.

    A step is due on its deadline when it has one, else on its task's due date; steps of
    closed tasks are left out. Four queries: the steps past their own deadline and those of
    overdue tasks are read apart (each through its partial index over open steps, see
    migration 0003) and merged here.
    """
    return _open_steps_due(practice, "lt", limit)


def steps_due_today(practice: Practice, *, limit: int = 100) -> tuple[list[Step], int]:
    """Return the practice's open steps due today (their deadline, else their task's due
    date), and how many there are in all; four queries, as `overdue_steps`."""
    return _open_steps_due(practice, "exact", limit)


def _open_steps_due(practice: Practice, lookup: str, limit: int) -> tuple[list[Step], int]:
    today = timezone.localdate()
    base = Step.objects.filter(
        practice=practice, status__in=OPEN, task__status__in=Task.OPEN_STATUSES
    )
    by_deadline = base.filter(**{f"deadline__{lookup}": today})
    by_task = base.filter(deadline__isnull=True, **{f"task__due_date__{lookup}": today})
    rows: list[Step] = []
    for qs, due in ((by_deadline, "deadline"), (by_task, "task__due_date")):
        rows += (
            qs.annotate(due=F(due))
            .select_related("task", "task__client", "assignee", "assignee_team")
            .only(*ROW_FIELDS)
            .order_by(due, "id")[:limit]
        )
    rows.sort(key=lambda s: (s.due, s.pk))
    return rows[:limit], by_deadline.count() + by_task.count()


def steps_awaiting_clients(practice: Practice, *, limit: int = 100) -> tuple[list[Step], int]:
    """Return the practice's steps waiting for a client's answer, longest waiting first, and
    how many there are in all. Two queries."""
    qs = Step.objects.filter(practice=practice).filter(awaiting_client())
    rows = list(
        qs.select_related("task", "task__client", "assignee", "assignee_team")
        .only(*ROW_FIELDS)
        .order_by("started_at", "id")[:limit]
    )
    return rows, qs.count()
