"""Run now with progress: a check run is queued once per client, run by a task that claims it
once, fails readably with the findings as they were, is picked up again by the sweep, and
shows its progress on the client's page (polled by htmx, with a refresh link without JS)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
import unittest
from unittest import mock

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.test import TransactionTestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from checks import rules, runs, tasks
from checks.models import CheckRun, Finding, HealthScore
from sodium import sql, timers
from sodium.models import ActivityEvent
from sodium.tenancy import practice_scope
from tests import factories as f
from tests.base import BaseTestCase
from tests.checks.test_runs import book
from tests.workers.test_celery_worker import (
    purge,
    queued_count,
    wait_for,
    worker,  # noqa: F401 - the fixture
)

R = CheckRun.Status


def failing(key: str, message: str = "the ledger could not be read", error=RuntimeError):
    """The built-in checks with check `key`'s function raising (the edge of a real failure)."""

    def boom(client, rules_, today):
        raise error(message)

    replaced = tuple(dataclasses.replace(c, run=boom) if c.key == key else c for c in rules.CHECKS)
    return mock.patch.object(rules, "CHECKS", replaced)


def snapshot(client) -> list[tuple]:
    return list(
        Finding.objects.filter(client=client)
        .order_by("pk")
        .values_list("pk", "status", "severity", "title", "last_seen_run_id", "resolved_at")
    )


class CheckRunTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.client_ = f.ClientFactory(practice=cls.practice)
        cls.ledger = book(cls.client_)

    def setUp(self) -> None:
        super().setUp()
        delay = mock.patch.object(tasks.run_checks_task, "delay")
        self.delay = delay.start()
        self.addCleanup(delay.stop)

    def request(self, client=None, actor=None) -> CheckRun:
        with self.captureOnCommitCallbacks(execute=True):
            return runs.request_check_run(client or self.client_, actor=actor or self.staff)

    def deliver(self, run: CheckRun, practice_id: int | None = None) -> None:
        tasks.run_checks_task.apply(args=(run.pk, practice_id or run.practice_id))


class RequestCheckRunTests(CheckRunTestCase):
    def test_requesting_twice_makes_one_queued_run_enqueued_once(self) -> None:
        first = self.request()
        second = self.request(actor=self.manager)
        self.assertEqual(second.pk, first.pk)
        self.assertEqual(CheckRun.objects.filter(client=self.client_).count(), 1)
        self.assertEqual(
            (first.status, first.ran_by, first.checks_done, first.checks_total),
            (R.QUEUED, self.staff, 0, len(rules.CHECKS)),
        )
        self.delay.assert_called_once_with(first.pk, self.practice.pk)

    def test_a_running_run_is_returned_and_nothing_new_is_queued(self) -> None:
        run = self.request()
        CheckRun.objects.filter(pk=run.pk).update(status=R.RUNNING)
        self.assertEqual(self.request().pk, run.pk)
        self.assertEqual(CheckRun.objects.filter(client=self.client_).count(), 1)
        self.assertEqual(self.delay.call_count, 1)

    def test_once_the_run_is_finished_a_new_one_is_queued(self) -> None:
        run = self.request()
        self.deliver(run)
        again = self.request()
        self.assertNotEqual(again.pk, run.pk)
        self.assertEqual(again.status, R.QUEUED)
        self.assertEqual(self.delay.call_count, 2)

    def test_another_clients_run_does_not_count(self) -> None:
        other = f.ClientFactory(practice=self.practice)
        mine = self.request()
        theirs = self.request(client=other)
        self.assertNotEqual(mine.pk, theirs.pk)
        self.assertEqual(theirs.client, other)

    def test_nothing_is_enqueued_when_the_request_rolls_back(self) -> None:
        from django.db import transaction

        with self.captureOnCommitCallbacks(execute=True):
            with self.assertRaises(RuntimeError), transaction.atomic():
                runs.request_check_run(self.client_, actor=self.staff)
                raise RuntimeError("roll back")
        self.delay.assert_not_called()
        self.assertFalse(CheckRun.objects.filter(client=self.client_).exists())


