"""Real UK bank-holiday cases by nation, and dates moved around them."""

from __future__ import annotations

import datetime as dt

from django.test import SimpleTestCase

from sodium.schedules.rules import CalendarSchedule, Frequency
from sodium.schedules.words import moved_note
from sodium.schedules.working_days import Rule, WorkingCalendar, apply_rule

D = dt.date
ENGLAND = WorkingCalendar("england_wales")
SCOTLAND = WorkingCalendar("scotland")
NORTHERN_IRELAND = WorkingCalendar("northern_ireland")


class BankHolidayTableTests(SimpleTestCase):
    def assertHoliday(self, calendar: WorkingCalendar, day: dt.date, name: str) -> None:
        self.assertEqual(calendar.why_not_working(day), name)

    def test_easter_2027_in_england_and_wales(self) -> None:
        self.assertHoliday(ENGLAND, D(2027, 3, 26), "Good Friday")
        self.assertHoliday(ENGLAND, D(2027, 3, 29), "Easter Monday")
        self.assertTrue(ENGLAND.is_working_day(D(2027, 3, 30)))

    def test_scotland_has_good_friday_but_not_easter_monday(self) -> None:
        self.assertHoliday(SCOTLAND, D(2027, 3, 26), "Good Friday")
        self.assertTrue(SCOTLAND.is_working_day(D(2027, 3, 29)))

    def test_christmas_and_boxing_day_on_a_weekend_have_substitute_days(self) -> None:
        for calendar in (ENGLAND, SCOTLAND, NORTHERN_IRELAND):
            self.assertHoliday(calendar, D(2027, 12, 25), "Christmas Day")
            self.assertHoliday(calendar, D(2027, 12, 27), "Christmas Day (observed)")
            self.assertHoliday(calendar, D(2027, 12, 28), "Boxing Day (observed)")
            self.assertTrue(calendar.is_working_day(D(2027, 12, 29)))

    def test_a_date_on_christmas_2027_moves_past_both_substitute_days(self) -> None:
        moved = apply_rule(D(2027, 12, 25), Rule.AFTER, ENGLAND)
        self.assertEqual(moved.date, D(2027, 12, 29))
        self.assertEqual(moved.reason, "Christmas Day")
        self.assertEqual(apply_rule(D(2027, 12, 27), Rule.BEFORE, ENGLAND).date, D(2027, 12, 24))
        self.assertIsNone(apply_rule(D(2027, 12, 28), Rule.SKIP, ENGLAND))

    def test_scotlands_2_january_and_st_andrews_day(self) -> None:
        self.assertHoliday(SCOTLAND, D(2026, 1, 2), "New Year Holiday")
        self.assertTrue(ENGLAND.is_working_day(D(2026, 1, 2)))
        # 30 November 2025 is a Sunday: observed on Monday 1 December in Scotland only.
        self.assertHoliday(SCOTLAND, D(2025, 11, 30), "Saint Andrew's Day")
        self.assertHoliday(SCOTLAND, D(2025, 12, 1), "Saint Andrew's Day (observed)")
        self.assertTrue(ENGLAND.is_working_day(D(2025, 12, 1)))

    def test_the_2022_extra_holidays(self) -> None:
        for calendar in (ENGLAND, SCOTLAND, NORTHERN_IRELAND):
            self.assertHoliday(calendar, D(2022, 6, 2), "Spring Bank Holiday")
            self.assertHoliday(calendar, D(2022, 6, 3), "Platinum Jubilee of Elizabeth II")
            self.assertHoliday(calendar, D(2022, 9, 19), "State Funeral of Queen Elizabeth II")
        self.assertTrue(ENGLAND.is_working_day(D(2022, 5, 30)))  # the usual spring date moved

    def test_15_june_2026_is_a_holiday_in_scotland_only(self) -> None:
        self.assertFalse(SCOTLAND.is_working_day(D(2026, 6, 15)))
        self.assertTrue(ENGLAND.is_working_day(D(2026, 6, 15)))
        self.assertTrue(NORTHERN_IRELAND.is_working_day(D(2026, 6, 15)))

    def test_northern_irelands_own_holidays(self) -> None:
        self.assertHoliday(NORTHERN_IRELAND, D(2027, 3, 17), "Saint Patrick's Day")
        self.assertHoliday(NORTHERN_IRELAND, D(2027, 7, 12), "Battle of the Boyne")
        self.assertTrue(ENGLAND.is_working_day(D(2027, 7, 12)))

    def test_a_weekend_says_which_day_it_is(self) -> None:
        self.assertEqual(ENGLAND.why_not_working(D(2026, 12, 5)), "Saturday")
        self.assertEqual(ENGLAND.why_not_working(D(2026, 12, 6)), "Sunday")

    def test_working_days_count_forward_and_back_over_holidays(self) -> None:
        self.assertEqual(ENGLAND.add_working_days(D(2027, 12, 24), 1), D(2027, 12, 29))
        self.assertEqual(ENGLAND.add_working_days(D(2027, 12, 29), -1), D(2027, 12, 24))
        self.assertEqual(ENGLAND.add_working_days(D(2027, 12, 29), 0), D(2027, 12, 29))


class MovedScheduleTests(SimpleTestCase):
    def test_a_monthly_25th_moves_off_christmas_and_says_why(self) -> None:
        schedule = CalendarSchedule(Frequency.MONTHLY, D(2026, 1, 1), month_day=25)
        (december,) = schedule.occurrences(D(2026, 12, 1), D(2027, 1, 1), rule=Rule.BEFORE)
        self.assertEqual(december.date, D(2026, 12, 24))
        self.assertEqual(moved_note(december), "moved from Fri 25 Dec 2026 (Christmas Day)")

    def test_a_daily_rule_moving_after_gives_each_working_day_once(self) -> None:
        schedule = CalendarSchedule(Frequency.DAILY, D(2027, 12, 23))
        found = schedule.occurrences(D(2027, 12, 23), D(2027, 12, 31), rule=Rule.AFTER)
        self.assertEqual([o.date for o in found], [D(2027, 12, d) for d in (23, 24, 29, 30)])
        self.assertIsNone(found[-1].moved_because)  # the 30th itself, not a moved 28th
