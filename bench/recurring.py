"""Recurring tasks on PostgreSQL: one sweep generating for 5,000 clients, and an idle sweep.

  recurring_generate_5000_clients_s  one `generate_due` call creating one monthly task (with
                                     a 3-step workflow attached) for each of 5,000 clients
                                     due at once (budget < 10 s, issue 12)
  recurring_sweep_idle_ms            median of 20 `generate_due` calls with 10,000
                                     recurrences of which none is due (budget < 20 ms)

Usage: python bench/recurring.py [--clients 5000] [--idle 10000] [--db sodium_bench_recurring]
Creates and drops its own database (`--db`, default `sodium_bench_recurring`; give each
concurrent run its own name).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from unittest import mock
from zoneinfo import ZoneInfo

from _setup import report, setup_django

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 3, 2, 6, 0, tzinfo=LONDON)


def build(n_clients: int, n_idle: int):
    from django_scopes import scopes_disabled

    from sodium.models import Client, Membership, Practice, Recurrence, User
    from sodium.services.recurrences import create_recurrence
    from workflows import building

    with scopes_disabled():
        owner = User.objects.create_user(email="bench@example.com", full_name="Bench Owner")
        practice = Practice.objects.create(name="Bench", slug="bench")
        Membership.objects.create(practice=practice, user=owner, role="owner")
        Client.objects.bulk_create(
            Client(practice=practice, name=f"Client {i}", reference=f"C{i}", client_manager=owner)
            for i in range(n_clients)
        )
        template = building.create_template(practice=practice, actor=owner, name="Payroll")
        group = template.groups.get()
        for name in ("Collect hours", "Run payroll", "Send payslips"):
            building.add_step(group, actor=owner, name=name, type="simple", mode="manual")
        monthly = {
            "kind": "calendar",
            "frequency": "monthly",
            "start": "2026-03-01",
            "month_day": 2,
        }
        due = create_recurrence(
            practice=practice,
            actor=owner,
            now=NOW - dt.timedelta(days=1),
            name="Monthly payroll",
            schedule=monthly,
            task_name="{{ client.name }} payroll {{ period.label }}",
            due_rule=Recurrence.DueRule.OFFSET,
            due_offset=5,
            client_selection=Recurrence.Clients.ALL,
            workflow_template_id=template.pk,
        )
        # Idle ones: paused or next run far ahead, so a sweep finds nothing to do.
        idle = Recurrence.objects.bulk_create(
            Recurrence(
                practice=practice,
                name=f"Idle {i}",
                schedule=monthly,
                task_name="{{ client.name }}",
                created_by=owner,
                paused=i % 2 == 0,
                next_run_at=NOW + dt.timedelta(days=30),
                generated_until=NOW.date(),
                created_at=NOW,
                updated_at=NOW,
            )
            for i in range(n_idle)
        )
    return practice, due, idle


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--idle", type=int, default=10000)
    parser.add_argument("--db", default="sodium_bench_recurring")
    args = parser.parse_args()
    setup_django(args.db)

    from django_scopes import scopes_disabled

    from sodium import recurring
    from sodium.models import Task
    from workflows.models import Step

    practice, due, _ = build(args.clients, args.idle)
    with mock.patch("workflows.tasks.run_step_task.delay"):
        start = time.perf_counter()
        created = recurring.generate_due(None, NOW)
        elapsed = time.perf_counter() - start
    with scopes_disabled():
        made = Task.objects.filter(recurrence=due).count()
        steps = Step.objects.filter(task__recurrence=due).count()
    if created != args.clients or made != args.clients or steps != 3 * args.clients:
        raise SystemExit(
            f"expected {args.clients} tasks with 3 steps each; the sweep made {created} "
            f"({made} stored, {steps} steps)"
        )
    report(f"recurring_generate_{args.clients}_clients_s", elapsed, "s")

    idle = []
    for _ in range(20):
        start = time.perf_counter()
        if recurring.generate_due(None, NOW) != 0:
            raise SystemExit("an idle sweep created tasks")
        idle.append((time.perf_counter() - start) * 1000)
    report("recurring_sweep_idle_ms", statistics.median(idle), "ms")


if __name__ == "__main__":
    main()
