"""Realistic load: 200 people with think time, driven by locust, then count the email.

gunicorn (3 sync workers, as docker-compose.yml runs it; --web-workers) and a real `celery
worker` (prefork, 2 processes for 2 cores; --worker-concurrency) run on PostgreSQL and Redis
with DEBUG off and persistent connections. bench/_load_world.py builds one practice (130 staff
with 30 tasks each, 25 managers with a template each, 100 client contacts with four sets of
items each) and locust runs the users of bench/_load_users.py headless against it, in one
process on the same machine:

1. the load: --users people (6 staff : 3 clients : 1 manager), spawned at --spawn-rate a
   second, each thinking --think seconds between two actions, for --duration seconds in all;
2. saturation (unless --no-saturation): the same kinds of users with no think time, signed in
   with the sessions of phase 1, held at each count of --steps for --step-seconds, until a
   step's p95 is over a second.

Afterwards every "Mark done" the staff saw answered must have led to exactly one email, sent
once (the worker sends through Django's file email backend, and the files are read).

Prints one figure a line: `name value unit`.

  load_users / load_seconds        the load (phase 1, spawning included)
  load_requests, load_rps          requests, and per second, once every user has spawned and
                                   signed in (from locust's CSV, its stats reset then;
                                   --include-ramp counts all)
  load_p50_ms, load_p95_ms         response times as locust saw them, likewise (locust rounds
                                   times over 100 ms to two significant figures)
  load_counted_seconds             how long that window was (the phase less the spawning)
  load_errors                      failed requests over the whole phase: 4xx/5xx, refused
                                   connections, or a page without what it should show (a step
                                   not marked done, an upload not taken…)
  load_ramp_requests, load_ramp_p95_ms, load_sign_in_p95_ms
                                   the spawning: every user's first page, the staff and
                                   managers signing in (PBKDF2: ~0.25 s of CPU each)
  load_web_cpu_ms_per_request, load_db_cpu_ms_per_request, load_worker_cpu_s
                                   CPU (user + system) of the gunicorn workers and of the
                                   PostgreSQL backends of `sodium_load` per request, and of the
                                   Celery worker, in the window the response times cover (once
                                   every user has signed in): what a busy shared machine moves
                                   least
  load_saturation_users, load_saturation_rps, load_saturation_p95_ms
                                   the first saturation step whose p95 is over 1 s: its users,
                                   requests per second and p95 (its first --warm seconds left
                                   out)
  load_below_saturation_users, load_below_saturation_rps, load_below_saturation_p95_ms
                                   the last step before it (p95 ≤ 1 s)
  load_saturation_errors           failed requests in the saturation phase
  load_messages_expected           steps answered "Marked … done" (both phases)
  load_messages_sent               of those, emails recorded sent and found in the files
  load_messages_lost               completed steps with no message sent for their email step
  load_messages_duplicated         emails sent more than once, or steps with two messages

Each phase's requests by page go to stderr (`# …` lines), with the saturation steps.

Usage: python bench/load.py [--users 200] [--spawn-rate 5] [--duration 180] [--think 5,15]
       [--include-ramp] [--no-saturation] [--steps 5,10,15,20,30,40,60,80,120,160]
       [--step-seconds 15] [--warm 4] [--web-workers 3] [--worker-concurrency 2] [--port 8101]
A full run (world, 3 minutes of load, saturation, the check) takes 6 to 8 minutes.
Needs PostgreSQL (SODIUM_BENCH_PG) and Redis (SODIUM_BENCH_REDIS, default
redis://127.0.0.1:6379/13, flushed first); it creates its own database `sodium_load`.
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import ROOT, report, setup_django

REDIS = os.environ.get("SODIUM_BENCH_REDIS", "redis://127.0.0.1:6379/13")
USERS_FILE = Path(__file__).resolve().parent / "_load_users.py"


def start(command: list[str], env: dict, log: Path, ready: str) -> subprocess.Popen:
    """Start a server process and wait until its log shows `ready`."""
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 120
    while ready not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{command[2]} did not start:\n{log.read_text()}")
        time.sleep(0.2)
    return proc


def run_locust(
    base: str,
    tmp: Path,
    phase: str,
    env: dict,
    extra: list[str],
    on_spawned=None,
    meter: CpuMeter | None = None,
) -> tuple[dict, dict[str, dict]]:
    """Run one locust phase headless; return what its users wrote and its CSV rows by name.

    `on_spawned` is called once every user has spawned and signed in.
    """
    out, spawned = tmp / f"{phase}.json", tmp / f"{phase}.spawned"
    command = [sys.executable, "-m", "locust", "-f", str(USERS_FILE), "--headless"]
    command += ["--host", base, "--csv", str(tmp / phase), "--only-summary", "--stop-timeout", "10"]
    log = tmp / f"{phase}-locust.log"
    env = {**env, "SODIUM_LOAD_OUT": str(out), "SODIUM_LOAD_SPAWNED": str(spawned)}
    proc = subprocess.Popen(
        command + extra, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    # Its exit status is not checked: locust exits 1 whenever a request failed, which the
    # figures say.
    while proc.poll() is None:
        if on_spawned is not None and spawned.exists():
            on_spawned()
            on_spawned = None
        if meter is not None:
            meter.poll()
        time.sleep(1)
    if not out.exists():
        raise RuntimeError(f"locust wrote nothing:\n{log.read_text()[-3000:]}")
    with (tmp / f"{phase}_stats.csv").open() as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    result = json.loads(out.read_text())
    # A user's own code raising (a page it could not read) is an error too, though no request
    # failed; locust lists those apart.
    with (tmp / f"{phase}_exceptions.csv").open() as f:
        result["exceptions"] = sum(int(row["Count"]) for row in csv.DictReader(f))
    return result, rows


class CpuMeter:
    """CPU seconds (user + system) spent by the web workers, the Celery worker's processes and
    the PostgreSQL backends serving `database`, since the meter was made: figures that the
    other work on a shared machine does not move the way it moves response times."""

    def __init__(self, web: subprocess.Popen, worker: subprocess.Popen, database: str) -> None:
        self.roots = {"web": web.pid, "worker": worker.pid}
        self.database = database
        self.mark()

    def mark(self) -> None:
        """Count from now."""
        self.start = self.read()
        self.last = dict(self.start)

    def poll(self) -> None:
        """Note every process's CPU so far: a database backend closed later (connections
        live SODIUM_DB_CONN_MAX_AGE seconds) keeps what it spent up to here."""
        self.last.update(self.read())

    def processes(self) -> dict[str, list]:
        import psutil

        found: dict[str, list] = {}
        for part, pid in self.roots.items():
            root = psutil.Process(pid)
            found[part] = [root, *root.children(recursive=True)]
        found["db"] = [
            p
            for p in psutil.process_iter(["name", "cmdline"])
            if (p.info["name"] or "").startswith("postgres")
            and self.database in " ".join(p.info["cmdline"] or [])
        ]
        return found

    def read(self) -> dict[tuple[str, int], float]:
        import psutil

        times = {}
        for part, procs in self.processes().items():
            for p in procs:
                try:
                    cpu = p.cpu_times()
                except psutil.Error:  # ended between the listing and the reading
                    continue
                times[(part, p.pid)] = cpu.user + cpu.system
        return times

    def since(self) -> dict[str, float]:
        """CPU seconds of each part since the mark (processes started since count whole; a
        process that ended since counts up to the last poll)."""
        self.poll()
        spent: dict[str, float] = collections.defaultdict(float)
        for (part, pid), seconds in self.last.items():
            spent[part] += seconds - self.start.get((part, pid), 0.0)
        return spent


def cpu_figures(spent: dict[str, float], requests: int) -> None:
    web, db = spent["web"], spent["db"]
    report("load_web_cpu_ms_per_request", 1000 * web / max(requests, 1), "ms")
    report("load_db_cpu_ms_per_request", 1000 * db / max(requests, 1), "ms")
    report("load_worker_cpu_s", spent["worker"], "s")
    per_request = (web + db) / max(requests, 1)
    if per_request:
        print(
            f"# two idle cores would serve about {2 / per_request:.0f} requests/s of this mix "
            "(web and database CPU alone)",
            file=sys.stderr,
        )


def print_pages(phase: str, rows: dict[str, dict]) -> None:
    for name, row in sorted(rows.items()):
        if name != "Aggregated" and row["Request Count"] != "0":
            print(
                f"# {phase} {name}: {row['Request Count']} requests, {row['Failure Count']} "
                f"failed, median {row['50%']} ms, p95 {row['95%']} ms",
                file=sys.stderr,
            )


def sent_subjects(mail_dir: Path) -> collections.Counter[str]:
    subjects: collections.Counter[str] = collections.Counter()
    for path in mail_dir.glob("*.log"):
        subjects.update(re.findall(r"^Subject: (.+)$", path.read_text(), re.MULTILINE))
    return subjects


def check_messages(completed: list[list[int]], mail_dir: Path) -> tuple[int, int, int]:
    """Wait for the worker to send every completed step's email; return (sent, lost, twice)."""
    from _load_world import CHAIN_SUBJECT
    from django.db.models import Count
    from django_scopes import scopes_disabled

    from sodium.models import OutboundMessage
    from workflows.models import Step

    email_steps = [email for _, _, email in completed]
    with scopes_disabled():
        manual_done = Step.objects.filter(pk__in=[m for _, m, _ in completed], status="done")
        assert manual_done.count() == len(completed), "a step answered done is not done"
        messages = OutboundMessage.objects.filter(
            source_type="workflows.step", source_id__in=email_steps
        )
        deadline = time.monotonic() + 180
        while messages.filter(status="sent").count() < len(email_steps):
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
        time.sleep(2)  # a duplicate, if there were one, would land now
        sent = set(messages.filter(status="sent").values_list("source_id", flat=True))
        twice = messages.values("source_id").annotate(n=Count("id")).filter(n__gt=1).count()
        names = dict(Step.objects.filter(pk__in=email_steps).values_list("pk", "task__name"))
    subjects = sent_subjects(mail_dir)
    # Sent: recorded as sent and reaching the email backend; anything else is lost.
    delivered = sum(
        1 for pk in email_steps if pk in sent and subjects[CHAIN_SUBJECT + names[pk]] > 0
    )
    chain = [n for subject, n in subjects.items() if subject.startswith(CHAIN_SUBJECT)]
    duplicated = twice + sum(1 for n in chain if n > 1)
    return delivered, len(email_steps) - delivered, duplicated


