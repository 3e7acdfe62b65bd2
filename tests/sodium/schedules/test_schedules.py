"""Calendar schedules: never-firing schedules, JSON, words, clock changes and the practice's day."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from django.test import SimpleTestCase
from django.utils import timezone

from sodium.models import Client, Practice
from sodium.schedules import practice as practice_days
from sodium.schedules.errors import ScheduleError
from sodium.schedules.rules import (
    Anchor,
    CalendarSchedule,
    ClientDateSchedule,
    Frequency,
    OffsetUnit,
    check_fires,
    schedule_from_json,
)
from sodium.schedules.words import describe
from sodium.schedules.working_days import Rule

D = dt.date


class NeverFiresTests(SimpleTestCase):
    def assertFieldError(self, field: str, **kwargs) -> None:
        with self.assertRaises(ScheduleError) as caught:
            CalendarSchedule(**kwargs)
        self.assertIn(field, caught.exception.errors)

    def test_the_31st_of_february_is_refused(self) -> None:
        self.assertFieldError(
            "month_day", frequency="yearly", start=D(2026, 1, 1), month=2, month_day=31
        )
        CalendarSchedule("yearly", D(2026, 1, 1), month=2, month_day=29)  # leap years only: fine

    def test_an_end_before_the_start_is_refused(self) -> None:
        self.assertFieldError("end", frequency="daily", start=D(2026, 2, 1), end=D(2026, 1, 1))

    def test_an_end_before_the_first_date_is_refused(self) -> None:
        self.assertFieldError(
            "end", frequency="weekly", start=D(2026, 12, 1), weekdays=(0,), end=D(2026, 12, 6)
        )

    def test_every_0_and_no_weekdays_are_refused(self) -> None:
        self.assertFieldError("interval", frequency="daily", start=D(2026, 1, 1), interval=0)
        self.assertFieldError("weekdays", frequency="weekly", start=D(2026, 1, 1))
        self.assertFieldError("nth", frequency="monthly", start=D(2026, 1, 1), weekday=4, nth=5)

    def test_a_weekday_belongs_to_monthly_schedules_only(self) -> None:
        self.assertFieldError(
            "weekday", frequency="yearly", start=D(2026, 1, 1), month=3, month_day=1, weekday=4
        )

    def test_a_client_date_schedule_survives_its_json_form(self) -> None:
        schedule = ClientDateSchedule(
            Anchor.CUSTOM,
            offset=-3,
            unit=OffsetUnit.WEEKS,
            field="payroll_start",
            start=D(2026, 1, 1),
            count=4,
        )
        self.assertEqual(schedule_from_json(schedule.to_json()), schedule)

    def test_a_client_date_count_needs_a_start(self) -> None:
        with self.assertRaises(ScheduleError) as caught:
            ClientDateSchedule(Anchor.YEAR_END, count=3)
        self.assertEqual(list(caught.exception.errors), ["start"])

    def test_a_malformed_json_dict_is_a_schedule_error(self) -> None:
        for data in (
            {},
            {"kind": "calendar"},
            {"kind": "calendar", "frequency": "hourly"},
            {"kind": "calendar", "frequency": "weekly", "start": "soon"},
        ):
            with self.subTest(data), self.assertRaises(ScheduleError):
                schedule_from_json(data)


class CalendarDatesTests(SimpleTestCase):
    def test_every_2_weeks_on_monday_and_thursday(self) -> None:
        schedule = CalendarSchedule(Frequency.WEEKLY, D(2026, 1, 5), interval=2, weekdays=(0, 3))
        self.assertEqual(
            [o.date for o in schedule.next(4, after=D(2026, 1, 1))],
            [D(2026, 1, 5), D(2026, 1, 8), D(2026, 1, 19), D(2026, 1, 22)],
        )

    def test_an_end_after_n_occurrences(self) -> None:
        schedule = CalendarSchedule(Frequency.MONTHLY, D(2026, 1, 1), month_day=1, count=3)
        self.assertEqual(len(schedule.next(12, after=D(2026, 1, 1))), 3)
        self.assertEqual(schedule.next(12, after=D(2026, 4, 1)), [])

    def test_weekdays_only(self) -> None:
        schedule = CalendarSchedule(Frequency.DAILY, D(2026, 12, 4), weekdays_only=True)
        self.assertEqual(
            [o.date for o in schedule.next(2, after=D(2026, 12, 4))],
            [D(2026, 12, 4), D(2026, 12, 7)],
        )

    def test_a_daily_schedule_across_the_clock_changes_gives_each_date_once(self) -> None:
        schedule = CalendarSchedule(Frequency.DAILY, D(2026, 1, 1))
        for change in (D(2026, 3, 29), D(2026, 10, 25)):
            found = [
                o.date
                for o in schedule.occurrences(
                    change - dt.timedelta(days=2), change + dt.timedelta(days=3)
                )
            ]
            self.assertEqual(found, [change + dt.timedelta(days=n) for n in range(-2, 3)])


class DescribeTests(SimpleTestCase):
    def test_the_issues_examples(self) -> None:
        vat = ClientDateSchedule(Anchor.VAT_PERIOD_END)
        self.assertEqual(
            describe(vat, Rule.BEFORE, client=Client(vat_periods="q_mar")),
            "Every quarter on the last day of the client's VAT period, "
            "moved to the working day before",
        )
        weekly = CalendarSchedule(Frequency.WEEKLY, D(2026, 1, 1), interval=2, weekdays=(3, 0))
        self.assertEqual(describe(weekly), "Every 2 weeks on Monday and Thursday")
        last_friday = CalendarSchedule(Frequency.MONTHLY, D(2026, 1, 1), weekday=4, nth=-1)
        self.assertEqual(describe(last_friday), "Monthly on the last Friday")

    def test_offsets_ends_and_month_ends(self) -> None:
        before = ClientDateSchedule(Anchor.YEAR_END, offset=-2, unit=OffsetUnit.WEEKS)
        self.assertEqual(
            describe(before, "after"),
            "Every year 2 weeks before the client's year end, moved to the working day after",
        )
        monthly = CalendarSchedule(Frequency.MONTHLY, D(2026, 1, 1), month_day=30, count=6)
        self.assertEqual(
            describe(monthly, "skip"),
            "Monthly on the 30th (the last day in shorter months), 6 times, "
            "skipped on non-working days",
        )


class PracticeDayTests(SimpleTestCase):
    def test_today_is_the_practices_local_date_around_midnight_utc_in_summer(self) -> None:
        practice = Practice(time_zone="Europe/London")
        cases = [
            (dt.datetime(2026, 6, 30, 22, 59, tzinfo=dt.UTC), D(2026, 6, 30)),
            (dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC), D(2026, 7, 1)),  # 00:30 BST
            (dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC), D(2026, 12, 31)),  # GMT
        ]
        for now, expected in cases:
            with self.subTest(now), mock.patch.object(timezone, "now", return_value=now):
                self.assertEqual(practice_days.today_for(practice), expected)

    def test_the_working_calendar_follows_the_practices_nation(self) -> None:
        scottish = Practice(bank_holiday_nation=Practice.BankHolidayNation.SCOTLAND)
        self.assertFalse(practice_days.working_calendar(scottish).is_working_day(D(2026, 1, 2)))
        self.assertTrue(practice_days.working_calendar(Practice()).is_working_day(D(2026, 1, 2)))


class CheckFiresTests(SimpleTestCase):
    def test_weekends_only_with_skip_never_fires(self) -> None:
        weekends = CalendarSchedule(Frequency.WEEKLY, D(2026, 1, 1), weekdays=(5, 6))
        with self.assertRaises(ScheduleError) as caught:
            check_fires(weekends, Rule.SKIP)
        self.assertEqual(list(caught.exception.errors), ["rule"])
        check_fires(weekends, Rule.AFTER)  # moved to Monday: fires
