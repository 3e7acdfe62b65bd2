"""Schedules: calendar rules and client-date rules, their dates, and their JSON form.

A schedule says when something falls due; the working-day rule (`working_days.Rule`) and the
practice's working calendar say what happens on a non-working day. Both are passed to
`occurrences` / `next`, so a model keeps the schedule in a JSONField (`to_json`,
`schedule_from_json`) and the rule in a CharField. Dates are `datetime.date` in the practice's
time zone (`practice.today_for`), so clock changes never make a day twice or skip one.
"""

from __future__ import annotations

import calendar as month_calendar
import dataclasses
import datetime as dt
import enum
import itertools
from collections.abc import Iterator
from typing import Any

from dateutil.relativedelta import relativedelta
from dateutil.rrule import DAILY, FR, MO, MONTHLY, TH, TU, WE, WEEKLY, YEARLY, rrule, weekday

from sodium.schedules import client_dates
from sodium.schedules.errors import ScheduleError
from sodium.schedules.working_days import LONGEST_BREAK_DAYS, Rule, WorkingCalendar, apply_rule

WEEKDAY_CODES = ("mo", "tu", "we", "th", "fr", "sa", "su")
# How far `next` looks ahead before deciding a schedule gives no more dates (a rule that skips
# every date, an end in the past).
NEXT_HORIZON = relativedelta(years=30)
LAST = -1  # `nth` for "the last <weekday> of the month"