def p95(times: list[float]) -> float:
    times = sorted(times)
    return times[max(0, math.ceil(0.95 * len(times)) - 1)] if times else 0.0


def ramp_figures(out: dict) -> None:
    """Report the spawning (every user's first page, staff and managers signing in)."""
    if not out["spawned"]:
        return
    ramp = [ms for when, _, ms, _ in out["samples"] if when < out["spawned"][0]]
    sign_in = [ms for _, name, ms, _ in out["samples"] if name == "POST /sign-in/"]
    report("load_ramp_requests", len(ramp), "requests")
    report("load_ramp_p95_ms", p95(ramp), "ms")
    report("load_sign_in_p95_ms", p95(sign_in), "ms")


def saturation_figures(steps: list[dict], exceptions: int) -> None:
    for s in steps:
        print(
            f"# saturation {s['users']} users: {s['rps']:.1f} requests/s, p95 "
            f"{s['p95_ms']:.0f} ms, {s['failures']} failed of {s['requests']}",
            file=sys.stderr,
        )
    over = [s for s in steps if s["p95_ms"] > 1000]
    below = [s for s in steps if s["p95_ms"] <= 1000]
    if over:
        first = over[0]
        report("load_saturation_users", first["users"], "users")
        report("load_saturation_rps", first["rps"], "1/s")
        report("load_saturation_p95_ms", first["p95_ms"], "ms")
        below = [s for s in below if s["users"] < first["users"]]
    else:
        print("# saturation: no step's p95 went over 1 s; raise --steps", file=sys.stderr)
    if below:
        last = below[-1]
        report("load_below_saturation_users", last["users"], "users")
        report("load_below_saturation_rps", last["rps"], "1/s")
        report("load_below_saturation_p95_ms", last["p95_ms"], "ms")
    report("load_saturation_errors", sum(s["failures"] for s in steps) + exceptions, "errors")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--duration", type=int, default=180, help="seconds of phase 1")
    parser.add_argument("--think", default="5,15", help='seconds between actions: "low,high"')
    parser.add_argument(
        "--include-ramp",
        action="store_true",
        help="count the spawning (and its sign-ins) in the phase's figures",
    )
    parser.add_argument("--no-saturation", action="store_true")
    parser.add_argument("--steps", default="5,10,15,20,30,40,60,80,120,160")
    parser.add_argument("--step-seconds", type=float, default=15)
    parser.add_argument("--warm", type=float, default=4, help="seconds of a step left out")
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--port", type=int, default=8101)
    args = parser.parse_args()
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    os.environ["REDIS_URL"] = REDIS
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        # The bench process stores the documents sent for approval where gunicorn reads them.
        os.environ["SODIUM_DATA_DIR"] = tmp_name
        setup_django("sodium_load")
        from _load_world import build_world

        started = time.perf_counter()
        plan = build_world()
        print(f"# world built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        (tmp / "plan.json").write_text(json.dumps(plan))
        from django.db import connections

        connections.close_all()
        run(args, tmp)


def run(args: argparse.Namespace, tmp: Path) -> None:
    mail_dir = tmp / "mail"
    base = f"http://127.0.0.1:{args.port}"
    env = {
        **os.environ,
        "SODIUM_DB_CONN_MAX_AGE": "60",
        "SODIUM_HTTPS": "false",
        "SODIUM_ALLOWED_HOSTS": "127.0.0.1",
        "SODIUM_SITE_URL": base,
        "SODIUM_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "SODIUM_EMAIL_FILE_PATH": str(mail_dir),
        "SODIUM_LOAD_PLAN": str(tmp / "plan.json"),
    }
    py = sys.executable
    # As the Docker image does: DEBUG off serves hashed static files from STATIC_ROOT.
    subprocess.run(
        [py, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    web = start(
        [py, "-m", "gunicorn", "sodium.wsgi:application", "--bind", f"127.0.0.1:{args.port}"]
        + ["--workers", str(args.web_workers), "--log-level", "info"],
        env,
        tmp / "web.log",
        "Booting worker",
    )
    worker = start(
        [py, "-m", "celery", "-A", "sodium", "worker", "--pool=prefork"]
        + [f"--concurrency={args.worker_concurrency}", "--without-gossip", "--without-mingle"]
        + ["--loglevel=INFO"],
        env,
        tmp / "worker.log",
        "ready.",
    )
    try:
        time.sleep(2)  # let every gunicorn process finish booting
        load_env = {**env, "SODIUM_LOAD_THINK": args.think}
        if not args.include_ramp:
            load_env["SODIUM_LOAD_RESET"] = "1"
        meter = CpuMeter(web, worker, "sodium_load")
        started = time.perf_counter()
        out, rows = run_locust(
            base,
            tmp,
            "load",
            load_env,
            ["-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{args.duration}s"],
            # The CPU figures cover what the response times cover.
            on_spawned=None if args.include_ramp else meter.mark,
            meter=meter,
        )
        elapsed = time.perf_counter() - started
        spent = meter.since()
        completed = out["completed"]
        total = rows["Aggregated"]
        report("load_users", args.users, "users")
        report("load_seconds", elapsed, "s")
        report("load_requests", int(total["Request Count"]), "requests")
        report("load_rps", float(total["Requests/s"]), "1/s")
        report("load_p50_ms", float(total["50%"]), "ms")
        report("load_p95_ms", float(total["95%"]), "ms")
        # Over the whole phase, spawning included (the CSV counts from the reset).
        failed = sum(1 for *_, bad in out["samples"] if bad) + out["exceptions"]
        report("load_errors", failed, "errors")
        ramp_figures(out)
        counted = out["samples"]
        if out["spawned"] and not args.include_ramp:
            counted = [x for x in counted if x[0] >= out["spawned"][0]]
        if counted:
            report("load_counted_seconds", counted[-1][0] - counted[0][0], "s")
        cpu_figures(spent, len(counted))
        print_pages("load", rows)
        if not args.no_saturation:
            (tmp / "sessions.json").write_text(json.dumps(out["sessions"]))
            saturation_env = {
                **env,
                "SODIUM_LOAD_THINK": "0",
                "SODIUM_LOAD_SESSIONS": str(tmp / "sessions.json"),
                "SODIUM_LOAD_TAKEN": str(tmp / "load.json"),
                "SODIUM_LOAD_STEPS": args.steps,
                "SODIUM_LOAD_STEP_S": str(args.step_seconds),
                "SODIUM_LOAD_WARM_S": str(args.warm),
            }
            out, rows = run_locust(base, tmp, "saturation", saturation_env, [])
            completed += out["completed"]
            saturation_figures(out["steps"], out["exceptions"])
            print_pages("saturation", rows)
        sent, lost, duplicated = check_messages(completed, mail_dir)
        report("load_messages_expected", len(completed), "messages")
        report("load_messages_sent", sent, "messages")
        report("load_messages_lost", lost, "messages")
        report("load_messages_duplicated", duplicated, "messages")
        failures = tmp / "load_failures.csv"
        if failures.exists():
            for line in failures.read_text().splitlines()[1:11]:
                print(f"# failure: {line}", file=sys.stderr)
    finally:
        for proc in (web, worker):
            proc.terminate()
            proc.wait(timeout=60)


if __name__ == "__main__":
    main()
