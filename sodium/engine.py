"""Every change of a task's status, and the task writes that go with it."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from sodium import activity, statemachine, timers
from sodium.models import ActivityEvent, Client, Practice, Task, Timer, User

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


class InvalidTransition(statemachine.InvalidTransition):
    """The task cannot move to that status from where it is."""


MACHINE = statemachine.Machine(
    name="task",
    model=Task,
    table=TRANSITIONS,
    verb="task.status",
    subject=lambda task: {"practice": task.practice_id, "task": task},
    error=InvalidTransition,
    refusal=lambda task, to: (
        f"A task that is {task.get_status_display().lower()} cannot become "
        f"{S(to).label.lower() if to in S.values else to}."
    ),
    description="A task's own status; `workflows` completes it when every step is finished.",
)


# Apps that run work when a task starts (workflows runs its automatic steps) register here,
# so the core never imports them. Hooks run inside the starting transaction.
TASK_STARTED_HOOKS: list[Callable[[Task], None]] = []
# The same hooks' bulk forms, `many(tasks)`, for tasks started many at once (a bulk action);
# a hook without one is called task by task.
TASKS_STARTED_HOOKS: dict[Callable[[Task], None], Callable[[list[Task]], None]] = {}
START_TIMER = "task.start"


# Apps whose dates follow a task's (workflows' step due dates and scheduled sends) register
# here; hooks run inside the updating transaction when the start or due date changes.
# Each hook takes the tasks whose dates changed (one, or many from a bulk action).
TASK_DATES_HOOKS: list[Callable[[list[Task]], None]] = []


def register_task_dates_changed(hook: Callable[[list[Task]], None]) -> None:
    """Call `hook(tasks)` whenever tasks' start or due dates change."""
    if hook not in TASK_DATES_HOOKS:
        TASK_DATES_HOOKS.append(hook)


def _run_dates_hooks(tasks: list[Task]) -> None:
    for hook in TASK_DATES_HOOKS:
        hook(tasks)


def register_task_started(
    hook: Callable[[Task], None], *, many: Callable[[list[Task]], None] | None = None
) -> None:
    """Call `hook(task)` whenever a task starts, or `many(tasks)` when many start at once."""
    if hook not in TASK_STARTED_HOOKS:
        TASK_STARTED_HOOKS.append(hook)
    if many is not None:
        TASKS_STARTED_HOOKS[hook] = many


def _run_started_hooks(tasks: list[Task]) -> None:
    if not tasks:
        return
    for hook in TASK_STARTED_HOOKS:
        many = TASKS_STARTED_HOOKS.get(hook)
        if many is not None:
            many(tasks)
        else:
            for task in tasks:
                hook(task)


def is_started(task: Task) -> bool:
    """Return whether the task's automatic work may run: it is in progress (not on hold)."""
    return task.status == S.IN_PROGRESS


def _start_key(task: Task) -> str:
    return f"task:{task.pk}:start"


def start_moment(task: Task) -> dt.datetime:
    """Return the start of the task's start date in the practice's time zone."""
    tz = zoneinfo.ZoneInfo(task.practice.time_zone)
    return dt.datetime.combine(task.start_date, dt.time.min, tzinfo=tz)


def _has_start_timer(task: Task) -> bool:
    return task.status == S.PLANNED and bool(task.start_date)


def _schedule_start(task: Task) -> None:
    """Keep the task's start timer in line with its start date and status."""
    if _has_start_timer(task):
        timers.schedule(
            practice=task.practice_id,
            kind=START_TIMER,
            target_id=task.pk,
            due_at=start_moment(task),
            key=_start_key(task),
        )
    else:
        timers.cancel(_start_key(task))


def _on_timer_start(timer: Timer) -> None:
    task = Task.objects.filter(pk=timer.target_id).first()
    if task is not None and task.status == S.PLANNED:
        change_task_status(task, to=S.IN_PROGRESS, actor=None, note="Its start date came")


timers.register(START_TIMER, _on_timer_start)


def allowed_transitions(task: Task) -> list[tuple[str, str]]:
    """Return (status, button label) pairs for the moves open to `task` now."""
    moves = TRANSITIONS.get(task.status, set())
    labels = dict(ACTION_LABELS)
    if task.status == S.DONE:
        labels[S.IN_PROGRESS] = "Reopen"
    elif task.status == S.ON_HOLD:
        labels[S.IN_PROGRESS] = "Resume"
    return [(status, labels[status]) for status in S.values if status in moves]