class Frequency(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    YEARLY = "yearly"


class Anchor(enum.StrEnum):
    YEAR_END = "year_end"
    VAT_PERIOD_END = "vat_period_end"
    ACCOUNTS_DUE = "accounts_due"
    CONFIRMATION_STATEMENT_DUE = "confirmation_statement_due"
    CUSTOM = "custom"


class OffsetUnit(enum.StrEnum):
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"


@dataclasses.dataclass(frozen=True)
class Occurrence:
    """One date a schedule gives: where it lands, where it was scheduled, and what it is for.

    `anchor` is the date the occurrence belongs to: the client date (a VAT period end, a year
    end) for client-date schedules, the scheduled date for calendar ones. `moved_because` is
    why `scheduled` was not a working day when the rule moved it ("Christmas Day", "Saturday").
    """

    date: dt.date
    scheduled: dt.date
    anchor: dt.date
    moved_because: str | None = None


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _date(value: Any, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ScheduleError({field: "Enter a date."}) from None


class _Schedule:
    """Dates from raw (scheduled, anchor) pairs through the working-day rule, ordered, unique."""

    start: dt.date | None
    end: dt.date | None
    count: int | None

    def _raw(self, client: Any, near: dt.date) -> Iterator[tuple[dt.date, dt.date]]:
        raise NotImplementedError

    def _common_errors(self) -> dict[str, str]:
        errors = {}
        if self.count is not None and self.count < 1:
            errors["count"] = "Enter at least one occurrence."
        if self.count is not None and self.end is not None:
            errors["end"] = "End on a date or after a number of occurrences, not both."
        if self.start and self.end and self.end < self.start:
            errors["end"] = "The end is before the start."
        return errors

    def _bounded(self, raw: Iterator[tuple[dt.date, dt.date]]) -> Iterator[tuple[dt.date, dt.date]]:
        raw = ((s, a) for s, a in raw if self.start is None or s >= self.start)
        if self.count is not None:
            raw = itertools.islice(raw, self.count)
        return itertools.takewhile(lambda pair: self.end is None or pair[0] <= self.end, raw)

    def _iterate(
        self, after: dt.date, horizon: dt.date, rule: Rule, calendar: WorkingCalendar, client: Any
    ) -> Iterator[Occurrence]:
        # The rule moves a date by at most LONGEST_BREAK_DAYS, and it never reorders dates
        # (the nearest working day on one side is monotone), so equal neighbours are the only
        # duplicates: keep the one that did not move, else the first.
        pending: Occurrence | None = None
        for scheduled, anchor in self._bounded(self._raw(client, after)):
            if scheduled > horizon + relativedelta(days=LONGEST_BREAK_DAYS):
                break
            moved = apply_rule(scheduled, rule, calendar)
            if moved is None or moved.date < after:
                continue
            current = Occurrence(moved.date, scheduled, anchor, moved.reason)
            if pending is not None and pending.date == current.date:
                if pending.moved_because and not current.moved_because:
                    pending = current
                continue
            if pending is not None:
                yield pending
            pending = current
        if pending is not None:
            yield pending

    def occurrences(
        self,
        after: dt.date,
        before: dt.date,
        *,
        rule: Rule = Rule.NONE,
        calendar: WorkingCalendar | None = None,
        client: Any = None,
    ) -> list[Occurrence]:
        """Return the occurrences on or after `after` and strictly before `before`, in order.

        Raises ClientDateMissing when a client-date schedule's client lacks its date.
        """
        calendar = calendar or WorkingCalendar()
        found = self._iterate(after, before, Rule(rule), calendar, client)
        return list(itertools.takewhile(lambda o: o.date < before, found))

    def next(
        self,
        n: int,
        *,
        after: dt.date,
        rule: Rule = Rule.NONE,
        calendar: WorkingCalendar | None = None,
        client: Any = None,
    ) -> list[Occurrence]:
        """Return the first `n` occurrences on or after `after` (fewer when the schedule ends)."""
        calendar = calendar or WorkingCalendar()
        found = self._iterate(after, after + NEXT_HORIZON, Rule(rule), calendar, client)
        return list(itertools.islice(found, n))


@dataclasses.dataclass(frozen=True)
class CalendarSchedule(_Schedule):
    """Every N days, weeks, months or years from a start date.

    Daily may be weekdays only; weekly is on chosen weekdays (0 = Monday); monthly is on a day
    of the month (the 31st in a shorter month is its last day, as accountants expect) or on the
    nth / last weekday; yearly is on a month and day (29 February is the 28th outside leap
    years). It ends on a date, after a number of occurrences (counted before the working-day
    rule skips any), or never.
    """

    frequency: Frequency
    start: dt.date
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    weekdays_only: bool = False
    month_day: int | None = None
    nth: int | None = None
    weekday: int | None = None
    month: int | None = None
    end: dt.date | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "frequency", Frequency(self.frequency))
        object.__setattr__(self, "weekdays", tuple(sorted(set(self.weekdays))))
        errors = self._common_errors()
        if self.interval < 1:
            errors["interval"] = "Repeat at least every 1."
        if self.frequency is Frequency.WEEKLY and not self.weekdays:
            errors["weekdays"] = "Choose at least one day of the week."
        if any(day not in range(7) for day in self.weekdays):
            errors["weekdays"] = "Choose days from Monday to Sunday."
        if self.frequency is Frequency.MONTHLY:
            if (self.month_day is None) == (self.weekday is None):
                errors["month_day"] = "Choose a day of the month or a weekday."
            if self.weekday is not None and self.nth not in (1, 2, 3, 4, LAST):
                errors["nth"] = "Choose the first, second, third, fourth or last."
        if self.weekday is not None and self.weekday not in range(7):
            errors["weekday"] = "Choose a day from Monday to Sunday."
        if self.frequency in (Frequency.MONTHLY, Frequency.YEARLY) and self.weekday is None:
            if self.month_day is None or not 1 <= self.month_day <= 31:
                errors["month_day"] = "Choose a day from 1 to 31."
        if self.frequency is not Frequency.MONTHLY and self.weekday is not None:
            errors["weekday"] = "Only a monthly schedule falls on the nth weekday."
        if self.frequency is Frequency.YEARLY:
            if self.month is None or not 1 <= self.month <= 12:
                errors["month"] = "Choose a month."
            elif self.month_day and self.month_day > month_calendar.monthrange(2000, self.month)[1]:
                name = month_calendar.month_name[self.month]
                errors["month_day"] = f"{name} has no day {self.month_day}: it would never happen."
        if not errors and self.end is not None:
            first = next(self._bounded(self._raw(None, self.start)), None)
            if first is None:
                errors["end"] = "No date falls between the start and the end."
        if errors:
            raise ScheduleError(errors)

    def _raw(self, client: Any, near: dt.date) -> Iterator[tuple[dt.date, dt.date]]:
        # Always from the start: the interval's phase and the count are counted from it.
        for day in self._calendar_dates():
            yield day, day

    def _calendar_dates(self) -> Iterator[dt.date]:
        every = {"interval": self.interval}
        if self.frequency is Frequency.DAILY:
            days = (MO, TU, WE, TH, FR) if self.weekdays_only else None
            for moment in rrule(DAILY, dtstart=self.start, byweekday=days, **every):
                yield moment.date()
        elif self.frequency is Frequency.WEEKLY:
            for moment in rrule(
                WEEKLY, dtstart=self.start, byweekday=self.weekdays, wkst=MO, **every
            ):
                yield moment.date()
        elif self.frequency is Frequency.MONTHLY and self.weekday is not None:
            on = weekday(self.weekday)(self.nth)
            for moment in rrule(MONTHLY, dtstart=self.start, byweekday=on, **every):
                yield moment.date()
        else:
            # The 1st of each month from rrule, then relativedelta(day=…) clamps to the month's
            # last day: rrule's own bymonthday=31 would leave out every shorter month.
            unit = MONTHLY if self.frequency is Frequency.MONTHLY else YEARLY
            months = {"bymonth": self.month} if unit == YEARLY else {}
            first = self.start.replace(day=1)
            for moment in rrule(unit, dtstart=first, bymonthday=1, **months, **every):
                day = moment.date() + relativedelta(day=self.month_day)
                if day >= self.start:
                    yield day

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": "calendar",
            "frequency": str(self.frequency),
            "interval": self.interval,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "count": self.count,
        }
        if self.frequency is Frequency.DAILY:
            data["weekdays_only"] = self.weekdays_only
        if self.frequency is Frequency.WEEKLY:
            data["weekdays"] = [WEEKDAY_CODES[day] for day in self.weekdays]
        if self.frequency in (Frequency.MONTHLY, Frequency.YEARLY):
            data.update(month_day=self.month_day, month=self.month)
            if self.weekday is not None:
                data.update(nth=self.nth, weekday=WEEKDAY_CODES[self.weekday])
        return data


