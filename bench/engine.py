"""Engine benchmarks on PostgreSQL. Prints one figure a line: `name value unit`.

  attach_20_steps_x1000_s    attach a 20-step template to 1,000 tasks at once
  transitions_per_s          complete a manual step → its dependent automatic email step
                             unblocks → runs → outbox row; 3 status transitions per chain,
                             4 processes (the work a web process and workers do; broker
                             publishing is left out and measured by nothing here)
  chains_per_s               the same figure counted in whole chains
  chain_cpu_python_ms        CPU per chain in the 4 Python processes (ORM, Liquid, driver)
  chain_cpu_database_and_system_ms   the rest of the machine's busy CPU per chain meanwhile
                             (PostgreSQL's backends, the kernel)
  transitions_through_worker_per_s   the same chain as production runs it: 2 processes
                             complete the manual steps and publish to Redis on commit; a
                             real `celery worker` (prefork, 2 processes, persistent
                             connections as in docker-compose) runs the email steps and
                             delivers the messages (Django's locmem email backend); timed
                             until the last chain's outbox row exists
  through_worker_sent_per_s  chains per second until the worker has sent every message
  through_worker_cpu_web_ms  CPU per chain, over that run, in the 2 completing processes
  through_worker_cpu_worker_ms   … in the celery worker (its main process and pool children)
  through_worker_cpu_database_ms … in the PostgreSQL backends serving the bench database
                             (read from /proc: the bench runs on the database machine; these
                             three are the figures to compare on a busy machine; Redis and
                             the kernel are left out, shared with other work)
  sweep_claim_100_of_1m_ms   claim the 100 due timers among 1,000,000 pending (median of 20)
  liquid_renders_per_s       render a typical step email (subject, text and HTML) on one core

Usage: python bench/engine.py [--chains 3000] [--procs 4] [--only worker] [--db sodium_bench]
`--only worker` prints only the through-worker figures (quick iterations on the worker path,
the rest of the world is still built); `--db` names the database (default SODIUM_BENCH_DB, else `sodium_bench`), so that two
runs at once do not drop each other's.
Needs PostgreSQL (SODIUM_BENCH_PG, default postgres://postgres@127.0.0.1:5432); it creates
and drops its own database. The through-worker figures need Redis
(SODIUM_BENCH_REDIS, default redis://127.0.0.1:6379/14, flushed first); without it they are
left out with a note on stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from unittest import mock

from _setup import ROOT, report, setup_django

REDIS = os.environ.get("SODIUM_BENCH_REDIS", "redis://127.0.0.1:6379/14")


def build_world(n_chains: int):
    from django_scopes import scopes_disabled

    from sodium.models import Client, Contact, Membership, Practice, Task, User
    from workflows import building

    with scopes_disabled():
        owner = User.objects.create_user(email="bench@example.com", full_name="Bench Owner")
        practice = Practice.objects.create(name="Bench", slug="bench")
        Membership.objects.create(practice=practice, user=owner, role="owner")
        clients = Client.objects.bulk_create(
            Client(practice=practice, name=f"Client {i}", reference=f"C{i}") for i in range(200)
        )
        Contact.objects.bulk_create(
            Contact(
                practice=practice,
                client=c,
                first_name="Ann",
                email=f"ann{c.pk}@x.example",
                is_main=True,
            )
            for c in clients
        )
        today = dt.date.today()
        tasks = Task.objects.bulk_create(
            Task(
                practice=practice,
                client=clients[i % 200],
                name=f"Task {i}",
                owner=owner,
                status="in_progress",
                start_date=today,
                due_date=today,
            )
            for i in range(2 * n_chains + 1000)
        )
        chain = building.create_template(practice=practice, actor=owner, name="Chain")
        group = chain.groups.get()
        first = building.add_step(group, actor=owner, name="Prepare", type="simple", mode="manual")
        building.add_step(
            group,
            actor=owner,
            depends_on=[first],
            name="Email",
            type="email",
            mode="automatic",
            subject="Draft accounts for {{ client.name }}",
            body="Dear {{ contacts.main.first_name }},\n\nYour accounts for {{ task.name }} "
            "are ready.\n\n{{ practice.name }}",
            to_recipients=["contact:main"],
        )
        big = building.create_template(practice=practice, actor=owner, name="Twenty")
        group = big.groups.get()
        previous = None
        for i in range(20):
            step = building.add_step(
                group,
                actor=owner,
                name=f"Step {i}",
                type="simple",
                mode="manual",
                depends_on=[previous] if previous and i % 2 else [],
                checklist=["Check one", "Check two"] if i % 5 == 0 else [],
            )
            previous = step
    return (
        practice,
        owner,
        tasks[:n_chains],
        tasks[2 * n_chains :],
        chain,
        big,
        tasks[n_chains : 2 * n_chains],
    )


def bench_attach(practice, owner, tasks, template) -> float:
    from sodium.tenancy import practice_scope
    from workflows.attach import attach_template_to_tasks

    with practice_scope(practice), mock.patch("workflows.tasks.run_step_task.delay"):
        start = time.perf_counter()
        attach_template_to_tasks(tasks, template, actor=owner)
        return time.perf_counter() - start


def _chain_worker(args) -> int:
    practice_id, owner_id, step_ids = args
    from django.db import connection

    from sodium.models import User
    from sodium.tenancy import practice_scope
    from workflows import engine
    from workflows.models import Step

    done = 0
    with (
        practice_scope(practice_id),
        mock.patch("workflows.tasks.run_step_task.delay"),
        mock.patch("sodium.tasks.deliver_message_task.delay"),
    ):
        owner = User.objects.get(pk=owner_id)
        for first_id, email_id in step_ids:
            engine.complete_step(Step(pk=first_id), actor=owner)
            engine.run_step(email_id)  # what the worker does when run_step_task arrives
            done += 1
    connection.close()
    return done


CPU_SPLIT: dict[str, float] = {}


def _machine_cpu_s() -> float:
    # Busy CPU time of the whole machine (user + nice + system + irq + softirq), in seconds.
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:8]]
    busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6]
    return busy / os.sysconf("SC_CLK_TCK")


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def attached_chains(practice, owner, tasks, template) -> list[tuple[int, int]]:
    """Attach the chain template to `tasks`; (manual step id, email step id) per task."""
    from django_scopes import scopes_disabled

    from workflows.models import Step

    bench_attach(practice, owner, tasks, template)
    with scopes_disabled():
        pairs: dict[int, list[int]] = {}
        for task_id, pk in (
            Step.objects.filter(task__in=tasks)
            .order_by("task_id", "position")
            .values_list("task_id", "pk")
        ):
            pairs.setdefault(task_id, []).append(pk)
    return [tuple(v) for v in pairs.values()]


def bench_transitions(practice, owner, tasks, template, procs: int) -> tuple[float, float]:
    from django.db import connections
    from django_scopes import scopes_disabled

    from workflows.models import Step

    chains = attached_chains(practice, owner, tasks, template)
    slices = [chains[i::procs] for i in range(procs)]
    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    machine_before, children_before = _machine_cpu_s(), _children_cpu_s()
    with ctx.Pool(procs) as pool:
        start = time.perf_counter()
        done = sum(pool.map(_chain_worker, [(practice.pk, owner.pk, s) for s in slices]))
        elapsed = time.perf_counter() - start
        pool.close()
        pool.join()
    python_s = _children_cpu_s() - children_before
    CPU_SPLIT["python"] = 1000 * python_s / done
    CPU_SPLIT["rest"] = 1000 * (_machine_cpu_s() - machine_before - python_s) / done
    with scopes_disabled():
        from sodium.models import OutboundMessage

        assert OutboundMessage.objects.count() == done, "every chain must write one message"
        assert not Step.objects.filter(task__in=tasks).exclude(status="done").exists()
    return 3 * done / elapsed, done / elapsed


def _complete_worker(args) -> int:
    """A web process: complete manual steps; each commit publishes its email step's run."""
    practice_id, owner_id, step_ids = args
    from django.db import connection

    from sodium.models import User
    from sodium.tenancy import practice_scope
    from workflows import engine
    from workflows.models import Step

    with practice_scope(practice_id):
        owner = User.objects.get(pk=owner_id)
        for first_id, _email_id in step_ids:
            engine.complete_step(Step(pk=first_id), actor=owner)
    connection.close()
    return len(step_ids)


