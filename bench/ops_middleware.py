"""What the operator's middleware costs per request: CPU time with and without it.

Prints one figure a line: `name value unit`.

  ops_bare_cpu_us             CPU per request through the project's middleware without the
                              operations ones, to a trivial view (no template, no query)
  ops_full_cpu_us             the same with them: django-prometheus's two middlewares, the
                              request context (request id, X-Request-ID), the /health/ and
                              /metrics check and the user/practice binding
  ops_cost_cpu_us             full minus bare: what every request pays for them
  ops_prometheus_cost_cpu_us  of which django-prometheus's pair
  ops_cost_multiproc_cpu_us   full minus bare again with PROMETHEUS_MULTIPROC_DIR set (each
                              sample written to a memory-mapped file, as gunicorn runs it),
                              measured in a child process

Requests go through django.test.Client (its own overhead is in both figures and cancels in
the difference), anonymous, with DEBUG off as in production. The configurations take turns in
rounds so that a busy machine slows all of them alike; each figure is the median of the
rounds' means of process CPU time (time.process_time).

Usage: python bench/ops_middleware.py [--requests 2000] [--rounds 7]
Needs nothing but the project (SQLite in a temporary directory; no query is made).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OPS = {
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    "sodium.observability.middleware.RequestContextMiddleware",
    "sodium.observability.middleware.OpsEndpointsMiddleware",
    "sodium.observability.middleware.RequestUserMiddleware",
}
PROMETHEUS = {m for m in OPS if m.startswith("django_prometheus")}


def ping(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


# This module is the bench's URLconf (Django imports it again as `ops_middleware`).
urlpatterns = [path("ping/", ping, name="ping")]


def measure(requests: int, rounds: int) -> dict[str, float]:
    """Return the median CPU microseconds per request of each configuration."""
    os.environ.setdefault("SODIUM_DATA_DIR", tempfile.mkdtemp(prefix="sodium-bench-ops-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "sodium.settings"
    os.environ["SODIUM_DEBUG"] = "false"
    os.environ["SODIUM_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("SODIUM_SECRET_KEY", "bench-only-secret-key-not-used-for-anything-real")
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client, override_settings

    settings.ROOT_URLCONF = "ops_middleware"
    settings.ALLOWED_HOSTS = ["testserver"]
    full = list(settings.MIDDLEWARE)
    configs = {
        "bare": [m for m in full if m not in OPS],
        "full": full,
        "no_prometheus": [m for m in full if m not in PROMETHEUS],
    }
    clients = {}
    for name, middleware in configs.items():
        with override_settings(MIDDLEWARE=middleware):
            client = Client()
            for _ in range(50):  # loads the chain, warms the URL resolver
                assert client.get("/ping/", secure=True).status_code == 200
        clients[name] = client
    samples: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(rounds):
        for name, client in clients.items():
            started = time.process_time()
            for _ in range(requests):
                client.get("/ping/", secure=True)
            samples[name].append((time.process_time() - started) / requests * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.requests, args.rounds)))
        return
    got = measure(args.requests, args.rounds)
    with tempfile.TemporaryDirectory(prefix="sodium-bench-prom-") as prom:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                f"--requests={args.requests}",
                f"--rounds={args.rounds}",
            ],
            env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": prom},
            capture_output=True,
            text=True,
            check=True,
        )
    multiproc = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"ops_bare_cpu_us {got['bare']:.1f} us", flush=True)
    print(f"ops_full_cpu_us {got['full']:.1f} us", flush=True)
    print(f"ops_cost_cpu_us {got['full'] - got['bare']:.1f} us", flush=True)
    print(f"ops_prometheus_cost_cpu_us {got['full'] - got['no_prometheus']:.1f} us", flush=True)
    print(f"ops_cost_multiproc_cpu_us {multiproc['full'] - multiproc['bare']:.1f} us", flush=True)


if __name__ == "__main__":
    main()
