"""AR action runs through a real Celery worker process on the configured broker (Redis in CI,
the embedded SQLite broker otherwise): a batch task delivered twice does each run once, and a
worker killed mid-batch loses nothing and doubles nothing once the sweep dispatches again.

Runs are done only inside the practice's sending window (09:00–17:00 London, working days).
Outside one, the worker's clock (django.utils.timezone.now) is moved forward to the next
working day at 10:00 before Django loads, and the tests give the sweep the same moment; the
broker, the database and the worker are real.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from collections_ar import assigning, engine, running, statuses
from collections_ar.builder import editing
from collections_ar.models import ActionRun, Assignment
from collections_ar.tasks import run_actions_task
from sodium.models import ActivityEvent, OutboundMessage
from sodium.schedules.working_days import WorkingCalendar
from tests import factories as f
from tests.workers.test_celery_worker import database_url, purge, queued_count

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LONDON = ZoneInfo("Europe/London")
RS = ActionRun.State

# `celery` with django.utils.timezone.now moved by argv[1] seconds, before any model loads
# (field defaults bind timezone.now when their class is made).
SHIFTED_CELERY = """
import datetime as dt, sys
from django.utils import timezone
shift = dt.timedelta(seconds=float(sys.argv.pop(1)))
if shift:
    real_now = timezone.now
    timezone.now = lambda: real_now() + shift
from celery.__main__ import main
sys.argv[0] = "celery"
main()
"""


def window_shift() -> dt.timedelta:
    """How far the clock must move for the next minutes to be inside a sending window."""
    calendar = WorkingCalendar()
    now = dt.datetime.now(LONDON)
    if calendar.is_working_day(now.date()) and dt.time(9, 5) <= now.time() < dt.time(16, 30):
        return dt.timedelta(0)
    day = now.date() if now.time() < dt.time(9, 0) else now.date() + dt.timedelta(days=1)
    target = dt.datetime.combine(calendar.working_day_on_or_after(day), dt.time(10), LONDON)
    return target - now


SHIFT = window_shift()


def worker_now() -> dt.datetime:
    return timezone.now() + SHIFT


class Workers:
    """Starts `celery worker` processes (prefork, one child) on the test database and broker,
    each in its own process group; kills them all at the end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.mail_dir = tmp_path / "mail"
        self.procs: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        n = len(self.procs)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "sodium.settings",
            "DATABASE_URL": database_url(),
            "SODIUM_CELERY_BROKER_URL": str(run_actions_task.app.conf.broker_url),
            "SODIUM_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "SODIUM_EMAIL_FILE_PATH": str(self.mail_dir),
            "SODIUM_DATA_DIR": str(self.tmp),
            "SODIUM_SECRET_KEY": "worker-test-secret",
            "SODIUM_DB_CONN_MAX_AGE": "60",
        }
        log_path = self.tmp / f"worker-{n}.log"
        log = log_path.open("w+")
        proc = subprocess.Popen(
            [sys.executable, "-c", SHIFTED_CELERY, str(SHIFT.total_seconds())]
            + ["-A", "sodium", "worker", "--pool=prefork", "--concurrency=1"]
            + ["--without-gossip", "--without-mingle", "--loglevel=INFO"]
            + ["-n", f"ar-test-{os.getpid()}-{n}@%h"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed with its pool
        )
        proc.log_path = log_path  # type: ignore[attr-defined]
        self.procs.append(proc)
        deadline = time.monotonic() + 60
        while "ready." not in log_path.read_text():
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.2)
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL the worker and its pool: nothing of theirs runs after this."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=30)

    def logs(self) -> str:
        return "\n".join(p.log_path.read_text()[-3000:] for p in self.procs)  # type: ignore[attr-defined]


