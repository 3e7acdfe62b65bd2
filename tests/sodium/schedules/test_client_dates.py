"""Client-date schedules: VAT staggers, year ends, statutory deadlines, missing dates."""

from __future__ import annotations

import datetime as dt

from django.test import SimpleTestCase

from sodium.models import Client
from sodium.schedules import client_dates
from sodium.schedules.errors import ClientDateMissing
from sodium.schedules.rules import Anchor, ClientDateSchedule, OffsetUnit
from sodium.schedules.working_days import Rule

D = dt.date


def client(**fields) -> Client:
    return Client(name="Acme", **fields)


def dates(schedule, after, n, **kwargs) -> list[dt.date]:
    return [o.date for o in schedule.next(n, after=after, **kwargs)]


class VatPeriodEndTests(SimpleTestCase):
    schedule = ClientDateSchedule(Anchor.VAT_PERIOD_END)

    def test_each_stagger_ends_its_quarters_in_its_months(self) -> None:
        cases = {
            "q_mar": [D(2026, 3, 31), D(2026, 6, 30), D(2026, 9, 30), D(2026, 12, 31)],
            "q_apr": [D(2026, 1, 31), D(2026, 4, 30), D(2026, 7, 31), D(2026, 10, 31)],
            "q_may": [D(2026, 2, 28), D(2026, 5, 31), D(2026, 8, 31), D(2026, 11, 30)],
        }
        for stagger, expected in cases.items():
            with self.subTest(stagger):
                found = dates(self.schedule, D(2026, 1, 1), 4, client=client(vat_periods=stagger))
                self.assertEqual(found, expected)

    def test_monthly_returns_end_every_month_and_annual_in_the_year_end_month(self) -> None:
        monthly = dates(self.schedule, D(2028, 1, 15), 2, client=client(vat_periods="monthly"))
        self.assertEqual(monthly, [D(2028, 1, 31), D(2028, 2, 29)])
        annual = client(vat_periods="annual", year_end_day=5, year_end_month=4)
        self.assertEqual(
            dates(self.schedule, D(2026, 1, 1), 2, client=annual), [D(2026, 4, 30), D(2027, 4, 30)]
        )

    def test_a_period_end_on_a_weekend_moves_to_the_working_day_before(self) -> None:
        # 31 October 2026 is a Saturday.
        found = self.schedule.next(
            1, after=D(2026, 10, 1), rule=Rule.BEFORE, client=client(vat_periods="q_apr")
        )
        self.assertEqual((found[0].date, found[0].anchor), (D(2026, 10, 30), D(2026, 10, 31)))

    def test_a_client_without_a_stagger_is_skipped_with_a_reason(self) -> None:
        with self.assertRaisesMessage(ClientDateMissing, "no VAT periods"):
            self.schedule.next(1, after=D(2026, 1, 1), client=client(vat_periods="none"))
        with self.assertRaisesMessage(ClientDateMissing, "no year end for annual VAT"):
            self.schedule.next(1, after=D(2026, 1, 1), client=client(vat_periods="annual"))

    def test_vat_period_starts(self) -> None:
        self.assertEqual(client_dates.vat_period_start(D(2026, 6, 30), "q_mar"), D(2026, 4, 1))
        self.assertEqual(client_dates.vat_period_start(D(2026, 2, 28), "monthly"), D(2026, 2, 1))


class StatutoryDateTests(SimpleTestCase):
    def test_vat_is_due_one_calendar_month_and_seven_days_after_the_period(self) -> None:
        self.assertEqual(client_dates.vat_due_date(D(2026, 6, 30)), D(2026, 8, 7))
        self.assertEqual(client_dates.vat_due_date(D(2027, 1, 31)), D(2027, 3, 7))
        self.assertEqual(client_dates.vat_due_date(D(2026, 2, 28)), D(2026, 4, 7))
        self.assertEqual(client_dates.vat_due_date(D(2026, 3, 31), annual=True), D(2026, 5, 31))

    def test_the_vat_due_date_is_not_moved_for_a_weekend(self) -> None:
        # 30 September 2026 → 7 November 2026, a Saturday: HMRC's deadline stays there.
        self.assertEqual(client_dates.vat_due_date(D(2026, 9, 30)), D(2026, 11, 7))

    def test_accounts_are_due_nine_months_after_the_year_end_month_end_to_month_end(self) -> None:
        self.assertEqual(client_dates.accounts_due_date(D(2026, 6, 30)), D(2027, 3, 31))
        self.assertEqual(client_dates.accounts_due_date(D(2026, 2, 28)), D(2026, 11, 30))
        self.assertEqual(client_dates.accounts_due_date(D(2026, 4, 5)), D(2027, 1, 5))

    def test_confirmation_statement_due_14_days_after_its_review_date(self) -> None:
        self.assertEqual(
            client_dates.confirmation_statement_due_date(D(2026, 3, 20)), D(2026, 4, 3)
        )


