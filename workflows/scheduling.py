"""Writes of a step's dates: its due date (`deadline`) and its scheduled send.

`workflows.timing` works the dates out; this module writes them, with their activity events
and the `step.send` timer. No status changes here: a step waiting for its send date is
`ready`, and the engine runs it when the timer (or, a minute late, the sweep's safety net)
finds it due. A scheduled step's `ready_at` is its send moment, so the safety net, which
counts a minute from `ready_at`, never sends it early.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from sodium import activity, dispatch, rows, timers
from sodium.models import Practice, Task, User
from sodium.schedules.practice import today_for, working_calendar
from workflows import timing
from workflows.models import DueRule, Mode, SendRule, Step

S = Step.Status
SEND_TIMER = "step.send"


class ScheduleRefused(Exception):
    """The send cannot be moved or sent now; the message is for the user."""


def send_key(step: Step) -> str:
    """Return the key of the step's send timer (one per step)."""
    return f"step:{step.pk}:send"


def practice_of(step: Step) -> Practice:
    task = step.task
    if "practice" in task._state.fields_cache:
        return task.practice
    practice = rows.get(Practice, step.practice_id)
    task.practice = practice
    return practice


def deadline_when_ready(step: Step, now: dt.datetime) -> bool:
    """Set the deadline of a step becoming ready under "N working days after it is ready".

    Returns whether it changed the step (the caller writes `deadline` with the status).
    """
    if step.due_rule != DueRule.AFTER_READY:
        return False
    practice = practice_of(step)
    step.deadline = timing.due_date(
        step,
        task=step.task,
        ready_on=today_for(practice, now),
        calendar=working_calendar(practice),
    )
    return True


def schedule_if_due_later(step: Step, now: dt.datetime) -> bool:
    """Hold a ready automatic step until its send rule's moment, if that is later than now.

    Writes `scheduled_for` and `ready_at`, the `step.send` timer and a `step.scheduled`
    event. Returns whether the step now waits (the caller enqueues it otherwise).
    """
    if step.send_rule == SendRule.NOW or step.mode != Mode.AUTOMATIC:
        return False
    practice = practice_of(step)
    plan = timing.send_plan(step, task=step.task, practice=practice, now=now)
    if plan.moment is None or plan.moment <= now:
        if plan.note:
            _record(step, None, "step.send_now", f"{step.name}: {plan.note}")
        return False
    _hold(step, plan.moment, actor=None, note=plan.note)
    return True


def _hold(step: Step, moment: dt.datetime, *, actor: User | None, note: str = "") -> None:
    step.scheduled_for = step.ready_at = moment
    rows.update(step, ["scheduled_for", "ready_at"])
    timers.schedule(
        practice=step.practice_id,
        kind=SEND_TIMER,
        target_id=step.pk,
        due_at=moment,
        key=send_key(step),
    )
    when = timing.describe_moment(moment, practice_of(step))
    summary = f"{step.name}: scheduled for {when}" + (f" ({note})" if note else "")
    _record(step, actor, "step.scheduled", summary, scheduled_for=moment.isoformat())


def _record(step: Step, actor: User | None, verb: str, summary: str, **data) -> None:
    activity.record(
        practice=step.practice_id,
        actor=actor,
        verb=verb,
        task=step.task,
        obj=step,
        summary=summary,
        data=data or None,
    )


def clear_when_sent(step: Step) -> None:
    """Forget a scheduled step's moment as it goes out (the step is locked by the caller)."""
    if step.scheduled_for is not None:
        step.scheduled_for = None
        rows.update(step, ["scheduled_for"])
        timers.cancel(send_key(step))


def is_held(step: Step, now: dt.datetime) -> bool:
    """Return whether a ready step still waits for its send moment."""
    return step.scheduled_for is not None and step.scheduled_for > now