@dataclasses.dataclass(frozen=True)
class ClientDateSchedule(_Schedule):
    """On a client date each time it comes round, or N days / weeks / months before or after.

    Anchors: the year end, each VAT period end of the client's stagger, the accounts deadline
    (a private company's: nine months after the year end), the confirmation statement deadline
    (14 days after the review date in `client_dates.CONFIRMATION_STATEMENT_FIELD`), or the
    yearly anniversary of a custom date field (`field`). A month offset keeps month ends at
    month ends (31 March + 1 month = 30 April; 30 April + 1 month = 31 May). An optional start
    leaves out earlier dates; a count needs a start.
    """

    anchor: Anchor
    offset: int = 0
    unit: OffsetUnit = OffsetUnit.DAYS
    field: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "anchor", Anchor(self.anchor))
        object.__setattr__(self, "unit", OffsetUnit(self.unit))
        errors = self._common_errors()
        if self.count is not None and self.start is None:
            errors["start"] = "Give a start to count occurrences from."
        if self.anchor is Anchor.CUSTOM and not self.field.isidentifier():
            errors["field"] = "Choose the client's date field."
        if self.anchor is Anchor.CUSTOM and self.field.startswith("_"):
            errors["field"] = "Choose the client's date field."
        if errors:
            raise ScheduleError(errors)

    def shift(self, day: dt.date) -> dt.date:
        """Return the client date `day` moved by the schedule's offset."""
        if self.unit is OffsetUnit.MONTHS:
            return client_dates.months_after(day, self.offset)
        return day + relativedelta(**{str(self.unit): self.offset})

    def anchors(self, client: Any, start: dt.date) -> Iterator[tuple[dt.date, dt.date]]:
        """Yield (the date to shift, the client date it belongs to) from around `start` on.

        A deadline belongs to its period: accounts due to the year end. Raises
        ClientDateMissing when the client lacks the date.
        """
        if self.anchor is Anchor.YEAR_END:
            for year_end in client_dates.year_ends(client, start):
                yield year_end, year_end
        elif self.anchor is Anchor.VAT_PERIOD_END:
            for period_end in client_dates.vat_period_ends(client, start):
                yield period_end, period_end
        elif self.anchor is Anchor.ACCOUNTS_DUE:
            for year_end in client_dates.year_ends(client, start):
                yield client_dates.accounts_due_date(year_end), year_end
        elif self.anchor is Anchor.CONFIRMATION_STATEMENT_DUE:
            field = client_dates.CONFIRMATION_STATEMENT_FIELD
            missing = "no confirmation statement date"
            for review in client_dates.anniversaries(client, field, start, missing):
                yield client_dates.confirmation_statement_due_date(review), review
        else:
            missing = f"no {self.field.replace('_', ' ')}"
            for day in client_dates.anniversaries(client, self.field, start, missing):
                yield day, day

    def _raw(self, client: Any, near: dt.date) -> Iterator[tuple[dt.date, dt.date]]:
        if self.count is not None and self.start is not None:
            near = min(near, self.start)
        # Anchors from far enough back that any whose shifted date reaches `near` is included.
        months = self.offset if self.unit is OffsetUnit.MONTHS else 0
        days = self.offset * (7 if self.unit is OffsetUnit.WEEKS else 1) if not months else 0
        first = near - relativedelta(years=1, months=months, days=days + LONGEST_BREAK_DAYS)
        for day, anchor in self.anchors(client, first):
            yield self.shift(day), anchor

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "client_date",
            "anchor": str(self.anchor),
            "offset": self.offset,
            "unit": str(self.unit),
            "field": self.field,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "count": self.count,
        }


