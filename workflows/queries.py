"""Reads for workflow pages; every function looks only inside the given practice."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from sodium.models import OutboundMessage, Practice, Task
from workflows.models import Step, StepGroup, WorkflowTemplate


def get_step(practice: Practice, step_id: int) -> Step:
    """Return the practice's step `step_id` with its task, or raise Http404."""
    return get_object_or_404(
        Step.objects.filter(practice=practice).select_related("task", "task__client"),
        pk=step_id,
    )


def active_templates(practice: Practice) -> list[WorkflowTemplate]:
    return list(
        WorkflowTemplate.objects.filter(practice=practice, status=WorkflowTemplate.Status.ACTIVE)
    )


def get_active_template(practice: Practice, template_id: int) -> WorkflowTemplate:
    return get_object_or_404(
        WorkflowTemplate.objects.filter(practice=practice, status="active"), pk=template_id
    )


def task_workflow(practice: Practice, task: Task) -> list[StepGroup]:
    """Return the task's groups, each with `.step_list` (assignees, checklists, last message)."""
    groups = list(StepGroup.objects.filter(practice=practice, task=task).order_by("position", "id"))
    steps = list(
        Step.objects.filter(practice=practice, task=task)
        .select_related("assignee", "assignee_team")
        .prefetch_related("checklist")
        .order_by("position", "id")
    )
    messages = {}
    for m in OutboundMessage.objects.filter(
        practice=practice, source_type="workflows.step", source_id__in=[s.pk for s in steps]
    ).order_by("created_at"):
        messages[m.source_id] = m
    for group in groups:
        group.step_list = [s for s in steps if s.group_id == group.pk]
    for step in steps:
        step.last_message = messages.get(step.pk)
        items = list(step.checklist.all())
        step.checklist_done = sum(1 for i in items if i.done)
        step.checklist_total = len(items)
    return groups
