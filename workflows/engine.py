"""Every change of a step's status, and adding a one-off step (other per-task edits: customise).

Each transition runs in one transaction: lock the step, check the move against TRANSITIONS,
write the status and an activity event, unblock dependents, and enqueue automatic work with
transaction.on_commit. Celery tasks re-read and re-check, so a duplicate delivery is a no-op.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from sodium import activity, dispatch, rows, statemachine, timers
from sodium import engine as core_engine
from sodium.models import Service, Task, User
from sodium.sql import Table, scoped, scoped_sql
from sodium.tenancy import current_practice_id
from workflows import handlers, scheduling, step_types
from workflows.handlers import Draft, StepFailure
from workflows.models import (
    ChecklistItem,
    ContentBlock,
    Mode,
    SendRule,
    Step,
    StepDependency,
    StepGroup,
    WorkflowTemplate,
)

S = Step.Status

TRANSITIONS: dict[str, set[str]] = {
    S.BLOCKED: {S.READY, S.SKIPPED},
    S.READY: {S.IN_PROGRESS, S.DONE, S.SKIPPED, S.FAILED},
    S.IN_PROGRESS: {S.DONE, S.FAILED, S.SKIPPED},
    S.FAILED: {S.READY, S.BLOCKED, S.SKIPPED},
    S.SKIPPED: {S.READY, S.BLOCKED},
    S.DONE: set(),
}


class InvalidTransition(statemachine.InvalidTransition):
    """The step cannot move to that status from where it is."""


MACHINE = statemachine.Machine(
    name="step",
    model=Step,
    table=TRANSITIONS,
    verb="step.status",
    subject=lambda step: {"practice": step.practice_id, "task": step.task},
    error=InvalidTransition,
    label=lambda step: step.name,
    refusal=lambda step, to: (
        f"“{step.name}” is {step.get_status_display().lower()}; it cannot become "
        f"{S(to).label.lower() if to in S.values else to}."
    ),
    description=(
        "A workflow step. Only `workflows.engine` moves it; client-facing types add a "
        "sub-status (awaiting response, submitted, rejected, approved, confirmed)."
    ),
)


class WorkflowError(Exception):
    """A per-task change the rules refuse; the message is for the user."""


class UntickedChecklist(WorkflowError):
    """The step still has checklist items nobody ticked; marking it done needs a confirmation."""

    def __init__(self, step: Step, items: list[str]) -> None:
        self.step, self.items = step, items
        n = len(items)
        super().__init__(
            f"“{step.name}” has {n} unticked checklist item{'s' if n != 1 else ''}: "
            f"{', '.join(items)}. Mark it done anyway?"
        )


# --- transitions ------------------------------------------------------------------------------


# The statements every transition runs are written out here rather than built by the ORM:
# building and compiling a query costs several times what PostgreSQL spends running it, and
# the engine must sustain hundreds of transitions a second (DESIGN, budgets). Their names come
# from the models and their practice filter from `sodium.sql.scoped`, as the scoped managers
# would add it. On PostgreSQL the connection prepares them
# (settings: server-side binding), so their joins are planned once per connection.

# What a transition reads with its locked step, and what a handler renders from besides.
_WITH_TASK = ("task",)
_FOR_HANDLER = ("task", "task__practice", "task__client", "task__owner")


@functools.cache
def _step_query(vendor: str, related: tuple[str, ...]) -> rows.Joined:
    return rows.joined(Step, related)


def _for_update(of: str = "") -> str:
    # SQLite has no row locks; its IMMEDIATE transactions already serialise writers.
    if not connection.features.has_select_for_update:
        return ""
    return f" FOR UPDATE OF {of}" if of else " FOR UPDATE"


def _practice_for(step_id: int, known: int | None = None) -> int | None:
    # The practice a hand-written statement about this step is scoped to: the scope in force
    # when there is one; else (scopes disabled: tests, a script) the caller's step's own, or,
    # given only an id, the one its row names.
    practice_id = current_practice_id()
    if practice_id is not None:
        return practice_id
    if known is not None:
        return known
    return practice_of_step(step_id)


def practice_of_step(step_id: int) -> int | None:
    """Return the practice of the step with this id, in any practice; None when there is none.

    Cross-tenant by design: a worker task names a step, not a practice, and must open the
    step's own scope before it touches anything else.
    """
    # Every automatic step's task asks this first: a statement written out once costs a
    # fifth of what the ORM spent building the same one (which also joined the step's group).
    with connection.cursor() as cursor:
        cursor.execute(_practice_of_step_sql(), [step_id])
        row = cursor.fetchone()
    return row[0] if row else None


@functools.cache
def _practice_of_step_sql() -> str:
    s = Table(Step)
    return f"SELECT {s.practice} FROM {s} WHERE {s.id} = %s"


def _locked_step(
    step_id: int, related: tuple[str, ...] = _WITH_TASK, *, practice_id: int | None = None
) -> Step | None:
    # Only the step's row is locked (FOR UPDATE OF t0), not its task's or client's.
    practice_id = _practice_for(step_id, practice_id)
    if practice_id is None:
        return None
    query = _step_query(connection.vendor, related)
    found = rows.fetch_joined(query, _lock_where(connection.vendor), [step_id, practice_id])
    return found[0] if found else None


# The hot statements' texts never change in a process: each is built once (per database
# vendor, for the lock clause) and run with the practice id after its own parameters.
@functools.cache
def _lock_where(vendor: str) -> str:
    t0 = Table(Step, "t0")
    return scoped_sql(f"WHERE {t0.id} = %s", t0) + _for_update("t0")


@functools.cache
def _dependents_sql(vendor: str) -> str:
    # Each dependent of a step, and how many steps it waits for in all.
    d, o = Table(StepDependency, "d"), Table(StepDependency, "o")
    others = scoped_sql(f"SELECT count(*) FROM {o} WHERE {o.step} = {d.step}", o)
    where = scoped_sql(f"WHERE {d.depends_on} = %s", d)
    return f"SELECT {d.step}, ({others}) FROM {d} {where}"


@functools.cache
def _blocked_sql(vendor: str, n: int) -> str:
    # The blocked ones among n steps, locked in pk order.
    s = Table(Step)
    where = scoped_sql(f"WHERE {s.id} IN ({_marks(range(n))}) AND {s.status} = %s", s)
    return f"SELECT * FROM {s} {where} ORDER BY {s.id}{_for_update()}"


def _lock(step: Step) -> Step:
    """Return the step's row, locked until the transaction ends, with its task.

    Raises Step.DoesNotExist when there is no such step in the practice in scope.
    """
    locked = _locked_step(step.pk, practice_id=step.practice_id)
    if locked is None:
        raise Step.DoesNotExist(f"No step {step.pk} in this practice.")
    return locked


def _enqueue_run(step: Step) -> None:
    from workflows import tasks  # the module, not the function: tasks imports the engine

    step_id = step.pk
    dispatch.enqueue_on_commit(tasks.run_step_task, step_id)


def _transition(
    step: Step,
    *,
    to: str,
    actor: User | None,
    note: str = "",
    sub_status: str | None = None,
    reason: str = "",
    fields: tuple[str, ...] = (),
) -> Step:
    """Move a locked step to `to`; the one place a step's status is written.

    The core helper checks the move, records the activity event and runs hooks; the row is
    written by the hot path's prepared UPDATE (`rows.update`), not `save()`. `fields` are
    other fields the caller set on the step (its deadline), written and logged with it.
    """
    MACHINE.check(step, to)
    now = timezone.now()
    old = step.status
    written = list(fields)
    # A sub-status says where an in-progress step stands with the client; a step that leaves
    # in progress keeps only the outcome it is given (approved, confirmed…), never a stale
    # "awaiting response" beside "skipped" or "failed".
    if sub_status is None and to != S.IN_PROGRESS and step.sub_status:
        sub_status = Step.SubStatus.NONE
    if sub_status is not None:
        step_types.check_sub_status(step.type, sub_status)
        step.sub_status = sub_status
        written.append("sub_status")
    if to == S.READY:
        step.ready_at = now
        written.append("ready_at")
        if scheduling.deadline_when_ready(step, now):
            written.append("deadline")
    elif step.scheduled_for is not None:
        # Sent, skipped or failed while it waited for its send date: the wait is over.
        step.scheduled_for = None
        written.append("scheduled_for")
        timers.cancel(scheduling.send_key(step))
    if to == S.IN_PROGRESS:
        step.started_at = now
        written.append("started_at")
    if to in Step.FINISHED:
        step.completed_at = now
        written.append("completed_at")
    elif step.completed_at is not None:
        step.completed_at = None
        written.append("completed_at")
    step.failure_reason = reason if to == S.FAILED else ""
    written.append("failure_reason")
    summary = f"{step.name}: {S(old).label} → {S(to).label}"
    if note or reason:
        summary += f" · {note or reason}"
    data: dict[str, Any] = {"sub_status": step.sub_status}
    if "deadline" in written:
        data["deadline"] = step.deadline.isoformat() if step.deadline else None
    MACHINE.transition(
        step,
        to=to,
        actor=actor,
        locked=True,
        fields=written,
        write=rows.update,
        summary=summary,
        data=data,
    )
    if to in Step.FINISHED:
        step_types.cancel_declared_timers(step)  # the timer kinds its type declares
        handlers.finished(step)  # the type's own clean-up, if it has any
        _unblock_dependents(step)
    if to == S.READY and step.mode == Mode.AUTOMATIC and core_engine.is_started(step.task):
        _dispatch(step, now)
    return step


def _dispatch(step: Step, now: dt.datetime) -> None:
    # A ready automatic step on a started task runs now, unless its send rule holds it.
    if not scheduling.schedule_if_due_later(step, now):
        _enqueue_run(step)


def _unblock_dependents(step: Step) -> None:
    # Lock the blocked dependents before checking their other dependencies. Two transactions
    # that finish a step's two dependencies at once then queue on this lock, and the second
    # one's check (a new statement, so a fresh READ COMMITTED snapshot) sees the first one's
    # commit. Rows are locked in pk order, so two finishing steps cannot deadlock here. Each
    # statement looks rows up by an index the planner cannot mistake, even on a table whose
    # statistics are stale after a large attach; most steps have no dependents and stop at one.
    practice_id = step.practice_id
    with connection.cursor() as cursor:
        cursor.execute(_dependents_sql(connection.vendor), [practice_id, step.pk, practice_id])
        dependencies = dict(cursor.fetchall())  # dependent -> how many steps it waits for
    if not dependencies:
        return
    blocked = rows.fetch(
        Step,
        _blocked_sql(connection.vendor, len(dependencies)),
        [*dependencies, S.BLOCKED, practice_id],
    )
    # A dependent that waits only for this step (the common case) has nothing left to check.
    others = [b.pk for b in blocked if dependencies[b.pk] > 1]
    waiting: set[int] = set()
    if others:
        d, p = Table(StepDependency, "d"), Table(Step, "p")
        where, params = scoped(
            f"WHERE {d.step} IN ({_marks(others)}) AND {p.status} NOT IN (%s, %s)",
            [*others, *Step.FINISHED],
            practice_id,
            d,
            p,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {d.step} FROM {d} JOIN {p} ON {p.id} = {d.depends_on} {where}", params
            )
            waiting = {row[0] for row in cursor.fetchall()}
    for dependent in blocked:
        if dependent.pk in waiting:
            continue
        dependent.task = step.task  # same task, already loaded
        _transition(dependent, to=S.READY, actor=None, note="Its dependencies are finished")


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


def allowed_transitions(step: Step) -> set[str]:
    return TRANSITIONS.get(step.status, set())


# --- running steps ----------------------------------------------------------------------------


def run_step(step_id: int) -> Step | None:
    """Run an automatic step that is ready, on a started task; otherwise do nothing.

    Safe to call twice: the second call finds the step no longer ready. When the handler
    fails, everything it wrote is rolled back and the step is marked failed with the reason.
    """
    try:
        with transaction.atomic():
            step = _runnable(step_id)
            if step is None:
                return None
            outcome = handlers.get(step.type).run(step)
            return _apply(step, outcome, actor=None)
    except StepFailure as exc:
        reason = str(exc)
    # The run's transaction is rolled back (no savepoint on the way that succeeds, which is
    # nearly every run); record the failure in a new one, if the step is still there to fail.
    with transaction.atomic():
        step = _runnable(step_id)
        if step is None:
            return None
        return _transition(step, to=S.FAILED, actor=None, reason=reason)


def _runnable(step_id: int) -> Step | None:
    # The step, locked, with what its handler renders from, if it may run now.
    step = _locked_step(step_id, _FOR_HANDLER)
    if step is None or step.status != S.READY or step.mode != Mode.AUTOMATIC:
        return None
    # Whether a type may run by itself is its declaration's (no database rule names types).
    if step_types.mode_errors(step.type, step.mode):
        return None
    if not core_engine.is_started(step.task) or scheduling.is_held(step, timezone.now()):
        return None
    _load_for_handler(step)
    return step


def _load_for_handler(step: Step) -> None:
    # The rest of what handlers render from, by primary key, only where there is one. By
    # default the task owner does the steps: then the assignee is the row already read.
    task = step.task
    task.service = rows.get(Service, task.service_id, practice_id=step.practice_id)
    same = step.assignee_id == task.owner_id
    step.assignee = task.owner if same else rows.get(User, step.assignee_id)
    step.content_block = rows.get(ContentBlock, step.content_block_id, practice_id=step.practice_id)


def draft_step_message(step: Step) -> Draft:
    """Render the message a manual step would send, for the composer."""
    step = Step.objects.select_related(
        "task",
        "task__practice",
        "task__client",
        "task__owner",
        "task__service",
        "content_block",
        "assignee",
    ).get(pk=step.pk)
    return handlers.get(step.type).draft(step)


@transaction.atomic
def send_step_message(step: Step, draft: Draft, *, actor: User) -> Step:
    """Send the (edited) draft of a manual step and apply the result.

    Raises InvalidTransition unless the step is ready; StepFailure with the reason when the
    draft cannot be sent (nothing changes then).
    """
    step = _lock(step)
    if step.status != S.READY:
        raise InvalidTransition(f"“{step.name}” is {step.get_status_display().lower()}.")
    with transaction.atomic():
        outcome = handlers.get(step.type).send(step, draft, actor=actor)
    return _apply(step, outcome, actor=actor)


def _apply(step: Step, outcome: handlers.Outcome, *, actor: User | None) -> Step:
    # A handler's outcome: the status it reached, and the deadline it set, if any.
    fields: tuple[str, ...] = ()
    if outcome.sets_deadline:
        step.deadline = outcome.deadline
        fields = ("deadline",)
    return _transition(
        step,
        to=outcome.status,
        actor=actor,
        note=outcome.note,
        sub_status=outcome.sub_status,
        fields=fields,
    )


@transaction.atomic
def complete_step(step: Step, *, actor: User, require_checklist: bool = False) -> Step:
    """Mark a ready simple step done; dependents unblock.

    With `require_checklist`, a step with unticked checklist items is refused with
    UntickedChecklist (the person confirms, then calls again without it). Raises
    InvalidTransition for other types (they complete through their own flow).
    """
    step = _lock(step)
    if step.type != "simple":
        raise InvalidTransition(
            f"“{step.name}” completes when its message or client response does."
        )
    if require_checklist and S.DONE in allowed_transitions(step):
        unticked = list(
            ChecklistItem.objects.filter(practice_id=step.practice_id, step=step, done=False)
            .order_by("position", "id")
            .values_list("text", flat=True)
        )
        if unticked:
            raise UntickedChecklist(step, unticked)
    return _transition(step, to=S.DONE, actor=actor)


@transaction.atomic
def skip_step(step: Step, *, actor: User, note: str = "") -> Step:
    """Skip a step that does not apply to this task; dependents treat it as finished."""
    step = _lock(step)
    step = _transition(step, to=S.SKIPPED, actor=actor, note=note or "Skipped")
    handlers.withdraw(step)  # the client is no longer asked (a document request closes)
    return step


@transaction.atomic
def restore_step(step: Step, *, actor: User) -> Step:
    """Bring back a skipped step: ready when its dependencies are finished, else blocked."""
    step = _lock(step)
    if step.status != S.SKIPPED:
        raise InvalidTransition(f"“{step.name}” is not skipped.")
    waiting = step.dependencies.exclude(depends_on__status__in=Step.FINISHED).exists()
    return _transition(step, to=S.BLOCKED if waiting else S.READY, actor=actor, note="Restored")


@transaction.atomic
def retry_step(step: Step, *, actor: User) -> Step:
    """Put a failed step back to ready (blocked if a dependency was reopened meanwhile); an
    automatic one runs again at once."""
    step = _lock(step)
    if step.status != S.FAILED:
        raise InvalidTransition(f"“{step.name}” has not failed, so there is nothing to retry.")
    waiting = step.dependencies.exclude(depends_on__status__in=Step.FINISHED).exists()
    return _transition(step, to=S.BLOCKED if waiting else S.READY, actor=actor, note="Retried")


@transaction.atomic
def mark_in_progress(step: Step, *, actor: User | None, sub_status: str, note: str = "") -> Step:
    """Move a ready step to in progress with a client-facing sub-status (for plug-ins)."""
    step = _lock(step)
    return _transition(step, to=S.IN_PROGRESS, actor=actor, sub_status=sub_status, note=note)


SS = Step.SubStatus

# Where an in-progress client-facing step stands with the client, between the status moves
# (which set or clear the sub-status themselves, in the step's own event).
SUB_STATUS_MACHINE = statemachine.Machine(
    name="step sub-status",
    model=Step,
    field="sub_status",
    table={
        SS.AWAITING_RESPONSE: {SS.SUBMITTED, SS.REJECTED},
        SS.SUBMITTED: {SS.REJECTED},
        SS.REJECTED: {SS.AWAITING_RESPONSE, SS.SUBMITTED},
    },
    verb="step.sub_status",
    subject=lambda step: {"practice": step.practice_id, "task": step.task},
    error=InvalidTransition,
    label=lambda step: step.name,
    description=(
        "While a client-facing step is in progress (`set_sub_status`). Moving the step's "
        "status sets its sub-status with it: awaiting response when it is sent, its outcome "
        "(approved, accepted, confirmed) when it is done, none when it leaves in progress."
    ),
)


@transaction.atomic
def set_sub_status(step: Step, *, sub_status: str, actor: User | None, note: str) -> Step:
    """Change an in-progress step's sub-status (submitted, rejected…) and log it.

    Raises InvalidTransition unless the step is in progress and the sub-status table allows
    the move.
    """
    step = _lock(step)
    if step.status != S.IN_PROGRESS:
        raise InvalidTransition(f"“{step.name}” is not waiting on the client.")
    step_types.check_sub_status(step.type, sub_status)
    return SUB_STATUS_MACHINE.transition(
        step,
        to=sub_status,
        actor=actor,
        actor_label="" if actor else "Client",
        locked=True,
        write=rows.update,
        summary=f"{step.name}: {note}",
    )


@transaction.atomic
def finish_client_step(step: Step, *, actor: User | None, sub_status: str, note: str) -> Step:
    """Complete an in-progress client-facing step (approved, confirmed, accepted)."""
    step = _lock(step)
    return _transition(step, to=S.DONE, actor=actor, sub_status=sub_status, note=note)


def complete_task(task: Task, *, actor: User) -> Task:
    """Complete a task whose steps are all finished (done or skipped), through the task engine.

    Raises WorkflowError while a step is still open (someone may have added one since the
    page offered it), and sodium.engine.InvalidTransition when the task's status does not
    allow it (on hold, cancelled, already done).
    """
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task.pk)
        still_open = Step.objects.filter(practice_id=task.practice_id, task=task).exclude(
            status__in=Step.FINISHED
        )
        n = still_open.count()
        if n:
            raise WorkflowError(
                f"{n} step{'s are' if n != 1 else ' is'} still open; finish or skip "
                f"{'them' if n != 1 else 'it'} first."
            )
        if not Step.objects.filter(practice_id=task.practice_id, task=task).exists():
            raise WorkflowError("This task has no steps to complete.")
        return core_engine.change_task_status(
            task, to=Task.Status.DONE, actor=actor, note="Every step is finished"
        )


def lock_step(step: Step) -> Step:
    """Return the step's row locked until the transaction ends, with what handlers render
    from (task, practice, client, owner, assignee, content block).

    For plug-ins that must hold the step still while they change their own rows (sending a
    document for approval); only the engine writes the step. Raises Step.DoesNotExist when
    there is no such step in the practice in scope.
    """
    locked = _locked_step(step.pk, _FOR_HANDLER, practice_id=step.practice_id)
    if locked is None:
        raise Step.DoesNotExist(f"No step {step.pk} in this practice.")
    _load_for_handler(locked)
    return locked


@transaction.atomic
def record_chase(step: Step, *, number: int, limit: int, in_round: int | None = None) -> Step:
    """Record that chase `number` of the step was sent, `in_round` of `limit` since the
    client was last asked (a returned submission starts a new round; default: `number`).

    Locks the step, writes its chase count and logs the chase. Raises InvalidTransition
    unless the step is in progress (a step that finished meanwhile is not chased).
    """
    step = _lock(step)
    if step.status != S.IN_PROGRESS:
        raise InvalidTransition(f"“{step.name}” is not waiting on the client.")
    step.chase_count = number
    rows.update(step, ["chase_count"])
    activity.record(
        practice=step.practice_id,
        actor=None,
        actor_label="System",
        verb="step.chased",
        task=step.task,
        obj=step,
        summary=f"{step.name}: chase {in_round or number} of {limit} sent",
    )
    return step


# --- per-task customisation (the template is never touched) ----------------------------------


@transaction.atomic
def add_step(
    task: Task,
    *,
    group: StepGroup,
    actor: User,
    depends_on: list[Step] | None = None,
    assignee: User | None = None,
    **config: Any,
) -> Step:
    """Add a one-off step to one of the task's groups (after its last step)."""
    if group.task_id != task.pk:
        raise WorkflowError("That group belongs to another task.")
    depends_on = depends_on or []
    if any(d.group_id != group.pk for d in depends_on):
        raise WorkflowError("A step can only depend on steps of its own group.")
    last = group.steps.order_by("-position").values_list("position", flat=True).first()
    step = Step(
        practice_id=task.practice_id,
        task=task,
        group=group,
        position=(last or 0) + 1,
        assignee=assignee,
        **config,
    )
    from workflows.step_types import config_errors

    errors = config_errors(step)
    if errors:
        raise WorkflowError(" ".join(p for ps in errors.values() for p in ps))
    waiting = any(d.status not in Step.FINISHED for d in depends_on)
    step.status = S.BLOCKED if waiting else S.READY
    step.ready_at = None if waiting else timezone.now()
    if not assignee:
        step.assignment_note = "Left unassigned for anyone to pick up."
    step.save()
    StepDependency.objects.bulk_create(
        StepDependency(practice_id=task.practice_id, step=step, depends_on=d) for d in depends_on
    )
    activity.record(
        practice=task.practice_id,
        actor=actor,
        verb="step.added",
        task=task,
        obj=step,
        summary=f"Added the step {step.name} to this task",
    )
    if step.status == S.READY and step.mode == Mode.AUTOMATIC and core_engine.is_started(task):
        _dispatch(step, timezone.now())
    return step


