"""A real Celery worker: its log lines are JSON carrying the task and the request id of the
request that published the task (a message header), and its metrics port serves the task's
run time behind the token."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django_scopes import scopes_disabled
from prometheus_client.parser import text_string_to_metric_families

from sodium.celery import app
from sodium.observability import context
from sodium.tasks import deliver_message_task
from tests import factories as f
from tests.workers.test_celery_worker import database_url, purge, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TOKEN = "worker-metrics-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def json_worker(tmp_path):
    """Start `celery worker` with JSON logs and its metrics port; yield (log path, port)."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sodium.settings",
        "DATABASE_URL": database_url(),
        "SODIUM_CELERY_BROKER_URL": str(app.conf.broker_url),
        "SODIUM_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "SODIUM_DATA_DIR": str(tmp_path),
        "SODIUM_SECRET_KEY": "worker-test-secret",
        "SODIUM_LOG_FORMAT": "json",
        "SODIUM_METRICS_TOKEN": TOKEN,
        "SODIUM_WORKER_METRICS_PORT": str(port),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log_path = tmp_path / "worker.log"
    log = log_path.open("w+")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "sodium",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "-n",
            f"obs-{os.getpid()}@%h",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: proc.poll() is None and " ready." in log_path.read_text(), 60)
        yield log_path, port
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def json_lines(path) -> list[dict]:
    lines = []
    for raw in path.read_text().splitlines():
        if raw.startswith("{"):
            lines.append(json.loads(raw))
    return lines


def scrape(port: int, token: str | None) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def test_a_worker_task_logs_json_with_its_task_and_request_id(json_worker) -> None:
    log_path, port = json_worker
    purge()
    with scopes_disabled():
        practice = f.PracticeFactory()
    # Published from inside a request: the request id rides along as a message header.
    context.begin("req-published-from-web")
    try:
        result = deliver_message_task.delay(987654321, practice.pk)
    finally:
        context.clear()

    def task_line():
        return [
            line
            for line in json_lines(log_path)
            if line.get("task_id") == result.id and "is not queued" in line["message"]
        ]

    wait_for(task_line)
    (line,) = task_line()
    assert line["task_name"] == "sodium.tasks.deliver_message_task"
    assert line["request_id"] == "req-published-from-web"
    assert line["practice_id"] == practice.pk
    assert line["logger"] == "sodium.outbox" and line["level"] == "INFO"
    # Celery's own "succeeded" line is JSON with the task too (its logging is Django's).
    wait_for(lambda: any("succeeded" in ln["message"] for ln in json_lines(log_path)))
    (done,) = [ln for ln in json_lines(log_path) if "succeeded" in ln["message"]]
    assert done["task_id"] == result.id and done["request_id"] == "req-published-from-web"

    status, text = scrape(port, TOKEN)
    assert status == 200
    got = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    key = ("sodium_task_duration_seconds_count", (("task", "sodium.tasks.deliver_message_task"),))
    assert got[key] == 1
    assert scrape(port, None)[0] == 404
    assert scrape(port, TOKEN + "x")[0] == 404


def test_lines_outside_a_task_carry_no_task(json_worker) -> None:
    log_path, _ = json_worker
    (ready,) = [ln for ln in json_lines(log_path) if ln["message"].endswith(" ready.")]
    assert "task_id" not in ready and ready["logger"].startswith("celery")