CREATED_VERB = "task.created"


def _created_summary(task: Task) -> str:
    return f"Created task {task.name}"


@transaction.atomic
def create_task(*, practice: Practice, client: Client, actor: User, **fields: Any) -> Task:
    """Create a task for a client.

    Writes the task, its `task.created` event and, for a planned task with a start date, its
    start timer. `create_tasks` writes the same for many tasks at once.
    """
    task = Task.objects.create(practice=practice, client=client, **fields)
    activity.record(
        practice=practice,
        actor=actor,
        verb=CREATED_VERB,
        task=task,
        obj=task,
        summary=_created_summary(task),
    )
    _schedule_start(task)
    return task


# The fields `timers.schedule` sets on a timer that already has the key.
_TIMER_FIELDS = ["practice", "kind", "target_id", "due_at", "attempts", "last_error"]


def _schedule_starts(practice_id: int, tasks: list[Task]) -> None:
    """Do `_schedule_start` for many tasks in at most two statements: one upsert on the key
    of the start timers of planned tasks with a start date (what `timers.schedule` does),
    one delete of the others' start keys."""
    timed = [task for task in tasks if _has_start_timer(task)]
    untimed = [_start_key(task) for task in tasks if not _has_start_timer(task)]
    with scopes_disabled():  # timers are keyed across practices, as timers.schedule reads them
        if timed:
            Timer.objects.bulk_create(
                [
                    Timer(
                        practice_id=practice_id,
                        kind=START_TIMER,
                        target_id=task.pk,
                        due_at=start_moment(task),
                        key=_start_key(task),
                        attempts=0,
                        last_error="",
                    )
                    for task in timed
                ],
                update_conflicts=True,
                unique_fields=["key"],
                update_fields=_TIMER_FIELDS,
            )
        if untimed:
            Timer.objects.filter(key__in=untimed).delete()


@transaction.atomic
def create_tasks(*, practice: Practice, actor: User | None, tasks: list[Task]) -> list[Task]:
    """Create many tasks at once, writing for each exactly what `create_task` writes.

    `tasks` are unsaved tasks of `practice` with their client and fields set. Three
    statements whatever their number: the tasks, their `task.created` events (the rows
    `activity.record` writes), and one upsert on the key of the start timers of planned
    tasks with a start date (what `timers.schedule` does); the start keys of the others are
    cancelled, as `create_task` does. Returns the tasks, with their ids.
    """
    if not tasks:
        return []
    for task in tasks:
        task.practice = practice
    Task.objects.bulk_create(tasks)  # PostgreSQL and SQLite 3.35+ return the new ids
    object_type = Task._meta.label_lower
    ActivityEvent.objects.bulk_create(
        ActivityEvent(
            practice_id=practice.pk,
            actor=actor,
            actor_label="",
            verb=CREATED_VERB,
            summary=_created_summary(task)[:300],
            client_id=task.client_id,
            task_id=task.pk,
            object_type=object_type,
            object_id=task.pk,
            old_status="",
            new_status="",
            data={},
        )
        for task in tasks
    )
    _schedule_starts(practice.pk, tasks)
    return tasks


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
    if "start_date" in fields:
        _schedule_start(task)
    if {"start_date", "due_date"} & set(fields):
        _run_dates_hooks([task])
    return task


@transaction.atomic
def change_task_status(task: Task, *, to: str, actor: User | None, note: str = "") -> Task:
    """Move a task to status `to`.

    Raises InvalidTransition unless TRANSITIONS allows the move from the current status.
    """
    task = MACHINE.lock(task)
    old = task.status
    MACHINE.check(task, to)
    task.completed_at = timezone.now() if to == S.DONE else None
    task = MACHINE.transition(
        task,
        to=to,
        actor=actor,
        locked=True,
        fields=["completed_at"],
        summary=f"{S(old).label} → {S(to).label}" + (f": {note}" if note else ""),
    )
    _schedule_start(task)
    if to == S.IN_PROGRESS:  # started, resumed or reopened: automatic work may run
        for hook in TASK_STARTED_HOOKS:
            hook(task)
    return task


# --- many tasks at once (the task list's bulk actions) -------------------------------------


