"""The world of bench/chaos.py: work built ahead, then released (made due) in waves.

Every email the work leads to has a subject of its own, so it can be found in the outbox and
among the email backend's files: "Chain Task 7" (a completed manual step's automatic email),
"Chase Confirm 3" (the first chase of a portal confirmation), "Recurring Rec 2 Client R2-4" (the
automatic email of a recurring service's task), "AR INV-A000012" (an AR email action).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import sys
import time
from unittest import mock
from zoneinfo import ZoneInfo

CHAINS, CONFIRMS, RECURRENCES, CLIENTS_PER_RECURRENCE, AR_CUSTOMERS = 4000, 600, 40, 5, 1500
HTTP_USERS = 2
PASSWORD = "chaos-test-password-2026"
RUN = "workflows.tasks.run_step_task.delay"
DELIVER = "sodium.tasks.deliver_message_task.delay"
# Zones tried for the practice, so that its AR sending window (09:00-17:00 on a working day)
# is open during the run, whatever the hour: the clock is never faked.
ZONES = ["Europe/London", "America/Los_Angeles", "Australia/Sydney", "Asia/Tokyo",
         "Asia/Kolkata", "America/New_York", "Pacific/Auckland", "America/Sao_Paulo"]  # fmt: skip


@dataclasses.dataclass
class Plan:
    practice_id: int
    actor_id: int
    users: list[str]
    chains: list[tuple[int, str]]  # (manual step, subject of its dependent's email)
    confirms: list[tuple[str, str]]  # (chase timer key, subject of the first chase)
    recurrences: list[tuple[int, list[str]]]  # (recurrence, subjects of its tasks' emails)
    ar_runs: list[tuple[int, str]]  # (action run, subject of its email)


def pick_zone() -> str:
    from sodium.schedules.working_days import WorkingCalendar

    calendar = WorkingCalendar()
    for name in ZONES:
        now = dt.datetime.now(ZoneInfo(name))
        if calendar.is_working_day(now.date()) and dt.time(9, 5) <= now.time() < dt.time(16):
            return name
    raise SystemExit("no time zone has its sending window open now")


def build() -> Plan:
    """Build every piece of work, none of it due yet; return the plan."""
    from django.contrib.auth.hashers import make_password
    from django_scopes import scopes_disabled

    from sodium.models import Client, Contact, Membership, OutboundMessage, Practice, Task, User

    with scopes_disabled():
        practice = Practice.objects.create(name="Chaos & Co", slug="chaos", time_zone=pick_zone())
        hashed = make_password(PASSWORD)
        people = User.objects.bulk_create(
            User(email=f"user{i}@chaos.example", full_name=f"User {i}", password=hashed)
            for i in range(HTTP_USERS + 1)
        )
        Membership.objects.bulk_create(
            Membership(practice=practice, user=u, role="owner" if i == 0 else "manager")
            for i, u in enumerate(people)
        )
        clients = Client.objects.bulk_create(
            Client(practice=practice, name=f"Client {i}", reference=f"C{i}") for i in range(200)
        )
        Contact.objects.bulk_create(
            Contact(practice=practice, client=c, first_name="Ann", email=f"ann{c.pk}@x.example")
            for c in clients
        )
        Contact.objects.filter(practice=practice).update(is_main=True)
        today = dt.date.today()

        def tasks(prefix: str, n: int, owners: list) -> list[Task]:
            return Task.objects.bulk_create(
                Task(
                    practice=practice,
                    client=clients[i % len(clients)],
                    name=f"{prefix} {i}",
                    owner=owners[i % len(owners)],
                    status="in_progress",
                    start_date=today,
                    due_date=today,
                )
                for i in range(n)
            )

        chain_tasks = tasks("Task", CHAINS, people[1:])
        confirm_tasks = tasks("Confirm", CONFIRMS, people[:1])
    chains = _chains(practice, people[0], chain_tasks)
    confirms = _confirmations(practice, people[0], confirm_tasks)
    recurrences = _recurrences(practice, people[0])
    ar_runs = _ar(practice, people[0])
    with scopes_disabled():
        # The confirmation requests themselves went out before the run: not measured.
        OutboundMessage.objects.filter(practice=practice).update(status="sent")
    print(f"# practice time zone {practice.time_zone}", file=sys.stderr)
    return Plan(
        practice.pk,
        people[0].pk,
        [u.email for u in people[1:]],
        chains,
        confirms,
        recurrences,
        ar_runs,
    )


def _chains(practice, owner, tasks) -> list[tuple[int, str]]:
    from django_scopes import scopes_disabled

    from sodium.tenancy import practice_scope
    from workflows import building
    from workflows.attach import attach_template_to_tasks
    from workflows.models import Step

    with scopes_disabled():
        template = building.create_template(practice=practice, actor=owner, name="Chain")
        group = template.groups.get()
        first = building.add_step(group, actor=owner, name="Prepare", type="simple")
        building.add_step(
            group,
            actor=owner,
            depends_on=[first],
            name="Email",
            type="email",
            mode="automatic",
            subject="Chain {{ task.name }}",
            body="Dear {{ contacts.main.first_name }},\n\nYour {{ task.name }} is ready.",
            to_recipients=["contact:main"],
        )
    with practice_scope(practice), mock.patch(RUN):
        attach_template_to_tasks(tasks, template, actor=owner)
    names = {t.pk: t.name for t in tasks}
    with scopes_disabled():
        manual = Step.objects.filter(task__in=tasks, type="simple").values_list("pk", "task_id")
        return [(pk, f"Chain {names[task_id]}") for pk, task_id in manual.order_by("pk")]


def _confirmations(practice, owner, tasks) -> list[tuple[str, str]]:
    from django_scopes import scopes_disabled

    from sodium.tenancy import practice_scope
    from workflows import building
    from workflows import engine as wf_engine
    from workflows.attach import attach_template_to_tasks
    from workflows.models import Step

    with scopes_disabled():
        template = building.create_template(practice=practice, actor=owner, name="Confirm")
        building.add_step(
            template.groups.get(),
            actor=owner,
            name="Confirm entries",
            type="client_confirmation",
            mode="automatic",
            to_recipients=["contact:main"],
            settings={
                "message": "Please confirm all accounting entries have been made.",
                "button_text": "Confirm",
                "thank_you": "Thanks!",
                "chase": {
                    "enabled": True,
                    "every_days": 7,
                    "max_times": 2,
                    "subject": "Chase {{ task.name }}",
                    "body": "Dear {{ contacts.main.first_name }}, please confirm.",
                },
            },
        )
    with practice_scope(practice), mock.patch(RUN):
        attach_template_to_tasks(tasks, template, actor=owner)
    names = {t.pk: t.name for t in tasks}
    with scopes_disabled():
        steps = list(Step.objects.filter(task__in=tasks).values_list("pk", "task_id"))
    with practice_scope(practice), mock.patch(DELIVER):
        for pk, _ in steps:  # sent: in progress, its chase timer a week away
            wf_engine.run_step(pk)
    return [(f"step:{pk}:chase", f"Chase {names[task_id]}") for pk, task_id in steps]


def _recurrences(practice, owner) -> list[tuple[int, list[str]]]:
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from sodium.models import Client, Contact, Recurrence
    from sodium.schedules.practice import today_for
    from sodium.services.recurrences import create_recurrence
    from sodium.tenancy import practice_scope
    from workflows import building

    today = today_for(practice, timezone.now())
    with scopes_disabled():
        template = building.create_template(practice=practice, actor=owner, name="Recurring")
        building.add_step(
            template.groups.get(),
            actor=owner,
            name="Email",
            type="email",
            mode="automatic",
            subject="Recurring {{ task.name }}",
            body="Dear {{ contacts.main.first_name }},\n\nYour {{ task.name }} has started.",
            to_recipients=["contact:main"],
        )
    out = []
    with practice_scope(practice):
        for n in range(RECURRENCES):
            clients = Client.objects.bulk_create(
                Client(practice=practice, name=f"Client R{n}-{j}", reference=f"R{n}-{j}")
                for j in range(CLIENTS_PER_RECURRENCE)
            )
            Contact.objects.bulk_create(
                Contact(
                    practice=practice,
                    client=c,
                    first_name="Rob",
                    email=f"rob{c.pk}@x.example",
                    is_main=True,
                )
                for c in clients
            )
            recurrence = create_recurrence(
                practice=practice,
                actor=owner,
                clients=clients,
                name=f"Rec {n}",
                schedule={"kind": "calendar", "frequency": "daily", "start": today.isoformat()},
                task_name=f"Rec {n} {{{{ client.name }}}}",
                due_rule=Recurrence.DueRule.NONE,
                client_selection=Recurrence.Clients.CHOSEN,
                workflow_template_id=template.pk,
                paused=True,  # released later: unpaused with a due time
            )
            out.append((recurrence.pk, [f"Recurring Rec {n} {c.name}" for c in clients]))
    return out


def _ar(practice, owner) -> list[tuple[int, str]]:
    from ar import assign, build_customers
    from django_scopes import scopes_disabled

    from collections_ar import engine, statuses
    from collections_ar.builder import editing
    from collections_ar.models import ActionRun, Invoice

    with scopes_disabled():
        statuses.ensure_default_statuses(practice)
        workflow = editing.create_workflow(practice, actor=owner, name="Chase")
        editing.add_action(
            workflow,
            actor=owner,
            kind="email",
            base="assigned",
            days=0,
            subject="AR {{ invoice.number }}",
            body="Dear {{ contact.first_name }},\n\n{{ customer.balance }} is overdue.",
        )
        engine.switch_workflow(workflow, actor=owner, on=True)
        customers = build_customers(practice, AR_CUSTOMERS, "A", invoices=True)
        far = dt.datetime.now(dt.UTC) + dt.timedelta(days=300)
        assign(practice, workflow, customers, on=dt.date.today(), due=far)
        invoices = Invoice.objects.filter(practice=practice)
        number = dict(invoices.values_list("customer_id", "number"))
        runs = ActionRun.objects.filter(practice=practice).order_by("pk")
        pairs = runs.values_list("pk", "assignment__customer")
        return [(pk, f"AR {number[customer]}") for pk, customer in pairs]


class Releases:
    """Makes work due, a wave at a time, and remembers every email the released work owes."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.pools = {
            "confirms": collections.deque(plan.confirms),
            "recurrences": collections.deque(plan.recurrences),
            "ar": collections.deque(plan.ar_runs),
        }
        self.expected: list[str] = []  # the timer-driven emails owed (chains: see Ledger)

    def release(self, confirms: int, ar: int, recurrences: int, spread_s: float = 0) -> list[str]:
        """Make so much work due (due times spread over the last `spread_s` seconds); return
        the subjects of the emails it owes. Retried until the database answers."""
        from django.db import connection, transaction

        from collections_ar.models import ActionRun
        from sodium.models import Recurrence, Timer

        wanted = {"confirms": confirms, "ar": ar, "recurrences": recurrences}
        take = {
            name: [pool.popleft() for _ in range(min(wanted[name], len(pool)))]
            for name, pool in self.pools.items()
        }
        due = "now() - random() * %s * interval '1 second'"
        statements = [
            (Timer, "due_at", "key", [k for k, _ in take["confirms"]]),
            (ActionRun, "due_at", "id", [pk for pk, _ in take["ar"]]),
            (Recurrence, "next_run_at", "id", [pk for pk, _ in take["recurrences"]]),
        ]
        for _attempt in range(120):
            try:
                with transaction.atomic(), connection.cursor() as cur:
                    for model, column, key, values in statements:
                        extra = ", paused = false" if model is Recurrence else ""
                        cur.execute(
                            f"UPDATE {model._meta.db_table} SET {column} = {due}{extra}"
                            f" WHERE {key} = ANY(%s)",
                            [spread_s, values],
                        )
                break
            except Exception as exc:  # the database is restarting: try again
                print(f"# release retried: {type(exc).__name__}", file=sys.stderr)
                connection.close()
                time.sleep(0.5)
        else:
            raise RuntimeError("the database did not come back")
        subjects = [s for _, s in take["confirms"]] + [s for _, s in take["ar"]]
        subjects += [s for _, group in take["recurrences"] for s in group]
        self.expected.extend(subjects)
        return subjects
