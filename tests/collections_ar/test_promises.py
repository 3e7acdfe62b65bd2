"""Promises to pay: chasing pauses until the date (and grace); a payment keeps the promise;
no payment breaks it, tells the specialist and resumes the sequence where it stopped."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest import mock

from collections_ar import engine
from collections_ar.errors import ARError
from collections_ar.models import ActionRun, Assignment, Promise
from sodium.models import Notification
from tests.collections_ar.run_helpers import at
from tests.collections_ar.test_running import MON, RunTestCase

RS = ActionRun.State


class PromiseTests(RunTestCase):
    def setUp(self) -> None:
        super().setUp()
        engine.assign_specialist(self.customer, self.ar_specialist, actor=self.owner)
        self.assign()
        self.sweep(at(MON, 10))  # the first email goes

    def promise(self, amount="900.00", on=MON + dt.timedelta(days=4)):
        with mock.patch("collections_ar.engine.today_for", return_value=MON):
            return engine.record_promise(
                self.customer, actor=self.owner, amount=Decimal(amount), promised_on=on
            )

    def test_a_promise_pauses_the_chase_until_its_date_and_grace(self) -> None:
        promise = self.promise()
        assignment = Assignment.objects.get()
        self.assertEqual(assignment.state, Assignment.State.PAUSED)
        self.assertTrue(assignment.paused_reason.startswith("Promise to pay £900.00"))
        self.days(MON + dt.timedelta(days=1), 6, hours=(10,))  # Friday 11th + 3 days grace
        self.assertEqual(len(self.sent()), 1)
        promise.refresh_from_db()
        self.assertEqual(promise.state, Promise.State.OPEN)

    def test_no_payment_breaks_it_tells_the_specialist_and_resumes(self) -> None:
        promise = self.promise()
        # Promised Friday 11 December; three days' grace: checked Monday 14th at 09:00.
        self.days(MON + dt.timedelta(days=1), 7, hours=(10,))
        promise.refresh_from_db()
        self.assertEqual(promise.state, Promise.State.BROKEN)
        note = Notification.objects.get(user=self.ar_specialist)
        self.assertIn("broke its promise to pay £900.00", note.text)
        self.assertEqual(Assignment.objects.get().state, Assignment.State.ACTIVE)
        self.days(MON + dt.timedelta(days=8), 14, hours=(10,))
        self.assertEqual([m.channel for m in self.sent()], ["email", "sms"])

    def test_a_payment_that_covers_it_keeps_it_at_once(self) -> None:
        promise = self.promise("400.00")
        engine.record_payment(self.inv, actor=self.owner, amount=Decimal("400.00"), date=MON)
        promise.refresh_from_db()
        self.assertEqual(promise.state, Promise.State.KEPT)
        self.assertEqual(Assignment.objects.get().state, Assignment.State.ACTIVE)  # still owes

    def test_paying_everything_keeps_it_and_stops_the_chase(self) -> None:
        promise = self.promise()
        engine.record_payment(self.inv, actor=self.owner, amount=Decimal("900.00"), date=MON)
        promise.refresh_from_db()
        self.assertEqual(promise.state, Promise.State.KEPT)
        self.assertEqual(Assignment.objects.get().state, Assignment.State.STOPPED)
        self.days(MON + dt.timedelta(days=1), 10, hours=(10,))
        self.assertEqual(len(self.sent()), 1)

    def test_bad_promises_are_refused_and_change_nothing(self) -> None:
        for amount, on, field in (
            ("0.00", MON + dt.timedelta(days=3), "amount"),
            ("901.00", MON + dt.timedelta(days=3), "amount"),
            ("100.00", MON - dt.timedelta(days=1), "promised_on"),
            ("100.00", MON + dt.timedelta(days=91), "promised_on"),
        ):
            with self.subTest(amount=amount, on=on), self.assertRaises(ARError) as caught:
                self.promise(amount, on)
            self.assertIn(field, caught.exception.errors)
        self.assertFalse(Promise.objects.exists())
        self.assertEqual(Assignment.objects.get().state, Assignment.State.ACTIVE)
        self.promise("100.00")
        with self.assertRaises(ARError):
            self.promise("100.00")
        self.assertEqual(Promise.objects.count(), 1)
