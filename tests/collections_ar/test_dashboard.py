"""The AR dashboard: calls for me (completed with an outcome and maybe a promise), money by
age band, DSO, promises and bounces; a fixed number of queries; specialists see their own."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext

from collections_ar import dashboard, engine
from collections_ar.models import ActionRun, Assignment, Promise
from sodium.models import OutboundMessage
from sodium.roles import Role
from tests import factories as f
from tests.collections_ar.test_running import MON, RunTestCase

RS = ActionRun.State


class DashboardTests(RunTestCase):
    def setUp(self) -> None:
        super().setUp()
        engine.assign_specialist(self.customer, self.ar_specialist, actor=self.owner)
        self.assign()
        self.days(MON, 8, hours=(10,))  # through the call (Monday 14th)
        self.call = ActionRun.objects.get(kind="call")

    def m(self, role):
        return self.memberships[role]

    def test_the_call_is_waiting_for_its_specialist_and_managers(self) -> None:
        self.assertEqual(self.call.state, RS.DONE)
        self.assertEqual(dashboard.calls_for(self.m(Role.AR_SPECIALIST)), [self.call])
        self.assertEqual(dashboard.calls_for(self.m(Role.AR_MANAGER)), [self.call])
        self.assertIn("Ellie Ali, 07700 900123 — Ask when INV-1 is paid", self.call.detail)

    def test_another_specialists_customer_is_not_theirs(self) -> None:
        engine.assign_specialist(self.customer, self.owner, actor=self.owner)
        self.assertEqual(dashboard.calls_for(self.m(Role.AR_SPECIALIST)), [])
        self.client.force_login(self.ar_specialist)
        r = self.client.post(f"/ar/calls/{self.call.pk}/complete/", {"outcome": "x"})
        self.assertEqual(r.status_code, 404)

    def test_completing_a_call_with_a_promise_pauses_the_chase(self) -> None:
        self.client.force_login(self.ar_specialist)
        with mock.patch("collections_ar.engine.today_for", return_value=MON):
            r = self.client.post(
                f"/ar/calls/{self.call.pk}/complete/",
                {
                    "outcome": "Spoke to Ellie",
                    "promise_amount": "£500.00",
                    "promise_date": "2026-12-18",
                },
                follow=True,
            )
        self.assertContains(r, "Promise of £500.00 recorded")
        self.call.refresh_from_db()
        self.assertEqual(self.call.outcome, "Spoke to Ellie")
        self.assertEqual(dashboard.calls_for(self.m(Role.AR_SPECIALIST)), [])
        promise = Promise.objects.get()
        self.assertEqual(
            (promise.amount, promise.promised_on), (Decimal("500.00"), dt.date(2026, 12, 18))
        )
        self.assertEqual(Assignment.objects.get().state, Assignment.State.FINISHED)

    def test_a_bad_promise_saves_neither_the_call_nor_the_promise(self) -> None:
        self.client.force_login(self.ar_specialist)
        r = self.client.post(
            f"/ar/calls/{self.call.pk}/complete/",
            {"outcome": "Spoke", "promise_amount": "lots", "promise_date": "2026-12-18"},
            follow=True,
        )
        self.assertContains(r, "Enter the amount as a number")
        self.call.refresh_from_db()
        self.assertIsNone(self.call.completed_at)
        self.assertFalse(Promise.objects.exists())

    def test_an_empty_outcome_is_refused(self) -> None:
        self.client.force_login(self.ar_specialist)
        r = self.client.post(f"/ar/calls/{self.call.pk}/complete/", {"outcome": " "}, follow=True)
        self.assertContains(r, "Say how the call went.")
        self.call.refresh_from_db()
        self.assertIsNone(self.call.completed_at)

    def test_money_by_age_band(self) -> None:
        today = dt.date(2026, 12, 20)
        self.invoice("INV-2", "100.00", issue_date=today - dt.timedelta(days=10), due_date=today)
        self.invoice(
            "INV-3",
            "40.00",
            issue_date=today - dt.timedelta(days=99),
            due_date=today - dt.timedelta(days=95),
        )
        bands = {b.key: (b.amount, b.count) for b in dashboard.age_bands(self.m(Role.OWNER), today)}
        self.assertEqual(bands["current"], (Decimal("100.00"), 1))
        self.assertEqual(bands["1_30"], (Decimal("900.00"), 1))  # INV-1, due 7 December
        self.assertEqual(bands["90_plus"], (Decimal("40.00"), 1))
        self.assertEqual(bands["31_60"], (Decimal("0.00"), 0))

    def test_dso_is_what_is_owed_over_90_days_of_invoicing(self) -> None:
        today = dt.date(2026, 12, 20)
        points = dashboard.dso_trend(self.m(Role.OWNER), today)
        # £900 owed, £900 invoiced on 27 October (within 90 days): 90 days.
        self.assertEqual(points[-1].days, 90.0)
        engine.record_payment(self.inv, actor=self.owner, amount=Decimal("450.00"), date=today)
        self.assertEqual(dashboard.dso_trend(self.m(Role.OWNER), today)[-1].days, 45.0)
        self.assertEqual(len(points), 7)

    def test_the_page_shows_bounces_and_runs_a_fixed_number_of_queries(self) -> None:
        OutboundMessage.objects.filter(channel="email").update(status="bounced")
        self.client.force_login(self.owner)
        with CaptureQueriesContext(connection) as few:
            r = self.client.get("/ar/dashboard/")
        self.assertContains(r, "ellie@acme.example")
        self.assertContains(r, "Calls to make")
        for n in range(8):
            client = f.ClientFactory(practice=self.practice, name=f"More {n}")
            customer = engine.get_or_create_customer(client, actor=self.owner)
            self.invoice(f"M-{n}", "10.00", customer=customer)
        with CaptureQueriesContext(connection) as many:
            self.client.get("/ar/dashboard/")
        self.assertEqual(len(few), len(many))

    def test_staff_are_refused(self) -> None:
        self.client.force_login(self.staff)
        self.assertEqual(self.client.get("/ar/dashboard/").status_code, 403)
