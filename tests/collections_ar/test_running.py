"""Running AR workflows with the clock moved: each action once, on its date, inside the
sending window, never on weekends or bank holidays; nothing after a payment, a void, a
dispute or an unassign; pause and resume by the practice's rule; a chained workflow next."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django_scopes import scopes_disabled

from collections_ar import assigning, engine
from collections_ar.builder import editing
from collections_ar.models import ActionRun, ARSettings, Assignment, CollectionStatus, Invoice
from sodium.models import OutboundMessage
from tests import factories as f
from tests.collections_ar.ar_helpers import ARTestCase
from tests.collections_ar.run_helpers import LONDON, ClockMixin, at

MON = dt.date(2026, 12, 7)  # a Monday; Fri 25 and Mon 28 Dec 2026 are bank holidays
RS = ActionRun.State


class RunTestCase(ClockMixin, ARTestCase):
    def setUp(self) -> None:
        super().setUp()
        scopes = scopes_disabled()
        scopes.__enter__()
        self.addCleanup(scopes.__exit__, None, None, None)
        self.contact = f.ContactFactory(
            client=self.acme,
            first_name="Ellie",
            last_name="Ali",
            email="ellie@acme.example",
            mobile="07700 900123",
            is_billing=True,
        )
        self.reminded = CollectionStatus.objects.get(practice=self.practice, builtin_key="reminded")
        self.workflow = editing.create_workflow(self.practice, actor=self.owner, name="Chase")
        add = lambda **kw: editing.add_action(self.workflow, actor=self.owner, **kw)  # noqa: E731
        add(
            kind="email",
            base="assigned",
            days=0,
            subject="{{ invoice.number }}: {{ invoice.balance }} overdue",
            body="Dear {{ contact.first_name }}, please pay {{ customer.balance }}.",
        )
        add(kind="sms", base="assigned", days=2, body="Please pay {{ customer.balance }}.")
        add(kind="status", base="assigned", days=0, collection_status=self.reminded)
        add(kind="call", base="assigned", days=3, body="Ask when {{ invoice.number }} is paid")
        engine.switch_workflow(self.workflow, actor=self.owner, on=True)
        self.inv = self.invoice(
            "INV-1", "900.00", issue_date=MON - dt.timedelta(days=40), due_date=MON
        )

    def assign(self, on=MON, customers=None):
        return assigning.assign_workflow(
            customers or [self.customer], self.workflow, actor=self.owner, on=on
        )

    def sent(self):
        return list(OutboundMessage.objects.filter(source_type="ar.run").order_by("pk"))


class RunOnceTests(RunTestCase):
    def test_each_action_runs_once_on_its_date_inside_the_window(self) -> None:
        self.assign()
        self.days(MON, 12, hours=(7, 9, 12, 16, 17, 20))
        messages = self.sent()
        self.assertEqual([m.channel for m in messages], ["email", "sms"])
        email, sms = messages
        self.assertEqual(email.to, ["ellie@acme.example"])
        self.assertEqual(email.subject, "INV-1: £900.00 overdue")
        self.assertEqual(sms.to, ["+447700900123"])
        runs = list(ActionRun.objects.order_by("position"))
        self.assertEqual([r.state for r in runs], [RS.DONE] * 4)
        days = [r.done_at.astimezone(LONDON) for r in runs]
        # "N days later" counts from the action before: the email on Monday, the text two
        # days later, the status the same day, the call three days after that (Saturday,
        # so Monday); each at the first sweep inside 09:00–17:00.
        wed, next_mon = dt.date(2026, 12, 9), dt.date(2026, 12, 14)
        self.assertEqual(
            [(d.date(), d.hour) for d in days],
            [(MON, 9), (wed, 9), (wed, 9), (next_mon, 9)],
        )
        self.inv.refresh_from_db()
        self.assertEqual(self.inv.collection_status, self.reminded)
        self.assertEqual(Assignment.objects.get().state, Assignment.State.FINISHED)

    def test_sweeping_again_and_again_sends_nothing_more(self) -> None:
        self.assign()
        for minute in range(0, 60, 5):
            self.sweep(at(MON, 10, minute))
        self.assertEqual(len(self.sent()), 1)
        self.days(MON, 5, hours=(10, 10, 11, 11))
        self.assertEqual(len(self.sent()), 2)

    def test_nothing_runs_on_weekends_or_outside_the_window(self) -> None:
        sat = dt.date(2026, 12, 12)
        self.assign(on=sat)
        self.days(sat, 2, hours=(9, 12, 16))  # Saturday and Sunday
        self.sweep(at(dt.date(2026, 12, 14), 8, 59))
        self.assertEqual(self.sent(), [])
        # Day 0 and "two days later" both land on the weekend: both go on Monday.
        self.sweep(at(dt.date(2026, 12, 14), 9, 1))
        self.assertEqual([m.channel for m in self.sent()], ["email", "sms"])

    def test_bank_holidays_move_to_the_next_working_day(self) -> None:
        christmas_eve = dt.date(2026, 12, 24)
        self.assign(on=christmas_eve)
        self.days(christmas_eve, 6, hours=(10,))  # 24 → 29 December
        sms = ActionRun.objects.get(kind="sms")
        # Two days after Thursday 24th is Saturday 26th: the next working day is Tuesday 29th
        # (Friday 25th and Monday 28th are bank holidays).
        self.assertEqual(sms.done_at.astimezone(LONDON).date(), dt.date(2026, 12, 29))

    def test_the_window_is_the_practices_setting(self) -> None:
        ARSettings.objects.create(
            practice=self.practice, send_from=dt.time(11, 0), send_until=dt.time(12, 0)
        )
        self.assign()
        tue = MON + dt.timedelta(days=1)
        for moment in (at(MON, 10, 30), at(MON, 12, 30), at(tue, 10, 30)):
            self.sweep(moment)
            self.assertEqual(self.sent(), [], moment)
        self.sweep(at(tue, 11, 15))  # missed on Monday: the next window
        self.assertEqual(len(self.sent()), 1)

    def test_after_a_five_day_outage_each_missed_action_runs_once(self) -> None:
        self.assign()
        self.sweep(at(dt.date(2026, 12, 14), 10))  # the first sweep in a week
        self.assertEqual([m.channel for m in self.sent()], ["email", "sms"])
        self.assertEqual(ActionRun.objects.filter(state=RS.DONE).count(), 4)
        self.sweep(at(dt.date(2026, 12, 14), 11))
        self.assertEqual(len(self.sent()), 2)


class StopTests(RunTestCase):
    def test_nothing_more_after_the_invoice_is_paid(self) -> None:
        self.assign()
        self.sweep(at(MON, 10))
        engine.record_payment(self.inv, actor=self.owner, amount=Decimal("900.00"), date=MON)
        self.days(MON + dt.timedelta(days=1), 10, hours=(10,))
        self.assertEqual([m.channel for m in self.sent()], ["email"])
        assignment = Assignment.objects.get()
        self.assertEqual(assignment.state, Assignment.State.STOPPED)
        self.assertEqual(
            set(ActionRun.objects.exclude(state=RS.DONE).values_list("state", flat=True)),
            {RS.SKIPPED, RS.CANCELLED},
        )

    def test_a_part_payment_keeps_chasing_with_the_new_balance(self) -> None:
        self.assign()
        self.sweep(at(MON, 10))
        engine.record_payment(self.inv, actor=self.owner, amount=Decimal("400.00"), date=MON)
        self.days(MON + dt.timedelta(days=1), 3, hours=(10,))
        sms = self.sent()[-1]
        self.assertEqual(sms.body_text, "Please pay £500.00.")

    def test_nothing_after_a_void_or_a_dispute(self) -> None:
        other = self.invoice("INV-2", "50.00", issue_date=MON - dt.timedelta(days=40), due_date=MON)
        self.assign()
        self.sweep(at(MON, 10))
        engine.void_invoice(self.inv, actor=self.owner)
        engine.dispute_invoice(other, actor=self.owner, note="Wrong hours")
        self.days(MON + dt.timedelta(days=1), 10, hours=(10,))
        self.assertEqual(len(self.sent()), 1)
        self.assertEqual(Assignment.objects.get().state, Assignment.State.STOPPED)

    def test_nothing_after_an_unassign(self) -> None:
        summary = self.assign()
        self.assertEqual(summary.assigned, [self.customer])
        self.sweep(at(MON, 10))
        engine.unassign(Assignment.objects.get(), actor=self.owner)
        self.days(MON, 10, hours=(10,))
        self.assertEqual(len(self.sent()), 1)
        self.assertEqual(ActionRun.objects.filter(state=RS.CANCELLED).count(), 3)
        self.customer.refresh_from_db()
        self.assertIsNone(self.customer.workflow)


class PauseTests(RunTestCase):
    def test_resume_continues_where_it_left_off_by_default(self) -> None:
        self.assign()
        self.sweep(at(MON, 10))
        assignment = engine.pause_assignment(Assignment.objects.get(), actor=self.owner)
        self.days(MON + dt.timedelta(days=1), 7, hours=(10,))  # paused all week
        self.assertEqual(len(self.sent()), 1)
        self.now = at(MON + dt.timedelta(days=7), 10)
        engine.resume_assignment(assignment, actor=self.owner, now=self.now)
        self.sweep(at(MON + dt.timedelta(days=7), 10, 5))
        self.assertEqual(len(self.sent()), 1, "nothing bursts out on resume")
        self.days(MON + dt.timedelta(days=8), 4, hours=(10,))
        self.assertEqual([m.channel for m in self.sent()], ["email", "sms"])

    def test_resume_can_skip_what_fell_due_while_paused(self) -> None:
        ARSettings.objects.create(practice=self.practice, resume=ARSettings.Resume.SKIP)
        self.assign()
        self.sweep(at(MON, 10))
        assignment = engine.pause_assignment(Assignment.objects.get(), actor=self.owner)
        engine.resume_assignment(
            assignment, actor=self.owner, now=at(MON + dt.timedelta(days=7), 10)
        )
        self.days(MON + dt.timedelta(days=7), 5, hours=(10,))
        self.assertEqual([m.channel for m in self.sent()], ["email"])
        # The text, the status and the call fell due while paused (the call on Monday 09:00).
        self.assertEqual(ActionRun.objects.filter(state=RS.SKIPPED).count(), 3)


class ChainTests(RunTestCase):
    def test_the_next_workflow_starts_the_day_the_last_action_ran(self) -> None:
        final = editing.create_workflow(self.practice, actor=self.owner, name="Final")
        editing.add_action(
            final,
            actor=self.owner,
            kind="email",
            base="assigned",
            days=1,
            subject="Final notice",
            body="Pay {{ customer.balance }} now.",
        )
        engine.switch_workflow(final, actor=self.owner, on=True)
        editing.update_workflow(
            self.workflow, actor=self.owner, name="Chase", description="", continue_with=final
        )
        self.assign()
        self.days(MON, 10, hours=(10,))
        chained = Assignment.objects.get(workflow=final)
        self.assertEqual(chained.assigned_on, dt.date(2026, 12, 14))  # the call's day
        self.assertEqual(self.sent()[-1].subject, "Final notice")
        done = ActionRun.objects.get(assignment=chained).done_at.astimezone(LONDON)
        self.assertEqual(done.date(), dt.date(2026, 12, 15))
        self.customer.refresh_from_db()
        self.assertIsNone(self.customer.workflow)  # finished: Final had one action


class NewInvoiceTests(RunTestCase):
    def test_a_new_invoice_gets_its_due_date_runs(self) -> None:
        editing.add_action(
            self.workflow,
            actor=self.owner,
            kind="email",
            base="before_due",
            days=3,
            subject="Due soon",
            body="{{ invoice.number }} is due on {{ invoice.due_date }}.",
        )
        self.assign()
        later = self.invoice("INV-9", "120.00", issue_date=MON, due_date=dt.date(2026, 12, 21))
        self.assertTrue(ActionRun.objects.filter(invoice=later).exists())
        self.days(MON, 15, hours=(10,))
        due_soon = [m for m in self.sent() if m.subject == "Due soon"]
        self.assertEqual(len(due_soon), 1)
        self.assertIn("INV-9 is due on 21 December 2026", due_soon[0].body_text)
        run = ActionRun.objects.get(invoice=later)
        self.assertEqual(run.done_at.astimezone(LONDON).date(), dt.date(2026, 12, 18))
        self.assertEqual(Invoice.objects.count(), 2)


class BounceTests(RunTestCase):
    def test_the_next_email_to_a_bounced_address_waits_for_a_fix(self) -> None:
        editing.add_action(
            self.workflow,
            actor=self.owner,
            kind="email",
            base="assigned",
            days=1,
            subject="Second",
            body="Still {{ customer.balance }}",
        )
        self.assign()
        self.sweep(at(MON, 10))
        first = self.sent()[0]
        OutboundMessage.objects.filter(pk=first.pk).update(status="bounced")
        self.days(MON + dt.timedelta(days=1), 10, hours=(10,))
        self.assertEqual([m.subject for m in self.sent() if m.channel == "email"], [first.subject])
        waiting = ActionRun.objects.get(action__subject="Second")
        self.assertEqual(waiting.state, RS.PENDING)
        self.assertIn("bounced; correct the address", waiting.detail)
        self.contact.email = "accounts@acme.example"
        self.contact.save(update_fields=["email"])
        self.days(MON + dt.timedelta(days=11), 2, hours=(10,))
        second = [m for m in self.sent() if m.subject == "Second"]
        self.assertEqual([m.to for m in second], [["accounts@acme.example"]])


class SwitchedOffTests(RunTestCase):
    def test_switching_off_hides_the_workflow_but_running_customers_carry_on(self) -> None:
        other = f.ClientFactory(practice=self.practice, name="Other Ltd")
        f.ContactFactory(client=other, email="o@other.example", mobile="07700 900999")
        later = engine.get_or_create_customer(other, actor=self.owner)
        self.assign()
        self.sweep(at(MON, 10))
        engine.switch_workflow(self.workflow, actor=self.owner, on=False)
        with self.assertRaises(engine.ARError):
            assigning.assign_workflow([later], self.workflow, actor=self.owner, on=MON)
        self.days(MON + dt.timedelta(days=1), 3, hours=(10,))
        self.assertEqual([m.channel for m in self.sent()], ["email", "sms"])


class NotifyAndAssignTests(RunTestCase):
    def test_a_notification_reaches_the_specialist_and_an_assign_action_changes_them(self) -> None:
        from sodium.models import Notification

        engine.assign_specialist(self.customer, self.ar_specialist, actor=self.owner)
        flow = editing.create_workflow(self.practice, actor=self.owner, name="Hand over")
        editing.add_action(
            flow,
            actor=self.owner,
            kind="notify",
            base="assigned",
            days=0,
            body="{{ customer.name }} owes {{ customer.balance }}",
        )
        editing.add_action(
            flow, actor=self.owner, kind="assign", base="assigned", days=1, user=self.ar_manager
        )
        editing.add_action(flow, actor=self.owner, kind="notify", base="assigned", days=0)
        engine.switch_workflow(flow, actor=self.owner, on=True)
        assigning.assign_workflow([self.customer], flow, actor=self.owner, on=MON)
        self.days(MON, 2, hours=(10,))
        first = Notification.objects.get(user=self.ar_specialist)
        self.assertEqual(first.text, "Acme Widgets owes £900.00")
        self.customer.refresh_from_db()
        self.assertEqual(self.customer.specialist, self.ar_manager)
        # The later notification, with no one named, reaches the new specialist.
        self.assertTrue(Notification.objects.filter(user=self.ar_manager).exists())
