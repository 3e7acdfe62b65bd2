"""Loopback load: 50 staff users for 60 s against the production stack, then count the email.

gunicorn (4 processes) and a real `celery worker` (prefork, 2 processes) run on PostgreSQL
and Redis with DEBUG off and persistent connections, as docker-compose runs them. Each user
signs in, then loops: My steps, the focus panel of one of their tasks, "Mark done" on its
manual step (whose dependent automatic email step then runs in the worker), the dashboard
and the task list. Afterwards every completed step must have led to exactly one message,
sent once (the worker sends through Django's file email backend, and the files are read).

Prints one figure a line: `name value unit`.

  load_users / load_seconds        the load
  load_requests, load_requests_per_s
  load_errors                      5xx answers, other unexpected statuses, refused connections
  load_p50_ms, load_p95_ms         response times seen by the users
  load_steps_completed             "Mark done" answered 200 and the step is done
  load_messages_lost               completed steps with no message sent for their email step
  load_messages_duplicated         emails sent more than once, or steps with two messages

Usage: python bench/load.py [--users 50] [--seconds 60]
Needs PostgreSQL (SODIUM_BENCH_PG) and Redis (SODIUM_BENCH_REDIS, default
redis://127.0.0.1:6379/13, flushed first); it creates its own database `sodium_load`.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from unittest import mock

from _setup import ROOT, report, setup_django

REDIS = os.environ.get("SODIUM_BENCH_REDIS", "redis://127.0.0.1:6379/13")
PASSWORD = "load-test-password-2026"
TASKS_PER_USER = 60


def build_world(users: int) -> dict[str, list[tuple[int, int, int]]]:
    """Users with ready manual steps; return email → [(task id, manual step, email step)]."""
    from django.contrib.auth.hashers import make_password
    from django_scopes import scopes_disabled

    from sodium.models import Client, Contact, Membership, Practice, Task, User
    from workflows import building
    from workflows.attach import attach_template_to_tasks
    from workflows.models import Step

    with scopes_disabled():
        practice = Practice.objects.create(name="Load & Co", slug="load")
        hashed = make_password(PASSWORD)  # hashed once: PBKDF2 per user would take minutes
        people = User.objects.bulk_create(
            User(email=f"user{i}@load.example", full_name=f"User {i}", password=hashed)
            for i in range(users)
        )
        Membership.objects.bulk_create(
            Membership(practice=practice, user=u, role="manager") for u in people
        )
        clients = Client.objects.bulk_create(
            Client(practice=practice, name=f"Client {i}", reference=f"L{i}") for i in range(100)
        )
        Contact.objects.bulk_create(
            Contact(practice=practice, client=c, first_name="Ann", email=f"ann{c.pk}@x.example")
            for c in clients
        )
        Contact.objects.filter(practice=practice).update(is_main=True)
        today = dt.date.today()
        tasks = Task.objects.bulk_create(
            Task(
                practice=practice,
                client=clients[i % len(clients)],
                name=f"Load task {i}",
                owner=people[i % users],
                status="in_progress",
                start_date=today,
                due_date=today,
            )
            for i in range(users * TASKS_PER_USER)
        )
        template = building.create_template(practice=practice, actor=people[0], name="Chain")
        group = template.groups.get()
        first = building.add_step(group, actor=people[0], name="Prepare", type="simple")
        building.add_step(
            group,
            actor=people[0],
            depends_on=[first],
            name="Email",
            type="email",
            mode="automatic",
            subject="Draft ready: {{ task.name }}",
            body="Dear {{ contacts.main.first_name }},\n\nYour {{ task.name }} is ready.",
            to_recipients=["contact:main"],
        )
    from sodium.tenancy import practice_scope

    with practice_scope(practice), mock.patch("workflows.tasks.run_step_task.delay"):
        attach_template_to_tasks(tasks, template, actor=people[0])
    plan: dict[str, list[tuple[int, int, int]]] = collections.defaultdict(list)
    owners = {t.pk: t.owner.email for t in tasks}
    with scopes_disabled():
        steps = Step.objects.filter(task__in=tasks).order_by("task_id", "position")
        pairs: dict[int, list[int]] = collections.defaultdict(list)
        for task_id, pk in steps.values_list("task_id", "pk"):
            pairs[task_id].append(pk)
    for task_id, (manual, email) in pairs.items():
        plan[owners[task_id]].append((task_id, manual, email))
    return plan


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(command: list[str], env: dict, log: Path, ready: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 120
    while ready not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{command[2]} did not start:\n{log.read_text()}")
        time.sleep(0.2)
    return proc


class User(threading.Thread):
    def __init__(self, base: str, email: str, work: list, until: float, results) -> None:
        super().__init__(daemon=True)
        self.base, self.email, self.work, self.until, self.results = (
            base,
            email,
            list(work),
            until,
            results,
        )
        self.completed: list[tuple[int, int, int]] = []

    def request(self, session, method: str, path: str, **kwargs):
        start = time.perf_counter()
        try:
            response = session.request(method, self.base + path, timeout=30, **kwargs)
        except Exception as exc:  # refused, reset, timed out: all errors
            self.results.error(f"{method} {path}: {type(exc).__name__}")
            return None
        self.results.timing(
            f"{method} {re.sub(r'[0-9]+', '<id>', path)}", time.perf_counter() - start
        )
        if response.status_code >= 400:
            self.results.error(f"{method} {path}: {response.status_code}")
            return None
        return response

    def run(self) -> None:
        import requests

        session = requests.Session()
        self.request(session, "GET", "/sign-in/")
        token = session.cookies.get("csrftoken", "")
        signed_in = self.request(
            session,
            "POST",
            "/sign-in/",
            data={"username": self.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )
        if signed_in is None or "/sign-in/" in signed_in.url:
            self.results.error(f"sign-in of {self.email} failed")
            return
        htmx = {"HX-Request": "true"}
        while time.monotonic() < self.until:
            self.request(session, "GET", "/workflows/my-steps/")
            if self.work:
                task_id, manual, email = self.work.pop(0)
                self.request(session, "GET", f"/workflows/tasks/{task_id}/focus/", headers=htmx)
                headers = {**htmx, "X-CSRFToken": session.cookies.get("csrftoken", "")}
                done = self.request(
                    session, "POST", f"/workflows/steps/{manual}/complete/", headers=headers
                )
                if done is not None and "Marked" in done.text:
                    self.completed.append((task_id, manual, email))
                elif done is not None:  # answered, but the step was not marked done
                    self.results.error(f"POST complete of step {manual}: refused")
            self.request(session, "GET", "/")
            self.request(session, "GET", "/tasks/")


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: list[float] = []
        self.by_page: dict[str, list[float]] = collections.defaultdict(list)
        self.errors: collections.Counter[str] = collections.Counter()

    def timing(self, page: str, seconds: float) -> None:
        with self.lock:
            self.times.append(seconds)
            self.by_page[page].append(seconds)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors[what] += 1


def sent_subjects(mail_dir: Path) -> collections.Counter[str]:
    subjects: collections.Counter[str] = collections.Counter()
    for path in mail_dir.glob("*.log"):
        subjects.update(re.findall(r"^Subject: (.+)$", path.read_text(), re.MULTILINE))
    return subjects


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    os.environ["REDIS_URL"] = REDIS
    setup_django("sodium_load")
    plan = build_world(args.users)
    from django.db import connections

    connections.close_all()

    with tempfile.TemporaryDirectory() as tmp:
        mail_dir = Path(tmp) / "mail"
        port = free_port()
        env = {
            **os.environ,
            "SODIUM_DB_CONN_MAX_AGE": "60",
            "SODIUM_HTTPS": "false",
            "SODIUM_ALLOWED_HOSTS": "127.0.0.1",
            "SODIUM_SITE_URL": f"http://127.0.0.1:{port}",
            "SODIUM_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "SODIUM_EMAIL_FILE_PATH": str(mail_dir),
            "SODIUM_DATA_DIR": tmp,
        }
        py = sys.executable
        # As the Docker image does: DEBUG off serves hashed static files from STATIC_ROOT.
        subprocess.run(
            [py, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
        )
        web = start(
            [py, "-m", "gunicorn", "sodium.wsgi:application", "--bind", f"127.0.0.1:{port}"]
            + ["--workers", "4", "--log-level", "info"],
            env,
            Path(tmp) / "web.log",
            "Booting worker",
        )
        worker = start(
            [py, "-m", "celery", "-A", "sodium", "worker", "--pool=prefork", "--concurrency=2"]
            + ["--without-gossip", "--without-mingle", "--loglevel=INFO"],
            env,
            Path(tmp) / "worker.log",
            "ready.",
        )
        try:
            time.sleep(2)  # let every gunicorn process finish booting
            results = Results()
            until = time.monotonic() + args.seconds
            base = f"http://127.0.0.1:{port}"
            users = [User(base, email, work, until, results) for email, work in plan.items()]
            started = time.perf_counter()
            for user in users:
                user.start()
            for user in users:
                user.join()
            elapsed = time.perf_counter() - started
            completed = [c for user in users for c in user.completed]
            lost, duplicated = check_messages(completed, mail_dir)
            if results.errors:
                print((Path(tmp) / "web.log").read_text()[-3000:], file=sys.stderr)
        finally:
            for proc in (web, worker):
                proc.terminate()
                proc.wait(timeout=60)
    times = sorted(results.times)
    report("load_users", len(users), "users")
    report("load_seconds", elapsed, "s")
    report("load_requests", len(times), "requests")
    report("load_requests_per_s", len(times) / elapsed, "1/s")
    report("load_errors", sum(results.errors.values()), "errors")
    report("load_p50_ms", 1000 * statistics.median(times), "ms")
    report("load_p95_ms", 1000 * times[int(0.95 * (len(times) - 1))], "ms")
    report("load_steps_completed", len(completed), "steps")
    report("load_messages_lost", lost, "messages")
    report("load_messages_duplicated", duplicated, "messages")
    for page, seconds in sorted(results.by_page.items()):
        median = 1000 * statistics.median(seconds)
        print(f"# {page}: {len(seconds)} requests, median {median:.0f} ms", file=sys.stderr)
    for what, count in results.errors.most_common(10):
        print(f"# error x{count}: {what}", file=sys.stderr)


def check_messages(completed: list[tuple[int, int, int]], mail_dir: Path) -> tuple[int, int]:
    """Wait for the worker to send every completed step's email; return (lost, duplicated)."""
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
    # Lost: not recorded as sent, or recorded but never reaching the email backend.
    lost = sum(
        1 for pk in email_steps if pk not in sent or subjects[f"Draft ready: {names[pk]}"] == 0
    )
    duplicated = twice + sum(1 for n in subjects.values() if n > 1)
    return lost, duplicated


if __name__ == "__main__":
    main()
