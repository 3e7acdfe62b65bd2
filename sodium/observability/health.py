"""Health checks for load balancers, compose and `manage.py health`: database, broker, sweep.

Each check runs in a thread of its own and all of them together get at most
SODIUM_HEALTH_TIMEOUT_SECONDS, so a probe answers in bounded time even when the database or
the broker hangs (a check that has not answered by then counts as failed). The database
thread opens, uses and closes its own connection. Nothing here writes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django import db
from django.conf import settings

from sodium.observability import heartbeat

log = logging.getLogger(__name__)


def check_database(timeout: float) -> dict[str, Any]:
    """Run a trivial query on the default database."""
    with db.connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def check_broker(timeout: float) -> dict[str, Any]:
    """Connect to CELERY_BROKER_URL: a Redis PING, or a query on the embedded SQL broker."""
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # One try: a probe reports what it finds now (redis-py retries three times by default).
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            client.ping()
        finally:
            client.close()
    elif url.startswith("sqla+"):
        import sqlalchemy
        from sqlalchemy.pool import NullPool

        sql_url = url.removeprefix("sqla+")
        connect_args = {"timeout": timeout} if sql_url.startswith("sqlite") else {}
        engine = sqlalchemy.create_engine(sql_url, poolclass=NullPool, connect_args=connect_args)
        try:
            with engine.connect() as conn:
                conn.execute(sqlalchemy.text("SELECT 1"))
        finally:
            engine.dispose()
    else:
        from kombu import Connection

        with Connection(url, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    return {"ok": True}


def check_sweep(timeout: float) -> dict[str, Any]:
    """Read when the timer sweep last finished: unhealthy when never, or longer ago than allowed."""
    age = heartbeat.sweep_age_seconds()
    late_after = heartbeat.sweep_late_after_seconds()
    return {
        "ok": age is not None and age <= late_after,
        "age_s": None if age is None else round(age, 1),
        "late_after_s": late_after,
    }


CHECKS: dict[str, Callable[[float], dict[str, Any]]] = {
    "database": check_database,
    "broker": check_broker,
    "sweep": check_sweep,
}


def _run(name: str, check: Callable[[float], dict[str, Any]], timeout: float, box: dict) -> None:
    started = time.perf_counter()
    try:
        result = check(timeout)
    except Exception as exc:
        # The answer may be public (a probe through the proxy): it names the exception's type
        # only; the message, which may carry host names, goes to the log.
        log.warning("health check %s failed: %s: %s", name, type(exc).__name__, exc)
        result = {"ok": False, "error": type(exc).__name__}
    finally:
        # This thread's database connection (the database and sweep checks) is its own.
        db.connections.close_all()
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    box["result"] = result


def run_checks(names: list[str] | None = None) -> dict[str, Any]:
    """Run the named checks (all by default) at once; return {"ok", "checks": {name: result}}.

    Each result has "ok" and "ms"; a failed one has "error". Raises KeyError for an unknown name.
    """
    names = list(CHECKS) if names is None else names
    timeout = float(settings.SODIUM_HEALTH_TIMEOUT_SECONDS)
    running = []
    for name in names:
        box: dict = {}
        thread = threading.Thread(
            target=_run, args=(name, CHECKS[name], timeout, box), name=f"health-{name}", daemon=True
        )
        thread.start()
        running.append((name, thread, box))
    deadline = time.monotonic() + timeout
    checks = {}
    for name, thread, box in running:
        thread.join(max(0.0, deadline - time.monotonic()))
        result = box.get("result")
        if result is None:
            log.warning("health check %s gave no answer within %ss", name, timeout)
            result = {"ok": False, "error": "timeout", "ms": round(timeout * 1000, 1)}
        checks[name] = result
    return {"ok": all(c["ok"] for c in checks.values()), "checks": checks}