def _lock_many(tasks: list[Task]) -> list[Task]:
    """Return the tasks' rows again (client, owner and practice loaded), locked, by id."""
    return list(
        Task.objects.select_for_update(of=("self",))
        .filter(pk__in=[t.pk for t in tasks])
        .select_related("practice", "client", "owner")
        .order_by("pk")
    )


@transaction.atomic
def change_task_statuses(
    tasks: list[Task], *, to: str, actor: User | None, note: str = ""
) -> tuple[list[Task], dict[int, str]]:
    """Move many tasks (of one practice) to status `to` at once.

    Returns (the tasks moved, {task id: why not} for the others: already there, or a move
    TRANSITIONS forbids; the reason follows the task's name, "is done and cannot become
    on hold"). What `change_task_status` writes for one task, in a fixed number of
    statements whatever their number: one lock, one UPDATE, one INSERT of their events, their
    start timers, and the task-started hooks' bulk forms.
    """
    if to not in S.values:
        raise InvalidTransition("Unknown task status.")
    locked = _lock_many(tasks)
    refused: dict[int, str] = {}
    movable = []
    for task in locked:
        if task.status == to:
            refused[task.pk] = f"is already {S(to).label.lower()}"
            continue
        if to not in TRANSITIONS.get(task.status, set()):
            refused[task.pk] = (
                f"is {task.get_status_display().lower()} and cannot become {S(to).label.lower()}"
            )
            continue
        movable.append(task)
    if not movable:
        return [], refused
    moved = MACHINE.transition_many(
        movable,
        to=to,
        fields={"completed_at": timezone.now() if to == S.DONE else None},
        actor=actor,
        note=note,
        data={"bulk": True},
    )
    _schedule_starts(moved[0].practice_id, moved)
    if to == S.IN_PROGRESS:
        _run_started_hooks(moved)
    return moved, refused


# The task fields a bulk action may set, and how an event words each one's value.
BULK_FIELDS: dict[str, Callable[[Any], str]] = {
    "owner": lambda user: str(user) if user else "nobody",
    "due_date": lambda day: f"{day.day} {day:%b %Y}" if day else "no date",
}


@transaction.atomic
def update_tasks(tasks: list[Task], *, actor: User, **fields: Any) -> list[Task]:
    """Give many tasks (of one practice) the same owner or due date at once.

    Tasks that already have those values are left alone. One lock, one UPDATE and one
    INSERT of their `task.updated` events ("Owner: Sam → Priya"), whatever their number.
    Returns the tasks changed. Raises ValueError for a field not in BULK_FIELDS.
    """
    unknown = set(fields) - set(BULK_FIELDS)
    if unknown:
        raise ValueError(f"Bulk updates cannot set {sorted(unknown)}")
    locked = _lock_many(tasks)
    changed: list[Task] = []
    events = []
    for task in locked:
        words = []
        for name, value in fields.items():
            current = getattr(task, name)
            if current != value:
                label = str(Task._meta.get_field(name).verbose_name).capitalize()
                shown = BULK_FIELDS[name]
                words.append(f"{label}: {shown(current)} → {shown(value)}")
        if not words:
            continue
        changed.append(task)
        events.append(
            activity.build(
                practice=task.practice_id,
                actor=actor,
                verb="task.updated",
                summary="; ".join(words),
                client_id=task.client_id,
                task_id=task.pk,
                obj=task,
                data={"bulk": True},
            )
        )
    if changed:
        Task.objects.filter(pk__in=[t.pk for t in changed]).update(**fields)
        for task in changed:
            for name, value in fields.items():
                setattr(task, name, value)
        activity.bulk_record(events)
        if {"start_date", "due_date"} & set(fields):
            _run_dates_hooks(changed)
    return changed


# --- clients: active or archived ---------------------------------------------------------


@transaction.atomic
def set_client_status(client: Client, *, actor: User, status: str) -> Client:
    """Archive or restore a client."""
    if status not in Client.Status.values:
        raise InvalidTransition("Unknown client status.")
    if client.status == status:
        return client
    old, client.status = client.status, status
    client.save(update_fields=["status"])
    activity.record(
        practice=client.practice,
        actor=actor,
        verb="client.status",
        client=client,
        obj=client,
        old_status=old,
        new_status=status,
        summary="Archived the client"
        if status == Client.Status.ARCHIVED
        else "Restored the client",
    )
    return client
