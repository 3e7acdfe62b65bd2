from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction

from collections_ar import engine
from collections_ar.models import INVOICE_MACHINE, Invoice, Payment
from sodium.models import ActivityEvent
from tests.collections_ar.ar_helpers import TODAY, ARTestCase

S = Invoice.Status

EXPECTED_TABLE = {
    S.OPEN: {S.PART_PAID, S.PAID, S.VOID, S.DISPUTED},
    S.PART_PAID: {S.PAID, S.VOID, S.DISPUTED},
    S.DISPUTED: {S.OPEN, S.PART_PAID, S.VOID},
    S.PAID: set(),
    S.VOID: set(),
}


class InvoiceMachineTests(ARTestCase):
    def test_the_table_is_the_agreed_one(self) -> None:
        for status in S.values:
            self.assertEqual(INVOICE_MACHINE.allowed(status), EXPECTED_TABLE[status], status)

    def test_every_allowed_move_goes_through_and_every_other_is_refused(self) -> None:
        n = 0
        for old in S.values:
            for new in S.values:
                n += 1
                invoice = self.invoice(number=f"M-{n}")
                Invoice.objects.filter(pk=invoice.pk).update(status=old)
                invoice.refresh_from_db()
                with self.subTest(old=old, new=new):
                    if new in EXPECTED_TABLE[old]:
                        with transaction.atomic():
                            INVOICE_MACHINE.transition(invoice, to=new, actor=self.owner)
                        invoice.refresh_from_db()
                        self.assertEqual(invoice.status, new)
                        self.assertTrue(
                            ActivityEvent.objects.filter(
                                verb="invoice.status",
                                object_id=invoice.pk,
                                old_status=old,
                                new_status=new,
                            ).exists()
                        )
                    else:
                        with self.assertRaises(engine.ARError):
                            with transaction.atomic():
                                engine._move(invoice, new, actor=self.owner)
                        invoice.refresh_from_db()
                        self.assertEqual(invoice.status, old)


class CreateInvoiceTests(ARTestCase):
    def test_it_creates_an_open_invoice_with_the_default_status(self) -> None:
        invoice = self.invoice(number="INV-9", total="250.50")
        self.assertEqual(invoice.status, S.OPEN)
        self.assertEqual(invoice.collection_status.name, "Current")
        self.assertEqual(invoice.balance, Decimal("250.50"))
        self.assertEqual(invoice.currency, "GBP")
        self.assertTrue(
            ActivityEvent.objects.filter(verb="ar.invoice.created", object_id=invoice.pk).exists()
        )

    def test_it_refuses_a_due_date_before_the_issue_date(self) -> None:
        with self.assertRaises(engine.ARError) as ctx:
            self.invoice(issue_date=TODAY, due_date=TODAY - dt.timedelta(days=1))
        self.assertIn("before the issue date", ctx.exception.errors["due_date"])
        self.assertFalse(Invoice.objects.exists())

    def test_the_database_refuses_a_due_date_before_the_issue_date(self) -> None:
        invoice = self.invoice()
        with self.assertRaises(IntegrityError), transaction.atomic():
            Invoice.objects.filter(pk=invoice.pk).update(
                due_date=invoice.issue_date - dt.timedelta(1)
            )

    def test_the_database_refuses_paid_above_total(self) -> None:
        invoice = self.invoice(total="10.00")
        with self.assertRaises(IntegrityError), transaction.atomic():
            Invoice.objects.filter(pk=invoice.pk).update(amount_paid=Decimal("10.01"))

    def test_clean_explains_a_due_date_before_the_issue_date(self) -> None:
        from django.core.exceptions import ValidationError

        invoice = Invoice(issue_date=TODAY, due_date=TODAY - dt.timedelta(days=1))
        with self.assertRaises(ValidationError) as ctx:
            invoice.clean()
        self.assertIn("due_date", ctx.exception.message_dict)

    def test_it_refuses_two_invoices_with_one_number(self) -> None:
        self.invoice(number="DUP-1")
        with self.assertRaises(engine.ARError) as ctx:
            self.invoice(number="DUP-1")
        self.assertIn("already exists", ctx.exception.errors["number"])
        self.assertEqual(Invoice.objects.filter(number="DUP-1").count(), 1)

    def test_another_practice_may_use_the_same_number(self) -> None:
        from tests import factories as f

        rival = engine.get_or_create_customer(
            f.ClientFactory(practice=self.other_practice), actor=self.outsider
        )
        self.invoice(number="SAME-1")
        other = self.invoice(number="SAME-1", customer=rival)
        self.assertEqual(other.practice_id, self.other_practice.pk)

    def test_it_refuses_a_negative_total(self) -> None:
        with self.assertRaises(engine.ARError) as ctx:
            self.invoice(total="-5.00")
        self.assertIn("negative", ctx.exception.errors["total"])

    def test_it_refuses_a_float_total(self) -> None:
        with self.assertRaises(engine.ARError):
            engine.create_invoice(
                self.customer,
                actor=self.owner,
                number="F-1",
                issue_date=TODAY,
                due_date=TODAY,
                total=12.5,
            )

    def test_it_refuses_a_bad_currency(self) -> None:
        with self.assertRaises(engine.ARError) as ctx:
            self.invoice(currency="POUNDS")
        self.assertIn("currency", ctx.exception.errors)