def start_celery_worker(log_path: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "SODIUM_DB_CONN_MAX_AGE": "60",  # as docker-compose runs it
        "SODIUM_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    command = [sys.executable, "-m", "celery", "-A", "sodium", "worker", "--pool=prefork"]
    command += ["--concurrency=2", "--without-gossip", "--without-mingle", "--loglevel=INFO"]
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while "ready." not in open(log_path).read():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("celery worker did not start:\n" + open(log_path).read())
        time.sleep(0.2)
    return proc


def _proc_cpu_s(pid: int) -> float:
    # CPU of a live process and of its children it has reaped, in seconds (0 once it is gone).
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _tree_pids(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(x) for x in f.read().split()]
    except OSError:
        return [pid]
    return [pid] + [p for child in children for p in _tree_pids(child)]


class CpuMeter:
    """CPU spent since it started by a set of processes, sampled as the bench polls.

    The celery worker's tree and the completing processes are read from /proc; PostgreSQL's
    backends serving the bench database are looked up in pg_stat_activity and read from /proc
    too (the same machine), each at its last sample, so a backend that exits between two
    polls loses at most one poll interval. Redis and the kernel's share are left out: other
    work on a shared machine would be counted with them.
    """

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = groups
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.kind: dict[int, str] = {}
        self.sample()
        self.first = dict(self.last)

    def _backends(self) -> list[int]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()"
            )
            return [row[0] for row in cursor.fetchall()]

    def sample(self) -> None:
        current = {
            name: [p for pid in pids for p in _tree_pids(pid)] for name, pids in self.groups.items()
        }
        current["database"] = self._backends()
        for name, pids in current.items():
            for pid in pids:
                cpu = _proc_cpu_s(pid)
                if cpu:
                    self.kind[pid] = name
                    self.last[pid] = cpu

    def spent_ms(self, per: int) -> dict[str, float]:
        """Return the CPU each group spent, in milliseconds per `per` (chains)."""
        totals: dict[str, float] = {}
        for pid, cpu in self.last.items():
            name = self.kind[pid]
            totals[name] = totals.get(name, 0.0) + cpu - self.first.get(pid, 0.0)
        return {name: 1000 * total / per for name, total in totals.items()}


