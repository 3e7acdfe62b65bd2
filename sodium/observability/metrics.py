"""Prometheus metrics: the web's /metrics (requests, app state) and the worker's task times.

Requests and latency by view come from django-prometheus's middlewares. `AppCollector` adds,
at scrape time, what the database says across every practice (scopes off): outbox messages
queued, sending, failed and bounced, timers due and overdue by kind, and the sweep's age —
three aggregate queries, each on a range of an index. Task run times and failures are
recorded in the worker (celery_signals) and served on the worker's own port
(SODIUM_WORKER_METRICS_PORT) by `start_worker_server`.

gunicorn and Celery's prefork pool run several processes: with PROMETHEUS_MULTIPROC_DIR set,
prometheus_client keeps each process's samples in files there and a scrape adds them up.
Both endpoints answer only a bearer token equal to SODIUM_METRICS_TOKEN (404 while it is unset).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

# Celery task run times, recorded in the worker process that ran the task.
TASK_DURATION = Histogram(
    "sodium_task_duration_seconds",
    "Run time of Celery tasks, by task name.",
    ["task"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
TASK_FAILURES = Counter(
    "sodium_task_failures", "Celery tasks that ended in failure, by task name.", ["task"]
)


# The outbox statuses shown (OutboundMessage.Status values; the core's model, not imported
# here so this module loads before Django).
OUTBOX_STATUSES = ("queued", "sending", "failed", "bounced")


def multiprocess() -> bool:
    """Return whether samples are shared between processes (PROMETHEUS_MULTIPROC_DIR)."""
    return bool(
        os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")
    )


class _ProcessRegistry(Collector):
    """The global registry of this process, as one collector of a scrape's registry."""

    def collect(self) -> Iterator:
        return prometheus_client.REGISTRY.collect()


class AppCollector(Collector):
    """What the database says at scrape time: outbox by status, timers, the sweep's age."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count, Q
        from django.utils import timezone
        from django_scopes import scopes_disabled

        from sodium.models import OutboundMessage, Timer
        from sodium.observability import heartbeat

        now = timezone.now()
        late = heartbeat.sweep_late_after_seconds()
        with scopes_disabled():
            # Only the statuses a message waits in or an operator acts on: a range of the
            # status index each, so the cost follows the backlog. Sent, delivered and opened
            # grow for ever (counting them read 1,000,000 index entries a scrape).
            by_status = dict.fromkeys(OUTBOX_STATUSES, 0)
            for status, n in (
                OutboundMessage.objects.filter(status__in=OUTBOX_STATUSES)
                .order_by()
                .values_list("status")
                .annotate(n=Count("id"))
            ):
                by_status[status] = n
            # Timer rows exist only while pending: the due ones are a range of the due_at
            # index, so this costs what is due, not what exists.
            timers = (
                Timer.objects.filter(due_at__lte=now)
                .order_by()
                .values_list("kind")
                .annotate(
                    due=Count("id"),
                    overdue=Count("id", filter=Q(due_at__lte=now - dt.timedelta(seconds=late))),
                )
            )
            timers = list(timers)
            age = heartbeat.sweep_age_seconds(now)

        outbox = GaugeMetricFamily(
            "sodium_outbox_messages",
            "Outbound messages (email and SMS) queued, sending, failed or bounced, by status.",
            labels=["status"],
        )
        for status, n in by_status.items():
            outbox.add_metric([status], n)
        yield outbox

        due = GaugeMetricFamily(
            "sodium_timers_due", "Timers whose due time has passed, by kind.", labels=["kind"]
        )
        overdue = GaugeMetricFamily(
            "sodium_timers_overdue",
            "Timers due longer than the sweep may be late (SODIUM_SWEEP_LATE_SECONDS), by kind.",
            labels=["kind"],
        )
        for kind, n_due, n_overdue in timers:
            due.add_metric([kind], n_due)
            overdue.add_metric([kind], n_overdue)
        yield due
        yield overdue

        yield GaugeMetricFamily(
            "sodium_sweep_age_seconds",
            "Seconds since the timer sweep last finished (+Inf before the first sweep).",
            value=float("inf") if age is None else age,
        )


def registry(*, app: bool) -> CollectorRegistry:
    """Return a registry for one scrape: this process's (or every process's) samples, plus
    the database's figures when `app`."""
    scrape = CollectorRegistry(auto_describe=False)
    if multiprocess():
        prometheus_multiprocess.MultiProcessCollector(scrape)
    else:
        scrape.register(_ProcessRegistry())
    if app:
        scrape.register(AppCollector())
    return scrape


def authorised(header: str | None, token: str) -> bool:
    """Return whether an Authorization header carries the bearer `token`."""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    return secrets.compare_digest(given.strip().encode(), token.encode())


def render(*, app: bool) -> bytes:
    """Return the text exposition of one scrape."""
    return prometheus_client.generate_latest(registry(app=app))


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Log nothing: Prometheus scrapes every few seconds."""


def worker_app(token: str):
    """Return the WSGI app of the worker's metrics port (task metrics, behind the token)."""

    def app(environ, start_response):
        if environ.get("PATH_INFO") not in {"/metrics", "/"} or not authorised(
            environ.get("HTTP_AUTHORIZATION"), token
        ):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not found\n"]
        body = render(app=False)
        start_response("200 OK", [("Content-Type", prometheus_client.CONTENT_TYPE_LATEST)])
        return [body]

    return app


def start_worker_server(port: int, token: str, addr: str = "0.0.0.0") -> WSGIServer:
    """Serve the worker's metrics on `port` from a daemon thread; return the server."""
    server = make_server(addr, port, worker_app(token), handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="sodium-metrics", daemon=True).start()
    log.info("worker metrics on port %s", server.server_port)
    return server
