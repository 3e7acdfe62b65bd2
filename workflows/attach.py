"""Attach a template to tasks: copy its groups, steps, checklists and dependencies.

A task's copy is its own: later template edits leave it alone. Assignees are resolved from
the client, task and service at attach time; a rule with nobody in it leaves the step
unassigned and says why. Works in bulk (1,000 tasks at once) with a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from sodium import engine as core_engine
from sodium.models import ActivityEvent, ClientService, Task, User
from workflows import assignment
from workflows.models import (
    AssignmentRule,
    ChecklistItem,
    Mode,
    Step,
    StepDependency,
    StepGroup,
    TemplateDependency,
    TemplateStep,
    WorkflowTemplate,
)

S = Step.Status


class AttachError(Exception):
    """The template cannot be attached; the message is for the user."""


def attach_template(task: Task, template: WorkflowTemplate, *, actor: User | None) -> list[Step]:
    """Copy `template` into `task` and return the new steps."""
    return attach_template_to_tasks([task], template, actor=actor)


@transaction.atomic
def attach_template_to_tasks(
    tasks: list[Task], template: WorkflowTemplate, *, actor: User | None
) -> list[Step]:
    """Copy `template` into every task in `tasks` (all of one practice) in bulk."""
    if template.status != WorkflowTemplate.Status.ACTIVE:
        raise AttachError("Archived templates cannot be attached.")
    if any(t.practice_id != template.practice_id for t in tasks):
        raise AttachError("The template belongs to another practice.")
    practice_id = template.practice_id
    tasks = list(
        Task.objects.filter(pk__in=[t.pk for t in tasks]).select_related(
            "practice", "client", "client__client_manager", "client__partner",
            "client__associate", "owner", "team", "service",
        )
    )
    groups = list(template.groups.order_by("position", "id"))
    tsteps = list(
        TemplateStep.objects.filter(group__template=template)
        .select_related("specific_assignee")
        .prefetch_related("checklist")
        .order_by("position", "id")
    )
    deps = list(
        TemplateDependency.objects.filter(step__group__template=template).values_list(
            "step_id", "depends_on_id"
        )
    )
    has_deps = {step_id for step_id, _ in deps}
    managers = _service_managers(tasks)
    now = timezone.now()

    new_groups = StepGroup.objects.bulk_create(
        StepGroup(practice_id=practice_id, task=task, name=g.name, position=g.position,
                  template=template)
        for task in tasks
        for g in groups
    )
    # bulk_create keeps the order it was given: task by task, group by group.
    pairs = [(task.pk, g.pk) for task in tasks for g in groups]
    group_of = dict(zip(pairs, new_groups, strict=True))

    new_steps: list[Step] = []
    for task in tasks:
        for ts in tsteps:
            who = assignment.resolve(
                ts.assignment_rule, task, specific=ts.specific_assignee,
                service_manager=managers.get((task.client_id, task.service_id)),
            )
            ready = ts.pk not in has_deps
            new_steps.append(Step(
                practice_id=practice_id, task=task, group=group_of[(task.pk, ts.group_id)],
                source=ts, name=ts.name, description=ts.description, type=ts.type,
                mode=ts.mode, position=ts.position, settings=ts.settings,
                content_block_id=ts.content_block_id, subject=ts.subject, body=ts.body,
                to_recipients=ts.to_recipients, cc_recipients=ts.cc_recipients,
                assignment_rule=ts.assignment_rule, assignee=who.user, assignee_team=who.team,
                assignment_note=who.note, status=S.READY if ready else S.BLOCKED,
                ready_at=now if ready else None, created_at=now,
            ))
    new_steps = Step.objects.bulk_create(new_steps)
    step_of = {(s.task_id, s.source_id): s for s in new_steps}

    StepDependency.objects.bulk_create(
        StepDependency(practice_id=practice_id, step=step_of[(task.pk, step_id)],
                       depends_on=step_of[(task.pk, depends_on_id)])
        for task in tasks
        for step_id, depends_on_id in deps
    )
    ChecklistItem.objects.bulk_create(
        ChecklistItem(practice_id=practice_id, step=step_of[(task.pk, ts.pk)], text=item.text,
                      position=item.position)
        for task in tasks
        for ts in tsteps
        for item in ts.checklist.all()
    )
    nobody: dict[int, int] = defaultdict(int)
    for s in new_steps:
        if not (s.assignee_id or s.assignee_team_id) and s.assignment_rule != AssignmentRule.UNASSIGNED:
            nobody[s.task_id] += 1
    ActivityEvent.objects.bulk_create(
        ActivityEvent(
            practice_id=practice_id, actor=actor, actor_label="" if actor else "System",
            verb="workflow.attached", client_id=task.client_id, task=task,
            object_type="workflows.workflowtemplate", object_id=template.pk,
            summary=f"Attached the workflow {template.name} ({len(tsteps)} steps)"
            + (f"; {nobody[task.pk]} step(s) have nobody to assign" if nobody[task.pk] else ""),
            created_at=now,
        )
        for task in tasks
    )
    _run_started(tasks, new_steps)
    return new_steps


def _service_managers(tasks: list[Task]) -> dict[tuple[int, int], User | None]:
    pairs = {(t.client_id, t.service_id) for t in tasks if t.service_id}
    if not pairs:
        return {}
    rows = ClientService.objects.filter(
        client_id__in={c for c, _ in pairs}, service_id__in={s for _, s in pairs}
    ).select_related("service_manager")
    return {(cs.client_id, cs.service_id): cs.service_manager for cs in rows}


def _run_started(tasks: list[Task], steps: list[Step]) -> None:
    from workflows import tasks as celery_tasks

    started = {t.pk for t in tasks if core_engine.is_started(t)}
    to_run = defaultdict(list)
    for step in steps:
        if step.task_id in started and step.status == S.READY and step.mode == Mode.AUTOMATIC:
            to_run[step.task_id].append(step.pk)
    ids = [pk for pks in to_run.values() for pk in pks]
    if ids:
        transaction.on_commit(lambda: [celery_tasks.run_step_task.delay(pk) for pk in ids])
