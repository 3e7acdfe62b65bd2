"""Chaos: a crash delays work but never loses or repeats it, with real processes killed.

The docker-compose topology as local processes (no Docker engine here): a private PostgreSQL
cluster (127.0.0.1:55432) and Redis (127.0.0.1:6391, append-only, as compose runs it), gunicorn
(`--workers 3`), two `celery worker`s (`--concurrency=2`, named chaos1 and chaos2) and one
`celery beat`, DEBUG off, SODIUM_DB_CONN_MAX_AGE=60, Django's file email backend (every email
sent is a file, read at the end), beat sweeping every SODIUM_SWEEP_SECONDS (10 s here).

Work flows all along: manual steps completed (in the bench through the engine, and over HTTP
on gunicorn) whose dependent automatic step emails the client; portal confirmations whose
chase timer falls due; recurring services whose next run falls due (a task per client whose
start timer then starts it and its automatic email step); AR email actions falling due on
invoices. Each email's subject is unique, so the outbox and the files can be counted per
expected email. Meanwhile, in one run: a worker is killed with kill -9 (its process group:
the main process and its prefork children, as a crashed container) while a batch of due work
is partly sent, twice (a replacement starts at once); beat is stopped while an hour's worth of
chases, AR actions and recurrences falls due (due times spread over the last hour), then
started again; Redis is restarted (shutdown, start with the same append-only file); PostgreSQL
is restarted (`pg_ctl -m fast restart`). Nothing is restarted but what the fault names: every
process must reconnect by itself.

Prints one figure a line: `name value unit`.

  chaos_expected           emails that must go out (work released whose trigger committed)
  chaos_sent               of those, recorded `sent` in the outbox and found once in the files
  chaos_lost               expected, but not sent (outbox) or not in the files
  chaos_duplicated         expected, but in the files (or the outbox) more than once
  chaos_catch_up_s         beat started again → every email of the hour that fell due sent
                           (budget: two sweep intervals); chaos_catch_up_chase_s, _ar_s,
                           _recurring_s the same for each kind; chaos_hour_wave its emails;
                           chaos_catch_up_queued_s until the last of them was written to the
                           outbox (the sweeps' part; the rest is the workers' sending)
  chaos_kill_1_recovered_s, chaos_kill_2_recovered_s
                           the kill → every email of the batch being sent when it came, sent
                           (the killed worker's share waits for the safety nets: a message
                           left `sending` is sent again after the task's hard time limit and
                           a margin, an AR batch after collections_ar.running.REDISPATCH_AFTER)
  chaos_kill_1_sending_left, chaos_kill_2_sending_left
                           messages the killed worker left `sending` (it died mid-send)
  chaos_kill_1_replacement_ready_s, …_2_…
                           the replacement worker's start until it is ready
  chaos_redis_down_s, chaos_postgres_down_s
                           how long the restart took (Redis stays down 3 s)
  chaos_redis_recovered_s, chaos_postgres_recovered_s
                           the server back → the first steps completed then (engine and
                           HTTP) emailed
  chaos_redis_http_errors, chaos_postgres_http_errors
                           HTTP completions failed from the restart to 5 s after it
  chaos_unexpected         emails in the files that no released work owes
  chaos_requeued_after_sending
                           messages the sweep put back from `sending` (a worker died)
  chaos_completed_by_engine, chaos_completed_over_http
                           manual steps completed in the bench and through gunicorn
  chaos_http_errors        HTTP completions refused or failed in the whole run (expected
                           while a server is down; the work they did commit is still owed)
  chaos_run_s              the whole run, set-up included

A kill between the email backend taking a message and the commit that marks it `sent` makes
the sweep send it again (the backend cannot tell): such a duplicate is counted, not hidden.
Set SODIUM_CHAOS_KEEP_LOGS=<dir> to keep the processes' logs.

Usage: python bench/chaos.py [--sweep-seconds 10]
Needs PostgreSQL 15's binaries (SODIUM_CHAOS_PG_BIN, default /usr/lib/postgresql/15/bin) and
redis-server; as root it runs PostgreSQL as the user `postgres`. Everything lives in a
temporary directory and every process it started is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _setup import ROOT, report, setup_django
from _stack import App, PostgreSQL, Redis

PG_PORT, REDIS_PORT, WEB_PORT = 55432, 6391, 8391


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sweep-seconds", type=int, default=10)
    args = parser.parse_args()
    run_started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sodium-chaos-") as tmp_name:
        tmp = Path(tmp_name)
        os.chmod(tmp, 0o755)  # PostgreSQL runs as another user
        pg, redis = PostgreSQL(tmp / "pg", PG_PORT), Redis(tmp / "redis", REDIS_PORT)
        apps: dict[str, App] = {}
        try:
            pg.start()
            redis.start()
            figures = run(tmp, pg, redis, apps, args.sweep_seconds)
        finally:
            for app in apps.values():
                app.stop(grace=20)
            from django.db import connections

            connections.close_all()
            redis.stop()
            pg.stop()
    figures["chaos_run_s"] = (time.perf_counter() - run_started, "s")
    for name, (value, unit) in figures.items():
        report(name, value, unit)


def run(tmp: Path, pg: PostgreSQL, redis: Redis, apps: dict, sweep_seconds: int) -> dict:
    import _chaos_world as world
    from _chaos_drive import Flow, Ledger, run_faults

    os.environ.update(
        SODIUM_BENCH_PG=pg.url,
        REDIS_URL=redis.url,
        SODIUM_SWEEP_SECONDS=str(sweep_seconds),
        SODIUM_DATA_DIR=str(tmp / "data"),
    )
    setup_django("sodium_chaos")
    started = time.perf_counter()
    plan = world.build()
    print(f"# world built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    from django.db import connections

    connections.close_all()
    mail = tmp / "mail"
    env = {
        **os.environ,
        "SODIUM_DB_CONN_MAX_AGE": "60",
        "SODIUM_HTTPS": "false",
        "SODIUM_ALLOWED_HOSTS": "127.0.0.1",
        "SODIUM_SITE_URL": f"http://127.0.0.1:{WEB_PORT}",
        "SODIUM_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "SODIUM_EMAIL_FILE_PATH": str(mail),
        "SODIUM_LOG_LEVEL": "WARNING",
    }
    py = sys.executable
    # As the Docker image does: DEBUG off serves hashed static files from STATIC_ROOT.
    subprocess.run(
        [py, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    logs = tmp / "logs"
    logs.mkdir()
    celery = [py, "-m", "celery", "-A", "sodium"]
    # The commands of docker-compose.yml (two workers, each with a name of its own).
    apps["web"] = App(
        "web",
        [py, "-m", "gunicorn", "sodium.wsgi:application", "--bind", f"127.0.0.1:{WEB_PORT}"]
        + ["--workers", "3", "--access-logfile", "-"],
        env,
        logs,
        "Booting worker",
    )
    for n in (1, 2):
        apps[f"worker{n}"] = App(
            f"worker{n}",
            celery + ["worker", "--loglevel=INFO", "--concurrency=2", "-n", f"chaos{n}@%h"],
            env,
            logs,
            "ready.",
        )
    apps["beat"] = App(
        "beat",
        celery + ["beat", "--loglevel=INFO", "-s", str(tmp / "data" / "celerybeat-schedule")],
        env,
        logs,
        "beat: Starting",
    )
    for app in apps.values():
        app.start()
    time.sleep(2)  # every gunicorn process booted
    releases = world.Releases(plan)
    ledger = Ledger(plan, releases, mail)
    flow = Flow(plan, releases, f"http://127.0.0.1:{WEB_PORT}")
    try:
        figures, drain_until = run_faults(
            plan, releases, ledger, flow, (pg, redis, apps), sweep_seconds
        )
    finally:
        flow.stop()
    figures.update(ledger.final_check(drain_until, settle_s=2 * sweep_seconds))
    figures["chaos_completed_by_engine"] = (sum(c[2] == "engine" for c in flow.completed), "steps")
    figures["chaos_completed_over_http"] = (sum(c[2] == "http" for c in flow.completed), "steps")
    figures["chaos_http_errors"] = (sum(flow.http_errors.values()), "requests")
    for what, count in flow.http_errors.most_common():
        print(f"# http error x{count}: {what}", file=sys.stderr)
    for line in ledger.problems[:30]:
        print(f"# {line}", file=sys.stderr)
    keep = os.environ.get("SODIUM_CHAOS_KEEP_LOGS")
    if keep:
        shutil.copytree(logs, keep, dirs_exist_ok=True)
    return figures


if __name__ == "__main__":
    threading.excepthook = lambda a: print(f"# thread failed: {a.exc_value!r}", file=sys.stderr)
    main()