# --- task start and the safety net -------------------------------------------------------------


def run_automatic_steps(task: Task) -> int:
    """Enqueue every ready automatic step of a task that has just started."""
    return run_automatic_steps_of_tasks([task])


def run_automatic_steps_of_tasks(tasks: list[Task]) -> int:
    """Enqueue the ready automatic steps of tasks that have just started (one, or many from a
    bulk action): one read and one write whatever their number.

    Steps with a send rule are held until their moment instead, one by one (one already
    held, on a task resumed from hold, keeps its moment).
    """
    now = timezone.now()
    runnable = (
        Step.objects.filter(task__in=[t.pk for t in tasks], status=S.READY, mode=Mode.AUTOMATIC)
        .exclude(scheduled_for__gt=now)
        .values_list("pk", "practice_id", "send_rule")
    )
    ids, held = [], []
    for pk, practice_id, rule in runnable:
        if rule == SendRule.NOW:
            ids.append(pk)
        else:
            held.append(Step(pk=pk, practice_id=practice_id))
    # They become runnable now: the sweep's safety net counts its minute from here, so the
    # sweep that starts the task does not enqueue them a second time.
    if ids:
        Step.objects.filter(pk__in=ids).update(ready_at=now)
    ids += dispatch_held(held, now)
    from workflows import tasks as celery_tasks

    for step_id in ids:
        dispatch.enqueue_on_commit(celery_tasks.run_step_task, step_id)
    return len(ids)


