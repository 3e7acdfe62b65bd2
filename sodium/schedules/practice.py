"""A practice's own day and working calendar: every "day" of a schedule is in its time zone."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.utils import timezone

from sodium.schedules.working_days import WorkingCalendar

if TYPE_CHECKING:
    from sodium.models import Practice


def today_for(practice: Practice, now: dt.datetime | None = None) -> dt.date:
    """Return the practice's local date at `now` (default: the clock's now); at 00:30 BST it
    is already tomorrow in London."""
    return (now or timezone.now()).astimezone(ZoneInfo(practice.time_zone)).date()


def sending_moment(practice: Practice, day: dt.date, now: dt.datetime | None = None) -> dt.datetime:
    """Return when a message scheduled for `day` goes out: the start of the practice's
    sending hours that day, local time.

    When that has passed, it is `now` if now is inside the sending hours of a working day,
    else the start of the next working day's hours: a send held past its day is never lost,
    and never goes out at night or on a bank holiday.
    """
    now = now or timezone.now()
    zone = ZoneInfo(practice.time_zone)
    moment = dt.datetime.combine(day, practice.send_from, tzinfo=zone)
    if moment >= now:
        return moment
    local = now.astimezone(zone)
    calendar = working_calendar(practice)
    if calendar.is_working_day(local.date()):
        if practice.send_from <= local.time() < practice.send_until:
            return now
        if local.time() < practice.send_from:
            return dt.datetime.combine(local.date(), practice.send_from, tzinfo=zone)
    next_day = calendar.add_working_days(local.date(), 1)
    return dt.datetime.combine(next_day, practice.send_from, tzinfo=zone)


def working_calendar(practice: Practice) -> WorkingCalendar:
    """Return the working calendar of the practice's bank-holiday nation."""
    return WorkingCalendar(practice.bank_holiday_nation)
