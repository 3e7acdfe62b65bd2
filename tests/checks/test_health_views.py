"""The data-health pages: clients by score, a client's checks and findings, dismiss and restore."""

from __future__ import annotations

import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from checks import demo, tasks
from checks.models import CheckRun, Finding, HealthScore
from checks.runs import run_checks
from tests import factories as f
from tests.base import BaseTestCase

NOW = dt.datetime(2026, 12, 2, 10, tzinfo=ZoneInfo("Europe/London"))


class HealthPagesTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        clock = mock.patch("django.utils.timezone.now", return_value=NOW)
        clock.start()
        self.addCleanup(clock.stop)
        for i in range(12):
            f.ClientFactory(practice=self.practice, name=f"Client {i:02d}", vat_periods="q_mar")
        self.clients = demo.build_ledgers(self.practice)
        for client in self.clients[:3]:
            run_checks(client)
        self.clean, self.messy = self.clients[0], self.clients[1]
        self.client.force_login(self.staff)


class HealthListTests(HealthPagesTestCase):
    def test_it_lists_clients_worst_first_with_their_band(self) -> None:
        r = self.client.get(reverse("checks:health-list"))
        self.assertEqual(r.status_code, 200)
        listed = [c.pk for c in r.context["clients"]]
        scores = [c.score for c in r.context["clients"] if c.score is not None]
        self.assertEqual(scores, sorted(scores))
        self.assertEqual(listed.index(self.clean.pk), 2)  # 100, after the two with findings
        self.assertContains(r, "Not checked yet")
        self.assertContains(r, "Good")

    def test_its_query_count_does_not_grow_with_clients(self) -> None:
        url = reverse("checks:health-list")
        self.client.get(url)
        # Counted at once: the next request's request_started empties the connection's log.
        with CaptureQueriesContext(connection) as ctx:
            self.client.get(url)
        before = len(ctx)
        for client in self.clients[3:6]:
            run_checks(client)
        with self.assertNumQueries(before):
            self.client.get(url)


class ClientHealthTests(HealthPagesTestCase):
    def test_a_clean_client_scores_100_with_every_check_clear(self) -> None:
        r = self.client.get(reverse("checks:client-health", args=[self.clean.pk]))
        self.assertContains(r, 'class="health-score health-good"')
        self.assertContains(r, ">100<")
        self.assertEqual(len(r.context["health"].clear), 9)
        self.assertContains(r, "Nothing found <span")
        self.assertContains(r, 'class="chip chip-tone-ok">Clear', count=18)  # the list and the card

    def test_findings_show_under_their_check_with_links_to_their_rows(self) -> None:
        finding = Finding.objects.filter(client=self.messy, status="open").first()
        r = self.client.get(reverse("checks:client-health", args=[self.messy.pk]))
        self.assertContains(r, finding.title)
        detail = reverse("checks:finding-detail", args=[self.messy.pk, finding.pk])
        self.assertContains(r, detail)
        page = self.client.get(detail)
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, finding.title)

    def test_dismissing_needs_a_reason_then_lifts_the_score_and_restoring_lowers_it(self) -> None:
        finding = Finding.objects.filter(client=self.messy, status="open").first()
        before = HealthScore.objects.filter(client=self.messy).latest("recorded_at").score
        url = reverse("checks:finding-dismiss", args=[self.messy.pk, finding.pk])
        r = self.client.post(url, {"reason": "  "}, follow=True)
        self.assertContains(r, "Say why the finding is dismissed.")
        finding.refresh_from_db()
        self.assertEqual(finding.status, "open")
        r = self.client.post(
            url, {"reason": "Agreed with the client"}, headers={"HX-Request": "true"}
        )
        self.assertContains(r, 'id="health-body"')
        self.assertNotContains(r, "<html")
        self.assertContains(r, f"Dismissed: {finding.title}")  # the message comes with the swap
        finding.refresh_from_db()
        self.assertEqual((finding.status, finding.dismissed_by), ("dismissed", self.staff))
        after = HealthScore.objects.filter(client=self.messy).latest("recorded_at").score
        self.assertGreater(after, before)
        self.client.post(reverse("checks:finding-restore", args=[self.messy.pk, finding.pk]))
        finding.refresh_from_db()
        self.assertEqual(finding.status, "open")
        self.assertEqual(
            HealthScore.objects.filter(client=self.messy).latest("recorded_at").score, before
        )

    def test_run_now_queues_a_run_that_the_task_runs(self) -> None:
        unchecked = self.clients[5]
        with (
            mock.patch.object(tasks.run_checks_task, "delay") as delay,
            self.captureOnCommitCallbacks(execute=True),
        ):
            r = self.client.post(reverse("checks:client-run", args=[unchecked.pk]), follow=True)
        self.assertContains(r, "Running checks: 0 of 9")
        self.assertFalse(HealthScore.objects.filter(client=unchecked).exists())
        run = CheckRun.objects.get(client=unchecked)
        delay.assert_called_once_with(run.pk, self.practice.pk)
        tasks.run_checks_task.apply(args=(run.pk, self.practice.pk))
        r = self.client.get(reverse("checks:client-health", args=[unchecked.pk]))
        self.assertNotContains(r, "Running checks")
        self.assertTrue(HealthScore.objects.filter(client=unchecked, run=run).exists())

    def test_an_ar_specialist_may_look_but_not_dismiss_or_run(self) -> None:
        self.client.force_login(self.ar_specialist)
        finding = Finding.objects.filter(client=self.messy, status="open").first()
        r = self.client.post(
            reverse("checks:finding-dismiss", args=[self.messy.pk, finding.pk]), {"reason": "x"}
        )
        self.assertEqual(r.status_code, 403)
        self.assertEqual(
            self.client.post(reverse("checks:client-run", args=[self.messy.pk])).status_code, 403
        )

    def test_another_practices_client_is_not_found(self) -> None:
        self.client.force_login(self.outsider)
        r = self.client.get(reverse("checks:client-health", args=[self.messy.pk]))
        self.assertEqual(r.status_code, 404)

    def test_the_client_page_shows_the_data_health_card(self) -> None:
        r = self.client.get(reverse("sodium:client-detail", args=[self.messy.pk]))
        self.assertContains(r, "Data health")
        self.assertContains(r, reverse("checks:client-health", args=[self.messy.pk]))
        self.assertContains(r, "open finding")


