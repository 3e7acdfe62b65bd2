"""A client's Data health page runs a fixed number of queries however many findings it shows."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from checks.models import CheckRun, Finding, HealthScore, LedgerAccount
from checks.rules import CHECKS
from tests import factories as f
from tests.base import BaseTestCase

SEVERITIES = ("red", "amber", "info")


class HealthPageQueryCountTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.books = f.ClientFactory(practice=self.practice, name="Counted Ltd")
        LedgerAccount.objects.create(
            practice=self.practice, client=self.books, code="090", name="Bank", type="bank"
        )
        self.run = CheckRun.objects.create(
            practice=self.practice,
            client=self.books,
            run_date=timezone.localdate(),
            ran_by=self.manager,
            finished_at=timezone.now(),
            score=40,
        )
        HealthScore.objects.create(
            practice=self.practice, client=self.books, run=self.run, score=40, band="attention"
        )
        self.made = 0
        self.url = reverse("checks:client-health", args=[self.books.pk])
        self.client.force_login(self.staff)

    def add_findings(self, n: int) -> None:
        """Add `n` findings across every check and severity, every fifth one dismissed."""
        now = timezone.now()
        rows = []
        for i in range(self.made, self.made + n):
            dismissed = i % 5 == 4
            rows.append(
                Finding(
                    practice=self.practice,
                    client=self.books,
                    check_key=CHECKS[i % len(CHECKS)].key,
                    fingerprint=f"counted:{i}",
                    severity=SEVERITIES[i % 3],
                    title=f"Counted finding {i:03d}",
                    detail=f"Detail of finding {i:03d}",
                    rows={"checks.transaction": [i + 1]},
                    status="dismissed" if dismissed else "open",
                    dismissed_by=self.manager if dismissed else None,
                    dismissed_at=now if dismissed else None,
                    dismissed_reason="Agreed with the client" if dismissed else "",
                    first_seen_run=self.run,
                    last_seen_run=self.run,
                )
            )
        Finding.objects.bulk_create(rows)
        self.made += n

    def count_queries(self) -> int:
        with CaptureQueriesContext(connection) as ctx:
            r = self.client.get(self.url)
        self.assertEqual(r.status_code, 200)
        # Every finding is on the page (open ones linked, dismissed ones with who and why).
        for i in range(self.made):
            self.assertContains(r, f"Counted finding {i:03d}")
        return len(ctx.captured_queries)

    def test_it_runs_as_many_queries_for_50_findings_as_for_10(self) -> None:
        self.add_findings(10)
        self.client.get(self.url)  # warm: session, user, membership caches alike
        ten = self.count_queries()
        self.add_findings(40)
        self.assertEqual(Finding.objects.filter(client=self.books).count(), 50)
        with self.assertNumQueries(ten):
            r = self.client.get(self.url)
        self.assertContains(r, "Counted finding 049")
        self.assertContains(r, "Dismissed by", count=10)
        self.assertEqual(self.count_queries(), ten)

    def test_its_query_count_does_not_grow_with_the_score_history(self) -> None:
        self.add_findings(10)
        self.client.get(self.url)
        before = self.count_queries()
        for n in range(20):
            run = CheckRun.objects.create(
                practice=self.practice,
                client=self.books,
                run_date=timezone.localdate(),
                ran_by=self.manager,
                finished_at=timezone.now(),
                score=50 + n,
            )
            HealthScore.objects.create(
                practice=self.practice, client=self.books, run=run, score=50 + n, band="attention"
            )
        self.assertEqual(self.count_queries(), before)
