"""Build and change workflow templates and content blocks (the template editor's writes).

Editing a template never touches tasks it was attached to: each task has its own copy.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from sodium import activity
from sodium.messaging import blocks
from sodium.models import Practice, User
from workflows.models import (
    ContentBlock,
    TemplateChecklistItem,
    TemplateDependency,
    TemplateGroup,
    TemplateStep,
    WorkflowTemplate,
)
from workflows.step_types import config_errors


class TemplateError(Exception):
    """A template change the rules refuse; `errors` maps fields to messages when known."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


def _touch(template: WorkflowTemplate) -> None:
    WorkflowTemplate.objects.filter(pk=template.pk).update(updated_at=timezone.now())


def _edited(template: WorkflowTemplate, *, actor: User, verb: str, summary: str, obj=None) -> None:
    """Mark the template changed and record who changed what (the template's audit trail)."""
    _touch(template)
    activity.record(
        practice=template.practice_id, actor=actor, verb=verb, obj=obj or template, summary=summary
    )


def _next_position(qs) -> int:
    return (qs.aggregate(m=Max("position"))["m"] or 0) + 1


@transaction.atomic
def create_template(
    *, practice: Practice, actor: User, name: str, description: str = "", first_group: str = "Steps"
) -> WorkflowTemplate:
    """Create a template with one empty group."""
    template = WorkflowTemplate.objects.create(
        practice=practice, name=name, description=description
    )
    TemplateGroup.objects.create(practice=practice, template=template, name=first_group, position=1)
    activity.record(
        practice=practice,
        actor=actor,
        verb="template.created",
        obj=template,
        summary=f"Created the workflow template {name}",
    )
    return template


@transaction.atomic
def update_template(
    template: WorkflowTemplate, *, actor: User, name: str, description: str
) -> WorkflowTemplate:
    template.name, template.description, template.updated_at = name, description, timezone.now()
    template.save(update_fields=["name", "description", "updated_at"])
    activity.record(
        practice=template.practice_id,
        actor=actor,
        verb="template.updated",
        obj=template,
        summary=f"Renamed or described the workflow template {name}",
    )
    return template


@transaction.atomic
def clone_template(template: WorkflowTemplate, *, actor: User, name: str = "") -> WorkflowTemplate:
    """Copy a template with its groups, steps, checklists and dependencies."""
    practice = template.practice
    copy = WorkflowTemplate.objects.create(
        practice=practice,
        name=name or f"{template.name} (copy)",
        description=template.description,
    )
    step_map: dict[int, TemplateStep] = {}
    for group in template.groups.all():
        new_group = TemplateGroup.objects.create(
            practice=practice, template=copy, name=group.name, position=group.position
        )
        for step in group.steps.prefetch_related("checklist"):
            old_pk = step.pk
            items = list(step.checklist.all())
            step.pk = None
            step.group = new_group
            step.save()
            step_map[old_pk] = step
            TemplateChecklistItem.objects.bulk_create(
                TemplateChecklistItem(
                    practice=practice, step=step, text=i.text, position=i.position
                )
                for i in items
            )
    TemplateDependency.objects.bulk_create(
        TemplateDependency(
            practice=practice, step=step_map[d.step_id], depends_on=step_map[d.depends_on_id]
        )
        for d in TemplateDependency.objects.filter(step__group__template=template)
    )
    activity.record(
        practice=practice,
        actor=actor,
        verb="template.created",
        obj=copy,
        summary=f"Copied {template.name} as {copy.name}",
    )
    return copy


# --- groups -----------------------------------------------------------------------------------


@transaction.atomic
def add_group(template: WorkflowTemplate, *, actor: User, name: str) -> TemplateGroup:
    group = TemplateGroup.objects.create(
        practice=template.practice,
        template=template,
        name=name,
        position=_next_position(template.groups.all()),
    )
    _edited(
        template,
        actor=actor,
        verb="template.group_added",
        obj=group,
        summary=f"Added the group {name} to {template.name}",
    )
    return group


