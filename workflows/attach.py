"""Attach a template to tasks: copy its groups, steps, checklists and dependencies.

A task's copy is its own: later template edits leave it alone. Assignees are resolved from
the client, task and service at attach time; a rule with nobody in it leaves the step
unassigned and says why. Works in bulk (1,000 tasks at once) with a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import connection, transaction
from django.utils import timezone

from sodium import dispatch
from sodium import engine as core_engine
from sodium.models import ActivityEvent, ClientService, Task, User
from sodium.sql import Table, columns, scoped, table
from workflows import assignment, scheduling
from workflows.models import (
    AssignmentRule,
    ChecklistItem,
    DueRule,
    Mode,
    SendRule,
    Step,
    StepDependency,
    StepGroup,
    TemplateChecklistItem,
    TemplateDependency,
    TemplateStep,
    WorkflowTemplate,
)

S = Step.Status


class AttachError(Exception):
    """The template cannot be attached; the message is for the user."""


def attach_template(task: Task, template: WorkflowTemplate, *, actor: User | None) -> list[Step]:
    """Copy `template` into `task` and return the new steps in order."""
    group_ids = attach_template_to_tasks([task], template, actor=actor)
    return list(
        Step.objects.filter(group_id__in=group_ids)
        .select_related("group")
        .order_by("group__position", "position", "id")
    )


# Fields copied as they are from the template step into the task's step.
_COPIED = (
    "name",
    "description",
    "type",
    "mode",
    "position",
    "settings",
    "content_block",
    "subject",
    "body",
    "to_recipients",
    "cc_recipients",
    "assignment_rule",
    "due_rule",
    "due_days",
    "send_rule",
    "send_days",
)
# The task's step's own fields, in the order the INSERT … SELECT below writes them.
_PER_STEP = (
    "practice",
    "task",
    "source",
    "group",
    "assignee",
    "assignee_team",
    "assignment_note",
    "status",
    "sub_status",
    "failure_reason",
    "chase_count",
    "ready_at",
    "created_at",
)
# Columns that differ per task: (task_id, template step id, group id, assignee, team, note,
# whether the step is ready). Sent as VALUES rows; everything else is copied in SQL.
_ROWS_PER_INSERT = 2000  # stays under SQLite's and PostgreSQL's bound-parameter limits


@transaction.atomic
def attach_template_to_tasks(
    tasks: list[Task], template: WorkflowTemplate, *, actor: User | None
) -> list[int]:
    """Copy `template` into every task in `tasks` (all of one practice) in bulk.

    The copy is done in SQL (INSERT … SELECT from the template's rows), so its cost is a
    handful of statements whatever the number of tasks. Returns the new group ids.
    """
    if template.status != WorkflowTemplate.Status.ACTIVE:
        raise AttachError("Archived templates cannot be attached.")
    if any(t.practice_id != template.practice_id for t in tasks):
        raise AttachError("The template belongs to another practice.")
    practice_id = template.practice_id
    tasks = list(
        Task.objects.filter(pk__in=[t.pk for t in tasks]).select_related(
            "practice",
            "client",
            "client__client_manager",
            "client__partner",
            "client__associate",
            "owner",
            "team",
            "service",
        )
    )
    groups = list(template.groups.order_by("position", "id"))
    tsteps = list(
        TemplateStep.objects.filter(group__template=template)
        .select_related("specific_assignee")
        .only("id", "group_id", "assignment_rule", "specific_assignee", "mode", "due_rule")
        .order_by("position", "id")
    )
    if not tsteps:
        raise AttachError(
            f"“{template.name}” has no steps yet. Add steps to it before attaching it to a task."
        )
    has_deps = set(
        TemplateDependency.objects.filter(step__group__template=template).values_list(
            "step_id", flat=True
        )
    )
    managers = _service_managers(tasks)
    now = timezone.now()

    new_groups = StepGroup.objects.bulk_create(
        StepGroup(
            practice_id=practice_id, task=task, name=g.name, position=g.position, template=template
        )
        for task in tasks
        for g in groups
    )
    # bulk_create keeps the order it was given: task by task, group by group.
    pairs = [(task.pk, g.pk) for task in tasks for g in groups]
    group_of = dict(zip(pairs, new_groups, strict=True))
    group_ids = [g.pk for g in new_groups]

    rows = []
    nobody: dict[int, int] = defaultdict(int)
    for task in tasks:
        resolved: dict[tuple[str, int | None], assignment.Assignment] = {}
        for ts in tsteps:
            key = (ts.assignment_rule, ts.specific_assignee_id)
            if key not in resolved:
                resolved[key] = assignment.resolve(
                    ts.assignment_rule,
                    task,
                    specific=ts.specific_assignee,
                    service_manager=managers.get((task.client_id, task.service_id)),
                )
            who = resolved[key]
            if not (who.user or who.team) and ts.assignment_rule != AssignmentRule.UNASSIGNED:
                nobody[task.pk] += 1
            rows.append(
                (
                    task.pk,
                    ts.pk,
                    group_of[(task.pk, ts.group_id)].pk,
                    who.user.pk if who.user else None,
                    who.team.pk if who.team else None,
                    who.note,
                    0 if ts.pk in has_deps else 1,
                )
            )
    _insert_steps(practice_id, rows, now)
    _copy_dependencies_and_checklists(practice_id, group_ids)
    if any(ts.due_rule != DueRule.NONE for ts in tsteps):
        scheduling.fill_deadlines(group_ids, now)

    ActivityEvent.objects.bulk_create(
        ActivityEvent(
            practice_id=practice_id,
            actor=actor,
            actor_label="" if actor else "System",
            verb="workflow.attached",
            client_id=task.client_id,
            task=task,
            object_type="workflows.workflowtemplate",
            object_id=template.pk,
            summary=f"Attached the workflow {template.name} ({len(tsteps)} steps)"
            + (f"; {nobody[task.pk]} step(s) have nobody to assign" if nobody[task.pk] else ""),
            created_at=now,
        )
        for task in tasks
    )
    started = [t.pk for t in tasks if core_engine.is_started(t)]
    if started:
        _run_started(group_ids)
    return group_ids


def _literal(value: int | None) -> str:
    # Only integers (ids, flags) are written inline; int() refuses anything else.
    return "NULL" if value is None else str(int(value))


def _insert_steps(practice_id: int, rows: list[tuple], now) -> None:
    """Insert the task's steps, copying the template's columns in SQL.

    The per-task values are all integers, written inline: binding tens of thousands of
    parameters costs more in the driver than the insert itself. The few distinct assignment
    notes are bound and joined in by index. `column1`… are the names both databases give a
    VALUES list's columns.
    """
    ts = Table(TemplateStep, "ts")
    target = columns(Step, [*_PER_STEP, *_COPIED])
    copied = ", ".join(getattr(ts, name) for name in _COPIED)
    notes = sorted({row[5] for row in rows})
    note_index = {note: i for i, note in enumerate(notes)}
    notes_sql = ", ".join(f"({i}, %s)" for i in range(len(notes))) or "(0, '')"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[start : start + _ROWS_PER_INSERT]
            values = ", ".join(
                "("
                + ", ".join(
                    [*(_literal(v) for v in row[:5]), str(note_index[row[5]]), _literal(row[6])]
                )
                + ")"
                for row in chunk
            )
            sql, params = scoped(
                f"""
                INSERT INTO {table(Step)} ({target})
                SELECT %s, CAST(v.column1 AS BIGINT), CAST(v.column2 AS BIGINT),
                       CAST(v.column3 AS BIGINT), CAST(v.column4 AS BIGINT),
                       CAST(v.column5 AS BIGINT), n.column2,
                       CASE WHEN v.column7 = 1 THEN %s ELSE %s END, '', '', 0,
                       CASE WHEN v.column7 = 1 THEN %s ELSE NULL END, %s, {copied}
                FROM (VALUES {values}) AS v
                JOIN (VALUES {notes_sql}) AS n ON n.column1 = v.column6
                JOIN {ts} ON {ts.id} = CAST(v.column2 AS BIGINT)
                """,
                [practice_id, S.READY, S.BLOCKED, now, now, *notes],
                practice_id,
                ts,
            )
            cursor.execute(sql, params)


def _copy_dependencies_and_checklists(practice_id: int, group_ids: list[int]) -> None:
    marks = ", ".join(["%s"] * len(group_ids))
    a, b = Table(Step, "a"), Table(Step, "b")
    td = Table(TemplateDependency, "td")
    dependencies, dependency_params = scoped(
        f"""
        INSERT INTO {table(StepDependency)} (
            {columns(StepDependency, ("practice", "step", "depends_on"))}
        )
        SELECT %s, {a.id}, {b.id}
        FROM {a}
        JOIN {td} ON {td.step} = {a.source}
        JOIN {b} ON {b.task} = {a.task} AND {b.source} = {td.depends_on}
        WHERE {a.group} IN ({marks}) AND {b.group} IN ({marks})
        """,
        [practice_id, *group_ids, *group_ids],
        practice_id,
        a,
        td,
        b,
    )
    s, ci = Table(Step, "s"), Table(TemplateChecklistItem, "ci")
    checklists, checklist_params = scoped(
        f"""
        INSERT INTO {table(ChecklistItem)} (
            {columns(ChecklistItem, ("practice", "step", "text", "position", "done"))}
        )
        SELECT %s, {s.id}, {ci.text}, {ci.position}, %s
        FROM {s}
        JOIN {ci} ON {ci.step} = {s.source}
        WHERE {s.group} IN ({marks})
        """,
        [practice_id, False, *group_ids],
        practice_id,
        s,
        ci,
    )
    with connection.cursor() as cursor:
        cursor.execute(dependencies, dependency_params)
        cursor.execute(checklists, checklist_params)


def _service_managers(tasks: list[Task]) -> dict[tuple[int, int], User | None]:
    pairs = {(t.client_id, t.service_id) for t in tasks if t.service_id}
    if not pairs:
        return {}
    rows = ClientService.objects.filter(
        client_id__in={c for c, _ in pairs}, service_id__in={s for _, s in pairs}
    ).select_related("service_manager")
    return {(cs.client_id, cs.service_id): cs.service_manager for cs in rows}


def _run_started(group_ids: list[int]) -> None:
    from workflows import engine  # it imports this module's neighbours; not at load
    from workflows import tasks as celery_tasks

    ready = Step.objects.filter(
        group_id__in=group_ids, status=S.READY, mode=Mode.AUTOMATIC
    ).values_list("pk", "practice_id", "send_rule")
    ids, held = [], []
    for pk, practice_id, rule in ready:
        if rule == SendRule.NOW:
            ids.append(pk)
        else:  # locked and held one by one (few: only steps with a send rule)
            held.append(Step(pk=pk, practice_id=practice_id))
    if held:
        ids += engine.dispatch_held(held, timezone.now())
    if ids:
        transaction.on_commit(lambda: dispatch.publish_each(celery_tasks.run_step_task, ids))
