"""When each action of a workflow falls for one customer: the one date rule that the
builder's timeline preview and the assignment's planned runs share.

An assigned-date action falls `days` after the assigned-date action before it (the first:
after the assigned date); a due-date action falls once per open invoice, `days` before or
after its due date. A date that is not a working day moves to the next one (the practice's
working calendar: weekends and its nation's bank holidays). A due-date action whose date is
before the assigned date is *before start*: it is not done. Actions are sent from the start
of the practice's sending window (`ARSettings.send_from`) in its time zone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from collections_ar.models import ARAction, ARSettings, Invoice
from sodium.models import Practice
from sodium.schedules.working_days import Rule, WorkingCalendar, apply_rule

B = ARAction.Base
DEFAULT_SEND_FROM = dt.time(9, 0)
DEFAULT_SEND_UNTIL = dt.time(17, 0)


@dataclasses.dataclass
class Slot:
    """One action on one day (for one invoice when it is a due-date action)."""

    action: ARAction
    number: int  # its place in the workflow, from 1
    invoice: Invoice | None
    scheduled: dt.date  # before the working-day move
    date: dt.date  # after it
    moved_because: str = ""
    before_start: bool = False


def slots(
    actions: Iterable[ARAction],
    invoices: list[Invoice],
    start: dt.date,
    calendar: WorkingCalendar,
) -> list[Slot]:
    """Return every action's slot for a workflow assigned on `start`, in action order."""
    out: list[Slot] = []
    day = start
    for n, action in enumerate(actions, start=1):
        if action.base == B.ASSIGNED:
            day = day + dt.timedelta(days=action.days)
            out.append(_slot(action, n, None, day, calendar))
            continue
        sign = -1 if action.base == B.BEFORE_DUE else 1
        for invoice in invoices:
            due_day = invoice.due_date + dt.timedelta(days=sign * action.days)
            if due_day < start:
                out.append(Slot(action, n, invoice, due_day, due_day, before_start=True))
            else:
                out.append(_slot(action, n, invoice, due_day, calendar))
    return out


def _slot(action, n, invoice, day: dt.date, calendar: WorkingCalendar) -> Slot:
    moved = apply_rule(day, Rule.AFTER, calendar)
    return Slot(action, n, invoice, day, moved.date, moved.reason or "")


def last_day(planned: Iterable[Slot], start: dt.date) -> dt.date:
    """Return the day the last action that happens falls on (`start` when none does)."""
    return max((s.date for s in planned if not s.before_start), default=start)


def send_window(settings: ARSettings | None) -> tuple[dt.time, dt.time]:
    """Return the practice's sending window (09:00–17:00 unless it set another)."""
    if settings is None:
        return DEFAULT_SEND_FROM, DEFAULT_SEND_UNTIL
    return settings.send_from, settings.send_until


def due_at(practice: Practice, day: dt.date, settings: ARSettings | None) -> dt.datetime:
    """Return the moment an action on `day` falls due: the window's start, local time."""
    start, _ = send_window(settings)
    return dt.datetime.combine(day, start, tzinfo=ZoneInfo(practice.time_zone))


def next_window_start(
    practice: Practice, now: dt.datetime, settings: ARSettings | None, calendar: WorkingCalendar
) -> dt.datetime | None:
    """Return None when `now` is inside a sending window, else when the next one opens."""
    zone = ZoneInfo(practice.time_zone)
    local = now.astimezone(zone)
    start, until = send_window(settings)
    today = local.date()
    if calendar.is_working_day(today) and start <= local.time() < until:
        return None
    day = today if (calendar.is_working_day(today) and local.time() < start) else None
    if day is None:
        day = calendar.working_day_on_or_after(today + dt.timedelta(days=1))
    return dt.datetime.combine(day, start, tzinfo=zone)
