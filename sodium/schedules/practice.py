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


def working_calendar(practice: Practice) -> WorkingCalendar:
    """Return the working calendar of the practice's bank-holiday nation."""
    return WorkingCalendar(practice.bank_holiday_nation)