class RecordPaymentTests(ARTestCase):
    def pay(self, invoice: Invoice, amount: str) -> Payment:
        return engine.record_payment(
            invoice, actor=self.owner, amount=Decimal(amount), date=TODAY, reference="BACS"
        )

    def test_a_part_payment_makes_it_part_paid(self) -> None:
        invoice = self.invoice(total="100.00")
        self.pay(invoice, "40.00")
        invoice.refresh_from_db()
        self.assertEqual(invoice.status, S.PART_PAID)
        self.assertEqual(invoice.amount_paid, Decimal("40.00"))
        self.assertEqual(invoice.balance, Decimal("60.00"))

    def test_a_second_part_payment_stays_part_paid_and_is_recorded(self) -> None:
        invoice = self.invoice(total="100.00")
        self.pay(invoice, "40.00")
        self.pay(invoice, "10.00")
        invoice.refresh_from_db()
        self.assertEqual(invoice.status, S.PART_PAID)
        self.assertEqual(invoice.balance, Decimal("50.00"))
        self.assertEqual(invoice.payments.count(), 2)
        self.assertTrue(
            ActivityEvent.objects.filter(verb="ar.invoice.payment", object_id=invoice.pk).exists()
        )

    def test_paying_the_balance_makes_it_paid(self) -> None:
        invoice = self.invoice(total="100.00")
        self.pay(invoice, "40.00")
        self.pay(invoice, "60.00")
        invoice.refresh_from_db()
        self.assertEqual(invoice.status, S.PAID)
        self.assertEqual(invoice.balance, Decimal("0.00"))

    def test_a_full_payment_at_once_makes_it_paid(self) -> None:
        invoice = self.invoice(total="100.00")
        self.pay(invoice, "100.00")
        invoice.refresh_from_db()
        self.assertEqual(invoice.status, S.PAID)

    def test_it_refuses_an_overpayment(self) -> None:
        invoice = self.invoice(total="100.00")
        with self.assertRaises(engine.ARError) as ctx:
            self.pay(invoice, "100.01")
        self.assertIn("more than the balance", ctx.exception.errors["amount"])
        invoice.refresh_from_db()
        self.assertEqual(invoice.amount_paid, Decimal("0.00"))
        self.assertFalse(Payment.objects.exists())

    def test_it_refuses_a_negative_amount(self) -> None:
        invoice = self.invoice()
        with self.assertRaises(engine.ARError) as ctx:
            self.pay(invoice, "-1.00")
        self.assertIn("negative", ctx.exception.errors["amount"])
        self.assertFalse(Payment.objects.exists())

    def test_it_refuses_a_zero_amount(self) -> None:
        invoice = self.invoice()
        with self.assertRaises(engine.ARError):
            self.pay(invoice, "0")

    def test_it_refuses_fractions_of_a_penny(self) -> None:
        invoice = self.invoice()
        with self.assertRaises(engine.ARError) as ctx:
            self.pay(invoice, "1.005")
        self.assertIn("two decimal places", ctx.exception.errors["amount"])

    def test_it_refuses_a_payment_on_a_void_invoice(self) -> None:
        invoice = engine.void_invoice(self.invoice(), actor=self.owner)
        with self.assertRaises(engine.ARError) as ctx:
            self.pay(invoice, "1.00")
        self.assertIn("void", ctx.exception.errors["amount"])
        self.assertFalse(Payment.objects.exists())

    def test_it_refuses_a_payment_on_a_paid_invoice(self) -> None:
        invoice = self.invoice(total="10.00")
        self.pay(invoice, "10.00")
        with self.assertRaises(engine.ARError) as ctx:
            self.pay(invoice, "1.00")
        self.assertIn("already paid", ctx.exception.errors["amount"])

    def test_it_refuses_a_payment_on_a_disputed_invoice(self) -> None:
        invoice = engine.dispute_invoice(self.invoice(), actor=self.owner)
        with self.assertRaises(engine.ARError):
            self.pay(invoice, "1.00")


class DisputeAndVoidTests(ARTestCase):
    def test_a_resolved_dispute_without_payments_reopens(self) -> None:
        invoice = engine.dispute_invoice(self.invoice(), actor=self.owner, note="hours")
        self.assertEqual(invoice.status, S.DISPUTED)
        invoice = engine.resolve_dispute(invoice, actor=self.owner)
        self.assertEqual(invoice.status, S.OPEN)

    def test_a_resolved_dispute_after_a_part_payment_is_part_paid(self) -> None:
        invoice = self.invoice(total="100.00")
        engine.record_payment(invoice, actor=self.owner, amount=Decimal("5.00"), date=TODAY)
        invoice = engine.dispute_invoice(invoice, actor=self.owner)
        invoice = engine.resolve_dispute(invoice, actor=self.owner)
        self.assertEqual(invoice.status, S.PART_PAID)

    def test_resolving_an_undisputed_invoice_is_refused(self) -> None:
        with self.assertRaises(engine.ARError):
            engine.resolve_dispute(self.invoice(), actor=self.owner)

    def test_a_void_invoice_cannot_be_disputed_or_voided_again(self) -> None:
        invoice = engine.void_invoice(self.invoice(), actor=self.owner)
        with self.assertRaises(engine.ARError):
            engine.dispute_invoice(invoice, actor=self.owner)
        with self.assertRaises(engine.ARError):
            engine.void_invoice(invoice, actor=self.owner)

    def test_a_paid_invoice_cannot_be_voided(self) -> None:
        invoice = self.invoice(total="10.00")
        engine.record_payment(invoice, actor=self.owner, amount=Decimal("10.00"), date=TODAY)
        with self.assertRaises(engine.ARError) as ctx:
            engine.void_invoice(invoice, actor=self.owner)
        self.assertIn("paid", ctx.exception.errors["status"])
