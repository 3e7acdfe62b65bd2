"""/health/ and `manage.py health`: database, broker and the sweep's heartbeat.

The checks run in threads with their own database connections, so these tests commit
(transaction=True) for the threads to see the heartbeat rows.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import time

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from sodium.models import Heartbeat
from sodium.observability import heartbeat
from sodium.tasks import sweep_timers_task

pytestmark = pytest.mark.django_db(transaction=True)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def swept(seconds_ago: float) -> None:
    heartbeat.record(heartbeat.SWEEP, timezone.now() - dt.timedelta(seconds=seconds_ago))


def get_health(client, query: str = ""):
    response = client.get("/health/" + query)
    return response, json.loads(response.content)


def test_it_is_healthy_when_all_checks_pass(client) -> None:
    swept(5)
    response, body = get_health(client)
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "sweep"}
    assert all(check["ok"] for check in body["checks"].values())
    assert 4 <= body["checks"]["sweep"]["age_s"] < 120
    assert body["checks"]["sweep"]["late_after_s"] == 180  # three 60-second sweeps
    assert response["Cache-Control"] == "no-store"


def test_it_is_unhealthy_when_the_sweep_is_late(client, caplog) -> None:
    swept(181)  # three sweep intervals and a second
    with caplog.at_level(logging.INFO):
        response, body = get_health(client)
    # Not an ERROR line (nor a Sentry event) for every failing probe.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert response.status_code == 503
    assert body["status"] == "fail"
    assert body["checks"]["sweep"]["ok"] is False
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]


def test_it_is_unhealthy_before_the_first_sweep(client) -> None:
    response, body = get_health(client)
    assert response.status_code == 503
    assert body["checks"]["sweep"] == {**body["checks"]["sweep"], "ok": False, "age_s": None}


@override_settings(SODIUM_SWEEP_LATE_SECONDS=600)
def test_the_lateness_is_a_setting(client) -> None:
    swept(400)
    response, body = get_health(client)
    assert response.status_code == 200
    assert body["checks"]["sweep"]["late_after_s"] == 600


def test_it_is_unhealthy_when_the_broker_is_unreachable(client) -> None:
    swept(5)
    with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port()}/0"):
        response, body = get_health(client)
    assert response.status_code == 503
    assert body["checks"]["broker"] == {**body["checks"]["broker"], "ok": False}
    assert body["checks"]["broker"]["error"] == "ConnectionError"  # no host or port in it
    assert body["checks"]["database"]["ok"] and body["checks"]["sweep"]["ok"]


def test_it_is_unhealthy_when_the_database_fails(client, settings) -> None:
    swept(5)
    # The check's thread opens its own connection: point it at a port nobody listens on
    # (PostgreSQL) or a file that cannot be opened (SQLite).
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        broken = {**db, "NAME": "/nonexistent-dir/none.sqlite3"}
    else:
        broken = {**db, "PORT": str(closed_port()), "HOST": "127.0.0.1"}
    from django.db import connections

    real = connections.settings["default"]
    connections.settings["default"] = broken
    try:
        response, body = get_health(client, "?check=database")
    finally:
        connections.settings["default"] = real
    assert response.status_code == 503
    assert body["checks"] == {"database": {**body["checks"]["database"], "ok": False}}


def test_a_check_that_hangs_fails_within_the_timeout(client, monkeypatch, settings) -> None:
    import threading

    from sodium.observability import health

    release = threading.Event()
    monkeypatch.setitem(health.CHECKS, "broker", lambda timeout: release.wait(10) and {"ok": 1})
    settings.SODIUM_HEALTH_TIMEOUT_SECONDS = 2
    swept(5)
    started = time.monotonic()
    try:
        response, body = get_health(client)
    finally:
        release.set()
    assert time.monotonic() - started < 5  # not the check's 10 s
    assert response.status_code == 503
    assert body["checks"]["broker"]["error"] == "timeout"
    assert body["checks"]["sweep"]["ok"]


def test_it_runs_only_the_checks_asked_for(client) -> None:
    swept(1000)  # late, but not asked about
    response, body = get_health(client, "?check=database&check=broker")
    assert response.status_code == 200
    assert set(body["checks"]) == {"database", "broker"}
    assert client.get("/health/?check=disk").status_code == 400


def test_it_needs_no_session_host_or_https_and_writes_nothing(client, settings) -> None:
    swept(5)
    settings.ALLOWED_HOSTS = ["sodium.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    before = Heartbeat.objects.get().at
    # A probe inside the network: plain HTTP, by an address outside ALLOWED_HOSTS.
    response = client.get("/health/", HTTP_HOST="10.0.0.5:8000")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers and not response.cookies
    assert Heartbeat.objects.get().at == before
    # Other pages still redirect to HTTPS and still check the host.
    assert client.get("/sign-in/", HTTP_HOST="sodium.example.com").status_code == 301
    assert client.get("/sign-in/", HTTP_HOST="10.0.0.5:8000").status_code == 400


def test_it_refuses_writes(client) -> None:
    assert client.post("/health/").status_code == 405


def test_a_sweep_updates_the_heartbeat() -> None:
    swept(1000)
    started = timezone.now()
    sweep_timers_task.apply()
    assert Heartbeat.objects.get(name="sweep").at >= started
    assert heartbeat.sweep_age_seconds() < 60


def test_the_command_exits_non_zero_when_the_sweep_is_late(capsys) -> None:
    swept(5)
    call_command("health", "--sweep")
    assert json.loads(capsys.readouterr().out)["sweep"]["ok"] is True
    swept(1000)
    with pytest.raises(CommandError, match="unhealthy: sweep"):
        call_command("health", "--sweep")
