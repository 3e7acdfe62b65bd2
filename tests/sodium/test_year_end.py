"""Client.next_year_end: the next year end on or after a date, at month ends and in leap years."""

from __future__ import annotations

import datetime as dt

from django.test import SimpleTestCase

from sodium.models import Client


def year_end(day: int | None, month: int | None, after: dt.date) -> dt.date | None:
    return Client(year_end_day=day, year_end_month=month).next_year_end(after)


class NextYearEndTests(SimpleTestCase):
    def test_it_is_this_years_date_when_still_to_come(self) -> None:
        self.assertEqual(year_end(31, 3, dt.date(2026, 1, 15)), dt.date(2026, 3, 31))

    def test_the_year_end_day_itself_counts(self) -> None:
        self.assertEqual(year_end(31, 3, dt.date(2026, 3, 31)), dt.date(2026, 3, 31))

    def test_it_is_next_years_date_once_passed(self) -> None:
        self.assertEqual(year_end(31, 3, dt.date(2026, 4, 1)), dt.date(2027, 3, 31))
        self.assertEqual(year_end(31, 12, dt.date(2026, 12, 31)), dt.date(2026, 12, 31))
        self.assertEqual(year_end(5, 4, dt.date(2026, 12, 31)), dt.date(2027, 4, 5))

    def test_a_29_february_year_end_falls_on_the_28th_outside_leap_years(self) -> None:
        self.assertEqual(year_end(29, 2, dt.date(2026, 1, 1)), dt.date(2026, 2, 28))
        self.assertEqual(year_end(29, 2, dt.date(2027, 3, 1)), dt.date(2028, 2, 29))
        self.assertEqual(year_end(29, 2, dt.date(2028, 2, 29)), dt.date(2028, 2, 29))

    def test_a_31st_in_a_shorter_month_is_its_last_day(self) -> None:
        self.assertEqual(year_end(31, 6, dt.date(2026, 6, 1)), dt.date(2026, 6, 30))
        self.assertEqual(year_end(31, 6, dt.date(2026, 7, 1)), dt.date(2027, 6, 30))

    def test_no_year_end_gives_none(self) -> None:
        self.assertIsNone(year_end(None, None, dt.date(2026, 1, 1)))
        self.assertIsNone(year_end(31, None, dt.date(2026, 1, 1)))