class AnchorOffsetTests(SimpleTestCase):
    year_end_march = client(year_end_day=31, year_end_month=3)

    def test_accounts_due_belongs_to_its_year_end(self) -> None:
        (first,) = ClientDateSchedule(Anchor.ACCOUNTS_DUE).next(
            1, after=D(2026, 1, 1), client=self.year_end_march
        )
        self.assertEqual((first.date, first.anchor), (D(2026, 12, 31), D(2026, 3, 31)))

    def test_an_offset_before_the_year_end_in_months_keeps_month_ends(self) -> None:
        schedule = ClientDateSchedule(Anchor.YEAR_END, offset=-1, unit=OffsetUnit.MONTHS)
        self.assertEqual(
            dates(schedule, D(2026, 1, 1), 2, client=self.year_end_march),
            [D(2026, 2, 28), D(2027, 2, 28)],
        )

    def test_an_offset_in_days_and_weeks(self) -> None:
        days = ClientDateSchedule(Anchor.YEAR_END, offset=14)
        weeks = ClientDateSchedule(Anchor.YEAR_END, offset=-2, unit=OffsetUnit.WEEKS)
        self.assertEqual(
            dates(days, D(2026, 1, 1), 1, client=self.year_end_march), [D(2026, 4, 14)]
        )
        self.assertEqual(
            dates(weeks, D(2026, 1, 1), 1, client=self.year_end_march), [D(2026, 3, 17)]
        )

    def test_a_window_just_after_the_anchor_still_finds_its_shifted_date(self) -> None:
        schedule = ClientDateSchedule(Anchor.YEAR_END, offset=9, unit=OffsetUnit.MONTHS)
        found = schedule.occurrences(D(2026, 12, 1), D(2027, 1, 1), client=self.year_end_march)
        self.assertEqual([o.date for o in found], [D(2026, 12, 31)])

    def test_a_29_february_year_end_is_the_28th_in_other_years(self) -> None:
        leap = client(year_end_day=29, year_end_month=2)
        self.assertEqual(
            dates(ClientDateSchedule(Anchor.YEAR_END), D(2027, 1, 1), 2, client=leap),
            [D(2027, 2, 28), D(2028, 2, 29)],
        )

    def test_a_client_without_a_year_end_is_skipped_with_a_reason(self) -> None:
        for anchor in (Anchor.YEAR_END, Anchor.ACCOUNTS_DUE):
            with self.assertRaisesMessage(ClientDateMissing, "no year end"):
                ClientDateSchedule(anchor).next(1, after=D(2026, 1, 1), client=client())

    def test_confirmation_statement_and_custom_dates_need_their_field(self) -> None:
        with self.assertRaisesMessage(ClientDateMissing, "no confirmation statement date"):
            ClientDateSchedule(Anchor.CONFIRMATION_STATEMENT_DUE).next(
                1, after=D(2026, 1, 1), client=client()
            )
        custom = ClientDateSchedule(Anchor.CUSTOM, field="payroll_start")
        with self.assertRaisesMessage(ClientDateMissing, "no payroll start"):
            custom.next(1, after=D(2026, 1, 1), client=client())
        anniversary = client()
        anniversary.payroll_start = D(2020, 6, 6)
        self.assertEqual(dates(custom, D(2026, 1, 1), 1, client=anniversary), [D(2026, 6, 6)])

    def test_a_count_is_counted_from_the_start(self) -> None:
        schedule = ClientDateSchedule(Anchor.YEAR_END, start=D(2025, 1, 1), count=2)
        self.assertEqual(
            dates(schedule, D(2026, 1, 1), 5, client=self.year_end_march), [D(2026, 3, 31)]
        )
