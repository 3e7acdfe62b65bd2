"""Workflows' part of the task list's bulk actions (the core's registry, `sodium/bulk.py`).

"Attach a workflow template" copies one template into many tasks at once through
`attach.attach_template_to_tasks` (a handful of statements whatever their number). A task
that is finished, or already has a workflow, is refused: a practice runs one workflow per
task, and a second one attached by a sweeping action would double every email and request.
(The task page still lets a person add another workflow to one task on purpose.)

Marking tasks done in bulk is refused for a task whose steps are still open, as the task
page's "Complete task" is.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django import forms
from django.db.models import Count, Exists, OuterRef

from sodium import bulk, formfields
from sodium.models import Task, User
from workflows import attach
from workflows.models import Step, StepGroup, TemplateStep, WorkflowTemplate


class AttachForm(forms.Form):
    template = formfields.ModelChoiceField(
        queryset=WorkflowTemplate.objects.none(),
        label="Workflow template",
        empty_label="Choose a template…",
        error_messages={
            "required": "Choose the workflow template to attach.",
            "invalid_choice": "Choose an active template of this practice that has steps.",
        },
    )

    def __init__(self, *args: Any, practice: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        has_steps = Exists(
            TemplateStep.objects.filter(practice=practice, group__template=OuterRef("pk"))
        )
        self.fields["template"].queryset = WorkflowTemplate.objects.filter(
            has_steps, practice=practice, status=WorkflowTemplate.Status.ACTIVE
        ).order_by("name", "pk")


def _attach(tasks: list[Task], cleaned: dict[str, Any], *, actor: User) -> bulk.Result:
    template: WorkflowTemplate = cleaned["template"]
    practice_id = template.practice_id
    existing: dict[int, list[str]] = defaultdict(list)
    for task_id, name in StepGroup.objects.filter(
        practice=practice_id, task__in=[t.pk for t in tasks]
    ).values_list("task_id", "template__name"):
        names = existing[task_id]  # a group from no template still counts as a workflow
        if name and name not in names:
            names.append(name)
    refused: dict[int, str] = {}
    for task in tasks:
        if task.status in (Task.Status.DONE, Task.Status.CANCELLED):
            refused[task.pk] = f"is {task.get_status_display().lower()}; reopen it first"
        elif task.pk in existing:
            names = existing[task.pk]
            if template.name in names:
                refused[task.pk] = f"already has ‘{template.name}’"
            elif names:
                refused[task.pk] = f"already has a workflow (‘{names[0]}’)"
            else:
                refused[task.pk] = "already has a workflow"
    eligible = [t for t in tasks if t.pk not in refused]
    if eligible:
        try:
            attach.attach_template_to_tasks(eligible, template, actor=actor)
        except attach.AttachError as exc:
            raise bulk.Refused(str(exc)) from exc
    return bulk.Result(eligible, refused)


def _describe_attach(cleaned: dict[str, Any]) -> str:
    return f"Attached ‘{cleaned['template'].name}’ to {{tasks}}."


def _open_steps(tasks: list[Task], cleaned: dict[str, Any]) -> dict[int, str]:
    """Refuse to mark done a task whose workflow still has open steps (one query)."""
    if cleaned.get("status") != Task.Status.DONE or not tasks:
        return {}
    rows = (
        Step.objects.filter(practice=tasks[0].practice_id, task__in=[t.pk for t in tasks])
        .exclude(status__in=Step.FINISHED)
        .values("task_id")
        .annotate(n=Count("pk"))
    )
    return {
        row["task_id"]: f"has {row['n']} workflow step{'s' if row['n'] != 1 else ''} still open"
        for row in rows
    }


def register() -> None:
    bulk.register(
        bulk.BulkAction(
            key="attach",
            label="Attach a workflow template",
            form=lambda data, practice, prefix: AttachForm(data, practice=practice, prefix=prefix),
            run=_attach,
            describe=_describe_attach,
            button="Attach",
            order=10,
        )
    )
    bulk.add_check("status", _open_steps)
