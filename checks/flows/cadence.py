"""When a repeating flow's runs appear, what period each covers, and when each is due.

Two ways to repeat, both through the core's schedules (`sodium.schedules`):

- **Scheduled date**: N days (1–28) or weeks (1–4) after each reporting period ends, the
  period a calendar month, quarter or year, repeating every period or every few. N days after
  a month ends is day N of the next month, so the dates are a core `CalendarSchedule`
  (monthly on day N, every 1 / 3 / 12 months, or yearly in January); the period is the one
  that ended N days before the scheduled date. Created 28 October, 1 day after the last full
  month, complete within 2 weeks: the run appears 1 November, covers 1–31 October and is due
  15 November.
- **Specific event**: N days or weeks after each of the client's year ends or VAT period
  ends (its stagger), a core `ClientDateSchedule`; the period is the financial year or the
  VAT period that ended.

"Complete within" N days or weeks of the scheduled date gives the due date. A scheduled date
is never today: the first run is the first date after the day the flow is made. Dates that
fall on a non-working day move by the flow's working-day rule, in the practice's calendar.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import Any

from dateutil.relativedelta import relativedelta

from sodium.schedules import client_dates
from sodium.schedules.errors import ClientDateMissing
from sodium.schedules.rules import (
    Anchor,
    CalendarSchedule,
    ClientDateSchedule,
    Frequency,
    Occurrence,
    OffsetUnit,
)
from sodium.schedules.working_days import Rule, WorkingCalendar, apply_rule

__all__ = ["ClientDateMissing"]  # raised by runs_for a client lacking its event's date


class Mode(enum.StrEnum):
    SCHEDULED = "scheduled"
    EVENT = "event"


class PeriodKind(enum.StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class Event(enum.StrEnum):
    YEAR_END = "year_end"
    VAT_PERIOD_END = "vat_period_end"


class Unit(enum.StrEnum):
    DAYS = "days"
    WEEKS = "weeks"


PERIOD_MONTHS = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}
PERIOD_WORDS = {PeriodKind.MONTH: "month", PeriodKind.QUARTER: "quarter", PeriodKind.YEAR: "year"}
EVENT_WORDS = {Event.YEAR_END: "year end", Event.VAT_PERIOD_END: "VAT period end"}
_EVENT_ANCHORS = {Event.YEAR_END: Anchor.YEAR_END, Event.VAT_PERIOD_END: Anchor.VAT_PERIOD_END}
# How far after a period's end a scheduled date may be: within the next month.
MAX_SCHEDULED_OFFSET = {Unit.DAYS: 28, Unit.WEEKS: 4}
MAX_EVENT_OFFSET = {Unit.DAYS: 365, Unit.WEEKS: 52}
MAX_WITHIN = {Unit.DAYS: 365, Unit.WEEKS: 52}


@dataclasses.dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def label(self) -> str:
        if self.start.day == 1 and client_dates.is_month_end(self.end):
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
            if months == 1:
                return f"{self.start:%B %Y}"
            return f"{self.start:%b %Y} – {self.end:%b %Y}"
        return f"{self.start:%-d %b %Y} – {self.end:%-d %b %Y}"


@dataclasses.dataclass(frozen=True)
class RunDates:
    """One run's dates: the period it covers, when it appears, when it is due."""

    period: Period
    scheduled: dt.date
    due: dt.date
    moved_because: str | None = None


