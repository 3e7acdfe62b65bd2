"""Working days: weekends and UK bank holidays by nation, and the non-working-day rule.

Bank holidays come from the pinned `holidays` package, always with a subdivision (without one
it leaves out Easter Monday and the late-summer holiday), cached per (nation, year).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools

import holidays
from dateutil.relativedelta import relativedelta

# Practice.BankHolidayNation values → the `holidays` package's GB subdivision. Wales shares
# England's list, so one choice covers both.
SUBDIVISIONS: dict[str, str] = {
    "england_wales": "ENG",
    "scotland": "SCT",
    "northern_ireland": "NIR",
}
DEFAULT_NATION = "england_wales"

# The longest run of non-working days the UK calendar has (Christmas and New Year on weekends
# with substitute days stay well inside it); a search past it means a bug, not a holiday.
LONGEST_BREAK_DAYS = 14

ONE_DAY = relativedelta(days=1)


class Rule(enum.StrEnum):
    """What happens to a scheduled date that is not a working day."""

    NONE = "none"
    SKIP = "skip"
    BEFORE = "before"
    AFTER = "after"

    @property
    def label(self) -> str:
        return RULE_LABELS[self]


RULE_LABELS = {
    Rule.NONE: "Keep the date",
    Rule.SKIP: "Skip it",
    Rule.BEFORE: "Move to the working day before",
    Rule.AFTER: "Move to the working day after",
}

# For a model's CharField holding the rule (`choices=RULE_CHOICES`).
RULE_CHOICES = [(str(rule), label) for rule, label in RULE_LABELS.items()]


@functools.lru_cache(maxsize=256)
def bank_holidays(nation: str, year: int) -> dict[dt.date, str]:
    """Return one nation's bank holidays in one year, date → name (observed days included)."""
    subdivision = SUBDIVISIONS[nation]
    return dict(holidays.country_holidays("GB", subdiv=subdivision, years=year).items())


@dataclasses.dataclass(frozen=True)
class WorkingCalendar:
    """Monday to Friday minus one nation's bank holidays."""

    nation: str = DEFAULT_NATION

    def __post_init__(self) -> None:
        if self.nation not in SUBDIVISIONS:
            raise ValueError(f"Unknown bank-holiday nation {self.nation!r}.")

    def why_not_working(self, day: dt.date) -> str | None:
        """Return why `day` is not a working day (the holiday's name, or "Saturday"), else None."""
        name = bank_holidays(self.nation, day.year).get(day)
        if name:
            return name
        if day.weekday() >= 5:
            return day.strftime("%A")
        return None

    def is_working_day(self, day: dt.date) -> bool:
        return self.why_not_working(day) is None

    def working_day_on_or_before(self, day: dt.date) -> dt.date:
        return self._search(day, -ONE_DAY)

    def working_day_on_or_after(self, day: dt.date) -> dt.date:
        return self._search(day, ONE_DAY)

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        """Return the date `count` working days after `day` (before it when negative).

        For "N working days later" (AR actions, step due dates); `day` itself never counts.
        """
        step = ONE_DAY if count >= 0 else -ONE_DAY
        for _ in range(abs(count)):
            day = self._search(day + step, step)
        return day

    def _search(self, day: dt.date, step: relativedelta) -> dt.date:
        for _ in range(LONGEST_BREAK_DAYS + 1):
            if self.is_working_day(day):
                return day
            day = day + step
        raise RuntimeError(f"No working day within {LONGEST_BREAK_DAYS} days of {day}.")


@dataclasses.dataclass(frozen=True)
class Moved:
    """A scheduled date after the working-day rule: where it lands and why it moved."""

    date: dt.date
    scheduled: dt.date
    reason: str | None = None  # why `scheduled` was not a working day, when it moved


def apply_rule(day: dt.date, rule: Rule, calendar: WorkingCalendar) -> Moved | None:
    """Return `day` after the working-day rule, or None when the rule skips it."""
    if rule is Rule.NONE:
        return Moved(day, day)
    reason = calendar.why_not_working(day)
    if reason is None:
        return Moved(day, day)
    if rule is Rule.SKIP:
        return None
    if rule is Rule.BEFORE:
        return Moved(calendar.working_day_on_or_before(day), day, reason)
    return Moved(calendar.working_day_on_or_after(day), day, reason)
