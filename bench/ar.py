"""AR workflow benchmarks on PostgreSQL and Redis. Prints one figure a line: `name value unit`.

  ar_actions_per_s             20,000 customers (a client, a billing contact with an email
                               address and a mobile, one open overdue invoice) on one ON
                               workflow of 5 email/SMS actions, all 100,000 runs due at once;
                               `running.dispatch_due(now)` hands them out in batches on commit
                               and a real `celery worker` (prefork, concurrency 2, persistent
                               connections as in docker-compose) runs them; timed from the
                               dispatch until no run is pending. The figure is runs done
                               (rendered, written to the outbox with their queued events and
                               activity rows, each run moved to done) per second. Delivery is
                               not in it: the app routes every task to the one default queue,
                               the run batches are all published first (one commit), so the
                               worker takes them before the `deliver_messages_task`s that each
                               batch publishes; those deliver to Django's locmem email backend
                               and the locmem SMS backend after the clock stops.
  ar_sweep_idle_ms             `sodium.timers.sweep(now)` with 100,000 live assignments whose
                               500,000 runs are all in the future (nothing due): median of 20
  ar_customers_page_median_ms  the receivables page `/ar/` for the owner with the 20,000
                               customers owing money (django.test.Client, median of 20)
  ar_customers_page_queries    its query count

The sending window: runs are done only on a working day between 09:00 and 17:00 London time.
When the bench runs outside one, the worker's clock (django.utils.timezone.now) and the `now`
given to the sweep are moved forward to the next working day at 10:00, the same offset for
both, and a note on stderr says so; nothing else is faked.

Usage: python bench/ar.py [--customers 20000] [--idle 100000]
Needs PostgreSQL (SODIUM_BENCH_PG, default postgres://postgres@127.0.0.1:5432); it creates
and drops its own database `sodium_bench_ar`. Needs Redis (REDIS_URL, default
redis://127.0.0.1:6379/5, flushed first).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from zoneinfo import ZoneInfo

from _setup import ROOT, median_ms, report, setup_django

REDIS = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5")
ACTIONS = 5
LONDON = ZoneInfo("Europe/London")

# Starts `celery` with django.utils.timezone.now moved by argv[1] seconds (0: the real clock),
# before Django loads any model (field defaults bind timezone.now when their class is made).
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


def clock_shift() -> dt.timedelta:
    """Return how far to move the clock so that the next minutes are inside a sending window."""
    from sodium.schedules.working_days import WorkingCalendar

    calendar = WorkingCalendar()
    now = dt.datetime.now(LONDON)
    if calendar.is_working_day(now.date()) and dt.time(9, 5) <= now.time() < dt.time(16, 0):
        return dt.timedelta(0)
    day = now.date() if now.time() < dt.time(9, 0) else now.date() + dt.timedelta(days=1)
    day = calendar.working_day_on_or_after(day)
    target = dt.datetime.combine(day, dt.time(10, 0), tzinfo=LONDON)
    shift = target - now
    print(f"outside the sending window: the clock moves forward by {shift}", file=sys.stderr)
    return shift


def build_practice():
    from django_scopes import scopes_disabled

    from collections_ar import engine, statuses
    from collections_ar.builder import editing
    from sodium.models import Membership, Practice, User

    with scopes_disabled():
        owner = User.objects.create_user(email="owner@bench.example", full_name="Bench Owner")
        practice = Practice.objects.create(name="Bench AR", slug="bench-ar")
        Membership.objects.create(practice=practice, user=owner, role="owner")
        statuses.ensure_default_statuses(practice)
        workflow = editing.create_workflow(practice, actor=owner, name="Chase")
        texts = [
            ("email", "{{ invoice.number }}: {{ invoice.balance }} overdue"),
            ("sms", ""),
            ("email", "Reminder: {{ invoice.number }} is {{ invoice.days_overdue }} days late"),
            ("sms", ""),
            ("email", "Final reminder from {{ practice.name }}"),
        ]
        for kind, subject in texts:
            fields = {"kind": kind, "base": "assigned", "days": 0}
            if kind == "email":
                fields["subject"] = subject
                fields["body"] = (
                    "Dear {{ contact.first_name }},\n\nOur records show {{ customer.balance }} "
                    "owing on {{ customer.open_invoices }} invoice(s):\n"
                    "{% for i in invoices %}- {{ i.number }} due {{ i.due_date }}: "
                    "{{ i.balance }}\n{% endfor %}\nPlease pay today.\n\n{{ specialist.name }}"
                )
            else:
                fields["body"] = (
                    "{{ practice.name }}: {{ customer.balance }} is overdue. Please pay."
                )
            editing.add_action(workflow, actor=owner, **fields)
        engine.switch_workflow(workflow, actor=owner, on=True)
    return practice, owner, workflow


def build_customers(practice, n: int, tag: str, *, invoices: bool):
    """`n` customers (client, billing contact with email and mobile, an open overdue invoice)."""
    from decimal import Decimal

    from django_scopes import scopes_disabled

    from collections_ar.engine import default_status
    from collections_ar.models import Customer, Invoice
    from sodium.models import Client, Contact

    today = dt.date.today()
    with scopes_disabled():
        status = default_status(practice)
        clients = Client.objects.bulk_create(
            (
                Client(practice=practice, name=f"Client {tag}{i:06d}", reference=f"{tag}{i}")
                for i in range(n)
            ),
            batch_size=5000,
        )
        Contact.objects.bulk_create(
            (
                Contact(
                    practice=practice,
                    client=c,
                    first_name="Ann",
                    last_name=f"Payer {i}",
                    email=f"ann{c.pk}@customer.example",
                    mobile=f"07400 {i:06d}",  # valid UK mobiles
                    is_billing=True,
                    is_main=True,
                )
                for i, c in enumerate(clients)
            ),
            batch_size=5000,
        )
        customers = Customer.objects.bulk_create(
            (Customer(practice=practice, client=c) for c in clients), batch_size=5000
        )
        if invoices:
            Invoice.objects.bulk_create(
                (
                    Invoice(
                        practice=practice,
                        customer=c,
                        number=f"INV-{tag}{i:06d}",
                        issue_date=today - dt.timedelta(days=60),
                        due_date=today - dt.timedelta(days=30 + i % 20),
                        total=Decimal("120.00") + i % 500,
                        status=Invoice.Status.OPEN,
                        collection_status=status,
                    )
                    for i, c in enumerate(customers)
                ),
                batch_size=5000,
            )
            # The customers' stored totals, as the engine keeps them for invoices it makes.
            from collections_ar import engine

            ids = [c.pk for c in customers]
            for start in range(0, len(ids), 5000):
                engine.refresh_totals(ids[start : start + 5000])
    return customers


def assign(practice, workflow, customers, *, on: dt.date, due: dt.datetime) -> None:
    """Put `customers` on `workflow` from `on` with every run due at `due`, in bulk: the rows
    `assigning.assign_workflow` writes (assignments, one run per action), not its checks."""
    from django.db import connection
    from django_scopes import scopes_disabled

    from collections_ar.models import Assignment, Customer

    with scopes_disabled():
        Assignment.objects.bulk_create(
            (
                Assignment(practice=practice, customer=c, workflow=workflow, assigned_on=on)
                for c in customers
            ),
            batch_size=5000,
        )
        ids = [c.pk for c in customers]
        for start in range(0, len(ids), 10_000):
            Customer.objects.filter(pk__in=ids[start : start + 10_000]).update(
                workflow=workflow, workflow_assigned_on=on
            )
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO collections_ar_actionrun
                (practice_id, assignment_id, action_id, kind, position, invoice_id, key,
                 due_at, state, dispatched_at, done_at, detail, message_id, completed_at,
                 outcome)
            SELECT a.practice_id, a.id, x.id, x.kind, x.position, NULL,
                   'ar:' || a.id || ':' || x.id || ':0', %s, 'pending', NULL, NULL, '',
                   NULL, NULL, ''
            FROM collections_ar_assignment a
            JOIN collections_ar_araction x ON x.workflow_id = a.workflow_id
            WHERE a.customer_id = ANY(%s)
            """,
            [due, [c.pk for c in customers]],
        )
        cur.execute("ANALYZE")