Schedule = CalendarSchedule | ClientDateSchedule


def _weekday(code: Any, field: str) -> int:
    if code not in WEEKDAY_CODES:
        raise ScheduleError({field: "Choose days from Monday to Sunday."})
    return WEEKDAY_CODES.index(code)


def schedule_from_json(data: dict[str, Any]) -> Schedule:
    """Return the schedule a `to_json` dict describes.

    Raises ScheduleError (field-keyed) for a malformed dict or a schedule that never fires.
    """
    try:
        kind = data.get("kind")
        common = {
            "start": _date(data.get("start"), "start"),
            "end": _date(data.get("end"), "end"),
            "count": data.get("count"),
        }
        if kind == "calendar":
            frequency = Frequency(data["frequency"])
            weekday_code = data.get("weekday")
            return CalendarSchedule(
                frequency=frequency,
                interval=int(data.get("interval", 1)),
                weekdays=tuple(_weekday(code, "weekdays") for code in data.get("weekdays", [])),
                weekdays_only=bool(data.get("weekdays_only", False)),
                month_day=data.get("month_day"),
                nth=data.get("nth"),
                weekday=None if weekday_code is None else _weekday(weekday_code, "weekday"),
                month=data.get("month"),
                **common,
            )
        if kind == "client_date":
            return ClientDateSchedule(
                anchor=Anchor(data["anchor"]),
                offset=int(data.get("offset", 0)),
                unit=OffsetUnit(data.get("unit", "days")),
                field=str(data.get("field", "")),
                **common,
            )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, ScheduleError):
            raise
        raise ScheduleError({"kind": f"Not a schedule: {error}"}) from None
    raise ScheduleError({"kind": "Choose a calendar or a client date."})


def check_fires(
    schedule: Schedule, rule: Rule | str, calendar: WorkingCalendar | None = None
) -> None:
    """Raise ScheduleError when a calendar schedule gives no date once the rule is applied.

    Weekly on Saturdays with "skip non-working days" never happens: say so at save, keyed on
    the rule. A client-date schedule depends on each client, so its preview reports per client.
    """
    if not isinstance(schedule, CalendarSchedule):
        return
    if not schedule.next(1, after=schedule.start, rule=Rule(rule), calendar=calendar):
        raise ScheduleError({"rule": "Every date falls on a non-working day and would be skipped."})
