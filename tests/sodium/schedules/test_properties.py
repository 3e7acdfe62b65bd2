"""Property tests of the schedule rules: order, uniqueness, working days, month ends, 29 Feb."""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.test import SimpleTestCase
from hypothesis import given, settings
from hypothesis import strategies as st

from sodium.models import Client
from sodium.schedules.client_dates import is_month_end
from sodium.schedules.rules import (
    Anchor,
    CalendarSchedule,
    ClientDateSchedule,
    Frequency,
    OffsetUnit,
    schedule_from_json,
)
from sodium.schedules.working_days import SUBDIVISIONS, Rule, WorkingCalendar

starts = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))
rules = st.sampled_from(list(Rule))
calendars = st.sampled_from(list(SUBDIVISIONS)).map(WorkingCalendar)


@st.composite
def calendar_schedules(draw: st.DrawFn) -> CalendarSchedule:
    frequency = draw(st.sampled_from(list(Frequency)))
    start = draw(starts)
    interval = draw(st.integers(1, 4))
    kwargs: dict = {}
    if frequency is Frequency.DAILY:
        kwargs["weekdays_only"] = draw(st.booleans())
    elif frequency is Frequency.WEEKLY:
        kwargs["weekdays"] = tuple(draw(st.sets(st.integers(0, 6), min_size=1)))
    elif frequency is Frequency.MONTHLY and draw(st.booleans()):
        kwargs.update(weekday=draw(st.integers(0, 6)), nth=draw(st.sampled_from([1, 2, 3, 4, -1])))
    elif frequency is Frequency.MONTHLY:
        kwargs["month_day"] = draw(st.integers(1, 31))
    else:
        month = draw(st.integers(1, 12))
        longest = {2: 29, 4: 30, 6: 30, 9: 30, 11: 30}.get(month, 31)
        kwargs.update(month=month, month_day=draw(st.integers(1, longest)))
    return CalendarSchedule(frequency, start, interval=interval, **kwargs)


def window(schedule: CalendarSchedule) -> tuple[dt.date, dt.date]:
    return schedule.start, schedule.start + relativedelta(years=2)


class ScheduleProperties(SimpleTestCase):
    @settings(max_examples=60, deadline=None)
    @given(calendar_schedules(), rules, calendars)
    def test_dates_are_ordered_and_unique(self, schedule, rule, calendar) -> None:
        dates = [
            o.date for o in schedule.occurrences(*window(schedule), rule=rule, calendar=calendar)
        ]
        self.assertEqual(dates, sorted(set(dates)))

    @settings(max_examples=60, deadline=None)
    @given(calendar_schedules(), st.sampled_from([Rule.SKIP, Rule.BEFORE, Rule.AFTER]), calendars)
    def test_no_date_is_a_non_working_day_unless_the_rule_is_none(
        self, schedule, rule, calendar
    ) -> None:
        for occurrence in schedule.occurrences(*window(schedule), rule=rule, calendar=calendar):
            self.assertTrue(calendar.is_working_day(occurrence.date), occurrence)

    @settings(max_examples=60, deadline=None)
    @given(calendar_schedules(), st.sampled_from([Rule.BEFORE, Rule.AFTER]), calendars)
    def test_a_moved_date_is_the_nearest_working_day_on_its_side(
        self, schedule, rule, calendar
    ) -> None:
        for occurrence in schedule.occurrences(*window(schedule), rule=rule, calendar=calendar):
            if occurrence.date == occurrence.scheduled:
                continue
            self.assertFalse(calendar.is_working_day(occurrence.scheduled))
            self.assertEqual(
                calendar.why_not_working(occurrence.scheduled), occurrence.moved_because
            )
            if rule is Rule.BEFORE:
                self.assertLess(occurrence.date, occurrence.scheduled)
                between = occurrence.date + relativedelta(days=1)
            else:
                self.assertGreater(occurrence.date, occurrence.scheduled)
                between = occurrence.scheduled + relativedelta(days=1)
            end = max(occurrence.date, occurrence.scheduled)
            while between < end:
                self.assertFalse(calendar.is_working_day(between), between)
                between += relativedelta(days=1)

    @settings(max_examples=60, deadline=None)
    @given(calendar_schedules(), calendars)
    def test_the_rule_none_keeps_every_date_and_skip_only_drops(self, schedule, calendar) -> None:
        kept = schedule.occurrences(*window(schedule), rule=Rule.NONE, calendar=calendar)
        skipped = schedule.occurrences(*window(schedule), rule=Rule.SKIP, calendar=calendar)
        self.assertTrue(all(o.date == o.scheduled for o in kept))
        self.assertEqual(
            [o.date for o in skipped],
            [o.date for o in kept if calendar.is_working_day(o.date)],
        )

    @settings(max_examples=40, deadline=None)
    @given(starts, st.integers(28, 31), st.integers(1, 3))
    def test_a_late_month_day_is_the_last_day_of_shorter_months(self, start, day, interval) -> None:
        schedule = CalendarSchedule(Frequency.MONTHLY, start, month_day=day, interval=interval)
        found = schedule.next(24, after=start)
        self.assertEqual(len(found), 24)
        for occurrence in found:
            last = (occurrence.date + relativedelta(day=31)).day
            self.assertEqual(occurrence.date.day, min(day, last))

    @settings(max_examples=30, deadline=None)
    @given(starts)
    def test_29_february_is_the_28th_outside_leap_years(self, start) -> None:
        schedule = CalendarSchedule(Frequency.YEARLY, start, month=2, month_day=29)
        for occurrence in schedule.next(8, after=start):
            leap = occurrence.date.year % 4 == 0 and occurrence.date.year % 100 != 0
            self.assertEqual((occurrence.date.month, occurrence.date.day), (2, 29 if leap else 28))

    @settings(max_examples=60, deadline=None)
    @given(calendar_schedules())
    def test_a_schedule_survives_its_json_form(self, schedule) -> None:
        self.assertEqual(schedule_from_json(schedule.to_json()), schedule)


class ClientDateProperties(SimpleTestCase):
    @settings(max_examples=60, deadline=None)
    @given(
        st.sampled_from(["monthly", "q_mar", "q_apr", "q_may", "annual"]),
        st.integers(1, 12),
        st.integers(-40, 40),
        st.sampled_from(list(OffsetUnit)),
        rules,
        calendars,
        starts,
    )
    def test_client_dates_are_ordered_unique_and_working(
        self, stagger, month, offset, unit, rule, calendar, after
    ) -> None:
        client = Client(vat_periods=stagger, year_end_day=31, year_end_month=month)
        schedule = ClientDateSchedule(
            Anchor.VAT_PERIOD_END,
            offset=offset % 13 if unit is OffsetUnit.MONTHS else offset,
            unit=unit,
        )
        found = schedule.occurrences(
            after, after + relativedelta(years=2), rule=rule, calendar=calendar, client=client
        )
        dates = [o.date for o in found]
        self.assertEqual(dates, sorted(set(dates)))
        self.assertTrue(all(after <= day < after + relativedelta(years=2) for day in dates))
        self.assertTrue(all(is_month_end(o.anchor) for o in found))
        if rule is not Rule.NONE:
            self.assertTrue(all(calendar.is_working_day(day) for day in dates))
        if stagger != "annual" and rule is Rule.NONE:
            per_year = {"monthly": 12}.get(stagger, 4)
            self.assertIn(len(dates), (2 * per_year, 2 * per_year + 1, 2 * per_year - 1))