def bench_through_worker(practice, owner, tasks, template) -> tuple[float, float, dict]:
    from django.db import connections
    from django_scopes import scopes_disabled

    from sodium.models import OutboundMessage

    chains = attached_chains(practice, owner, tasks, template)
    with scopes_disabled():
        before = OutboundMessage.objects.order_by("-pk").values_list("pk", flat=True).first()
    procs = 2
    slices = [chains[i::procs] for i in range(procs)]
    connections.close_all()
    with tempfile.TemporaryDirectory() as tmp:
        worker = start_celery_worker(os.path.join(tmp, "worker.log"))
        try:
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(procs) as pool, scopes_disabled():
                messages = OutboundMessage.objects.filter(pk__gt=before or 0)
                meter = CpuMeter({"worker": [worker.pid], "web": [p.pid for p in pool._pool]})
                start = time.perf_counter()
                result = pool.map_async(
                    _complete_worker, [(practice.pk, owner.pk, s) for s in slices]
                )
                while not (result.ready() and messages.count() == len(chains)):
                    assert time.perf_counter() - start < 600, "the chains stopped writing"
                    meter.sample()
                    time.sleep(0.05)
                all_rows = time.perf_counter() - start
                assert sum(result.get()) == len(chains)
                while messages.filter(status="sent").count() < len(chains):
                    assert time.perf_counter() - start < 600, "the worker stopped sending"
                    meter.sample()
                    time.sleep(0.05)
                all_sent = time.perf_counter() - start
                meter.sample()
                assert messages.count() == len(chains), "a message was written twice"
        finally:
            worker.terminate()
            worker.wait(timeout=60)
    return 3 * len(chains) / all_rows, len(chains) / all_sent, meter.spent_ms(len(chains))


