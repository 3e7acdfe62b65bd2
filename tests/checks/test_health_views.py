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
        self.assertContains(r, "Nothing found.", count=9)

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
