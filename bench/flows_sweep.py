"""Repeating check flows on PostgreSQL: one sweep making 5,000 runs due at once, and the digest.

  flows_sweep_5000_due_s      one `generate_due_runs` call making the run (with its 4 checks)
                              of a monthly flow over 5,000 clients, all due on the same day
                              (budget < 10 s, issue 14)
  flows_sweep_idle_ms         median of 20 `generate_due_runs` calls once nothing is due
  flows_digest_5000_runs_s    one `send_digests` call writing the 08:00 digests of those
                              5,000 runs, spread over 20 assignees
  flows_digest_idle_ms        median of 20 `send_digests` calls once today's is sent

Usage: python bench/flows_sweep.py [--clients 5000] [--db sodium_bench_flows_sweep]
Creates and drops its own database (`--db`; give each concurrent run its own name).
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
MADE = dt.date(2026, 10, 28)  # the flow is made; its first runs appear on 1 November
DUE = dt.datetime(2026, 11, 1, 6, 0, tzinfo=LONDON)
DIGEST = dt.datetime(2026, 11, 2, 8, 0, tzinfo=LONDON)
PEOPLE = 20


def build(n_clients: int):
    from django_scopes import scopes_disabled

    from checks.flows import making
    from checks.flows.cadence import Cadence
    from checks.flows.making import ClientTeam, FlowSpec
    from checks.models import Flow
    from sodium.models import Client, Membership, Practice, User

    with scopes_disabled():
        practice = Practice.objects.create(name="Bench", slug="bench")
        people = []
        for i in range(PEOPLE):
            user = User.objects.create_user(email=f"bench{i}@example.com", full_name=f"Bench {i}")
            Membership.objects.create(
                practice=practice, user=user, role="owner" if i == 0 else "staff"
            )
            people.append(user)
        Client.objects.bulk_create(
            Client(practice=practice, name=f"Client {i}", reference=f"C{i}")
            for i in range(n_clients)
        )
        clients = list(Client.objects.filter(practice=practice).values_list("pk", flat=True))
        spec = FlowSpec(
            kind=Flow.Kind.REPEATING,
            name="Month-end review",
            checks=(
                "builtin:bank_reconciliation",
                "builtin:transaction_cleanup",
                "builtin:duplicate_transactions",
                "builtin:lock_date",
            ),
            clients=tuple(
                ClientTeam(pk, people[i % PEOPLE].pk, people[(i + 1) % PEOPLE].pk)
                for i, pk in enumerate(clients)
            ),
            cadence=Cadence(offset=1, within=2, within_unit="weeks"),
        )
        flow = making.create_flow(practice, spec, actor=people[0], today=MADE)
    return practice, flow


def timed(now: dt.datetime, fn, *args):
    with mock.patch("django.utils.timezone.now", return_value=now):
        start = time.perf_counter()
        result = fn(*args)
        return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--db", default="sodium_bench_flows_sweep")
    args = parser.parse_args()
    setup_django(args.db)

    from django_scopes import scopes_disabled

    from checks.flows import digest, making
    from checks.models import FlowRun, FlowRunCheck
    from sodium.models import OutboundMessage

    practice, flow = build(args.clients)
    made, elapsed = timed(DUE, making.generate_due_runs, DUE)
    with scopes_disabled():
        runs = FlowRun.objects.filter(flow=flow).count()
        checks = FlowRunCheck.objects.filter(run__flow=flow).count()
    if made != args.clients or runs != args.clients or checks != 4 * args.clients:
        raise SystemExit(
            f"expected {args.clients} runs with 4 checks each; the sweep made {made} "
            f"({runs} stored, {checks} checks)"
        )
    report(f"flows_sweep_{args.clients}_due_s", elapsed, "s")

    idle = []
    for _ in range(20):
        made, elapsed = timed(DUE, making.generate_due_runs, DUE)
        if made:
            raise SystemExit("an idle sweep made runs")
        idle.append(elapsed * 1000)
    report("flows_sweep_idle_ms", statistics.median(idle), "ms")

    with mock.patch("sodium.tasks.deliver_message_task.delay"):
        sent, elapsed = timed(DIGEST, digest.send_digests, DIGEST)
    with scopes_disabled():
        stored = OutboundMessage.objects.filter(idempotency_key__startswith="flows:digest:").count()
    if sent != PEOPLE or stored != PEOPLE:
        raise SystemExit(f"expected {PEOPLE} digests; wrote {sent} ({stored} stored)")
    report(f"flows_digest_{args.clients}_runs_s", elapsed, "s")

    idle = []
    for _ in range(20):
        sent, elapsed = timed(DIGEST, digest.send_digests, DIGEST)
        if sent:
            raise SystemExit("an idle digest sweep sent digests")
        idle.append(elapsed * 1000)
    report("flows_digest_idle_ms", statistics.median(idle), "ms")


if __name__ == "__main__":
    main()
