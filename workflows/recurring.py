"""Attach a recurrence's workflow template to the tasks it generates (the core's hook)."""

from __future__ import annotations

from sodium.models import Task
from sodium.recurring import TemplateAttacher, register_template_attacher
from workflows.attach import attach_template_to_tasks
from workflows.models import TemplateStep, WorkflowTemplate


def template_problem(practice_id: int, template_id: int) -> str | None:
    """Return why the template cannot be attached to generated tasks, or None."""
    template = WorkflowTemplate.objects.filter(practice_id=practice_id, pk=template_id).first()
    if template is None:
        return "Choose a workflow template of this practice."
    if template.status != WorkflowTemplate.Status.ACTIVE:
        return f"“{template.name}” is archived."
    if not TemplateStep.objects.filter(group__template=template).exists():
        return f"“{template.name}” has no steps yet."
    return None


def template_choices(practice_id: int) -> list[tuple[int, str]]:
    """Return the templates a recurrence may attach: active ones with steps, by name."""
    return list(
        WorkflowTemplate.objects.filter(
            practice_id=practice_id,
            status=WorkflowTemplate.Status.ACTIVE,
            groups__steps__isnull=False,
        )
        .distinct()
        .order_by("name")
        .values_list("pk", "name")
    )


def attach_to_generated(tasks: list[Task], template_id: int) -> None:
    """Attach the template to every generated task in bulk; raises AttachError to refuse."""
    template = WorkflowTemplate.objects.get(practice_id=tasks[0].practice_id, pk=template_id)
    attach_template_to_tasks(tasks, template, actor=None)


def register() -> None:
    register_template_attacher(
        TemplateAttacher(
            problem=template_problem, attach=attach_to_generated, choices=template_choices
        )
    )
