"""Build the demo practice that `make run` serves (used by `manage.py seed_demo`)."""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from sodium import demo_recurring, engine
from sodium.models import Client, Membership, Practice, Tag, Task, User
from sodium.roles import Role
from sodium.services import clients as client_services
from sodium.services import members as member_services
from sodium.services import practices as practice_services
from sodium.tenancy import practice_scope

DEMO_SLUG = "hartley-finch"

# Apps add their own demo data (workflow templates…) here, so the core imports none of them.
# A builder is called as builder(practice, owner=…, manager=…) inside the practice's scope.
DEMO_BUILDERS: list[Callable[..., None]] = []


def register_demo_builder(builder: Callable[..., None]) -> None:
    if builder not in DEMO_BUILDERS:
        DEMO_BUILDERS.append(builder)


DEMO_PASSWORD = "sodium-demo-2026"

PEOPLE = [
    ("Olivia Hartley", "olivia@hartleyfinch.example", Role.OWNER),
    ("Adam Finch", "adam@hartleyfinch.example", Role.ADMIN),
    ("Maya Patel", "maya@hartleyfinch.example", Role.MANAGER),
    ("Sam Okafor", "sam@hartleyfinch.example", Role.STAFF),
    ("Rachel Green", "rachel@hartleyfinch.example", Role.AR_MANAGER),
    ("Tom Byrne", "tom@hartleyfinch.example", Role.AR_SPECIALIST),
]
DEMO_MANAGER_EMAIL = "maya@hartleyfinch.example"

TAGS = [
    ("VAT registered", "blue"),
    ("Payroll", "green"),
    ("Priority", "red"),
    ("New client", "purple"),
    ("Making Tax Digital", "amber"),
    ("Dormant", "grey"),
]
SERVICES = [
    ("Year-end accounts", "Statutory accounts and filing at Companies House."),
    ("Corporation tax return", "CT600 preparation and submission."),
    ("VAT returns", "Quarterly VAT returns under Making Tax Digital."),
    ("Payroll", "Monthly payroll, RTI submissions and payslips."),
    ("Bookkeeping", "Monthly bookkeeping and bank reconciliations."),
    ("Self assessment", "Personal tax returns for directors and individuals."),
    ("Company secretarial", "Confirmation statements and statutory registers."),
]
PREFIXES = [
    "Acorn",
    "Bluebell",
    "Copperleaf",
    "Driftwood",
    "Elmstead",
    "Foxglove",
    "Granite",
    "Harbour",
    "Ironbridge",
    "Juniper",
    "Kestrel",
    "Larkspur",
    "Meadowbank",
    "Northgate",
    "Oakfield",
    "Pennywell",
    "Quayside",
    "Riverside",
    "Saltmarsh",
    "Thistle",
    "Upland",
    "Valley",
    "Willow",
    "Yew Tree",
    "Ashdown",
    "Brackenridge",
    "Cobble",
    "Dovecote",
    "Emberly",
    "Fernhill",
    "Greystone",
    "Hawthorn",
    "Ivybridge",
    "Kingsmead",
    "Lowther",
    "Marsh Lane",
    "Nettlebed",
    "Orchard",
    "Primrose",
    "Redbrook",
    "Stonecross",
    "Tanners",
]
TRADES = [
    ("Bakery", Client.Type.LIMITED_COMPANY),
    ("Joinery", Client.Type.LIMITED_COMPANY),
    ("Dental Practice", Client.Type.LLP),
    ("Plumbing", Client.Type.SOLE_TRADER),
    ("Consulting", Client.Type.LIMITED_COMPANY),
    ("Garden Centre", Client.Type.PARTNERSHIP),
    ("Brewery", Client.Type.LIMITED_COMPANY),
    ("Architects", Client.Type.LLP),
    ("Florist", Client.Type.SOLE_TRADER),
    ("Trust", Client.Type.TRUST),
    ("Community Hall", Client.Type.CHARITY),
    ("Software", Client.Type.LIMITED_COMPANY),
    ("Veterinary Surgery", Client.Type.PARTNERSHIP),
    ("Electrical", Client.Type.LIMITED_COMPANY),
]
FIRST = [
    "James",
    "Sophie",
    "Daniel",
    "Aisha",
    "Liam",
    "Grace",
    "Noah",
    "Priya",
    "Oliver",
    "Hannah",
    "Ethan",
    "Zara",
    "Lucas",
    "Chloe",
    "Ryan",
    "Megan",
    "Owen",
    "Ellie",
]
LAST = [
    "Walker",
    "Khan",
    "Roberts",
    "Evans",
    "Murphy",
    "Shah",
    "Hughes",
    "Campbell",
    "Bennett",
    "Price",
    "Reid",
    "Ward",
    "Morgan",
    "Ali",
    "Hall",
    "Cooper",
]


