"""/metrics: behind a bearer token, django-prometheus's request metrics plus the app's own
(outbox by status, timers due and overdue, the sweep's age), and task run times."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from sodium import timers
from sodium.models import OutboundMessage
from sodium.observability import heartbeat, metrics
from sodium.tasks import deliver_message_task
from tests import factories as f
from tests.base import BaseTestCase

TOKEN = "scrape-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def samples(text: str) -> dict[tuple, float]:
    """Return {(sample name, sorted labels): value} of a text exposition."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@override_settings(SODIUM_METRICS_TOKEN=TOKEN)
class MetricsEndpointTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        now = timezone.now()
        for i, status in enumerate(["queued", "queued", "sent", "bounced"]):
            OutboundMessage.objects.create(
                practice=cls.practice if i % 2 else cls.other_practice,
                status=status,
                idempotency_key=f"metrics:{i}",
                to=["a@example.com"],
            )
        for key, kind, ago in [
            ("a", "task.start", 10),  # due
            ("b", "task.start", 4000),  # due and overdue (over three sweeps)
            ("c", "step.chase", 30),  # due
            ("d", "step.chase", -600),  # not due yet
        ]:
            timers.schedule(
                practice=cls.practice,
                kind=kind,
                target_id=1,
                due_at=now - dt.timedelta(seconds=ago),
                key=f"metrics:{key}",
            )
        heartbeat.record(heartbeat.SWEEP, now - dt.timedelta(seconds=42))

    def scrape(self) -> dict[tuple, float]:
        response = self.client.get("/metrics", headers=AUTH)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        return samples(response.content.decode())

    def test_it_shows_the_outbox_backlog_by_status_across_practices(self) -> None:
        got = self.scrape()
        assert got[("sodium_outbox_messages", (("status", "queued"),))] == 2
        assert got[("sodium_outbox_messages", (("status", "bounced"),))] == 1
        assert got[("sodium_outbox_messages", (("status", "failed"),))] == 0
        assert got[("sodium_outbox_messages", (("status", "sending"),))] == 0
        # Sent ones grow for ever and are not counted at every scrape.
        assert ("sodium_outbox_messages", (("status", "sent"),)) not in got

    def test_it_shows_timers_due_and_overdue_by_kind(self) -> None:
        got = self.scrape()
        assert got[("sodium_timers_due", (("kind", "task.start"),))] == 2
        assert got[("sodium_timers_overdue", (("kind", "task.start"),))] == 1
        assert got[("sodium_timers_due", (("kind", "step.chase"),))] == 1
        assert got[("sodium_timers_overdue", (("kind", "step.chase"),))] == 0

    def test_it_shows_the_sweep_age(self) -> None:
        assert 41 <= self.scrape()[("sodium_sweep_age_seconds", ())] < 160

    def test_it_shows_requests_by_view(self) -> None:
        self.client.get("/sign-in/")
        got = self.scrape()
        key = (
            "django_http_requests_latency_seconds_by_view_method_count",
            (("method", "GET"), ("view", "sodium:login")),
        )
        assert got[key] >= 1

    def test_a_scrape_runs_three_queries_whatever_the_rows(self) -> None:
        with self.assertNumQueries(3):
            self.client.get("/metrics", headers=AUTH)

    def test_it_refuses_a_missing_or_wrong_token(self) -> None:
        assert self.client.get("/metrics").status_code == 401
        wrong = {"Authorization": f"Bearer {TOKEN}x"}
        assert self.client.get("/metrics", headers=wrong).status_code == 401
        basic = {"Authorization": f"Basic {TOKEN}"}
        assert self.client.get("/metrics", headers=basic).status_code == 401

    @override_settings(SODIUM_METRICS_TOKEN="")
    def test_it_is_not_there_without_a_token(self) -> None:
        assert self.client.get("/metrics", headers=AUTH).status_code == 404

    def test_it_needs_no_allowed_host_or_https(self) -> None:
        with override_settings(ALLOWED_HOSTS=["sodium.example.com"], SECURE_SSL_REDIRECT=True):
            response = self.client.get("/metrics", headers=AUTH, HTTP_HOST="web:8000")
        assert response.status_code == 200


class TaskMetricsTests(BaseTestCase):
    def test_a_task_run_is_timed_by_name(self) -> None:
        name = "sodium.tasks.deliver_message_task"
        labels = {"task": name}
        before = REGISTRY.get_sample_value("sodium_task_duration_seconds_count", labels) or 0
        deliver_message_task.apply(args=(987654321, f.PracticeFactory().pk))
        after = REGISTRY.get_sample_value("sodium_task_duration_seconds_count", labels)
        assert after == before + 1

    def test_a_failed_task_is_counted(self) -> None:
        name = "sodium.tasks.deliver_messages_task"
        labels = {"task": name}
        before = REGISTRY.get_sample_value("sodium_task_failures_total", labels) or 0
        # No practice with this id: the task raises (a real failure, not a no-op).
        from sodium.tasks import deliver_messages_task

        deliver_messages_task.apply(args=("not a list", None))
        assert REGISTRY.get_sample_value("sodium_task_failures_total", labels) == before + 1


RECORD = (
    "import django; django.setup(); from sodium.observability import metrics; "
    "metrics.TASK_DURATION.labels('t').observe(0.2); metrics.TASK_FAILURES.labels('t').inc()"
)


def test_processes_add_up_in_multiprocess_mode(tmp_path, monkeypatch) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):  # two worker (or gunicorn) processes
        subprocess.run([sys.executable, "-c", RECORD], env=env, cwd=settings.BASE_DIR, check=True)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    got = samples(metrics.render(app=False).decode())
    assert got[("sodium_task_duration_seconds_count", (("task", "t"),))] == 2
    assert got[("sodium_task_duration_seconds_sum", (("task", "t"),))] == 0.4
    assert got[("sodium_task_failures_total", (("task", "t"),))] == 2