class RunChecksTaskTests(CheckRunTestCase):
    def events(self, verb: str) -> int:
        return ActivityEvent.objects.filter(client=self.client_, verb=verb).count()

    def test_the_task_runs_the_checks_once_and_a_second_delivery_does_nothing(self) -> None:
        run = self.request()
        self.deliver(run)
        run.refresh_from_db()
        self.assertEqual(run.status, R.DONE, run.error)
        self.assertEqual((run.checks_done, run.checks_total), (9, 9))
        self.assertIsNotNone(run.finished_at)
        self.assertEqual(run.health_score.score, run.score)
        found = snapshot(self.client_)
        self.assertTrue(found)
        self.assertEqual({row[4] for row in found}, {run.pk})
        event = ActivityEvent.objects.get(client=self.client_, verb="checks.run")
        self.assertEqual(event.actor, self.staff)
        before = (found, HealthScore.objects.count(), self.events("checks.run"), run.finished_at)
        self.deliver(run)
        run.refresh_from_db()
        self.assertEqual(run.status, R.DONE)
        self.assertEqual(
            (
                snapshot(self.client_),
                HealthScore.objects.count(),
                self.events("checks.run"),
                run.finished_at,
            ),
            before,
        )

    def test_a_delivery_while_another_worker_runs_it_does_nothing(self) -> None:
        run = self.request()
        CheckRun.objects.filter(pk=run.pk).update(status=R.RUNNING)
        self.deliver(run)
        run.refresh_from_db()
        self.assertEqual(run.status, R.RUNNING)
        self.assertEqual(snapshot(self.client_), [])
        self.assertFalse(HealthScore.objects.exists())

    def test_the_task_for_another_practice_finds_nothing(self) -> None:
        run = self.request()
        self.deliver(run, practice_id=self.other_practice.pk)
        run.refresh_from_db()
        self.assertEqual(run.status, R.QUEUED)
        self.assertEqual(snapshot(self.client_), [])

    def test_a_failing_check_fails_the_run_with_its_error_and_changes_nothing(self) -> None:
        done = self.request()
        self.deliver(done)
        # Reconciling the bank line would resolve a finding, if the next run got that far.
        line = self.ledger["line"]
        type(line).objects.filter(pk=line.pk).update(reconciled=True)
        before = snapshot(self.client_)
        scores = list(HealthScore.objects.values_list("pk", "score"))
        run = self.request()
        with failing("dormant_accounts"):
            self.deliver(run)
        run.refresh_from_db()
        self.assertEqual(run.status, R.FAILED)
        self.assertEqual(
            run.error,
            "The checks stopped with an error, so nothing was changed "
            "(the ledger could not be read).",
        )
        self.assertIsNotNone(run.finished_at)
        self.assertIsNone(run.score)
        self.assertEqual(snapshot(self.client_), before)
        self.assertEqual(list(HealthScore.objects.values_list("pk", "score")), scores)
        event = ActivityEvent.objects.get(client=self.client_, verb="check_run.status")
        self.assertEqual((event.old_status, event.new_status), ("running", "failed"))
        # The failure ends the run: the next request queues a new one, which resolves it.
        again = self.request()
        self.assertNotEqual(again.pk, run.pk)
        self.deliver(again)
        again.refresh_from_db()
        self.assertEqual(again.status, R.DONE)
        self.assertNotEqual(snapshot(self.client_), before)

    def test_a_run_over_its_time_limit_fails_saying_so(self) -> None:
        run = self.request()
        with failing("vat", error=SoftTimeLimitExceeded):
            self.deliver(run)
        run.refresh_from_db()
        self.assertEqual(
            (run.status, run.error),
            (R.FAILED, "The checks took over 5 minutes and were stopped; nothing was changed."),
        )
        self.assertEqual(snapshot(self.client_), [])

    def test_a_run_made_in_process_is_stored_done(self) -> None:
        run = runs.run_checks(self.client_)
        self.assertEqual((run.status, run.checks_done, run.checks_total), (R.DONE, 9, 9))
        run.refresh_from_db()
        self.assertEqual(run.status, R.DONE)
        self.assertFalse(ActivityEvent.objects.filter(verb="check_run.status").exists())

    def test_a_failure_in_process_propagates_and_stores_no_run(self) -> None:
        with failing("vat"), self.assertRaisesMessage(RuntimeError, "could not be read"):
            runs.run_checks(self.client_)
        self.assertFalse(CheckRun.objects.exists())
        self.assertEqual(snapshot(self.client_), [])

    def test_dismissing_while_a_run_is_queued_rescores_the_last_done_run(self) -> None:
        done = self.request()
        self.deliver(done)
        self.request()  # queued, no score yet
        finding = Finding.objects.filter(client=self.client_, status="open").first()
        runs.dismiss_finding(finding, actor=self.staff, reason="Agreed")
        done.refresh_from_db()
        self.assertEqual(done.health_score.score, done.score)
        self.assertEqual(CheckRun.objects.filter(status=R.QUEUED).count(), 1)


