"""A schedule and its working-day rule in words, for editors, previews and the client page."""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
from typing import Any

from sodium.schedules.rules import (
    LAST,
    Anchor,
    CalendarSchedule,
    ClientDateSchedule,
    Frequency,
    Occurrence,
    Schedule,
)
from sodium.schedules.working_days import Rule

UNIT_NOUNS = {Frequency.DAILY: "day", Frequency.WEEKLY: "week", Frequency.MONTHLY: "month"}
UNIT_NOUNS[Frequency.YEARLY] = "year"
ADVERBS = {Frequency.DAILY: "Daily", Frequency.WEEKLY: "Weekly", Frequency.MONTHLY: "Monthly"}
ADVERBS[Frequency.YEARLY] = "Yearly"
NTH_WORDS = {1: "first", 2: "second", 3: "third", 4: "fourth", LAST: "last"}
RULE_WORDS = {
    Rule.NONE: "",
    Rule.SKIP: ", skipped on non-working days",
    Rule.BEFORE: ", moved to the working day before",
    Rule.AFTER: ", moved to the working day after",
}
ANCHOR_WORDS = {
    Anchor.YEAR_END: "the client's year end",
    Anchor.VAT_PERIOD_END: "the last day of the client's VAT period",
    Anchor.ACCOUNTS_DUE: "the client's accounts deadline",
    Anchor.CONFIRMATION_STATEMENT_DUE: "the client's confirmation statement deadline",
}
VAT_CADENCE = {"monthly": "Every month", "annual": "Every year"}
VAT_CADENCE.update(dict.fromkeys(("q_mar", "q_apr", "q_may"), "Every quarter"))


def ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def short_date(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _calendar_words(schedule: CalendarSchedule) -> str:
    noun = UNIT_NOUNS[schedule.frequency]
    if schedule.interval == 1:
        head = ADVERBS[schedule.frequency]
    elif schedule.frequency is Frequency.MONTHLY and schedule.interval == 3:
        head = "Every quarter"
    else:
        head = f"Every {schedule.interval} {noun}s"
    if schedule.frequency is Frequency.DAILY:
        if schedule.weekdays_only:
            return "Every weekday" if schedule.interval == 1 else f"{head}, weekdays only"
        return "Every day" if schedule.interval == 1 else head
    if schedule.frequency is Frequency.WEEKLY:
        days = [month_calendar.day_name[day] for day in schedule.weekdays]
        return f"{head} on {_and(days)}"
    if schedule.frequency is Frequency.MONTHLY and schedule.weekday is not None:
        day_name = month_calendar.day_name[schedule.weekday]
        return f"{head} on the {NTH_WORDS[schedule.nth]} {day_name}"
    if schedule.frequency is Frequency.MONTHLY:
        if schedule.month_day == 31:
            return f"{head} on the last day"
        if schedule.month_day and schedule.month_day >= 29:
            return f"{head} on the {ordinal(schedule.month_day)} (the last day in shorter months)"
        return f"{head} on the {ordinal(schedule.month_day)}"
    month = month_calendar.month_name[schedule.month]
    leap = (
        " (28 February outside leap years)"
        if (schedule.month, schedule.month_day) == (2, 29)
        else ""
    )
    return f"{head} on {schedule.month_day} {month}{leap}"


def _offset_words(schedule: ClientDateSchedule) -> str:
    if schedule.offset == 0:
        return "on"
    size = abs(schedule.offset)
    unit = str(schedule.unit)[:-1] if size == 1 else str(schedule.unit)
    side = "after" if schedule.offset > 0 else "before"
    return f"{size} {unit} {side}"


def _client_date_words(schedule: ClientDateSchedule, client: Any) -> str:
    if schedule.anchor is Anchor.CUSTOM:
        target = f"the client's {schedule.field.replace('_', ' ')}"
    else:
        target = ANCHOR_WORDS[schedule.anchor]
    if schedule.anchor is Anchor.VAT_PERIOD_END:
        stagger = getattr(client, "vat_periods", None)
        if stagger not in VAT_CADENCE:  # no client yet: each client's own cadence
            return f"{_offset_words(schedule).capitalize()} the last day of each VAT period"
        head = VAT_CADENCE[stagger]
    else:
        head = "Every year"
    return f"{head} {_offset_words(schedule)} {target}"


def _end_words(schedule: Schedule) -> str:
    if schedule.count is not None:
        return ", once" if schedule.count == 1 else f", {schedule.count} times"
    if schedule.end is not None:
        return f", until {schedule.end.day} {schedule.end:%B %Y}"
    return ""


def describe(schedule: Schedule, rule: Rule | str = Rule.NONE, *, client: Any = None) -> str:
    """Return the schedule and its working-day rule in words.

    "Every 2 weeks on Monday and Thursday"; with a client, a VAT schedule names its cadence:
    "Every quarter on the last day of the client's VAT period, moved to the working day before".
    """
    if isinstance(schedule, CalendarSchedule):
        words = _calendar_words(schedule)
    else:
        words = _client_date_words(schedule, client)
    return words + _end_words(schedule) + RULE_WORDS[Rule(rule)]


def moved_note(occurrence: Occurrence) -> str:
    """Return why an occurrence is not on its scheduled date, or "" when it is.

    "moved from Fri 25 Dec 2026 (Christmas Day)".
    """
    if occurrence.date == occurrence.scheduled:
        return ""
    return f"moved from {short_date(occurrence.scheduled)} ({occurrence.moved_because})"