class CheckPageTests(HealthPagesTestCase):
    def many_findings(self, n: int) -> None:
        run = self.messy.check_runs.first()
        Finding.objects.bulk_create(
            Finding(
                practice=self.practice,
                client=self.messy,
                check_key="transaction_cleanup",
                fingerprint=f"many:{i}",
                severity="info" if i % 2 else "red",
                title=f"Many finding {i:03d}",
                first_seen_run=run,
                last_seen_run=run,
            )
            for i in range(n)
        )

    def test_the_client_page_shows_the_first_ten_of_a_check_and_links_to_all(self) -> None:
        self.many_findings(60)
        r = self.client.get(reverse("checks:client-health", args=[self.messy.pk]))
        section = next(s for s in r.context["health"].sections if s.key == "transaction_cleanup")
        self.assertEqual(len(section.open), 10)
        self.assertGreaterEqual(section.open_count, 60)
        self.assertEqual({f.severity for f in section.open}, {"red"})  # worst first
        url = reverse("checks:client-check", args=[self.messy.pk, "transaction_cleanup"])
        self.assertContains(r, f'href="{url}"')
        self.assertContains(r, f"Show all {section.open_count} open findings")

    def test_the_check_page_pages_through_every_finding(self) -> None:
        self.many_findings(60)
        url = reverse("checks:client-check", args=[self.messy.pk, "transaction_cleanup"])
        first = self.client.get(url)
        self.assertEqual(first.status_code, 200)
        self.assertEqual(len(first.context["page"].object_list), 50)
        second = self.client.get(url, {"page": 2})
        titles = {f.title for p in (first, second) for f in p.context["page"].object_list}
        self.assertTrue({f"Many finding {i:03d}" for i in range(60)} <= titles)

    def test_dismissing_from_the_check_page_comes_back_to_it(self) -> None:
        self.many_findings(3)
        finding = Finding.objects.get(client=self.messy, fingerprint="many:1")
        back = reverse("checks:client-check", args=[self.messy.pk, "transaction_cleanup"])
        r = self.client.post(
            reverse("checks:finding-dismiss", args=[self.messy.pk, finding.pk]),
            {"reason": "Known", "next": back + "?page=1"},
        )
        self.assertRedirects(r, back + "?page=1", fetch_redirect_response=False)
        finding.refresh_from_db()
        self.assertEqual(finding.status, "dismissed")
        dismissed = self.client.get(back, {"status": "dismissed"})
        self.assertContains(dismissed, "Many finding 001")

    def test_a_next_address_elsewhere_is_ignored(self) -> None:
        self.many_findings(1)
        finding = Finding.objects.get(client=self.messy, fingerprint="many:0")
        r = self.client.post(
            reverse("checks:finding-dismiss", args=[self.messy.pk, finding.pk]),
            {"reason": "Known", "next": "https://evil.example/checks/clients/"},
        )
        self.assertRedirects(
            r, reverse("checks:client-health", args=[self.messy.pk]), fetch_redirect_response=False
        )

    def test_an_unknown_check_or_another_practices_client_is_not_found(self) -> None:
        r = self.client.get(reverse("checks:client-check", args=[self.messy.pk, "no_such"]))
        self.assertEqual(r.status_code, 404)
        r = self.client.get(reverse("checks:client-check", args=[self.other_client.pk, "vat"]))
        self.assertEqual(r.status_code, 404)