class SafetyNetTests(CheckRunTestCase):
    def test_the_sweep_enqueues_a_run_left_queued_over_a_minute_again(self) -> None:
        stale = self.request()
        fresh = self.request(client=f.ClientFactory(practice=self.practice))
        self.delay.reset_mock()
        now = timezone.now()
        CheckRun.objects.filter(pk=stale.pk).update(started_at=now - dt.timedelta(seconds=61))
        timers.sweep(now)
        self.delay.assert_called_once_with(stale.pk, self.practice.pk)
        self.assertNotEqual(fresh.pk, stale.pk)
        # The second delivery is harmless: the run is claimed once.
        self.deliver(stale)
        self.deliver(stale)
        stale.refresh_from_db()
        self.assertEqual(stale.status, R.DONE)
        self.assertEqual(HealthScore.objects.filter(run=stale).count(), 1)

    def test_the_sweep_fails_a_run_whose_worker_died_so_a_new_one_can_start(self) -> None:
        run = self.request()
        now = timezone.now()
        limit = dt.timedelta(seconds=tasks.CHECK_RUN_TIME_LIMIT + 60)
        CheckRun.objects.filter(pk=run.pk).update(status=R.RUNNING, started_at=now - limit)
        alive = self.request(client=f.ClientFactory(practice=self.practice))
        CheckRun.objects.filter(pk=alive.pk).update(status=R.RUNNING, started_at=now)
        timers.sweep(now + dt.timedelta(seconds=1))
        run.refresh_from_db()
        alive.refresh_from_db()
        self.assertEqual(run.status, R.FAILED)
        self.assertIn("The worker running the checks stopped", run.error)
        self.assertEqual(alive.status, R.RUNNING)
        self.assertNotEqual(self.request().pk, run.pk)