def start_worker(log_path: str, shift: dt.timedelta) -> subprocess.Popen:
    env = {
        **os.environ,
        "SODIUM_DB_CONN_MAX_AGE": "60",  # as docker-compose runs it
        "SODIUM_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "SODIUM_SMS_BACKEND": "locmem",
    }
    command = [sys.executable, "-c", SHIFTED_CELERY, str(shift.total_seconds())]
    command += ["-A", "sodium", "worker", "--pool=prefork", "--concurrency=2"]
    command += ["--without-gossip", "--without-mingle", "--loglevel=INFO"]
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while "ready." not in open(log_path).read():
        if proc.poll() is not None or time.monotonic() > deadline:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)  # a worker left behind would take the next run's tasks
            raise RuntimeError("celery worker did not start:\n" + open(log_path).read())
        time.sleep(0.2)
    return proc


def bench_actions(practice, workflow, customers, shift: dt.timedelta) -> float:
    from django.db import connections, transaction
    from django.db.models import Count
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from collections_ar import running
    from collections_ar.models import ActionRun
    from sodium.models import OutboundMessage

    now = timezone.now() + shift
    assign(
        practice,
        workflow,
        customers,
        on=now.astimezone(LONDON).date() - dt.timedelta(days=7),
        due=now - dt.timedelta(hours=1),
    )
    total = len(customers) * ACTIONS
    connections.close_all()
    with tempfile.TemporaryDirectory() as tmp:
        log_path = os.path.join(tmp, "worker.log")
        worker = start_worker(log_path, shift)
        try:
            with scopes_disabled():
                pending = ActionRun.objects.filter(state=ActionRun.State.PENDING)
                assert pending.count() == total
                start = time.perf_counter()
                with transaction.atomic():
                    handed = running.dispatch_due(now)
                assert handed == total, handed
                while pending.exists():
                    assert time.perf_counter() - start < 600, open(log_path).read()[-5000:]
                    time.sleep(0.1)
                elapsed = time.perf_counter() - start
                states = dict(
                    ActionRun.objects.values_list("state").annotate(n=Count("pk")).order_by()
                )
                assert set(states) == {ActionRun.State.DONE}, (
                    states,
                    ActionRun.objects.exclude(state="done").values_list("detail")[:5],
                )
                written = OutboundMessage.objects.filter(source_type="ar.run").count()
                assert written == total, f"{written} messages for {total} runs"
        finally:
            os.killpg(worker.pid, 15)
            worker.wait(timeout=60)
    return total / elapsed


