"""Per-task changes that leave a step's status alone: reassign it, edit its content for this
task, tick its checklist. The template is never touched. (Status changes, and adding a
one-off step, are in workflows.engine.)
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from sodium import activity
from sodium.models import Team, User
from workflows.engine import S, WorkflowError
from workflows.models import ChecklistItem, Step


def _lock(step: Step) -> Step:
    # Not on the engine's hot path: the ORM's row lock is plain enough here.
    return Step.objects.select_for_update(of=("self",)).select_related("task").get(pk=step.pk)


@transaction.atomic
def reassign_step(
    step: Step, *, actor: User, assignee: User | None, team: Team | None = None
) -> Step:
    """Give an open step to another member or team, or leave it unassigned."""
    step = _lock(step)
    if not step.is_open:
        raise WorkflowError("Finished steps keep the person who did them.")
    step.assignee, step.assignee_team = assignee, team
    step.assignment_note = "" if (assignee or team) else "Left unassigned for anyone to pick up."
    step.save(update_fields=["assignee", "assignee_team", "assignment_note"])
    who = str(assignee) if assignee else (f"team {team}" if team else "nobody")
    activity.record(
        practice=step.practice_id,
        actor=actor,
        verb="step.reassigned",
        task=step.task,
        obj=step,
        summary=f"{step.name}: assigned to {who}",
    )
    return step


EDITABLE = (
    "name",
    "description",
    "subject",
    "body",
    "content_block",
    "to_recipients",
    "cc_recipients",
    "settings",
    "mode",
)


@transaction.atomic
def edit_step(step: Step, *, actor: User, **fields: Any) -> Step:
    """Change an open step's content for this task only.

    Raises WorkflowError with the problems when the result is not a valid step.
    """
    step = _lock(step)
    if not step.is_open or step.status == S.IN_PROGRESS:
        raise WorkflowError("Only steps that have not run yet can be edited.")
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise WorkflowError(f"These cannot be edited: {', '.join(sorted(unknown))}.")
    fields, detached = _own_email(step, fields)
    for name, value in fields.items():
        setattr(step, name, value)
    from workflows.step_types import config_errors

    errors = config_errors(step)
    if errors:
        raise WorkflowError(" ".join(p for ps in errors.values() for p in ps))
    step.save(update_fields=list(fields))
    activity.record(
        practice=step.practice_id,
        actor=actor,
        verb="step.edited",
        task=step.task,
        obj=step,
        summary=f"Edited {step.name} for this task"
        + (f" (its own copy of the content block {detached.name})" if detached else ""),
    )
    return step


def _own_email(step: Step, fields: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """Return the fields to save and the content block the step leaves, if it leaves one.

    The edit form shows what the step sends now (its block, its own text or its type's
    default email). Sent back unchanged, the step keeps sending that, so later edits to the
    block still reach it; changed, the step gets its own copy and leaves the block, since
    handlers.step_content prefers a block to the step's own text.
    """
    if "content_block" in fields or not ({"subject", "body"} & set(fields)):
        return fields, None
    from workflows.handlers import step_content

    wanted = (fields.get("subject", step.subject), fields.get("body", step.body))
    if _same_text(wanted, step_content(step)):
        return {k: v for k, v in fields.items() if k not in ("subject", "body")}, None
    detached = step.content_block if step.content_block_id else None
    return {**fields, "content_block": None}, detached


def _same_text(a: tuple[str, str], b: tuple[str, str]) -> bool:
    # Browsers send textareas with CRLF line ends, and forms strip the ends.
    def norm(pair: tuple[str, str]) -> tuple[str, ...]:
        return tuple((text or "").replace("\r\n", "\n").strip() for text in pair)

    return norm(a) == norm(b)


@transaction.atomic
def set_checklist_item(item: ChecklistItem, *, actor: User, done: bool) -> ChecklistItem:
    """Tick or untick a checklist item."""
    item = (
        ChecklistItem.objects.select_for_update(of=("self",))
        .select_related("step", "step__task")
        .get(pk=item.pk)
    )
    if item.done == done:
        return item
    item.done = done
    item.done_by = actor if done else None
    item.done_at = timezone.now() if done else None
    item.save(update_fields=["done", "done_by", "done_at"])
    activity.record(
        practice=item.practice_id,
        actor=actor,
        verb="checklist.ticked",
        task=item.step.task,
        obj=item,
        summary=f"{'Ticked' if done else 'Unticked'} “{item.text}” on {item.step.name}",
    )
    return item
