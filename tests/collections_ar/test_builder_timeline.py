"""The timeline preview: dates, working days, due-date actions, rendered messages, chains."""

from __future__ import annotations

import datetime as dt

from collections_ar import engine
from collections_ar.builder import editing
from collections_ar.builder.timeline import build_timeline
from collections_ar.models import ARAction, ARWorkflow
from sodium.schedules.working_days import bank_holidays
from tests import factories as f
from tests.collections_ar.ar_helpers import ARTestCase

K = ARAction.Kind
B = ARAction.Base

MON_2_NOV = dt.date(2026, 11, 2)  # a Monday with no bank holiday near it
MON_21_DEC = dt.date(2026, 12, 21)


class TimelineTestCase(ARTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.wf = editing.create_workflow(self.practice, actor=self.owner, name="Chase")

    def contact(self, **kw):
        kw.setdefault("first_name", "Ellie")
        kw.setdefault("last_name", "Ali")
        kw.setdefault("email", "ellie@acme.example")
        kw.setdefault("mobile", "07700 900123")
        return f.ContactFactory(client=self.acme, is_main=True, **kw)

    def note(self, days: int, wf: ARWorkflow | None = None, **kw) -> ARAction:
        kw.setdefault("body", f"after {days}")
        return editing.add_action(wf or self.wf, actor=self.owner, kind=K.NOTE, days=days, **kw)

    def timeline(self, start: dt.date, wf: ARWorkflow | None = None):
        return build_timeline(wf or self.wf, self.customer, start=start)


class AssignedDateTests(TimelineTestCase):
    def test_each_action_lands_its_days_after_the_one_before(self) -> None:
        self.note(0)
        self.note(7)
        self.note(7)
        t = self.timeline(MON_2_NOV)
        self.assertEqual(t.start, MON_2_NOV)
        self.assertEqual(
            [e.date for e in t.entries],
            [dt.date(2026, 11, 2), dt.date(2026, 11, 9), dt.date(2026, 11, 16)],
        )
        self.assertEqual([e.number for e in t.entries], [1, 2, 3])
        self.assertEqual([e.moved_because for e in t.entries], ["", "", ""])

    def test_a_saturday_moves_to_monday(self) -> None:
        self.note(5)  # Saturday 7 November
        (entry,) = self.timeline(MON_2_NOV).entries
        self.assertEqual(entry.date, dt.date(2026, 11, 9))
        self.assertEqual(entry.date.weekday(), 0)
        self.assertEqual(entry.scheduled, dt.date(2026, 11, 7))
        self.assertEqual(entry.moved_because, "Saturday")

    def test_bank_holidays_move_to_the_next_working_day(self) -> None:
        holidays_2026 = bank_holidays("england_wales", 2026)
        self.assertEqual(holidays_2026[dt.date(2026, 12, 25)], "Christmas Day")
        self.assertIn(dt.date(2026, 12, 28), holidays_2026)  # Boxing Day (a Saturday), observed
        self.note(4)  # Friday 25 December
        self.note(3)  # Monday 28 December
        christmas, boxing = self.timeline(MON_21_DEC).entries
        self.assertEqual(christmas.scheduled, dt.date(2026, 12, 25))
        self.assertEqual(christmas.moved_because, "Christmas Day")
        self.assertEqual(christmas.date, dt.date(2026, 12, 29))
        self.assertEqual(boxing.scheduled, dt.date(2026, 12, 28))
        self.assertEqual(boxing.moved_because, holidays_2026[dt.date(2026, 12, 28)])
        self.assertEqual(boxing.date, dt.date(2026, 12, 29))


class DueDateTests(TimelineTestCase):
    def test_a_due_date_action_runs_per_open_invoice_and_past_ones_are_before_start(self) -> None:
        later = self.invoice("INV-LATER", due_date=dt.date(2026, 11, 20))
        soon = self.invoice("INV-SOON", due_date=dt.date(2026, 11, 4))
        voided = self.invoice("INV-VOID", due_date=dt.date(2026, 11, 25))
        engine.void_invoice(voided, actor=self.owner)
        self.note(3, base=B.BEFORE_DUE)
        t = self.timeline(MON_2_NOV)
        by_invoice = {e.invoice.number: e for e in t.entries}
        self.assertEqual(set(by_invoice), {"INV-LATER", "INV-SOON"})

        past = by_invoice["INV-SOON"]
        self.assertEqual(past.invoice, soon)
        self.assertTrue(past.before_start)
        self.assertEqual(past.date, dt.date(2026, 11, 1))
        self.assertIn("before the workflow starts", past.skipped)
        self.assertEqual(t.left_out, [past])

        coming = by_invoice["INV-LATER"]
        self.assertEqual(coming.invoice, later)
        self.assertFalse(coming.before_start)
        self.assertEqual(coming.date, dt.date(2026, 11, 17))
        self.assertEqual(coming.skipped, "")
        self.assertEqual(t.shown, [coming])

    def test_an_after_due_action_on_a_sunday_moves_to_monday(self) -> None:
        self.invoice("INV-1", due_date=dt.date(2026, 11, 5))
        self.note(3, base=B.AFTER_DUE)  # Sunday 8 November
        (entry,) = self.timeline(MON_2_NOV).entries
        self.assertEqual(entry.scheduled, dt.date(2026, 11, 8))
        self.assertEqual(entry.moved_because, "Sunday")
        self.assertEqual(entry.date, dt.date(2026, 11, 9))

    def test_no_open_invoices_no_due_date_entries(self) -> None:
        self.note(3, base=B.BEFORE_DUE)
        self.assertEqual(self.timeline(MON_2_NOV).entries, [])


class MessageTests(TimelineTestCase):
    def test_an_email_is_rendered_with_the_customers_name_and_balance(self) -> None:
        self.contact()
        self.invoice("INV-1", total="300.00", due_date=dt.date(2026, 10, 30))
        self.invoice("INV-2", total="50.25", due_date=dt.date(2026, 10, 31))
        editing.add_action(
            self.wf,
            actor=self.owner,
            kind=K.EMAIL,
            days=0,
            subject="{{ customer.name }}: {{ invoice.number }}",
            body="Dear {{ contact.first_name }}, {{ customer.name }} owes {{ customer.balance }}.",
        )
        (entry,) = self.timeline(MON_2_NOV).entries
        self.assertEqual(entry.skipped, "")
        self.assertEqual(entry.to, "Ellie Ali <ellie@acme.example>")
        self.assertEqual(entry.subject, "Acme Widgets: INV-1")
        self.assertIn("Dear Ellie, Acme Widgets owes £350.25.", entry.text)
        self.assertEqual(entry.problem, "")

    def test_an_sms_has_its_segments(self) -> None:
        self.contact()
        self.invoice("INV-1", total="120.00")
        editing.add_action(
            self.wf,
            actor=self.owner,
            kind=K.SMS,
            days=0,
            body="{{ customer.name }} owes {{ customer.balance }}",
        )
        (entry,) = self.timeline(MON_2_NOV).entries
        self.assertEqual(entry.text, "Acme Widgets owes £120.00")
        self.assertEqual(entry.segments, "25 characters · 1 segment (GSM-7)")
        self.assertEqual(entry.to, "Ellie Ali, 07700 900123")
        self.assertEqual(entry.skipped, "")

    def test_an_sms_to_a_contact_with_no_mobile_is_skipped_saying_so(self) -> None:
        self.contact(mobile="")
        editing.add_action(self.wf, actor=self.owner, kind=K.SMS, days=0, body="Please pay")
        (entry,) = self.timeline(MON_2_NOV).entries
        self.assertEqual(entry.skipped, "Ellie Ali has no mobile number.")
        self.assertEqual(entry.to, "—")
        self.assertEqual(self.timeline(MON_2_NOV).happening, [])

    def test_an_email_to_a_contact_with_no_email_is_skipped(self) -> None:
        self.contact(email="")
        editing.add_action(
            self.wf, actor=self.owner, kind=K.EMAIL, days=0, subject="Hi", body="Please pay"
        )
        (entry,) = self.timeline(MON_2_NOV).entries
        self.assertIn("no email address", entry.skipped)


class ChainTests(TimelineTestCase):
    def test_the_next_workflow_starts_on_the_day_the_last_action_ran(self) -> None:
        then = editing.create_workflow(self.practice, actor=self.owner, name="Then")
        editing.update_workflow(
            self.wf, actor=self.owner, name="Chase", description="", continue_with=then
        )
        self.note(0)
        self.note(5)  # Saturday 7 November: runs Monday 9 November
        self.note(0, wf=then, body="then first")
        self.note(2, wf=then, body="then second")
        t = self.timeline(MON_2_NOV, wf=ARWorkflow.objects.get(pk=self.wf.pk))
        self.assertEqual([w.name for w in t.workflows], ["Chase", "Then"])
        self.assertEqual(
            [(e.workflow.name, e.number, e.date) for e in t.entries],
            [
                ("Chase", 1, dt.date(2026, 11, 2)),
                ("Chase", 2, dt.date(2026, 11, 9)),
                ("Then", 1, dt.date(2026, 11, 9)),
                ("Then", 2, dt.date(2026, 11, 11)),
            ],
        )

    def test_nothing_is_written(self) -> None:
        self.contact()
        self.note(0)
        before = (ARAction.objects.count(), ARWorkflow.objects.count())
        self.timeline(MON_2_NOV)
        self.assertEqual((ARAction.objects.count(), ARWorkflow.objects.count()), before)
