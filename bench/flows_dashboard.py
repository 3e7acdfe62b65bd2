"""The flows dashboard on PostgreSQL with 10,000 flow runs.

Prints one figure a line: `name value unit`.

  seed_s                              making the world (10 one-off flows through the engine's
                                      Go, then due dates and statuses spread by SQL)
  flows_dashboard_median_ms           GET /checks/flows/ (counts, three sections of up to 25)
  flows_dashboard_filtered_median_ms  the same filtered by assignee and tag
  flows_dashboard_section_median_ms   "Show more" of the overdue section (htmx, page 2)
  flows_list_median_ms                GET /checks/flows/list/
  flows_dashboard_queries             queries of one dashboard GET (fixed whatever the runs)

The world: one practice, 20 members, 1,000 clients (5 tags), 10 one-off flows of 3 checks
over every client: 10,000 runs, due from 60 days ago to 60 days on, a fifth of them
complete, the rest not started, in progress or in review. Medians over --requests requests
(server time as django.test.Client sees it, persistent database connections).

Usage: python bench/flows_dashboard.py [--requests 50] [--reuse]
Needs PostgreSQL (SODIUM_BENCH_PG, default postgres://postgres@127.0.0.1:5432); it creates
its own database `sodium_bench_flows_dash`. Budget: flows_dashboard_median_ms < 50.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time

from _setup import median_ms, report, setup_django

DB = "sodium_bench_flows_dash"
MEMBERS = 20
CLIENTS = 1_000
FLOWS = 10
TAGS = 5


def seed() -> None:
    from django.db import connection
    from django_scopes import scopes_disabled

    from checks.flows import making
    from sodium.models import Client, Membership, Practice, Tag, User

    with scopes_disabled():
        practice = Practice.objects.create(name="Big Practice", slug="big")
        me = User.objects.create_user(email="me@bench.example", full_name="Mia Measured")
        Membership.objects.create(practice=practice, user=me, role="manager")
        members = User.objects.bulk_create(
            User(email=f"member{i}@bench.example", full_name=f"Member {i:02d}")
            for i in range(MEMBERS)
        )
        Membership.objects.bulk_create(
            Membership(practice=practice, user=u, role="staff") for u in members
        )
        clients = Client.objects.bulk_create(
            Client(practice=practice, name=f"Client {i:04d} Ltd", reference=f"C{i:05d}")
            for i in range(CLIENTS)
        )
        tags = [Tag.objects.create(practice=practice, name=f"Tag {i}") for i in range(TAGS)]
        Client.tags.through.objects.bulk_create(
            Client.tags.through(client_id=c.pk, tag_id=tags[i % TAGS].pk)
            for i, c in enumerate(clients)
        )
        for n in range(FLOWS):
            making.create_flow(
                practice,
                making.FlowSpec(
                    kind="one_off",
                    name=f"Review {n + 1}",
                    checks=("builtin:bank_reconciliation", "builtin:lock_date", "builtin:vat"),
                    clients=tuple(
                        making.ClientTeam(
                            c.pk,
                            members[(i + n) % MEMBERS].pk,
                            members[(i + n + 1) % MEMBERS].pk,
                            me.pk if i % 3 == 0 else None,
                        )
                        for i, c in enumerate(clients)
                    ),
                    period_start=dt.date(2026, 1, 1),
                    period_end=dt.date(2026, 1, 31),
                    due_date=dt.date(2026, 2, 28),
                ),
                actor=me,
            )
    with connection.cursor() as cur:
        cur.execute(
            """
            UPDATE checks_flowrun SET
              due_date = CURRENT_DATE + ((id % 121) - 60)::int,
              status = (ARRAY['not_started', 'in_progress', 'in_review', 'complete',
                              'not_started'])[(id % 5)::int + 1],
              review_stage = CASE WHEN id % 5 = 2 THEN 1 ELSE 0 END,
              checks_done = CASE WHEN id % 5 = 3 THEN 3 ELSE id % 4 END,
              completed_at = CASE WHEN id % 5 = 3 THEN now() - ((id % 40) || ' days')::interval END
            """
        )
        cur.execute("VACUUM ANALYZE checks_flowrun")
        cur.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--reuse", action="store_true", help="measure the last run's database")
    args = parser.parse_args()
    os.environ.setdefault("SODIUM_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("SODIUM_DB_CONN_MAX_AGE", "60")
    os.environ.setdefault("SODIUM_DATA_DIR", tempfile.mkdtemp(prefix="sodium-bench-"))
    setup_django(DB, fresh=not args.reuse)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_scopes import scopes_disabled

    from checks.models import FlowRun
    from sodium.models import Tag, User

    call_command("collectstatic", interactive=False, verbosity=0)  # the manifest pages link to
    if not args.reuse:
        start = time.perf_counter()
        seed()
        report("seed_s", time.perf_counter() - start, "s")
    with scopes_disabled():
        me = User.objects.get(email="me@bench.example")
        runs = FlowRun.objects.count()
        member = User.objects.get(email="member3@bench.example")
        tag = Tag.objects.get(name="Tag 1")
    assert runs == CLIENTS * FLOWS, runs
    client = Client()
    client.force_login(me)
    n = args.requests
    report("flows_dashboard_median_ms", median_ms(client, "/checks/flows/", n), "ms")
    filtered = f"/checks/flows/?assignee={member.pk}&tag={tag.pk}"
    report("flows_dashboard_filtered_median_ms", median_ms(client, filtered, n), "ms")
    more = {"HX-Request": "true", "HX-Target": "flows-overdue"}
    report(
        "flows_dashboard_section_median_ms",
        median_ms(client, "/checks/flows/?overdue=2", n, more),
        "ms",
    )
    report("flows_list_median_ms", median_ms(client, "/checks/flows/list/", n), "ms")
    with CaptureQueriesContext(connection) as ctx:
        client.get("/checks/flows/", secure=True)
    print(f"flows_dashboard_queries {len(ctx.captured_queries)} queries", flush=True)


if __name__ == "__main__":
    main()