@transaction.atomic
def rename_group(group: TemplateGroup, *, actor: User, name: str) -> TemplateGroup:
    group.name = name
    group.save(update_fields=["name"])
    _edited(
        group.template,
        actor=actor,
        verb="template.group_renamed",
        obj=group,
        summary=f"Renamed a group of {group.template.name} to {name}",
    )
    return group


@transaction.atomic
def move_group(group: TemplateGroup, *, actor: User, offset: int) -> None:
    """Move a group up (-1) or down (+1) among its template's groups."""
    _move(list(group.template.groups.select_for_update().order_by("position", "id")), group, offset)
    _edited(
        group.template,
        actor=actor,
        verb="template.group_moved",
        obj=group,
        summary=f"Moved the group {group.name} {'up' if offset < 0 else 'down'}",
    )


@transaction.atomic
def delete_group(group: TemplateGroup, *, actor: User) -> None:
    if group.template.groups.count() == 1:
        raise TemplateError("A template needs at least one group.")
    template, name = group.template, group.name
    group.delete()
    _edited(
        template,
        actor=actor,
        verb="template.group_deleted",
        summary=f"Deleted the group {name} from {template.name}",
    )


def _move(items: list, item, offset: int) -> None:
    index = next(i for i, x in enumerate(items) if x.pk == item.pk)
    target = max(0, min(len(items) - 1, index + offset))
    items.insert(target, items.pop(index))
    for position, x in enumerate(items, start=1):
        if x.position != position:
            type(x).objects.filter(pk=x.pk).update(position=position)


# --- steps ------------------------------------------------------------------------------------

STEP_FIELDS = (
    "name",
    "description",
    "type",
    "mode",
    "settings",
    "content_block",
    "subject",
    "body",
    "to_recipients",
    "cc_recipients",
    "assignment_rule",
    "specific_assignee",
    "due_rule",
    "due_days",
    "send_rule",
    "send_days",
)


def _validate_step(step: TemplateStep) -> None:
    errors = config_errors(step)
    if step.assignment_rule == "specific" and not step.specific_assignee_id:
        errors.setdefault("specific_assignee", []).append("Choose the member for this step.")
    if errors:
        raise TemplateError("The step is not complete.", errors)


@transaction.atomic
def add_step(
    group: TemplateGroup,
    *,
    actor: User,
    checklist: list[str] | None = None,
    depends_on: list[TemplateStep] | None = None,
    **fields: Any,
) -> TemplateStep:
    """Add a step at the end of a group, with its checklist and dependencies."""
    step = TemplateStep(
        practice=group.practice, group=group, position=_next_position(group.steps.all()), **fields
    )
    _validate_step(step)
    step.save()
    set_checklist(step, actor=actor, items=checklist or [])
    set_dependencies(step, actor=actor, depends_on=depends_on or [])
    _touch(group.template)
    activity.record(
        practice=group.practice,
        actor=actor,
        verb="template.step_added",
        obj=step,
        summary=f"Added the step {step.name} to {group.template.name}",
    )
    return step


@transaction.atomic
def update_step(step: TemplateStep, *, actor: User, **fields: Any) -> TemplateStep:
    """Change a template step; running tasks keep their own copies."""
    unknown = set(fields) - set(STEP_FIELDS)
    if unknown:
        raise TemplateError(f"Unknown step fields: {', '.join(sorted(unknown))}.")
    for name, value in fields.items():
        setattr(step, name, value)
    _validate_step(step)
    step.save(update_fields=list(fields))
    _edited(
        step.group.template,
        actor=actor,
        verb="template.step_updated",
        obj=step,
        summary=f"Changed the step {step.name} of {step.group.template.name}",
    )
    return step


