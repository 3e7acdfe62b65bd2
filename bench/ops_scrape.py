"""What a Prometheus scrape of /metrics costs on PostgreSQL with a large outbox and many timers.

Prints one figure a line: `name value unit`.

  seed_s                    seeding (INSERT … SELECT generate_series, then VACUUM ANALYZE)
  scrape_median_ms          GET /metrics with the bearer token (django.test.Client): the
                            outbox by status, the timers due and overdue by kind and the sweep
                            age, plus the process's own samples
  scrape_queries            database queries one scrape runs
  health_median_ms          GET /health/ (database, broker and sweep checks, each in a thread)

The world: 1,000,000 outbound messages in 50 practices (97 % sent or delivered, the rest
queued, failed, bounced, opened) and 1,000,000 pending timers of 4 kinds, of which 100 are
due (10 of them overdue). Medians over --requests requests.

Usage: python bench/ops_scrape.py [--requests 20]
Needs PostgreSQL (SODIUM_BENCH_PG, default postgres://postgres@127.0.0.1:5432); it creates
and drops its own database `sodium_ops_scrape`.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _setup import report, setup_django

DB = "sodium_ops_scrape"
TOKEN = "bench-scrape-token"


def seed() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """INSERT INTO sodium_practice (name, slug, time_zone, bank_holiday_nation, country,
                   send_from, send_until, logo, primary_colour, sender_name, reply_to,
                   require_two_factor, created_at)
               SELECT 'Practice ' || g, 'practice-' || g, 'Europe/London', 'england_wales', 'GB',
                   '09:00', '17:30', '', '#1f5fbf', '', '', false, now()
               FROM generate_series(1, 50) g"""
        )
        cur.execute("SELECT min(id) FROM sodium_practice")
        first = cur.fetchone()[0]
        cur.execute(
            """INSERT INTO sodium_outboundmessage (practice_id, channel, status, idempotency_key,
                   "to", cc, from_name, reply_to, subject, body_text, body_html, source_type,
                   provider_message_id, error, attempts, created_at, queued_at,
                   status_changed_at)
               SELECT %s + g %% 50, 'email',
                   CASE WHEN g %% 100 < 60 THEN 'sent' WHEN g %% 100 < 97 THEN 'delivered'
                        WHEN g %% 100 = 97 THEN 'opened' WHEN g %% 100 = 98 THEN 'bounced'
                        WHEN g %% 1000 = 999 THEN 'failed' ELSE 'queued' END,
                   'bench:' || g, '["a@example.com"]', '[]', '', '', 'Subject', 'Body', '', '',
                   '', '', 1, now(), now(), now()
               FROM generate_series(1, 1000000) g""",
            [first],
        )
        cur.execute(
            """INSERT INTO sodium_timer (practice_id, kind, target_id, key, due_at, attempts,
                   last_error, created_at)
               SELECT %s + g %% 50,
                   (ARRAY['task.start', 'step.chase', 'ar.action', 'recur'])[1 + g %% 4],
                   g, 'bench:' || g,
                   CASE WHEN g <= 10 THEN now() - interval '1 hour'
                        WHEN g <= 100 THEN now() - interval '10 seconds'
                        ELSE now() + (g || ' seconds')::interval END,
                   0, '', now()
               FROM generate_series(1, 1000000) g""",
            [first],
        )
    connection.connection.autocommit = True
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE sodium_outboundmessage")
        cur.execute("VACUUM ANALYZE sodium_timer")


def median_ms(client, url: str, n: int, headers: dict) -> float:
    samples = []
    for i in range(n + 2):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (url, response.status_code, response.content[:500])
        if i >= 2:  # two warm-ups
            samples.append(elapsed)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    import os

    os.environ["SODIUM_METRICS_TOKEN"] = TOKEN
    os.environ["SODIUM_DB_CONN_MAX_AGE"] = "60"
    setup_django(DB)
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from sodium.observability import heartbeat

    settings.ALLOWED_HOSTS = ["testserver"]
    started = time.perf_counter()
    seed()
    report("seed_s", time.perf_counter() - started, "s")
    heartbeat.record(heartbeat.SWEEP)

    client = Client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    report("scrape_median_ms", median_ms(client, "/metrics", args.requests, auth), "ms")
    with CaptureQueriesContext(connection) as queries:
        text = client.get("/metrics", headers=auth).content.decode()
    assert 'sodium_timers_due{kind="task.start"} 25.0' in text, text[-2000:]
    report("scrape_queries", len(queries), "queries")
    report("health_median_ms", median_ms(client, "/health/", args.requests, {}), "ms")

    import psycopg

    connection.close()
    base = os.environ.get("SODIUM_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
