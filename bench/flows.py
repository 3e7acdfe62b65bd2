"""Check-based flows on PostgreSQL.

  creator_go_500_clients_s  the creator's Go for 500 clients chosen by tag: the tag's active
                            clients looked up and their teams defaulted as the creator does,
                            then `making.create_flow` of a one-off flow with the four checks of
                            the Month-end review (500 runs, 2,000 run checks written; the
                            heavier kind: a repeating flow writes no runs at Go) (budget < 2 s)

Usage: python bench/flows.py [--clients 500] [--db sodium_bench_flows]
Creates and drops its own database (`--db`; give each concurrent run its own name).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from _setup import report, setup_django

TODAY = dt.date(2026, 11, 2)


def bench_creator_go(n_clients: int = 500) -> float:
    """Time Go for `n_clients` clients by tag; report creator_go_<n>_clients_s."""
    from django_scopes import scopes_disabled

    from checks.flows import creator, making
    from checks.flows.templates import ensure_builtin_templates
    from checks.models import FlowRun, FlowRunCheck
    from sodium.models import Client, Membership, Practice, Tag, User

    with scopes_disabled():
        owner = User.objects.create_user(email="bench@example.com", full_name="Bench Owner")
        staff = User.objects.create_user(email="staff@example.com", full_name="Bench Staff")
        practice = Practice.objects.create(name="Bench flows", slug="bench-flows")
        Membership.objects.create(practice=practice, user=owner, role="owner")
        Membership.objects.create(practice=practice, user=staff, role="staff")
        clients = Client.objects.bulk_create(
            Client(
                practice=practice,
                name=f"Client {i:04}",
                reference=f"C{i}",
                default_assignee=staff,
                default_reviewer=owner,
            )
            for i in range(n_clients)
        )
        tag = Tag.objects.create(practice=practice, name="Monthly")
        tag.clients.add(*clients)
        template = ensure_builtin_templates(practice)[0]  # Month-end review

        start = time.perf_counter()
        ctx = creator.CreatorContext.of(practice, today=TODAY)
        ids = [c.pk for c in ctx.clients if c.pk in ctx.clients_of_tags([tag.pk])]
        spec = making.FlowSpec(
            kind="one_off",
            name="Month-end review",
            checks=tuple(ctx.template_refs(template)),
            clients=tuple(creator.team_of({"values": {}}, ctx, ids)),
            template_id=template.pk,
            period_start=dt.date(2026, 10, 1),
            period_end=dt.date(2026, 10, 31),
            due_date=dt.date(2026, 11, 15),
        )
        flow = making.create_flow(practice, spec, actor=owner, today=TODAY)
        elapsed = time.perf_counter() - start

        runs = FlowRun.objects.filter(flow=flow).count()
        checks = FlowRunCheck.objects.filter(run__flow=flow).count()
    if runs != n_clients or checks != 4 * n_clients:
        raise SystemExit(f"expected {n_clients} runs with 4 checks; Go made {runs} ({checks})")
    report(f"creator_go_{n_clients}_clients_s", elapsed, "s")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--db", default="sodium_bench_flows")
    args = parser.parse_args()
    setup_django(args.db)
    bench_creator_go(args.clients)


if __name__ == "__main__":
    main()
