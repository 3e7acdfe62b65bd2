"""When a step is due and when an automatic step sends: its rules worked out into dates.

A step's due rule (`StepConfig.due_rule`, N working days after it becomes ready, after the
task starts, or before the task is due) becomes the task step's `deadline`; a due date that
falls on no working day is never produced, because the days are counted on the practice's
working calendar. A send rule (`StepConfig.send_rule`, N days before the task is due, on its
start date, N days after the step before it finished) gives the day an automatic step goes
out, moved off weekends and bank holidays (to the working day before a due date, else after),
at the start of the practice's sending hours (`sodium.schedules.practice.sending_moment`).

Reads and arithmetic only, on the core's schedules; `workflows.engine` writes what these give.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from dateutil.relativedelta import relativedelta

from sodium.models import Practice, Task
from sodium.schedules.practice import sending_moment, today_for, working_calendar
from sodium.schedules.working_days import Rule, WorkingCalendar, apply_rule
from workflows.models import DueRule, SendRule, StepConfig

# Rules counted from the task's dates: they move when the task's dates change.
TASK_DATE_DUE_RULES = (DueRule.AFTER_START, DueRule.BEFORE_DUE)
TASK_DATE_SEND_RULES = (SendRule.BEFORE_DUE, SendRule.ON_START)


def task_start_day(task: Task) -> dt.date:
    """Return the day the task starts: its start date, else the day it was created."""
    if task.start_date:
        return task.start_date
    return today_for(task.practice, task.created_at)


def due_date(
    config: StepConfig, *, task: Task, ready_on: dt.date | None, calendar: WorkingCalendar
) -> dt.date | None:
    """Return the date the step's due rule gives, or None (no rule, or a date it lacks).

    `ready_on` is the practice's day the step became ready (None while it is blocked).
    """
    days = config.due_days
    if config.due_rule == DueRule.AFTER_READY:
        return calendar.add_working_days(ready_on, days) if ready_on else None
    if config.due_rule == DueRule.AFTER_START:
        return calendar.add_working_days(task_start_day(task), days)
    if config.due_rule == DueRule.BEFORE_DUE and task.due_date:
        if days == 0:
            return calendar.working_day_on_or_before(task.due_date)
        return calendar.add_working_days(task.due_date, -days)
    return None


@dataclasses.dataclass(frozen=True)
class SendPlan:
    """When a step's send rule says it goes out, and why, in words."""

    moment: dt.datetime | None  # None: as soon as it may (no rule, or no date to count from)
    note: str = ""


def send_plan(
    config: StepConfig, *, task: Task, practice: Practice, now: dt.datetime | None = None
) -> SendPlan:
    """Return when a ready automatic step goes out under its send rule."""
    rule, days = config.send_rule, config.send_days
    if rule == SendRule.NOW:
        return SendPlan(None)
    calendar = working_calendar(practice)
    if rule == SendRule.BEFORE_DUE:
        if not task.due_date:
            return SendPlan(None, "The task has no due date, so it went out at once.")
        day, move = task.due_date - relativedelta(days=days), Rule.BEFORE
    elif rule == SendRule.ON_START:
        day, move = task_start_day(task), Rule.AFTER
    else:  # AFTER_READY: counted from the practice's today, when the step became ready
        day, move = today_for(practice, now) + relativedelta(days=days), Rule.AFTER
    moved = apply_rule(day, move, calendar)
    note = f"{_day(moved.scheduled)} is {moved.reason}" if moved.reason else ""
    return SendPlan(sending_moment(practice, moved.date, now), note)


def _day(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def describe_moment(moment: dt.datetime, practice: Practice) -> str:
    """Return a moment as the step shows it: "Tue 12 Mar, 09:00" in the practice's zone."""
    from zoneinfo import ZoneInfo

    local = moment.astimezone(ZoneInfo(practice.time_zone))
    return f"{_day(local.date())}, {local:%H:%M}"


def describe_due_rule(config: StepConfig) -> str:
    """Return a step's due rule in words ("Due 3 working days after it becomes ready")."""
    days = config.due_days
    count = f"{days} working day{'s' if days != 1 else ''}"
    return {
        DueRule.NONE: "",
        DueRule.AFTER_READY: f"Due {count} after it becomes ready",
        DueRule.AFTER_START: f"Due {count} after the task starts",
        DueRule.BEFORE_DUE: (
            f"Due {count} before the task is due" if days else "Due when the task is due"
        ),
    }.get(config.due_rule, "")


def describe_send_rule(config: StepConfig) -> str:
    """Return a step's send rule in words ("Goes out 5 days before the task is due")."""
    days = config.send_days
    count = f"{days} day{'s' if days != 1 else ''}"
    return {
        SendRule.NOW: "",
        SendRule.BEFORE_DUE: (
            f"Goes out {count} before the task is due" if days else "Goes out on the due date"
        ),
        SendRule.ON_START: "Goes out on the task's start date",
        SendRule.AFTER_READY: (
            f"Goes out {count} after the step before it finished"
            if days
            else "Goes out on the day the step before it finished"
        ),
    }.get(config.send_rule, "")


def timing_errors(config: StepConfig) -> dict[str, list[str]]:
    """Return field → problems of a step's due and send rules."""
    errors: dict[str, list[str]] = {}
    if config.due_rule not in DueRule.values:
        errors["due_rule"] = ["Choose when the step is due."]
    elif config.due_rule != DueRule.NONE and not 0 <= (config.due_days or 0) <= 250:
        errors["due_days"] = ["Give a number of working days from 0 to 250."]
    if config.send_rule not in SendRule.values:
        errors["send_rule"] = ["Choose when the step goes out."]
    elif config.send_rule != SendRule.NOW:
        if not 0 <= (config.send_days or 0) <= 365:
            errors["send_days"] = ["Give a number of days from 0 to 365."]
        if config.mode != "automatic" or not config.sends_email:
            errors["send_rule"] = [
                "Only automatic steps that send something can wait for a date; a manual "
                "step goes out when its assignee sends it."
            ]
    return errors