@dataclasses.dataclass(frozen=True)
class Cadence:
    """How a repeating flow repeats (see the module's docstring)."""

    mode: Mode = Mode.SCHEDULED
    period: PeriodKind = PeriodKind.MONTH
    every: int = 1  # scheduled mode: every N periods
    event: Event = Event.YEAR_END
    offset: int = 1
    offset_unit: Unit = Unit.DAYS
    within: int = 2
    within_unit: Unit = Unit.WEEKS
    rule: Rule = Rule.NONE
    # Scheduled mode: the first scheduled date (unmoved), which repeats every `every`
    # periods from there; set when the flow is made (`starting_after`).
    start: dt.date | None = None

    def __post_init__(self) -> None:
        for name, kind in (
            ("mode", Mode),
            ("period", PeriodKind),
            ("event", Event),
            ("offset_unit", Unit),
            ("within_unit", Unit),
            ("rule", Rule),
        ):
            object.__setattr__(self, name, kind(getattr(self, name)))

    # --- checking and storing ----------------------------------------------------------------

    def errors(self) -> dict[str, str]:
        """Return what is wrong, by field (empty when the cadence is good)."""
        errors: dict[str, str] = {}
        limits = MAX_SCHEDULED_OFFSET if self.mode == Mode.SCHEDULED else MAX_EVENT_OFFSET
        low = 1 if self.mode == Mode.SCHEDULED else 0
        if not isinstance(self.offset, int) or not low <= self.offset <= limits[self.offset_unit]:
            errors["offset"] = f"Give {low} to {limits[self.offset_unit]} {self.offset_unit.value}."
        if not isinstance(self.within, int) or not 1 <= self.within <= MAX_WITHIN[self.within_unit]:
            errors["within"] = f"Give 1 to {MAX_WITHIN[self.within_unit]} {self.within_unit}."
        every_ok = isinstance(self.every, int) and 1 <= self.every <= 12
        if self.mode == Mode.SCHEDULED and not every_ok:
            errors["every"] = "Repeat every 1 to 12 periods."
        return errors

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data = {k: (str(v) if isinstance(v, enum.Enum) else v) for k, v in data.items()}
        data["start"] = self.start.isoformat() if self.start else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cadence:
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in (data or {}).items() if k in fields}
        if values.get("start"):
            values["start"] = dt.date.fromisoformat(values["start"])
        return cls(**values)

    # --- the dates ---------------------------------------------------------------------------

    def schedule(self) -> CalendarSchedule | ClientDateSchedule:
        """Return the core schedule of the scheduled dates (before the working-day rule)."""
        if self.mode == Mode.EVENT:
            return ClientDateSchedule(
                anchor=_EVENT_ANCHORS[self.event],
                offset=self.offset,
                unit=OffsetUnit(self.offset_unit.value),
            )
        day = self._day()
        months = PERIOD_MONTHS[self.period] * self.every
        first = self.start or _aligned(dt.date(2000, 1, 1), self.period, day)
        return CalendarSchedule(
            frequency=Frequency.MONTHLY, start=first, interval=months, month_day=day
        )

    def _day(self) -> int:
        return self.offset if self.offset_unit == Unit.DAYS else 7 * self.offset

    def starting_after(self, day: dt.date) -> Cadence:
        """Return this cadence fixed to start at its first scheduled date after `day` (never
        `day` itself: a flow made today first appears on the next date)."""
        if self.mode == Mode.EVENT:
            return self
        first = _aligned(day + relativedelta(days=1), self.period, self._day())
        return dataclasses.replace(self, start=first)

    def runs_between(
        self,
        after: dt.date,
        before: dt.date,
        *,
        calendar: WorkingCalendar | None = None,
        client: Any = None,
    ) -> list[RunDates]:
        """Return the runs scheduled on or after `after` and before `before`, in order.

        Raises ClientDateMissing when an event flow's client lacks its date.
        """
        calendar = calendar or WorkingCalendar()
        found = self.schedule().occurrences(
            after, before, rule=self.rule, calendar=calendar, client=client
        )
        return [self._run(o, calendar, client) for o in found]

    def next_runs(
        self,
        n: int,
        *,
        after: dt.date,
        calendar: WorkingCalendar | None = None,
        client: Any = None,
    ) -> list[RunDates]:
        """Return the first `n` runs scheduled on or after `after`."""
        calendar = calendar or WorkingCalendar()
        found = self.schedule().next(
            n, after=after, rule=self.rule, calendar=calendar, client=client
        )
        return [self._run(o, calendar, client) for o in found]

    def _run(self, occurrence: Occurrence, calendar: WorkingCalendar, client: Any) -> RunDates:
        period = self._period(occurrence, client)
        due = occurrence.date + _delta(self.within, self.within_unit)
        moved = apply_rule(due, Rule.AFTER if self.rule == Rule.SKIP else self.rule, calendar)
        return RunDates(
            period=period,
            scheduled=occurrence.date,
            due=moved.date if moved is not None else due,
            moved_because=occurrence.moved_because,
        )

    def _period(self, occurrence: Occurrence, client: Any) -> Period:
        if self.mode == Mode.EVENT:
            end = occurrence.anchor
            if self.event == Event.VAT_PERIOD_END:
                stagger = getattr(client, "vat_periods", "") or ""
                if stagger == "annual":
                    start = client_dates.months_after(end, -12) + relativedelta(days=1)
                else:
                    start = client_dates.vat_period_start(end, stagger)
            else:
                start = client_dates.months_after(end, -12) + relativedelta(days=1)
            return Period(start, end)
        # The unmoved date is day N of the month after the period: the period ended the day
        # before that month began.
        first_of_month = occurrence.scheduled + relativedelta(day=1)
        end = first_of_month - relativedelta(days=1)
        start = end + relativedelta(months=-PERIOD_MONTHS[self.period] + 1, day=1)
        return Period(start, end)

    def words(self) -> str:
        """Return the cadence in words ("1 day after each month ends; complete within 2
        weeks")."""
        offset = f"{self.offset} {_unit_words(self.offset, self.offset_unit)}"
        within = f"complete within {self.within} {_unit_words(self.within, self.within_unit)}"
        if self.mode == Mode.EVENT:
            return f"{offset} after each {EVENT_WORDS[self.event]}; {within}"
        period = PERIOD_WORDS[self.period]
        every = f"each {period}" if self.every == 1 else f"every {self.every} {period}s"
        return f"{offset} after {every} ends; {within}"


