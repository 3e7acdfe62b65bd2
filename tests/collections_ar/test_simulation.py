"""Ninety days of AR workflows for 100 customers with the clock moved day by day.

Sweeps run three times a day (08:00, before the sending window; 11:00, inside it; 19:00,
after it), except for a five-day outage of the beat. Customers in groups pay, are voided,
are disputed, are unassigned, are paused and resumed, or break a promise to pay; the rest are
left alone. Then: every message exists once per action run and was written inside the
window on a working day; the untouched customers got every action on its planned date (or,
for what fell due during the outage, once at the first sweep after it); and nothing went out
after a payment, a void, a dispute or an unassign, nor while paused or promised.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from unittest import mock

from collections_ar import assigning, engine
from collections_ar.builder import editing
from collections_ar.models import ActionRun, Assignment, CollectionStatus, Invoice
from collections_ar.schedule import slots
from sodium.models import OutboundMessage
from sodium.schedules.working_days import WorkingCalendar
from tests import factories as f
from tests.collections_ar.ar_helpers import ARTestCase
from tests.collections_ar.run_helpers import LONDON, ClockMixin, at

START = dt.date(2026, 11, 2)  # a Monday
DAYS = 90
OUTAGE = range(30, 35)  # days with no sweep at all
HOURS = (8, 11, 19)
N = 100
RS = ActionRun.State


def day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


class NinetyDaysTests(ClockMixin, ARTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        from django_scopes import scopes_disabled

        with scopes_disabled():
            cls._build()

    @classmethod
    def _build(cls) -> None:
        practice, owner = cls.practice, cls.owner
        escalated = CollectionStatus.objects.get(practice=practice, builtin_key="escalated")
        then = editing.create_workflow(practice, actor=owner, name="Final")
        editing.add_action(
            then,
            actor=owner,
            kind="email",
            base="assigned",
            days=2,
            subject="Final notice",
            body="Pay {{ customer.balance }} now.",
        )
        engine.switch_workflow(then, actor=owner, on=True)
        wf = editing.create_workflow(practice, actor=owner, name="Standard")
        add = lambda **kw: editing.add_action(wf, actor=owner, **kw)  # noqa: E731
        add(kind="email", base="assigned", days=0, subject="Reminder", body="{{ invoice.number }}")
        add(kind="sms", base="assigned", days=3, body="Please pay {{ customer.balance }}.")
        add(kind="status", base="assigned", days=0, collection_status=escalated)
        add(kind="call", base="assigned", days=4, body="Call about {{ invoice.number }}")
        add(
            kind="email",
            base="assigned",
            days=7,
            subject="Second",
            body="Still {{ customer.balance }}",
        )
        add(kind="note", base="assigned", days=14, body="Escalate {{ customer.name }}")
        add(kind="email", base="after_due", days=40, subject="Long overdue", body="x")
        engine.switch_workflow(wf, actor=owner, on=True)
        editing.update_workflow(
            wf, actor=owner, name="Standard", description="", continue_with=then
        )
        customers = []
        for n in range(N):
            client = f.ClientFactory(practice=practice, name=f"Customer {n:03d}")
            f.ContactFactory(
                client=client, email=f"c{n}@example.com", mobile=f"07700 9{n:05d}", is_billing=True
            )
            customer = engine.get_or_create_customer(client, actor=owner)
            engine.create_invoice(
                customer,
                actor=owner,
                number=f"INV-{n:03d}",
                issue_date=START - dt.timedelta(days=30),
                due_date=START - dt.timedelta(days=n % 20),
                total=Decimal("1000.00"),
            )
            customers.append(customer)
        cls.workflow, cls.final = wf, then
        cls.customer_ids = [c.pk for c in customers]

    def group(self, name: str) -> range:
        return {
            "paid": range(0, 20),
            "void": range(20, 30),
            "disputed": range(30, 40),
            "unassigned": range(40, 50),
            "paused": range(50, 60),
            "promised": range(60, 70),
        }.get(name, range(70, N))

    def events(self, n: int) -> None:
        """What people do on day `n`, at noon."""
        from collections_ar.models import Customer

        def customers(group):
            ids = [self.customer_ids[i] for i in self.group(group)]
            return list(Customer.objects.filter(pk__in=ids).select_related("client"))

        def invoice(c):
            return Invoice.objects.get(customer=c)

        with mock.patch("django.utils.timezone.now", return_value=at(day(n), 12)):
            if n == 10:
                for c in customers("paid"):
                    inv = invoice(c)
                    engine.record_payment(inv, actor=self.owner, amount=inv.balance, date=day(n))
            if n == 5:
                for c in customers("void"):
                    engine.void_invoice(invoice(c), actor=self.owner)
            if n == 8:
                for c in customers("disputed"):
                    engine.dispute_invoice(invoice(c), actor=self.owner)
            if n == 6:
                for c in customers("unassigned"):
                    engine.unassign(assigning.live_assignment(c), actor=self.owner)
            if n == 3:
                for c in customers("paused"):
                    engine.pause_assignment(assigning.live_assignment(c), actor=self.owner)
            if n == 20:
                for c in customers("paused"):
                    engine.resume_assignment(
                        assigning.live_assignment(c), actor=self.owner, now=at(day(n), 12)
                    )
            if n == 4:
                with mock.patch("collections_ar.engine.today_for", return_value=day(n)):
                    for c in customers("promised"):
                        engine.record_promise(
                            c, actor=self.owner, amount=Decimal("100.00"), promised_on=day(n + 3)
                        )

    def test_ninety_days(self) -> None:
        assigning.assign_workflow(
            [c for c in self._customers()], self.workflow, actor=self.owner, on=START
        )
        for n in range(DAYS):
            for hour in HOURS:
                if n in OUTAGE:
                    continue
                self.sweep(at(day(n), hour))
                if hour == 11:
                    self.events(n)
        self._check_exactly_once()
        self._check_window()
        self._check_untouched()
        self._check_stops()

    def _customers(self):
        from collections_ar.models import Customer

        return list(
            Customer.objects.filter(pk__in=self.customer_ids).select_related("client", "contact")
        )

    def _check_exactly_once(self) -> None:
        messages = OutboundMessage.objects.filter(source_type="ar.run")
        keys = Counter(messages.values_list("idempotency_key", flat=True))
        self.assertTrue(keys)
        self.assertEqual(max(keys.values()), 1)
        runs = ActionRun.objects.filter(kind__in=["email", "sms"], state=RS.DONE)
        self.assertEqual(runs.count(), messages.count())
        self.assertEqual(set(runs.values_list("key", flat=True)), set(keys))

    def _check_window(self) -> None:
        calendar = WorkingCalendar()
        for done in ActionRun.objects.filter(state=RS.DONE).values_list("done_at", flat=True):
            local = done.astimezone(LONDON)
            self.assertTrue(calendar.is_working_day(local.date()), local)
            self.assertTrue(dt.time(9) <= local.time() < dt.time(17), local)

    def _expected(self, planned: dt.date) -> dt.date:
        # Due during the outage: done at the first sweep after it, the next working day.
        calendar = WorkingCalendar()
        first_back = calendar.working_day_on_or_after(day(OUTAGE.stop))
        if day(OUTAGE.start) <= planned < first_back:
            return first_back
        return planned

    def _check_untouched(self) -> None:
        calendar = WorkingCalendar()
        customers = {c.pk: c for c in self._customers()}
        for i in self.group("untouched"):
            customer = customers[self.customer_ids[i]]
            first = Assignment.objects.get(customer=customer, workflow=self.workflow)
            runs = {
                (r.action_id, r.invoice_id): r for r in ActionRun.objects.filter(assignment=first)
            }
            invoices = list(Invoice.objects.filter(customer=customer))
            planned = slots(
                list(self.workflow.actions.order_by("position")), invoices, START, calendar
            )
            self.assertEqual(len(runs), len(planned))
            for slot in planned:
                run = runs[(slot.action.pk, slot.invoice.pk if slot.invoice else None)]
                if slot.before_start:
                    self.assertEqual(run.state, RS.SKIPPED)
                    continue
                self.assertEqual(run.state, RS.DONE, run.key)
                self.assertEqual(
                    run.done_at.astimezone(LONDON).date(), self._expected(slot.date), run.key
                )
            self.assertEqual(first.state, Assignment.State.FINISHED)
            chained = Assignment.objects.get(customer=customer, workflow=self.final)
            self.assertEqual(chained.chained_from, first)

    def _last_message_day(self, i: int) -> dt.date | None:
        customer_id = self.customer_ids[i]
        runs = ActionRun.objects.filter(
            assignment__customer_id=customer_id, state=RS.DONE, kind__in=["email", "sms"]
        )
        last = max((r.done_at for r in runs), default=None)
        return last.astimezone(LONDON).date() if last else None

    def _check_stops(self) -> None:
        for group, event_day in (("paid", 10), ("void", 5), ("disputed", 8), ("unassigned", 6)):
            for i in self.group(group):
                with self.subTest(group=group, customer=i):
                    last = self._last_message_day(i)
                    self.assertIsNotNone(last)
                    self.assertLessEqual(last, day(event_day))
                    self.assertFalse(
                        ActionRun.objects.filter(
                            assignment__customer_id=self.customer_ids[i],
                            state__in=[RS.PENDING, RS.HELD],
                        ).exists()
                    )
        for i in self.group("paused"):
            customer_id = self.customer_ids[i]
            done_days = [
                r.done_at.astimezone(LONDON).date()
                for r in ActionRun.objects.filter(
                    assignment__customer_id=customer_id, state=RS.DONE
                )
            ]
            self.assertFalse([d for d in done_days if day(3) < d < day(20)], done_days)
            self.assertTrue([d for d in done_days if d >= day(20)])
        for i in self.group("promised"):
            customer_id = self.customer_ids[i]
            promise = engine.Promise.objects.get(customer_id=customer_id)
            self.assertEqual(promise.state, "broken")
            done_days = [
                r.done_at.astimezone(LONDON).date()
                for r in ActionRun.objects.filter(
                    assignment__customer_id=customer_id, state=RS.DONE
                )
            ]
            # Paused from day 4 to the promised date plus three days' grace (day 10, a
            # Thursday 09:00): nothing in between, the sequence resumed after.
            self.assertFalse([d for d in done_days if day(4) < d < day(10)], done_days)
            self.assertTrue([d for d in done_days if d >= day(10)])
