"""Every change of a task's status, and the task writes that go with it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from sodium import activity
from sodium.models import Client, Practice, Task, User

S = Task.Status

TRANSITIONS: dict[str, set[str]] = {
    S.PLANNED: {S.IN_PROGRESS, S.ON_HOLD, S.DONE, S.CANCELLED},
    S.IN_PROGRESS: {S.ON_HOLD, S.DONE, S.CANCELLED},
    S.ON_HOLD: {S.IN_PROGRESS, S.CANCELLED},
    S.DONE: {S.IN_PROGRESS},
    S.CANCELLED: {S.PLANNED},
}

ACTION_LABELS: dict[str, str] = {
    S.IN_PROGRESS: "Start",
    S.ON_HOLD: "Put on hold",
    S.DONE: "Mark done",
    S.CANCELLED: "Cancel",
    S.PLANNED: "Reopen",
}


class InvalidTransition(Exception):
    """The task cannot move to that status from where it is."""


def allowed_transitions(task: Task) -> list[tuple[str, str]]:
    """Return (status, button label) pairs for the moves open to `task` now."""
    moves = TRANSITIONS.get(task.status, set())
    labels = dict(ACTION_LABELS)
    if task.status == S.DONE:
        labels[S.IN_PROGRESS] = "Reopen"
    elif task.status == S.ON_HOLD:
        labels[S.IN_PROGRESS] = "Resume"
    return [(status, labels[status]) for status in S.values if status in moves]


@transaction.atomic
def create_task(*, practice: Practice, client: Client, actor: User, **fields: Any) -> Task:
    """Create a task for a client."""
    task = Task.objects.create(practice=practice, client=client, **fields)
    activity.record(
        practice=practice,
        actor=actor,
        verb="task.created",
        task=task,
        obj=task,
        summary=f"Created task {task.name}",
    )
    return task


@transaction.atomic
def update_task(task: Task, *, actor: User, **fields: Any) -> Task:
    """Change a task's details (not its status)."""
    fields.pop("status", None)
    changed = activity.changed_fields(task, fields)
    for name, value in fields.items():
        setattr(task, name, value)
    task.save(update_fields=list(fields))
    if changed:
        activity.record(
            practice=task.practice,
            actor=actor,
            verb="task.updated",
            task=task,
            obj=task,
            summary=f"Changed {', '.join(changed)}",
        )
    return task


@transaction.atomic
def change_task_status(task: Task, *, to: str, actor: User | None, note: str = "") -> Task:
    """Move a task to status `to`.

    Raises InvalidTransition unless TRANSITIONS allows the move from the current status.
    """
    task = Task.objects.select_for_update().get(pk=task.pk)
    if to not in TRANSITIONS.get(task.status, set()):
        raise InvalidTransition(
            f"A task that is {task.get_status_display().lower()} cannot become "
            f"{S(to).label.lower() if to in S.values else to}."
        )
    old = task.status
    task.status = to
    task.completed_at = timezone.now() if to == S.DONE else None
    task.save(update_fields=["status", "completed_at"])
    activity.record(
        practice=task.practice,
        actor=actor,
        actor_label="" if actor else "System",
        verb="task.status",
        task=task,
        obj=task,
        old_status=old,
        new_status=to,
        summary=f"{S(old).label} → {S(to).label}" + (f": {note}" if note else ""),
    )
    return task