def demo_exists() -> bool:
    return Practice.objects.filter(slug=DEMO_SLUG).exists()


def _user(name: str, email: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=name)
    return user


@transaction.atomic
def build_demo(
    seed: int = 2026, *, history_months: int = demo_recurring.HISTORY_MONTHS
) -> Practice:
    """Create the demo practice with members, teams, services, tags, clients and tasks.

    `history_months` is how far back its recurrences start: a year for the demo people see;
    a browser journey that needs the practice, not its past, asks for one month (a year's
    history is most of the build's time).
    """
    rng = random.Random(seed)
    users = {role: _user(name, email) for name, email, role in PEOPLE}
    owner = users[Role.OWNER]
    practice = practice_services.create_practice(
        name="Hartley & Finch Accountants",
        owner=owner,
        sender_name="Hartley & Finch",
        reply_to="hello@hartleyfinch.example",
        primary_colour="#0f6e6e",
    )
    # create_practice makes a fresh slug; the demo uses a fixed one so it is found again.
    Practice.objects.filter(pk=practice.pk).update(slug=DEMO_SLUG)
    practice.refresh_from_db()
    today = timezone.localdate()
    with practice_scope(practice):
        for _, _email, role in PEOPLE:
            if role != Role.OWNER:
                Membership.objects.create(practice=practice, user=users[role], role=role)
        accounts = member_services.save_team(
            practice=practice,
            actor=owner,
            name="Accounts",
            members=[users[Role.MANAGER], users[Role.STAFF]],
        )
        tax = member_services.save_team(
            practice=practice,
            actor=owner,
            name="Tax",
            members=[users[Role.ADMIN], users[Role.MANAGER]],
        )
        member_services.save_team(
            practice=practice,
            actor=owner,
            name="Credit control",
            members=[users[Role.AR_MANAGER], users[Role.AR_SPECIALIST]],
        )
        tags = [
            client_services.create_tag(practice=practice, actor=owner, name=n, colour=c)
            for n, c in TAGS
        ]
        services = [
            client_services.create_service(
                practice=practice,
                actor=owner,
                name=n,
                description=d,
                default_team=tax if "tax" in n.lower() else accounts,
            )
            for n, d in SERVICES
        ]
        managers = [users[Role.MANAGER], users[Role.STAFF], users[Role.ADMIN]]
        for i, prefix in enumerate(PREFIXES):
            trade, ctype = TRADES[i % len(TRADES)]
            name = f"{prefix} {trade}" + (" Ltd" if ctype == Client.Type.LIMITED_COMPANY else "")
            vat = rng.choice(Client.VatPeriods.values)
            client = client_services.create_client(
                practice=practice,
                actor=owner,
                name=name,
                reference=f"{prefix.replace(' ', '')[:5].upper()}{i + 1:02d}",
                type=ctype,
                year_end_day=rng.choice([31, 30, 31, 28]) if i % 7 else 31,
                year_end_month=rng.choice([3, 12, 6, 9, 1]),
                vat_periods=vat,
                company_number=f"{rng.randint(1000000, 15999999):08d}"
                if ctype in (Client.Type.LIMITED_COMPANY, Client.Type.LLP)
                else "",
                confirmation_statement_date=_review_date(i, ctype),
                client_manager=managers[i % 3],
                partner=owner,
                associate=users[Role.STAFF] if i % 2 else None,
                default_assignee=users[Role.STAFF],
                default_reviewer=users[Role.MANAGER],
                tags=_pick_tags(rng, tags, vat),
            )
            # A real year end: the last day of the month at most (no 31 June), as the form
            # requires; February counts 28 days.
            last = calendar.monthrange(2023, client.year_end_month)[1]
            if client.year_end_day > last:
                Client.objects.filter(pk=client.pk).update(year_end_day=last)
            _add_contacts(rng, client, owner, i)
            chosen = rng.sample(services, k=rng.randint(1, 3))
            for service in chosen:
                client_services.add_client_service(
                    client, actor=owner, service=service, service_manager=managers[(i + 1) % 3]
                )
            _add_tasks(rng, practice, client, chosen, users, today)
        # Quarterly VAT, annual accounts, monthly payroll and confirmation statements, with a
        # year of generated tasks behind them (the app builders attach their templates).
        demo_recurring.build_recurring_history(
            practice, actor=users[Role.MANAGER], now=timezone.now(), months=history_months
        )
        for builder in DEMO_BUILDERS:
            builder(practice, owner=owner, manager=users[Role.MANAGER])
        # A second practice the owner also belongs to, to show the practice switcher.
        bureau = practice_services.create_practice(
            name="Finch Payroll Bureau", owner=owner, primary_colour="#6941c6"
        )
    with practice_scope(bureau):
        Membership.objects.create(practice=bureau, user=users[Role.ADMIN], role=Role.ADMIN)
    User.objects.filter(pk__in=[u.pk for u in users.values()]).update(last_practice=practice)
    return practice