@transaction.atomic
def delete_step(step: TemplateStep, *, actor: User) -> None:
    template, name = step.group.template, step.name
    step.delete()
    _edited(
        template,
        actor=actor,
        verb="template.step_deleted",
        summary=f"Deleted the step {name} from {template.name}",
    )


@transaction.atomic
def move_step(step: TemplateStep, *, actor: User, offset: int) -> None:
    _move(list(step.group.steps.select_for_update().order_by("position", "id")), step, offset)
    _edited(
        step.group.template,
        actor=actor,
        verb="template.step_moved",
        obj=step,
        summary=f"Moved the step {step.name} {'up' if offset < 0 else 'down'}",
    )


@transaction.atomic
def set_checklist(step: TemplateStep, *, actor: User, items: list[str]) -> None:
    """Replace the step's checklist with `items` (blank lines dropped)."""
    texts = [t.strip() for t in items if t.strip()]
    if any(len(t) > 300 for t in texts):
        raise TemplateError(
            "Checklist items can be at most 300 characters.",
            {"checklist": ["Checklist items can be at most 300 characters."]},
        )
    step.checklist.all().delete()
    TemplateChecklistItem.objects.bulk_create(
        TemplateChecklistItem(practice=step.practice, step=step, text=t, position=i)
        for i, t in enumerate(texts, start=1)
    )


def find_cycle(step: TemplateStep, depends_on: list[TemplateStep]) -> list[str] | None:
    """Return step names forming a cycle if `step` depended on `depends_on`, else None."""
    edges: dict[int, set[int]] = {}
    for a, b in TemplateDependency.objects.filter(step__group=step.group).values_list(
        "step_id", "depends_on_id"
    ):
        edges.setdefault(a, set()).add(b)
    edges[step.pk] = {d.pk for d in depends_on}
    names = dict(step.group.steps.values_list("pk", "name"))

    def walk(node: int, path: list[int]) -> list[int] | None:
        for nxt in edges.get(node, ()):
            if nxt == step.pk:
                return path + [nxt]
            if nxt not in path:
                found = walk(nxt, path + [nxt])
                if found:
                    return found
        return None

    cycle = walk(step.pk, [step.pk])
    return [names.get(pk, "?") for pk in cycle] if cycle else None


@transaction.atomic
def set_dependencies(step: TemplateStep, *, actor: User, depends_on: list[TemplateStep]) -> None:
    """Make `step` wait for `depends_on` (steps of its own group); refuse cycles by name."""
    if any(d.group_id != step.group_id for d in depends_on):
        raise TemplateError(
            "A step can only depend on steps of its own group.",
            {"depends_on": ["Choose steps from the same group."]},
        )
    if any(d.pk == step.pk for d in depends_on):
        raise TemplateError(
            "A step cannot depend on itself.", {"depends_on": ["A step cannot depend on itself."]}
        )
    cycle = find_cycle(step, depends_on)
    if cycle:
        message = "That would make a loop: " + " → ".join(cycle) + "."
        raise TemplateError(message, {"depends_on": [message]})
    step.dependencies.all().delete()
    TemplateDependency.objects.bulk_create(
        TemplateDependency(practice=step.practice, step=step, depends_on=d) for d in depends_on
    )


# --- content blocks ---------------------------------------------------------------------------


def save_content_block(
    *,
    practice: Practice,
    actor: User,
    name: str,
    subject: str,
    body: str,
    block: ContentBlock | None = None,
    use: str | None = None,
) -> ContentBlock:
    """Create or change a content block through the core (sodium.messaging.blocks); Liquid
    problems are refused with field errors, as every other template change here.

    The Liquid may use the variables of message `use` (every registered one when None).
    """
    try:
        return blocks.save_content_block(
            practice=practice,
            actor=actor,
            name=name,
            subject=subject,
            body=body,
            block=block,
            use=use,
        )
    except blocks.BlockError as exc:
        raise TemplateError(str(exc), exc.errors) from exc