def dispatch_held(steps: list[Step], now: dt.datetime) -> list[int]:
    """Hold each ready automatic step with a send rule until its moment; return the ids of
    those whose moment has come (the caller enqueues them)."""
    due = []
    for step in steps:
        step = _lock(step)
        if not scheduling.schedule_if_due_later(step, now):
            due.append(step.pk)
    return due


core_engine.register_task_started(run_automatic_steps, many=run_automatic_steps_of_tasks)
core_engine.register_task_dates_changed(scheduling.follow_task_dates)


# --- scheduled sends: send now, reschedule, and the send timer ---------------------------------


@transaction.atomic
def send_scheduled_now(step: Step, *, actor: User) -> Step:
    """Send a step that waits for its send date now ("Send now").

    Raises scheduling.ScheduleRefused unless the step is ready and waiting.
    """
    step = scheduling.release(_lock(step), actor=actor)
    _enqueue_run(step)
    return step


@transaction.atomic
def reschedule_send(step: Step, *, moment: dt.datetime, actor: User) -> Step:
    """Move the moment a waiting step goes out.

    Raises scheduling.ScheduleRefused unless the step is ready and waiting, or for a moment
    in the past.
    """
    return scheduling.reschedule(_lock(step), moment, actor=actor)


def _on_send_timer(timer: timers.Timer) -> None:
    # The step's moment has come: run it (run_step re-checks that it still waits to run).
    from workflows import tasks

    step_id = timer.target_id
    dispatch.enqueue_on_commit(tasks.run_step_task, step_id)


