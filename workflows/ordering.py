"""Place template steps and groups where a manager drops them (drag and drop, Move to group).

The up and down buttons (`building.move_step`, `building.move_group`) move by one place; these
put a step at any place of any group of its template, or a group at any place. Order within a
group is only how the steps are listed — what waits for what is the dependencies — so any
place in the same group is allowed, as with the buttons. A step waits only for steps of its own
group, so a step that waits for others of its group, or that others wait for, is refused a
move to another group with the names of those steps: the manager removes the dependency first.
"""

from __future__ import annotations

from django.db import transaction

from sodium.models import User
from workflows.building import TemplateError, _edited
from workflows.models import TemplateDependency, TemplateGroup, TemplateStep


def _quote(names: list[str]) -> str:
    quoted = [f"“{n}”" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _renumber(items: list, item=None, index: int = 0) -> None:
    """Put `item` at `index` of `items` (it may be new to them) and write changed positions."""
    items = [x for x in items if item is None or x.pk != item.pk]
    if item is not None:
        items.insert(max(0, min(len(items), index)), item)
    for position, x in enumerate(items, start=1):
        if x.position != position:
            type(x).objects.filter(pk=x.pk).update(position=position)
            x.position = position


def group_move_problem(step: TemplateStep, group: TemplateGroup) -> str:
    """Return why `step` cannot move to `group` ("" when it can)."""
    if group.template_id != step.group.template_id:
        return "A step can only move to a group of its own template."
    if group.pk == step.group_id:
        return ""
    waits_for = list(
        TemplateDependency.objects.filter(practice_id=step.practice_id, step=step)
        .order_by("depends_on__position", "depends_on_id")
        .values_list("depends_on__name", flat=True)
    )
    waited_by = list(
        TemplateDependency.objects.filter(practice_id=step.practice_id, depends_on=step)
        .order_by("step__position", "step_id")
        .values_list("step__name", flat=True)
    )
    if not (waits_for or waited_by):
        return ""
    reasons = []
    if waits_for:
        reasons.append(f"it waits for {_quote(waits_for)}")
    if waited_by:
        reasons.append(f"{_quote(waited_by)} wait{'s' if len(waited_by) == 1 else ''} for it")
    return (
        f"“{step.name}” cannot move to {group.name}: {' and '.join(reasons)}, and a step can "
        f"only wait for steps of its own group. Remove that dependency first (Edit the step)."
    )


@transaction.atomic
def place_step(
    step: TemplateStep, *, actor: User, group: TemplateGroup, index: int
) -> TemplateStep:
    """Put `step` at `index` (0 is the top) of `group`, its own group or another of its template.

    Locks both groups' steps. Raises TemplateError (a sentence for people) when the move would
    break a dependency.
    """
    # Re-read under a lock: a concurrent move of the same step may have changed its group.
    step = (
        TemplateStep.objects.select_for_update()
        .select_related("group__template")
        .get(practice_id=step.practice_id, pk=step.pk)
    )
    source = step.group
    locked = TemplateStep.objects.select_for_update().filter(
        practice_id=step.practice_id, group_id__in={source.pk, group.pk}
    )
    rows = list(locked.order_by("position", "id"))
    problem = group_move_problem(step, group)
    if problem:
        raise TemplateError(problem)
    if group.pk != source.pk:
        TemplateStep.objects.filter(pk=step.pk).update(group=group)
        step.group = group
        _renumber([s for s in rows if s.group_id == source.pk and s.pk != step.pk])
    _renumber([s for s in rows if s.group_id == group.pk], step, index)
    where = f"to {group.name}" if group.pk != source.pk else f"within {group.name}"
    _edited(
        group.template,
        actor=actor,
        verb="template.step_moved",
        obj=step,
        summary=f"Moved the step {step.name} {where} (place {index + 1})",
    )
    return step


@transaction.atomic
def place_group(group: TemplateGroup, *, actor: User, index: int) -> TemplateGroup:
    """Put `group` at `index` (0 is the top) of its template's groups."""
    rows = list(
        TemplateGroup.objects.select_for_update()
        .filter(practice_id=group.practice_id, template_id=group.template_id)
        .order_by("position", "id")
    )
    _renumber(rows, group, index)
    _edited(
        group.template,
        actor=actor,
        verb="template.group_moved",
        obj=group,
        summary=f"Moved the group {group.name} to place {index + 1}",
    )
    return group
