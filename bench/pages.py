"""Page benchmarks on PostgreSQL: the focus panel and My steps in a database of 1,000,000 steps.

Prints one figure a line: `name value unit`.

  seed_s                   seeding the database (INSERT … SELECT generate_series)
  focus_panel_median_ms    GET the focus panel (htmx partial) of one of the user's tasks
  my_steps_median_ms       GET My steps (first page of 200 open steps, soonest due first)
  bare_view_median_ms      GET a trivial authenticated view (the Liquid variables JSON): the
                           floor set by Django, the middleware and the session/user/practice
                           lookups every page pays
  task_list_median_ms      GET the task list (25 rows with their workflow progress)
  overview_median_ms       GET the managers' overview (overdue steps, steps due today, steps
                           awaiting clients)

Then, for the focus panel, My steps, the task list and the bare view (`<page>` is focus_panel,
my_steps, task_list, bare_view), where a request's time goes, from a second pass of
--requests requests each (medians; the timers cost a little, so the parts do not add up to
the medians above exactly):

  <page>_queries           SQL statements per request (the session, user and membership the
                           middleware reads included)
  <page>_sql_ms            wall time inside cursor.execute (the database's work, the round
                           trips and psycopg's)
  <page>_template_ms       wall time rendering templates, less the SQL run while rendering
  <page>_cpu_ms            this process's CPU time per request (time.process_time): Python in
                           the middleware, the view, the ORM building statements and reading
                           rows, and the templates; PostgreSQL's own CPU is not in it

The world: one practice of 100,000 tasks (90 % finished), each with 10 steps in 2 groups:
1,000,000 steps, 91 % of them done. 50 members share the open work; the measured user has
200 open steps (ready, in progress, failed) spread over 40 tasks, 18,000 done steps of their
own, and belongs to a team with 18,000 more. Every open step has a due date of its own (a
"5 working days after ready" rule) from ten days ago to 29 days ahead, so the pages show
overdue, due-today and coming due chips. Medians over --requests requests (server time as
django.test.Client sees it, with persistent database connections as in docker-compose.yml).

Usage: python bench/pages.py [--requests 50] [--reuse]
Needs PostgreSQL (SODIUM_BENCH_PG, default postgres://postgres@127.0.0.1:5432); it creates
and drops its own database `sodium_pages`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from contextlib import contextmanager

from _setup import median_ms, report, setup_django

TASKS = 100_000
DONE_TASKS = 90_000
STEPS_PER_GROUP = 5
MEMBERS = 50
CLIENTS = 2_000
MY_TASKS = 40


def seed() -> dict:
    """Fill the database; return the ids the measurements need."""
    from django.db import connection
    from django_scopes import scopes_disabled

    from sodium.models import Client, Contact, Membership, Practice, Team, User

    with scopes_disabled():
        practice = Practice.objects.create(name="Big Practice", slug="big")
        me = User.objects.create_user(email="me@bench.example", full_name="Mia Measured")
        Membership.objects.create(practice=practice, user=me, role="manager")
        members = User.objects.bulk_create(
            User(email=f"member{i}@bench.example", full_name=f"Member {i}") for i in range(MEMBERS)
        )
        Membership.objects.bulk_create(
            Membership(practice=practice, user=u, role="staff") for u in members
        )
        team = Team.objects.create(practice=practice, name="Accounts team")
        team.members.add(me, *members[:5])
        clients = Client.objects.bulk_create(
            Client(practice=practice, name=f"Client {i} Ltd", reference=f"C{i:05d}")
            for i in range(CLIENTS)
        )
        Contact.objects.bulk_create(
            Contact(
                practice=practice,
                client=c,
                first_name="Ann",
                last_name=f"Owner {c.pk}",
                email=f"ann{c.pk}@client.example",
                is_main=True,
            )
            for c in clients
        )
    params = {
        "p": practice.pk,
        "me": me.pk,
        "team": team.pk,
        "members": [u.pk for u in members],
        "clients": [c.pk for c in clients],
        "n": TASKS,
        "done": DONE_TASKS,
        "nm": MEMBERS,
        "nc": CLIENTS,
        "per": STEPS_PER_GROUP,
        "mine": MY_TASKS,
    }
    with connection.cursor() as cur:
        # Finished tasks first, then the open ones: due from 20 days ago to 100 days ahead.
        cur.execute(
            """
            INSERT INTO sodium_task (practice_id, client_id, service_id, name, description,
                owner_id, team_id, start_date, due_date, status, created_at, completed_at,
                period_label)
            SELECT %(p)s, (%(clients)s::bigint[])[1 + g %% %(nc)s], NULL,
                   CASE WHEN g %% 3 = 0 THEN 'VAT return ' ELSE 'Year-end accounts ' END || g,
                   '', (%(members)s::bigint[])[1 + g %% %(nm)s], NULL,
                   current_date - 400 + g / 250,
                   CASE WHEN g <= %(done)s THEN current_date - 300 + g / 250
                        ELSE current_date - 20 + (g - %(done)s) / 83 END,
                   CASE WHEN g <= %(done)s THEN 'done' ELSE 'in_progress' END,
                   now() - interval '400 days',
                   CASE WHEN g <= %(done)s THEN now() - interval '30 days' END, ''
            FROM generate_series(1, %(n)s) AS g
            """,
            params,
        )
        cur.execute("SELECT min(id) FROM sodium_task WHERE practice_id = %(p)s", params)
        params["t0"] = cur.fetchone()[0]
        params["open0"] = params["t0"] + DONE_TASKS  # the first open task
        cur.execute(
            """
            INSERT INTO workflows_stepgroup (practice_id, task_id, name, position, template_id)
            SELECT t.practice_id, t.id, CASE k WHEN 1 THEN 'Preparation' ELSE 'Completion' END,
                   k, NULL
            FROM sodium_task t CROSS JOIN generate_series(1, 2) AS k
            WHERE t.practice_id = %(p)s
            """,
            params,
        )
        # Steps: position 1-10 within the task. Open tasks: 1-5 done, 6 ready, 7 in progress
        # (awaiting the client), 8-10 blocked; the user's 40 tasks have 6-10 open and theirs.
        cur.execute(
            """
            INSERT INTO workflows_step (name, description, type, mode, position, settings,
                content_block_id, subject, body, to_recipients, cc_recipients, assignment_rule,
                practice_id, task_id, group_id, source_id, status, sub_status, assignee_id,
                assignee_team_id, assignment_note, failure_reason, deadline, chase_count,
                ready_at, started_at, completed_at, created_at, due_rule, due_days,
                send_rule, send_days)
            SELECT s.name, '', s.type, 'manual', s.pos, '{}'::jsonb, NULL,
                   CASE WHEN s.type = 'simple' THEN '' ELSE 'About {{ task.name }}' END,
                   CASE WHEN s.type = 'simple' THEN ''
                        ELSE 'Dear {{ contacts.main.first_name }}, ' || s.name END,
                   CASE WHEN s.type = 'simple' THEN '[]'::jsonb ELSE '["contact:main"]'::jsonb END,
                   '[]'::jsonb, 'task_owner',
                   %(p)s, s.task_id, s.group_id, NULL, s.status,
                   CASE WHEN s.status = 'in_progress' THEN 'awaiting_response' ELSE '' END,
                   CASE WHEN s.mine THEN %(me)s
                        WHEN s.status = 'done' AND s.task_id %% %(nm)s = 0 THEN %(me)s
                        ELSE (%(members)s::bigint[])[1 + (s.task_id + s.pos) %% %(nm)s] END,
                   CASE WHEN s.status = 'done' AND s.task_id %% %(nm)s = 1 THEN %(team)s END,
                   '',
                   CASE WHEN s.status = 'failed' THEN 'Nobody to send to.' ELSE '' END,
                   CASE WHEN s.status <> 'done'
                        THEN current_date + ((s.task_id + s.pos) %% 40)::int - 10 END,
                   0,
                   CASE WHEN s.status <> 'blocked' THEN now() - interval '20 days' END,
                   CASE WHEN s.status IN ('in_progress', 'done')
                        THEN now() - interval '10 days' END,
                   CASE WHEN s.status = 'done' THEN now() - interval '5 days' END,
                   now() - interval '400 days',
                   CASE WHEN s.status <> 'done' THEN 'after_ready' ELSE 'none' END,
                   CASE WHEN s.status <> 'done' THEN 5 ELSE 0 END,
                   'now', 0
            FROM (
                SELECT g.task_id, g.id AS group_id, (g.position - 1) * %(per)s + j AS pos,
                       (g.task_id >= %(open0)s AND g.task_id < %(open0)s + %(mine)s
                        AND (g.position - 1) * %(per)s + j > 5) AS mine,
                       t.status AS task_status,
                       CASE ((g.position - 1) * %(per)s + j)
                            WHEN 6 THEN 'Send the engagement letter'
                            WHEN 7 THEN 'Client confirms the figures'
                            WHEN 8 THEN 'Request bank statements'
                            WHEN 10 THEN 'Approve draft accounts'
                            ELSE 'Check ' || ((g.position - 1) * %(per)s + j) END AS name,
                       CASE ((g.position - 1) * %(per)s + j)
                            WHEN 6 THEN 'email' WHEN 7 THEN 'client_confirmation'
                            WHEN 8 THEN 'document_request' WHEN 10 THEN 'document_approval'
                            ELSE 'simple' END AS type,
                       CASE
                           WHEN t.status = 'done' OR (g.position - 1) * %(per)s + j <= 5
                               THEN 'done'
                           WHEN (g.position - 1) * %(per)s + j = 6 THEN 'ready'
                           WHEN (g.position - 1) * %(per)s + j = 7 THEN 'in_progress'
                           WHEN g.task_id < %(open0)s + %(mine)s
                               THEN CASE (g.position - 1) * %(per)s + j
                                    WHEN 9 THEN 'failed' ELSE 'ready' END
                           ELSE 'blocked' END AS status
                FROM workflows_stepgroup g
                JOIN sodium_task t ON t.id = g.task_id
                CROSS JOIN generate_series(1, %(per)s) AS j
                WHERE g.practice_id = %(p)s
            ) AS s
            """,
            params,
        )
        # A checklist on the first step of every open task (two items).
        cur.execute(
            """
            INSERT INTO workflows_checklistitem (practice_id, step_id, text, position, done,
                done_by_id, done_at)
            SELECT s.practice_id, s.id, 'Item ' || k, k, k = 1, NULL, NULL
            FROM workflows_step s CROSS JOIN generate_series(1, 2) AS k
            WHERE s.practice_id = %(p)s AND s.task_id >= %(open0)s AND s.position = 1
            """,
            params,
        )
        # The emails the finished email steps sent (one each): 100,000 outbox rows.
        cur.execute(
            """
            INSERT INTO sodium_outboundmessage (practice_id, channel, status, idempotency_key,
                "to", cc, from_name, reply_to, subject, body_text, body_html, client_id,
                task_id, source_type, source_id, provider_message_id, error, attempts,
                created_at, queued_at, sent_at, status_changed_at)
            SELECT s.practice_id, 'email', 'delivered', 'step:' || s.id || ':send',
                   '["ann@client.example"]'::jsonb, '[]'::jsonb, '', '', s.subject,
                   s.body, '<p>' || s.body || '</p>', NULL, s.task_id, 'workflows.step', s.id,
                   '', '', 1, now(), now(), now(), now()
            FROM workflows_step s
            WHERE s.practice_id = %(p)s AND s.position = 6 AND s.status = 'done'
            """,
            params,
        )
        # Every table seeded here, so the first run plans as autovacuum's later ones would.
        for table in (
            "sodium_user",
            "sodium_membership",
            "sodium_client",
            "sodium_contact",
            "sodium_task",
            "workflows_stepgroup",
            "workflows_step",
            "workflows_checklistitem",
            "sodium_outboundmessage",
        ):
            cur.execute(f"VACUUM ANALYZE {table}")
        cur.execute("SELECT count(*) FROM workflows_step")
        steps = cur.fetchone()[0]
        cur.execute(
            "SELECT count(*), count(DISTINCT task_id) FROM workflows_step "
            "WHERE assignee_id = %(me)s AND status IN ('ready', 'in_progress', 'failed')",
            params,
        )
        open_steps, open_tasks = cur.fetchone()
    assert steps == TASKS * 2 * STEPS_PER_GROUP, steps
    assert (open_steps, open_tasks) == (200, MY_TASKS), (open_steps, open_tasks)
    return {"me": me, "task_id": params["open0"] + MY_TASKS // 2}


def seeded() -> dict:
    from django_scopes import scopes_disabled

    from sodium.models import Task, User

    with scopes_disabled():
        me = User.objects.get(email="me@bench.example")
        first_open = Task.objects.filter(status="in_progress").order_by("id").first()
    return {"me": me, "task_id": first_open.pk + MY_TASKS // 2}


class _Split:
    """Timers for one request: SQL (an execute wrapper) and templates (outermost renders)."""

    def __init__(self) -> None:
        self.queries = 0
        self.sql = 0.0
        self.sql_in_templates = 0.0
        self.template = 0.0
        self.depth = 0

    def execute(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - start
            self.queries += 1
            self.sql += spent
            if self.depth:
                self.sql_in_templates += spent


@contextmanager
def _timed_templates(split: list[_Split]):
    """Time Template.render at its outermost level (includes and partials are inside it)."""
    from django.template import base

    original = base.Template.render

    def render(self, context):
        current = split[0]
        if current.depth:
            return original(self, context)
        current.depth += 1
        start = time.perf_counter()
        try:
            return original(self, context)
        finally:
            current.template += time.perf_counter() - start
            current.depth -= 1

    base.Template.render = render
    try:
        yield
    finally:
        base.Template.render = original


def breakdown(client, url: str, n: int, headers: dict | None = None) -> dict[str, float]:
    """Return the medians, over `n` GETs of `url`, of the queries, SQL time, template time (less
    its SQL) and process CPU time of a request."""
    from django.db import connection

    rows = []
    split = [_Split()]
    with _timed_templates(split), connection.execute_wrapper(lambda *a: split[0].execute(*a)):
        for _ in range(n):
            split[0] = _Split()
            cpu = time.process_time()
            response = client.get(url, headers=headers or {}, secure=True)
            cpu = time.process_time() - cpu
            assert response.status_code == 200, (url, response.status_code)
            s = split[0]
            rows.append((s.queries, s.sql, s.template - s.sql_in_templates, cpu))
    columns = list(zip(*rows, strict=True))
    return {
        "queries": statistics.median(columns[0]),
        "sql_ms": statistics.median(columns[1]) * 1000,
        "template_ms": statistics.median(columns[2]) * 1000,
        "cpu_ms": statistics.median(columns[3]) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument(
        "--reuse", action="store_true", help="measure the database seeded by the last run"
    )
    args = parser.parse_args()
    # What production runs with (docker-compose.yml): no debug, persistent connections.
    os.environ.setdefault("SODIUM_DEBUG", "false")
    os.environ.setdefault("SODIUM_SECRET_KEY", "bench-only-secret-key-not-for-production-use")
    os.environ.setdefault("SODIUM_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("SODIUM_DB_CONN_MAX_AGE", "60")
    os.environ.setdefault("SODIUM_DATA_DIR", tempfile.mkdtemp(prefix="sodium-bench-"))
    setup_django("sodium_pages", fresh=not args.reuse)
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)  # the manifest pages link to

    from django.test import Client
    from django.urls import reverse

    if args.reuse:
        world = seeded()
    else:
        start = time.perf_counter()
        world = seed()
        report("seed_s", time.perf_counter() - start, "s")

    client = Client()
    client.force_login(world["me"])
    htmx = {"HX-Request": "true"}
    n = args.requests
    focus = reverse("workflows:focus", kwargs={"task_id": world["task_id"]})
    report("focus_panel_median_ms", median_ms(client, focus, n, htmx), "ms")
    report("my_steps_median_ms", median_ms(client, reverse("workflows:my-steps"), n), "ms")
    report("bare_view_median_ms", median_ms(client, reverse("workflows:liquid-variables"), n), "ms")
    report("task_list_median_ms", median_ms(client, reverse("sodium:task-list"), n), "ms")
    report("overview_median_ms", median_ms(client, reverse("workflows:overview"), n), "ms")
    pages = {
        "focus_panel": (focus, htmx),
        "my_steps": (reverse("workflows:my-steps"), None),
        "task_list": (reverse("sodium:task-list"), None),
        "bare_view": (reverse("workflows:liquid-variables"), None),
    }
    for name, (url, headers) in pages.items():
        figures = breakdown(client, url, n, headers)
        report(f"{name}_queries", figures["queries"], "queries")
        for key in ("sql_ms", "template_ms", "cpu_ms"):
            report(f"{name}_{key}", figures[key], "ms")


if __name__ == "__main__":
    main()