def _review_date(i: int, ctype: str) -> dt.date | None:
    """A company's confirmation statement review date (derived, not drawn, so the seed's
    other choices stay as they were)."""
    if ctype not in (Client.Type.LIMITED_COMPANY, Client.Type.LLP):
        return None
    return dt.date(2014 + i % 10, 1 + (i * 5) % 12, 1 + (i * 11) % 28)


def _pick_tags(rng: random.Random, tags: list[Tag], vat: str) -> list[Tag]:
    chosen = [tags[0]] if vat != Client.VatPeriods.NONE else []
    chosen += [t for t in rng.sample(tags[1:], k=rng.randint(0, 2)) if t not in chosen]
    return chosen


def _add_contacts(rng: random.Random, client: Client, actor: User, i: int) -> None:
    domain = client.name.lower().replace(" ltd", "").replace(" ", "") + ".example"
    for n in range(rng.randint(1, 3)):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        client_services.add_contact(
            client,
            actor=actor,
            first_name=first,
            last_name=last,
            email=f"{first.lower()}@{domain}",
            phone=f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
            # Ofcom's drama range (07700 900xxx): numbers that reach nobody. Derived, not drawn,
            # so the rest of the demo stays as the seed made it.
            mobile=f"07700 900{(i * 3 + n) % 1000:03d}" if n < 2 else "",
            sms_opt_out=n == 1 and i % 5 == 0,
            is_main=n == 0,
            is_billing=n == 0 or rng.random() < 0.3,
            is_director=n == 0 and client.type in ("limited_company", "llp"),
            is_payroll=n == 1,
            is_accounts=n == 2 or (n == 0 and i % 4 == 0),
        )


def _add_tasks(rng, practice, client, services, users, today) -> None:
    for service in services:
        # Every draw is made whatever the service, so the rest of the seed stays the same.
        due = today + dt.timedelta(days=rng.randint(-20, 75))
        start = due - dt.timedelta(days=rng.choice([21, 30, 45]))
        owner = rng.choice([users[Role.MANAGER], users[Role.STAFF], users[Role.ADMIN]])
        roll = rng.random()
        if service.name in demo_recurring.RECURRING_SERVICES:
            continue  # its recurrence makes this client's tasks, one per period
        task = engine.create_task(
            practice=practice,
            client=client,
            actor=users[Role.OWNER],
            name=f"{service.name} {due.year}",
            service=service,
            owner=owner,
            team=service.default_team,
            start_date=start,
            due_date=due,
        )
        if start <= today:
            engine.change_task_status(task, to=Task.Status.IN_PROGRESS, actor=task.owner)
            if roll < 0.25:
                engine.change_task_status(task, to=Task.Status.DONE, actor=task.owner)
            elif roll < 0.33:
                engine.change_task_status(
                    task, to=Task.Status.ON_HOLD, actor=task.owner, note="Waiting for the client"
                )
