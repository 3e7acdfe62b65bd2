"""Client dates: year ends, VAT period ends by stagger, and the statutory deadlines after them.

Statutory offsets live here, named, and nowhere else. UK deadlines are calendar rules: they are
never moved for weekends or bank holidays (HMRC and Companies House state them that way).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

from dateutil.relativedelta import relativedelta
from dateutil.rrule import MONTHLY, YEARLY, rrule

from sodium.schedules.errors import ClientDateMissing

# Which months a VAT stagger's periods end in (Client.VatPeriods values). "annual" ends in the
# client's year-end month, so it is worked out per client.
VAT_PERIOD_MONTHS: dict[str, tuple[int, ...]] = {
    "monthly": tuple(range(1, 13)),
    "q_mar": (3, 6, 9, 12),
    "q_apr": (1, 4, 7, 10),
    "q_may": (2, 5, 8, 11),
}
VAT_PERIOD_LENGTH_MONTHS = {"monthly": 1, "q_mar": 3, "q_apr": 3, "q_may": 3, "annual": 12}

# The name of the client field holding the confirmation statement's review date (the
# anniversary of incorporation or of the last statement), `Client.confirmation_statement_date`.
# A schedule anchored on it reports "no confirmation statement date" for a client without one.
CONFIRMATION_STATEMENT_FIELD = "confirmation_statement_date"


def is_month_end(day: dt.date) -> bool:
    return (day + relativedelta(days=1)).day == 1


def months_after(day: dt.date, months: int) -> dt.date:
    """Return the date `months` calendar months after `day` (before it when negative).

    A month end maps to the month end (30 June + 9 months = 31 March, 31 January - 1 month =
    31 December), as HMRC and Companies House count; otherwise the same day, clamped to a
    shorter month's last day.
    """
    later = day + relativedelta(months=months)
    if is_month_end(day):
        later = later + relativedelta(day=31)
    return later


@dataclasses.dataclass(frozen=True)
class StatutoryOffset:
    """A deadline a fixed time after a date: calendar months first, then days."""

    label: str
    months: int = 0
    days: int = 0

    def after(self, day: dt.date) -> dt.date:
        return months_after(day, self.months) + relativedelta(days=self.days)


VAT_RETURN_DUE = StatutoryOffset("one calendar month and seven days", months=1, days=7)
VAT_ANNUAL_RETURN_DUE = StatutoryOffset("two months", months=2)
PRIVATE_COMPANY_ACCOUNTS_DUE = StatutoryOffset("nine months", months=9)
CONFIRMATION_STATEMENT_DUE = StatutoryOffset("fourteen days", days=14)


def vat_due_date(period_end: dt.date, *, annual: bool = False) -> dt.date:
    """Return when the VAT return and payment for a period are due (30 Jun → 7 Aug).

    Not moved for bank holidays: HMRC's deadline is a calendar rule.
    """
    return (VAT_ANNUAL_RETURN_DUE if annual else VAT_RETURN_DUE).after(period_end)


def accounts_due_date(year_end: dt.date) -> dt.date:
    """Return a private company's Companies House accounts deadline (9 months after year end)."""
    return PRIVATE_COMPANY_ACCOUNTS_DUE.after(year_end)


def confirmation_statement_due_date(review_date: dt.date) -> dt.date:
    """Return when a confirmation statement is due: 14 days after its review date."""
    return CONFIRMATION_STATEMENT_DUE.after(review_date)


def next_confirmation_statement_due(client: Any, after: dt.date) -> dt.date | None:
    """Return the first confirmation statement deadline on or after `after`, or None.

    The review date repeats every year (its anniversary), so a deadline still running from
    last year's review date — a review on 28 December, seen on 5 January — counts.
    """
    try:
        reviews = anniversaries(
            client, CONFIRMATION_STATEMENT_FIELD, months_after(after, -12), "no date"
        )
        return next(d for d in map(confirmation_statement_due_date, reviews) if d >= after)
    except ClientDateMissing:
        return None


def vat_period_start(period_end: dt.date, stagger: str) -> dt.date:
    """Return the first day of the VAT period ending on `period_end`."""
    length = VAT_PERIOD_LENGTH_MONTHS[stagger]
    return period_end + relativedelta(months=-length + 1, day=1)


def _yearly(month: int, day: int, start: dt.date) -> Iterator[dt.date]:
    # The 1st of the month from rrule, then relativedelta(day=…) clamps: 29 February is the
    # 28th outside leap years.
    for first in rrule(YEARLY, dtstart=start.replace(day=1), bymonth=month, bymonthday=1):
        yield first.date() + relativedelta(day=day)


def year_ends(client: Any, start: dt.date) -> Iterator[dt.date]:
    """Yield the client's year ends from the year of `start` on, in order."""
    if not (getattr(client, "year_end_day", None) and getattr(client, "year_end_month", None)):
        raise ClientDateMissing("no year end")
    yield from _yearly(client.year_end_month, client.year_end_day, start.replace(month=1))


def vat_period_ends(client: Any, start: dt.date) -> Iterator[dt.date]:
    """Yield the client's VAT period ends (month ends) from the month of `start` on."""
    stagger = getattr(client, "vat_periods", "none") or "none"
    if stagger == "annual":
        if not getattr(client, "year_end_month", None):
            raise ClientDateMissing("no year end for annual VAT")
        months: tuple[int, ...] = (client.year_end_month,)
    elif stagger in VAT_PERIOD_MONTHS:
        months = VAT_PERIOD_MONTHS[stagger]
    else:
        raise ClientDateMissing("no VAT periods")
    for first in rrule(MONTHLY, dtstart=start.replace(day=1), bymonth=months, bymonthday=1):
        yield first.date() + relativedelta(day=31)


def anniversaries(client: Any, field: str, start: dt.date, missing: str) -> Iterator[dt.date]:
    """Yield each yearly anniversary of a date field of the client from the year of `start`."""
    value = getattr(client, field, None)
    if not isinstance(value, dt.date):
        raise ClientDateMissing(missing)
    yield from _yearly(value.month, value.day, start.replace(month=1, day=1))