def report_through_worker(practice, owner, tasks, template) -> None:
    per_transition, sent_per_s, cpu = bench_through_worker(practice, owner, tasks, template)
    report("transitions_through_worker_per_s", per_transition, "1/s")
    report("through_worker_sent_per_s", sent_per_s, "1/s")
    report("through_worker_cpu_web_ms", cpu.get("web", 0.0), "ms")
    report("through_worker_cpu_worker_ms", cpu.get("worker", 0.0), "ms")
    report("through_worker_cpu_database_ms", cpu.get("database", 0.0), "ms")


def redis_available() -> bool:
    import redis

    try:
        redis.Redis.from_url(REDIS).flushdb()
    except redis.RedisError as exc:
        print(f"through-worker figures left out: no Redis at {REDIS} ({exc})", file=sys.stderr)
        return False
    return True


def bench_sweep(practice) -> float:
    from django.db import connection, transaction
    from django.utils import timezone

    from sodium import timers

    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO sodium_timer (practice_id, kind, target_id, key, due_at, attempts,
                                      last_error, created_at)
            SELECT %s, 'bench', g, 'bench:' || g,
                   CASE WHEN g <= 100 THEN now() - interval '1 minute'
                        ELSE now() + (g || ' seconds')::interval END,
                   0, '', now()
            FROM generate_series(1, 1000000) AS g
            """,
            [practice.pk],
        )
        cur.execute("ANALYZE sodium_timer")
    now = timezone.now()
    samples = []
    for _ in range(20):
        with transaction.atomic():
            start = time.perf_counter()
            claimed = timers.claim_due(now, 100)
            samples.append(time.perf_counter() - start)
            assert len(claimed) == 100, len(claimed)
            transaction.set_rollback(True)
    return statistics.median(samples) * 1000


def bench_liquid(practice) -> float:
    from sodium import liquid
    from workflows.context import sample_context

    context = sample_context(practice)
    subject = "Your {{ task.name }} for {{ client.name }}"
    body = (
        "Dear {{ contacts.main.first_name | default: 'client' }},\n\n"
        "We have prepared your {{ task.name }}. Please review it by {{ task.due_date }}.\n"
        "{% if step.deadline %}We need your documents by {{ step.deadline }}.{% endif %}\n\n"
        "Open your portal: {{ portal_link }}\n\nKind regards,\n{{ assignee.name }}\n"
        "{{ practice.name }}"
    )
    liquid.render_message(subject, body, context)  # parse once
    n = 20000
    start = time.perf_counter()
    for _ in range(n):
        liquid.render_message(subject, body, context)
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chains", type=int, default=3000)
    parser.add_argument("--procs", type=int, default=4)
    parser.add_argument("--only", choices=["worker"], help="run only these figures")
    parser.add_argument("--db", default=os.environ.get("SODIUM_BENCH_DB", "sodium_bench"))
    args = parser.parse_args()
    with_worker = redis_available()
    if with_worker:
        os.environ["REDIS_URL"] = REDIS  # the broker, for this process and the worker
    elif args.only == "worker":
        sys.exit("--only worker needs Redis")
    setup_django(args.db)
    practice, owner, chain_tasks, attach_tasks, chain, big, worker_tasks = build_world(args.chains)
    if args.only == "worker":
        report_through_worker(practice, owner, worker_tasks, chain)
        return
    report("attach_20_steps_x1000_s", bench_attach(practice, owner, attach_tasks, big), "s")
    per_transition, per_chain = bench_transitions(practice, owner, chain_tasks, chain, args.procs)
    report("transitions_per_s", per_transition, "1/s")
    report("chains_per_s", per_chain, "1/s")
    report("chain_cpu_python_ms", CPU_SPLIT["python"], "ms")
    report("chain_cpu_database_and_system_ms", CPU_SPLIT["rest"], "ms")
    if with_worker:
        report_through_worker(practice, owner, worker_tasks, chain)
    report("sweep_claim_100_of_1m_ms", bench_sweep(practice), "ms")
    report("liquid_renders_per_s", bench_liquid(practice), "1/s")


if __name__ == "__main__":
    main()