def bench_sweep_idle(practice, workflow, n: int, shift: dt.timedelta) -> float:
    from django.db import connection
    from django.db.models import Q
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from collections_ar.models import ActionRun
    from sodium import timers
    from sodium.models import OutboundMessage

    now = timezone.now() + shift
    # The actions' messages count as delivered (the worker stopped before sending them all):
    # otherwise the outbox safety net would find them stale and re-enqueue them each sweep.
    with scopes_disabled():
        OutboundMessage.objects.filter(status="queued").update(status="sent")
    customers = build_customers(practice, n, "S", invoices=False)
    assign(
        practice,
        workflow,
        customers,
        on=now.astimezone(LONDON).date(),
        due=now + dt.timedelta(days=3),
    )
    with connection.cursor() as cur:
        # What autovacuum does between the runs above and a quiet sweep: without it the
        # partial index still holds the 100,000 settled runs' dead entries (and the outbox's
        # its sent messages'), and the sweep's reads walk them (about 10 ms more).
        cur.execute("VACUUM ANALYZE")
        cur.execute(
            "EXPLAIN SELECT id FROM collections_ar_actionrun WHERE state = 'pending'"
            " AND due_at <= %s ORDER BY due_at LIMIT 200000",
            [now],
        )
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert "ar_run_pending_due" in plan, plan
    with scopes_disabled():
        future = ActionRun.objects.filter(state="pending", due_at__gt=now).count()
        assert (
            future >= n * ACTIONS
            and not ActionRun.objects.filter(Q(state="pending") & Q(due_at__lte=now)).exists()
        )
    samples = []
    for _ in range(20):
        start = time.perf_counter()
        timers.sweep(now)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def bench_page(owner) -> tuple[float, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    with connection.cursor() as cur:  # fresh statistics for the rows just bulk-loaded,
        cur.execute("ANALYZE")  # as autovacuum would give them
    client = Client()
    client.force_login(owner)
    url = reverse("collections_ar:customers")
    ms = median_ms(client, url, 20)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, secure=True)
    assert response.status_code == 200
    return ms, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--idle", type=int, default=100_000, help="live assignments, idle sweep")
    args = parser.parse_args()
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    os.environ["REDIS_URL"] = REDIS  # the broker, for this process and the worker
    os.environ.setdefault("SODIUM_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("SODIUM_DB_CONN_MAX_AGE", "60")
    os.environ.setdefault("SODIUM_DATA_DIR", tempfile.mkdtemp(prefix="sodium-bench-"))
    setup_django("sodium_bench_ar")
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)  # the manifest pages link to
    shift = clock_shift()
    practice, owner, workflow = build_practice()
    customers = build_customers(practice, args.customers, "C", invoices=True)
    page_ms, page_queries = bench_page(owner)
    report("ar_actions_per_s", bench_actions(practice, workflow, customers, shift), "1/s")
    report("ar_sweep_idle_ms", bench_sweep_idle(practice, workflow, args.idle, shift), "ms")
    report("ar_customers_page_median_ms", page_ms, "ms")
    print(f"ar_customers_page_queries {page_queries} count", flush=True)


if __name__ == "__main__":
    main()