@pytest.fixture
def workers(tmp_path):
    pool = Workers(tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()


def wait_for(predicate, timeout: float = 90.0, why: str = "timed out") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, why
        time.sleep(0.1)


def settled(queryset, quiet: float = 3.0):
    """A predicate: true once `queryset`'s count has not changed for `quiet` seconds."""
    seen = {"count": None, "since": 0.0}

    def check() -> bool:
        count, now = queryset.count(), time.monotonic()
        if count != seen["count"]:
            seen["count"], seen["since"] = count, now
            return False
        return now - seen["since"] >= quiet

    return check


def chase_world(n_customers: int, n_emails: int):
    """A practice with `n_customers` customers, each with a billing contact and an open
    overdue invoice, on an ON workflow of `n_emails` emails assigned a week ago: every run is
    due now. Returns the practice and the runs."""
    practice = f.PracticeFactory()
    owner = f.MembershipFactory(practice=practice, role="owner").user
    statuses.ensure_default_statuses(practice)
    workflow = editing.create_workflow(practice, actor=owner, name="Chase")
    for n in range(n_emails):
        editing.add_action(
            workflow,
            actor=owner,
            kind="email",
            base="assigned",
            days=0,
            subject=f"Reminder {n + 1}: {{{{ invoice.number }}}} is overdue",
            body="Dear {{ contact.first_name }}, please pay {{ customer.balance }}.",
        )
    engine.switch_workflow(workflow, actor=owner, on=True)
    today = worker_now().astimezone(LONDON).date()
    customers = []
    for i in range(n_customers):
        client = f.ClientFactory(practice=practice, name=f"Customer {i}")
        f.ContactFactory(
            client=client, first_name="Ann", email=f"ann{i}@customer.example", is_billing=True
        )
        customer = engine.get_or_create_customer(client, actor=owner)
        engine.create_invoice(
            customer,
            actor=owner,
            number=f"INV-{i}",
            total=Decimal("250.00"),
            issue_date=today - dt.timedelta(days=40),
            due_date=today - dt.timedelta(days=10),
        )
        customers.append(customer)
    summary = assigning.assign_workflow(
        customers, workflow, actor=owner, on=today - dt.timedelta(days=7)
    )
    assert len(summary.assigned) == n_customers, summary.refused
    runs = list(ActionRun.objects.filter(practice=practice).order_by("pk"))
    assert len(runs) == n_customers * n_emails
    assert all(r.state == RS.PENDING and r.due_at <= worker_now() for r in runs)
    return practice, runs


def done_events(runs) -> int:
    return ActivityEvent.objects.filter(
        verb="ar.run.done",
        object_type="collections_ar.actionrun",
        object_id__in=[r.pk for r in runs],
    ).count()


def test_a_batch_delivered_twice_does_its_run_once(workers) -> None:
    purge()
    with scopes_disabled():
        practice, (run,) = chase_world(1, 1)
        run_actions_task.delay([run.pk])
        run_actions_task.delay([run.pk])  # the same batch delivered again
        assert queued_count() == 2

        workers.start()
        wait_for(lambda: OutboundMessage.objects.filter(status="sent").exists(), why="no send")
        wait_for(lambda: queued_count() == 0, why="tasks left")
        time.sleep(1)  # let a duplicate finish, if there were one

        run.refresh_from_db()
        assert run.state == RS.DONE, workers.logs()
        messages = list(OutboundMessage.objects.filter(idempotency_key=run.key))
        assert [(m.status, m.to) for m in messages] == [("sent", ["ann0@customer.example"])]
        assert run.message_id == messages[0].pk
        assert done_events([run]) == 1
        assert OutboundMessage.objects.filter(practice=practice).count() == 1
        assert Assignment.objects.get(practice=practice).state == Assignment.State.FINISHED
    sent = "".join(p.read_text() for p in workers.mail_dir.iterdir())
    assert sent.count("\nSubject: Reminder 1: INV-0 is overdue") == 1


def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(workers) -> None:
    purge()
    with scopes_disabled():
        practice, runs = chase_world(100, 3)  # 300 due runs
        mine = OutboundMessage.objects.filter(practice=practice, source_type="ar.run")
        now = worker_now()
        with mock.patch.object(running, "BATCH", 30), transaction.atomic():
            assert running.dispatch_due(now) == 300  # ten batches, published on commit
        assert queued_count() == 10

        first = workers.start()
        wait_for(lambda: mine.exists(), why="no batch finished")  # a batch has committed
        workers.kill(first)
        left = ActionRun.objects.filter(practice=practice, state=RS.PENDING).count()
        assert 0 < left < 300, f"killed too late to test anything: {left} pending"

        workers.start()
        # The batch the killed worker held is lost with it (acknowledged late, never
        # finished); the rest are still queued and the new worker does them. (Watched in the
        # database: polling the embedded broker this long would use up its connection pool.)
        pending = ActionRun.objects.filter(practice=practice, state=RS.PENDING)
        wait_for(settled(pending), why="the queued batches were not done")
        assert pending.count() < left
        # The sweep after REDISPATCH_AFTER hands the stale batch out again.
        later = now + running.REDISPATCH_AFTER + dt.timedelta(minutes=1)
        with transaction.atomic():
            again = running.dispatch_due(later)
        assert again == pending.count()
        wait_for(lambda: not pending.exists(), why="runs left pending:\n" + workers.logs())
        time.sleep(1)  # let a duplicate finish, if there were one

        states = list(ActionRun.objects.filter(practice=practice).values_list("state", flat=True))
        assert states == [RS.DONE] * 300
        keys = sorted(mine.values_list("idempotency_key", flat=True))
        assert keys == sorted(r.key for r in runs)  # one message per run, none twice
        linked = ActionRun.objects.filter(practice=practice, message__isnull=False).count()
        assert linked == 300
        assert done_events(runs) == 300  # each run done once
        assert not Assignment.objects.filter(practice=practice, state__in=Assignment.LIVE)