class CheckRunPageTests(CheckRunTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.staff)
        self.url = reverse("checks:client-health", args=[self.client_.pk])
        self.run_url = reverse("checks:client-run", args=[self.client_.pk])

    def post_run(self, **kwargs):
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(self.run_url, **kwargs)

    def running(self, done: int = 3) -> CheckRun:
        run = self.request()
        CheckRun.objects.filter(pk=run.pk).update(status=R.RUNNING, checks_done=done)
        return run

    def test_run_now_queues_a_run_and_redirects_to_the_page(self) -> None:
        r = self.post_run()
        self.assertRedirects(r, self.url, fetch_redirect_response=False)
        run = CheckRun.objects.get(client=self.client_)
        self.assertEqual((run.status, run.ran_by), (R.QUEUED, self.staff))
        self.delay.assert_called_once_with(run.pk, self.practice.pk)
        self.post_run()
        self.assertEqual(CheckRun.objects.filter(client=self.client_).count(), 1)
        # The worker's task then runs it: the page shows the score.
        self.deliver(run)
        r = self.client.get(self.url)
        self.assertContains(r, 'class="health-score ')
        self.assertNotContains(r, "<progress")

    def test_run_now_for_htmx_returns_the_progress_partial(self) -> None:
        r = self.post_run(headers={"HX-Request": "true"})
        self.assertContains(r, 'id="check-run"')
        self.assertContains(r, "Running checks: 0 of 9 · waiting for a worker to start")
        self.assertNotContains(r, "<html")

    def test_the_page_shows_the_progress_bar_polling_while_it_runs(self) -> None:
        self.running(done=3)
        r = self.client.get(self.url)
        self.assertContains(r, "Running checks: 3 of 9")
        self.assertContains(r, '<progress class="progress" value="3" max="9">')
        self.assertContains(
            r, f'hx-get="{self.url}" hx-trigger="every 1s" hx-swap="outerHTML"', count=1
        )
        self.assertContains(r, f'<a href="{self.url}">Refresh</a>')  # without JavaScript
        self.assertContains(r, 'type="submit" disabled>Run checks now</button>')

    def test_the_poll_returns_the_partial_then_refreshes_the_page_once_done(self) -> None:
        run = self.running(done=4)
        r = self.client.get(self.url, headers={"HX-Request": "true"})
        self.assertContains(r, 'id="check-run"')
        self.assertContains(r, "Running checks: 4 of 9")
        self.assertNotContains(r, "<html")
        self.assertNotIn("HX-Refresh", r.headers)
        self.assertIn("HX-Request", r.headers["Vary"])
        CheckRun.objects.filter(pk=run.pk).update(status=R.QUEUED)
        self.deliver(run)
        r = self.client.get(self.url, headers={"HX-Request": "true"})
        self.assertEqual(r.headers["HX-Refresh"], "true")
        self.assertNotContains(r, "hx-trigger")
        self.assertNotContains(r, "<html")

    def test_the_button_is_enabled_and_nothing_polls_when_no_run_is_in_progress(self) -> None:
        r = self.client.get(self.url)
        self.assertContains(r, 'type="submit">Run checks now</button>')
        self.assertNotContains(r, "hx-trigger")
        self.assertContains(r, '<div id="check-run">')

    def test_a_failed_run_shows_its_error(self) -> None:
        run = self.request()
        with failing("vat", "disk full"):
            self.deliver(run)
        r = self.client.get(self.url)
        self.assertContains(r, "failed. The checks stopped with an error, so nothing was changed")
        self.assertContains(r, "(disk full)")
        self.assertContains(r, 'type="submit">Run checks now</button>')
        # A later done run replaces the message.
        again = self.request()
        self.deliver(again)
        self.assertNotContains(self.client.get(self.url), "disk full")

    def test_get_changes_nothing(self) -> None:
        self.running(done=2)
        state = lambda: list(  # noqa: E731
            CheckRun.objects.values_list("pk", "status", "checks_done", "started_at")
        )
        before = (state(), snapshot(self.client_))
        self.client.get(self.url)
        self.client.get(self.url, headers={"HX-Request": "true"})
        self.assertEqual((state(), snapshot(self.client_)), before)
        self.delay.assert_called_once()  # by the request in `running` only
        self.assertEqual(self.client.get(self.run_url).status_code, 405)

    def test_an_ar_specialist_cannot_run_the_checks(self) -> None:
        self.client.force_login(self.ar_specialist)
        self.assertEqual(self.post_run().status_code, 403)
        self.assertFalse(CheckRun.objects.exists())

    def test_another_practices_client_cannot_be_run(self) -> None:
        self.client.force_login(self.outsider)
        self.assertEqual(self.post_run().status_code, 404)
        self.assertFalse(CheckRun.objects.exists())

    def test_the_page_and_its_poll_run_a_fixed_number_of_queries(self) -> None:
        htmx = {"HX-Request": "true"}
        self.client.get(self.url)  # warm: sessions, content types
        # Counted at once: the next request's request_started empties the connection's log.
        with CaptureQueriesContext(connection) as ctx:
            self.client.get(self.url)
        page = len(ctx)
        with CaptureQueriesContext(connection) as ctx:
            self.client.get(self.url, headers=htmx)
        poll = len(ctx)
        self.assertGreater(poll, 5)
        for _ in range(3):
            self.deliver(self.request())
        self.running(done=5)
        with self.assertNumQueries(page):
            self.client.get(self.url)
        with self.assertNumQueries(poll):
            self.client.get(self.url, headers=htmx)


def _seen_from_another_connection(run: CheckRun) -> tuple[int, int]:
    """Return (checks_done, findings of the run's client) as the page's poll sees them now."""
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        r, fd = sql.Table(CheckRun), sql.Table(Finding)
        with other.cursor() as cursor:
            cursor.execute(f"SELECT {r.checks_done} FROM {r} WHERE {r.id} = %s", [run.pk])
            done = cursor.fetchone()[0]
            cursor.execute(f"SELECT COUNT(*) FROM {fd} WHERE {fd.client} = %s", [run.client_id])
            return done, cursor.fetchone()[0]
    finally:
        other.close()