timers.register(scheduling.SEND_TIMER, _on_send_timer)


def redispatch_ready_steps(now: dt.datetime, limit: int = 500) -> int:
    """Re-enqueue automatic steps left ready for over a minute on started tasks (safety net)."""
    from workflows import tasks

    cutoff = now - dt.timedelta(minutes=1)
    # Cross-tenant by design: the sweep serves every practice; run_step re-checks each step.
    with scopes_disabled():
        ids = list(
            Step.objects.filter(
                status=S.READY,
                mode=Mode.AUTOMATIC,
                ready_at__lte=cutoff,
                task__status=Task.Status.IN_PROGRESS,
            )
            .order_by("ready_at")
            .values_list("pk", flat=True)[:limit]
        )
    for step_id in ids:
        tasks.run_step_task.delay(step_id)
    return len(ids)


timers.register_safety_net("workflows.ready_steps", redispatch_ready_steps)


# --- templates: active or archived -------------------------------------------------------


@transaction.atomic
def set_template_status(
    template: WorkflowTemplate, *, actor: User, status: str
) -> WorkflowTemplate:
    """Archive or restore a template; archived ones cannot be attached to new tasks.

    Raises InvalidTransition for an unknown status.
    """
    if status not in WorkflowTemplate.Status.values:
        raise InvalidTransition("Unknown template status.")
    template.status, template.updated_at = status, timezone.now()
    template.save(update_fields=["status", "updated_at"])
    activity.record(
        practice=template.practice,
        actor=actor,
        verb="template.status",
        obj=template,
        new_status=status,
        summary=f"{'Archived' if status == 'archived' else 'Restored'} {template.name}",
    )
    return template
