"""The demo's ledgers: a clean client with tidy books, and planted problems on the others."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Sum

from checks import demo
from checks.models import BankStatementLine, LedgerContact, LockDate, Transaction, TransactionLine
from tests import factories as f
from tests.base import BaseTestCase

TODAY = dt.date(2026, 12, 2)


class DemoLedgerTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        for i in range(12):
            f.ClientFactory(practice=self.practice, name=f"Client {i:02d}", vat_periods="q_mar")
        f.ClientFactory(practice=self.practice, name="Zeta Unregistered", vat_periods="none")
        self.clients = demo.build_ledgers(self.practice, today=TODAY)

    def test_twelve_clients_get_a_year_of_books(self) -> None:
        self.assertEqual(len(self.clients), 12)
        for client in self.clients:
            dates = Transaction.objects.filter(client=client).values_list("date", flat=True)
            self.assertLessEqual(min(dates), dt.date(2025, 12, 31))
            self.assertLessEqual(max(dates), TODAY)
            self.assertEqual(
                TransactionLine.objects.filter(client=client).exclude(net__isnull=False).count(), 0
            )

    def test_the_clean_clients_books_are_tidy(self) -> None:
        clean = self.clients[0]
        lines = TransactionLine.objects.filter(client=clean, contact__isnull=False)
        per_contact = lines.values("contact").annotate(
            accounts=Count("account", distinct=True), rates=Count("tax_rate", distinct=True)
        )
        self.assertTrue(all(row["accounts"] == 1 and row["rates"] == 1 for row in per_contact))
        self.assertFalse(BankStatementLine.objects.filter(client=clean, reconciled=False).exists())
        self.assertEqual(LockDate.objects.get(client=clean).lock_date, dt.date(2026, 11, 30))
        paye = TransactionLine.objects.filter(
            client=clean, account__code="825", date__lte=dt.date(2026, 11, 30)
        ).aggregate(total=Sum("net"))["total"]
        self.assertEqual(paye, Decimal("0.00"))
        self.assertFalse(
            Transaction.objects.filter(client=clean, kind="bill", attachment_count=0).exists()
        )

    def test_problems_are_planted_where_the_profiles_say(self) -> None:
        by_profile = dict(zip(demo.PROFILES, self.clients, strict=False))
        suspense = by_profile[("suspense", "no_contact")]
        self.assertTrue(
            TransactionLine.objects.filter(client=suspense, account__code="9999").exists()
        )
        old = by_profile[("dormant_account", "lock_date_old")]
        self.assertEqual(LockDate.objects.get(client=old).lock_date, dt.date(2026, 6, 30))
        twins = by_profile[("multi_coded", "duplicate_contact")]
        names = set(LedgerContact.objects.filter(client=twins).values_list("name", flat=True))
        self.assertTrue(
            any(
                n + "." in names or n.replace(" Ltd", " Limited") in names
                for n in names
                if not n.endswith((".", "Limited"))
            )
        )
        vat = by_profile[("vat_threshold", "no_contact")]
        self.assertEqual(vat.name, "Zeta Unregistered")  # a client not VAT registered
        turnover = TransactionLine.objects.filter(
            client=vat, kind="sales_invoice", date__gt=dt.date(2025, 12, 2)
        ).aggregate(total=Sum("net"))["total"]
        self.assertAlmostEqual(turnover, Decimal("84500"), delta=Decimal("5"))


class DemoLedgerChecksTests(BaseTestCase):
    """Every built-in check finds something on at least one demo client; the clean one has
    nothing at all."""

    def test_every_check_finds_something_somewhere_and_nothing_on_the_clean_client(self) -> None:
        from checks.models import Finding
        from checks.rules import CHECKS
        from checks.runs import run_checks

        for i in range(12):
            f.ClientFactory(practice=self.practice, name=f"Client {i:02d}", vat_periods="q_mar")
        f.ClientFactory(practice=self.practice, name="Zeta Unregistered", vat_periods="none")
        clients = demo.build_ledgers(self.practice, today=TODAY)
        for client in clients:
            run_checks(client, today=TODAY)
        clean = Finding.objects.filter(client=clients[0])
        self.assertEqual(list(clean.values_list("title", flat=True)), [])
        found = set(
            Finding.objects.filter(practice=self.practice).values_list("check_key", flat=True)
        )
        self.assertEqual(found, {check.key for check in CHECKS})
        # The unregistered client near the VAT registration threshold is told so.
        vat = clients[[i for i, p in enumerate(demo.PROFILES) if "vat_threshold" in p][0]]
        turnover = Finding.objects.get(client=vat, check_key="vat", fingerprint="turnover")
        self.assertEqual(turnover.severity, "amber")