@unittest.skipUnless(connection.vendor == "postgresql", "progress is written live on PostgreSQL")
class LiveProgressTests(TransactionTestCase):
    def test_the_checks_done_are_seen_while_the_run_runs_and_its_findings_only_after(self):
        with scopes_disabled():
            practice = f.PracticeFactory()
            client = f.ClientFactory(practice=practice)
            book(client)
        seen = []

        def watching(check):
            def run(client_, rules_, today):
                seen.append(_seen_from_another_connection(run_))
                return check.run(client_, rules_, today)

            return dataclasses.replace(check, run=run)

        with practice_scope(practice), mock.patch.object(tasks.run_checks_task, "delay"):
            run_ = runs.request_check_run(client, actor=None)
            with mock.patch.object(rules, "CHECKS", tuple(map(watching, rules.CHECKS))):
                done = runs.run_requested_checks(run_.pk)
        self.assertEqual(done.status, R.DONE, done.error)
        # Each check starts with the ones before it counted; no finding shows until commit.
        self.assertEqual(seen, [(n, 0) for n in range(9)])
        done_now, findings = _seen_from_another_connection(run_)
        self.assertEqual(done_now, 9)
        self.assertGreater(findings, 0)


@unittest.skipUnless(connection.vendor == "postgresql", "needs PostgreSQL row locks")
class ConcurrentRequestTests(TransactionTestCase):
    def test_two_requests_at_once_make_one_run(self) -> None:
        with scopes_disabled():
            practice = f.PracticeFactory()
            client = f.ClientFactory(practice=practice)
        results: list[object] = []

        def request() -> None:
            try:
                with practice_scope(practice):
                    results.append(runs.request_check_run(client, actor=None).pk)
            except Exception as exc:  # noqa: BLE001 - the test inspects it
                results.append(exc)
            finally:
                connection.close()

        # Hold the client's lock in another connection: both requests find no run, then wait
        # for it; released together, the second must find the first one's run.
        holder = connections.create_connection(DEFAULT_DB_ALIAS)
        c = sql.Table(type(client))
        with mock.patch.object(tasks.run_checks_task, "delay") as delay:
            try:
                holder.set_autocommit(False)
                with holder.cursor() as cursor:
                    cursor.execute(f"SELECT 1 FROM {c} WHERE {c.id} = %s FOR UPDATE", [client.pk])
                threads = [threading.Thread(target=request) for _ in range(2)]
                for t in threads:
                    t.start()
                deadline = time.monotonic() + 10
                while _waiting_on_locks() < 2:
                    assert time.monotonic() < deadline, "the requests did not wait"
                    time.sleep(0.05)
                holder.commit()
            finally:
                holder.close()
            for t in threads:
                t.join(timeout=30)
                assert not t.is_alive(), "a request hung"
        self.assertEqual(len(set(results)), 1, results)
        with scopes_disabled():
            self.assertEqual(CheckRun.objects.filter(client=client).count(), 1)
        delay.assert_called_once()


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_requested_run_to_done(request) -> None:
    purge()
    with scopes_disabled():
        practice = f.PracticeFactory()
        staff = f.MembershipFactory(practice=practice, role="staff").user
        client = f.ClientFactory(practice=practice)
        book(client)
        run = runs.request_check_run(client, actor=staff)  # publishes on commit
        assert queued_count() == 1
        tasks.run_checks_task.delay(run.pk, practice.pk)  # delivered twice
    request.getfixturevalue("worker")
    with scopes_disabled():
        wait_for(lambda: CheckRun.objects.get(pk=run.pk).status in (R.DONE, R.FAILED))
        wait_for(lambda: queued_count() == 0)
        run.refresh_from_db()
        assert (run.status, run.error, run.checks_done) == (R.DONE, "", 9)
        assert HealthScore.objects.filter(run=run).count() == 1
        assert Finding.objects.filter(client=client, last_seen_run=run).exists()
        assert ActivityEvent.objects.filter(verb="checks.run", client=client).count() == 1
