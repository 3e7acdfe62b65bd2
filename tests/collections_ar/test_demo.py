"""The demo's receivables: invoices in every state and age band; seeding twice adds none."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.test import TestCase
from django_scopes import scopes_disabled

from collections_ar import demo as ar_demo
from collections_ar.models import Customer, Invoice
from sodium import demo
from sodium.models import Practice, User
from sodium.schedules.practice import today_for

S = Invoice.Status


class DemoReceivablesTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        call_command("seed_demo", stdout=StringIO())
        cls.practice = Practice.objects.get(slug=demo.DEMO_SLUG)

    def setUp(self) -> None:
        scopes = scopes_disabled()
        scopes.__enter__()
        self.addCleanup(scopes.__exit__, None, None, None)

    def test_it_has_invoices_in_every_status(self) -> None:
        statuses = set(
            Invoice.objects.filter(practice=self.practice).values_list("status", flat=True)
        )
        self.assertEqual(statuses, set(S.values))

    def test_it_has_current_invoices_and_overdue_ones_in_every_age_band(self) -> None:
        today = today_for(self.practice)
        bands = set()
        for invoice in Invoice.objects.filter(
            practice=self.practice, status__in=(S.OPEN, S.PART_PAID)
        ):
            days = (today - invoice.due_date).days
            if days <= 0:
                bands.add("current")
            elif days <= 30:
                bands.add("1-30")
            elif days <= 60:
                bands.add("31-60")
            elif days <= 90:
                bands.add("61-90")
            else:
                bands.add("90+")
        self.assertEqual(bands, {"current", "1-30", "31-60", "61-90", "90+"})

    def test_the_ar_specialist_works_some_customers(self) -> None:
        tom = User.objects.get(email="tom@hartleyfinch.example")
        self.assertTrue(Customer.objects.filter(practice=self.practice, specialist=tom).exists())

    def test_building_again_adds_nothing(self) -> None:
        before = Invoice.objects.filter(practice=self.practice).count()
        owner = User.objects.get(email="olivia@hartleyfinch.example")
        ar_demo.build(self.practice, owner=owner, manager=owner)
        self.assertEqual(Invoice.objects.filter(practice=self.practice).count(), before)
        self.assertGreater(before, 0)
