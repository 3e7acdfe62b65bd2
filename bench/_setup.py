"""Shared set-up for benchmarks: a fresh PostgreSQL database, migrated, with Django ready."""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(db_name: str = "sodium_bench", *, fresh: bool = True) -> None:
    """Point Django at PostgreSQL database `db_name` (recreated when `fresh`) and migrate."""
    base = os.environ.get("SODIUM_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    os.environ["DATABASE_URL"] = f"{base}/{db_name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sodium.settings")
    os.environ.setdefault("SODIUM_LOG_LEVEL", "WARNING")
    os.environ["SODIUM_CELERY_EAGER"] = "false"
    # Measure what production runs: DEBUG off (with DEBUG on, Django also logs every query).
    os.environ["SODIUM_DEBUG"] = "false"
    os.environ.setdefault("SODIUM_SECRET_KEY", "bench-only-secret-key-not-used-for-anything-real")
    if fresh:
        import psycopg

        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{db_name}"')
    import django

    django.setup()
    if fresh:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def report(name: str, value: float, unit: str) -> None:
    print(f"{name} {value:.3f} {unit}", flush=True)


def median_ms(client, url: str, n: int, headers: dict | None = None) -> float:
    """Return the median time of `n` GETs of `url` by a django.test.Client, in milliseconds,
    after three warm-up requests (templates, URL resolver, connection); each must answer 200."""
    for _ in range(3):
        response = client.get(url, headers=headers or {}, secure=True)
        assert response.status_code == 200, (url, response.status_code, response.content[:2000])
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url, headers=headers or {}, secure=True)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(samples) * 1000