def reschedule(step: Step, moment: dt.datetime, *, actor: User) -> Step:
    """Move a waiting step's send to `moment` (a locked, ready, scheduled step).

    Raises ScheduleRefused for a step that is not waiting or a moment in the past.
    """
    if step.status != S.READY or step.scheduled_for is None:
        raise ScheduleRefused(f"“{step.name}” is not waiting to be sent.")
    if moment <= timezone.now():
        raise ScheduleRefused("Choose a time in the future, or send it now.")
    _hold(step, moment, actor=actor, note="rescheduled")
    return step


def release(step: Step, *, actor: User) -> Step:
    """Make a waiting step due now (a locked, ready, scheduled step): "Send now".

    Raises ScheduleRefused for a step that is not waiting.
    """
    if step.status != S.READY or step.scheduled_for is None:
        raise ScheduleRefused(f"“{step.name}” is not waiting to be sent.")
    now = timezone.now()
    step.scheduled_for, step.ready_at = None, now
    rows.update(step, ["scheduled_for", "ready_at"])
    timers.cancel(send_key(step))
    _record(step, actor, "step.send_now", f"{step.name}: sent now instead of waiting")
    return step


def drop_schedule(step: Step) -> None:
    """Cancel the send timer of a step that finished or failed while it waited."""
    if step.scheduled_for is not None:
        step.scheduled_for = None
        rows.update(step, ["scheduled_for"])
        timers.cancel(send_key(step))


# --- attaching, and a task's dates changing ---------------------------------------------------


def fill_deadlines(group_ids: list[int], now: dt.datetime) -> int:
    """Set the deadlines of newly attached steps that have a due rule; return how many.

    One read of the steps with a rule (none when the template has none) and one bulk write.
    """
    steps = list(
        Step.objects.filter(group_id__in=group_ids)
        .exclude(due_rule=DueRule.NONE)
        .select_related("task", "task__practice")
    )
    return _write_deadlines(steps, now)


def _write_deadlines(steps: list[Step], now: dt.datetime) -> int:
    changed = []
    for step in steps:
        practice = step.task.practice
        ready_on = today_for(practice, step.ready_at or now) if step.status == S.READY else None
        if step.due_rule == DueRule.AFTER_READY and step.status != S.READY:
            continue  # set when it becomes ready
        due = timing.due_date(
            step, task=step.task, ready_on=ready_on, calendar=working_calendar(practice)
        )
        if due != step.deadline:
            step.deadline = due
            changed.append(step)
    if changed:
        Step.objects.bulk_update(changed, ["deadline"], batch_size=1000)
    return len(changed)


def follow_task_dates(tasks: list[Task]) -> None:
    """Move the due dates and waiting sends that count from tasks' dates (a task-dates hook).

    Open steps only: a finished step's due date is history. Sends that already went out
    are not touched; a waiting one whose new moment has passed goes out now. Two reads and
    one bulk write for any number of tasks, plus a write for each waiting send it moves.
    """
    by_id = {t.pk: t for t in tasks}
    steps = list(
        Step.objects.filter(
            task_id__in=by_id, status__in=(S.BLOCKED, S.READY, S.IN_PROGRESS, S.FAILED)
        )
        .filter(due_rule__in=timing.TASK_DATE_DUE_RULES)
        .select_related("task", "task__practice")
    )
    now = timezone.now()
    _write_deadlines(steps, now)
    waiting = Step.objects.select_for_update().filter(
        task_id__in=by_id,
        status=S.READY,
        scheduled_for__isnull=False,
        send_rule__in=timing.TASK_DATE_SEND_RULES,
    )
    for step in waiting:
        task = step.task = by_id[step.task_id]
        plan = timing.send_plan(step, task=task, practice=practice_of(step), now=now)
        if plan.moment is None or plan.moment <= now:
            release(step, actor=None)
            from workflows import tasks as celery_tasks  # tasks imports the engine

            step_id = step.pk
            dispatch.enqueue_on_commit(celery_tasks.run_step_task, step_id)
        elif plan.moment != step.scheduled_for:
            _hold(step, plan.moment, actor=None, note="the task's dates changed")
