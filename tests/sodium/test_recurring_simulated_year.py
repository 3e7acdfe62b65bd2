"""A simulated year: 500 clients, three recurrences, the clock moved a day at a time.

Quarterly VAT on each client's stagger, annual accounts after each year end and monthly
payroll on the 25th (moved to the working day before). Payroll is paused for September and
October, and the sweep does not run at all for 40 days in May and June. At the end every
period has exactly one task per client, none falls in the pause, and the outage's periods
are all there.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from dateutil.relativedelta import relativedelta

from sodium import recurring
from sodium.models import Client, ClientService, Recurrence, Task
from sodium.schedules.practice import working_calendar
from sodium.schedules.rules import schedule_from_json
from sodium.services.recurrences import create_recurrence, pause_recurrence, resume_recurrence
from tests import factories as f
from tests.base import BaseTestCase
from tests.sodium.test_recurring import at

CLIENTS = 500
STAGGERS = ("q_mar", "q_apr", "q_may", "monthly", "none")
FIRST_DAY, LAST_DAY = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
OUTAGE = (dt.date(2026, 5, 1), dt.date(2026, 6, 9))  # 40 days without a sweep
PAUSE, RESUME = dt.date(2026, 9, 1), dt.date(2026, 11, 1)


class SimulatedYearTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        vat = f.ServiceFactory(practice=self.practice, name="VAT returns")
        payroll = f.TagFactory(practice=self.practice, name="Payroll")
        clients = Client.objects.bulk_create(
            Client(
                practice=self.practice,
                name=f"Client {n:03d}",
                reference=f"C{n:03d}",
                vat_periods=STAGGERS[n % 5],
                year_end_day=None if n % 11 == 0 else 31 if n % 2 else 30,
                year_end_month=None if n % 11 == 0 else (3, 6, 9, 12)[n % 4] if n % 2 else 4,
                client_manager=self.staff,
            )
            for n in range(CLIENTS)
        )
        ClientService.objects.bulk_create(
            ClientService(practice=self.practice, client=c, service=vat)
            for c in clients
            if c.vat_periods != "none"
        )
        Client.tags.through.objects.bulk_create(
            Client.tags.through(client_id=c.pk, tag_id=payroll.pk) for c in clients[::3]
        )
        common = {"practice": self.practice, "actor": self.manager, "now": at("2026-01-01", 0)}
        self.vat = create_recurrence(
            name="Quarterly VAT",
            service=vat,
            schedule={"kind": "client_date", "anchor": "vat_period_end", "offset": 1},
            task_name="{{ client.name }} VAT {{ period.label }}",
            due_rule=Recurrence.DueRule.VAT_RETURN,
            client_selection=Recurrence.Clients.SERVICE,
            **common,
        )
        self.accounts = create_recurrence(
            name="Annual accounts",
            schedule={"kind": "client_date", "anchor": "year_end", "offset": 1},
            task_name="{{ client.name }} accounts {{ period.label }}",
            due_rule=Recurrence.DueRule.ACCOUNTS,
            client_selection=Recurrence.Clients.ALL,
            **common,
        )
        self.payroll = create_recurrence(
            name="Monthly payroll",
            schedule={
                "kind": "calendar",
                "frequency": "monthly",
                "start": "2026-01-01",
                "month_day": 25,
            },
            working_day_rule="before",
            task_name="{{ client.name }} payroll {{ period.label }}",
            due_rule=Recurrence.DueRule.OFFSET,
            due_offset=5,
            client_selection=Recurrence.Clients.TAG,
            tag=payroll,
            **common,
        )

    def expected(self, recurrence: Recurrence, skip=None) -> set[tuple[int, dt.date]]:
        schedule = schedule_from_json(recurrence.schedule)
        calendar = working_calendar(self.practice)
        found = set()
        for client in recurring.selected_clients(recurrence):
            try:
                occurrences = schedule.occurrences(
                    FIRST_DAY,
                    LAST_DAY + relativedelta(days=1),
                    rule=recurrence.working_day_rule,
                    calendar=calendar,
                    client=client,
                )
            except Exception:  # noqa: BLE001 - clients without the date have no periods
                continue
            found |= {(client.pk, o.date) for o in occurrences if not (skip and skip(o.date))}
        return found

    def made(self, recurrence: Recurrence) -> Counter:
        return Counter(
            Task.objects.filter(recurrence=recurrence).values_list("client_id", "start_date")
        )

    def test_a_year_makes_exactly_one_task_per_client_per_period(self) -> None:
        day = FIRST_DAY
        while day <= LAST_DAY:
            if day == PAUSE:
                pause_recurrence(self.payroll, actor=self.manager)
            if day == RESUME:
                resume_recurrence(self.payroll, actor=self.manager, now=at(day.isoformat(), 0))
            if not (OUTAGE[0] <= day <= OUTAGE[1]):
                recurring.generate_due(None, at(day.isoformat(), 0))
            day += relativedelta(days=1)

        paused = lambda start: PAUSE <= start < RESUME  # noqa: E731
        for recurrence, skip in ((self.vat, None), (self.accounts, None), (self.payroll, paused)):
            with self.subTest(recurrence=recurrence.name):
                made = self.made(recurrence)
                self.assertEqual(set(made.values()), {1})  # never twice
                self.assertEqual(set(made), self.expected(recurrence, skip))
        vat_in_outage = [d for _, d in self.made(self.vat) if OUTAGE[0] <= d <= OUTAGE[1]]
        self.assertTrue(vat_in_outage)  # 1 May and 1 June periods, created after the outage
        payroll_starts = {d for _, d in self.made(self.payroll)}
        self.assertFalse([d for d in payroll_starts if PAUSE <= d < RESUME])
        self.assertIn(dt.date(2026, 12, 24), payroll_starts)  # 25 December: the day before
        self.accounts.refresh_from_db()
        self.assertIn("no year end", {skip["reason"] for skip in self.accounts.last_skips})