def _aligned(day: dt.date, kind: PeriodKind, month_day: int) -> dt.date:
    """The first date on or after `day` that is day `month_day` of a month just after a
    calendar period of `kind` ended (any month; January, April, July, October; January)."""
    months = PERIOD_MONTHS[kind]
    candidate = day + relativedelta(day=month_day)
    if candidate < day:
        candidate = candidate + relativedelta(months=1, day=month_day)
    while (candidate.month - 1) % months:
        candidate = candidate + relativedelta(months=1, day=month_day)
    return candidate


def _delta(n: int, unit: Unit) -> relativedelta:
    return relativedelta(days=n) if unit == Unit.DAYS else relativedelta(weeks=n)


def _unit_words(n: int, unit: Unit) -> str:
    word = "day" if unit == Unit.DAYS else "week"
    return word if n == 1 else f"{word}s"


def last_full_month(today: dt.date) -> Period:
    """Return the last calendar month that ended before `today` (a one-off's default)."""
    end = today + relativedelta(day=1) - relativedelta(days=1)
    return Period(end + relativedelta(day=1), end)


def one_off_errors(period_start, period_end, due) -> dict[str, str]:
    """Return what is wrong with a one-off flow's dates, by field."""
    errors: dict[str, str] = {}
    if period_start is None:
        errors["period_start"] = "Give the first day of the reporting period."
    if period_end is None:
        errors["period_end"] = "Give the last day of the reporting period."
    if due is None:
        errors["due_date"] = "Give the date the flow is due."
    if errors:
        return errors
    if period_end < period_start:
        errors["period_end"] = "The period ends before it starts."
    elif due < period_start:
        errors["due_date"] = "The due date is before the reporting period."
    elif due < period_end:
        errors["due_date"] = "The due date is before the reporting period ends."
    return errors
