"""The world bench/load.py runs its users in: one practice, its people, clients and work.

Built with the real building, attaching and engine functions (as the tests build theirs), then
written as a plan (JSON) that the locust users read (`bench/_load_users.py`):

- staff: each owns TASKS_PER_STAFF tasks of the "Chain" template: a manual "Prepare" step
  whose dependent "Email" step sends automatically once it is done (the chain whose messages
  are counted), and a manual "Covering letter" email step (its composer is opened, never
  sent);
- managers: each edits a template of their own (so two managers never save the same step);
- clients: each contact has SETS_PER_CONTACT tasks of the "Client items" template, run by the
  engine until the client has three things to do: upload to a document request, approve a
  document sent for approval, press a confirmation link's button. The plan holds the links
  the emails would carry (tokens minted with `portal.access.issue_token`, as the tests do).

Nothing here runs on its own (the name starts with an underscore, so `make bench` skips it).
"""

from __future__ import annotations

import collections
import datetime as dt
from unittest import mock

PASSWORD = "load-test-password-2026"
STAFF = 130
TASKS_PER_STAFF = 30
MANAGERS = 25
CONTACTS = 100
SETS_PER_CONTACT = 4
CHAIN_SUBJECT = "Draft ready: "  # + the task's name: how a chain's email is found in the files
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

RUN = "workflows.tasks.run_step_task.delay"
DELIVER = "sodium.tasks.deliver_message_task.delay"


def _people(practice, role: str, prefix: str, count: int, hashed: str) -> list:
    from sodium.models import Membership, User

    people = User.objects.bulk_create(
        User(email=f"{prefix}{i}@load.example", full_name=f"{prefix.title()} {i}", password=hashed)
        for i in range(count)
    )
    Membership.objects.bulk_create(Membership(practice=practice, user=u, role=role) for u in people)
    return people


def _chain_template(practice, actor):
    from workflows import building

    template = building.create_template(practice=practice, actor=actor, name="Chain")
    group = template.groups.get()
    first = building.add_step(group, actor=actor, name="Prepare", type="simple")
    building.add_step(
        group,
        actor=actor,
        depends_on=[first],
        name="Email",
        type="email",
        mode="automatic",
        subject=CHAIN_SUBJECT + "{{ task.name }}",
        body="Dear {{ contacts.main.first_name }},\n\nYour {{ task.name }} is ready.",
        to_recipients=["contact:main"],
    )
    building.add_step(
        group,
        actor=actor,
        name="Covering letter",
        type="email",
        mode="manual",
        subject="Your {{ task.name }}",
        body="Dear {{ contacts.main.first_name }},\n\nPlease find enclosed your {{ task.name }}.",
        to_recipients=["contact:main"],
    )
    return template


def _client_template(practice, actor):
    from workflows import building

    template = building.create_template(practice=practice, actor=actor, name="Client items")
    group = template.groups.get()
    building.add_step(
        group,
        actor=actor,
        name="Send bank statements",
        type="document_request",
        mode="automatic",
        to_recipients=["contact:main"],
        settings={"title": "Bank statements", "deadline_days": 7},
    )
    building.add_step(
        group,
        actor=actor,
        name="Approve draft accounts",
        type="document_approval",
        mode="manual",
        to_recipients=["contact:main"],
    )
    building.add_step(
        group,
        actor=actor,
        name="Confirm filing",
        type="client_confirmation",
        mode="automatic",
        to_recipients=["contact:main"],
        settings={
            "message": "Please confirm you are happy for us to file the accounts.",
            "button_text": "Yes, file them",
            "thank_you": "Thank you, we will file them this week.",
        },
    )
    return template


def _manager_template(practice, actor, i: int):
    from workflows import building

    template = building.create_template(practice=practice, actor=actor, name=f"Year end {i}")
    group = template.groups.get()
    first = building.add_step(group, actor=actor, name="Prepare draft accounts", type="simple")
    email = building.add_step(
        group,
        actor=actor,
        depends_on=[first],
        name="Send the draft",
        type="email",
        mode="manual",
        subject="Your draft accounts for {{ task.name }}",
        body="Dear {{ contacts.main.first_name }},\n\nYour draft accounts are attached.",
        to_recipients=["contact:main"],
    )
    building.add_step(group, actor=actor, depends_on=[email], name="File", type="simple")
    return template, group, email


def _tasks(practice, clients, owners, count: int, label: str) -> list:
    from sodium.models import Task

    today = dt.date.today()
    return Task.objects.bulk_create(
        Task(
            practice=practice,
            client=clients[i % len(clients)],
            name=f"{label} {i}",
            owner=owners[i % len(owners)],
            status="in_progress",
            start_date=today,
            due_date=today + dt.timedelta(days=30),
        )
        for i in range(count)
    )


def build_world() -> dict:
    """Fill the (fresh, migrated) database; return the plan the locust users follow."""
    from django.contrib.auth.hashers import make_password
    from django_scopes import scopes_disabled

    from sodium.models import Client, Contact, Practice
    from sodium.tenancy import practice_scope
    from workflows.attach import attach_template_to_tasks
    from workflows.models import Step

    with scopes_disabled():
        practice = Practice.objects.create(name="Load & Co", slug="load")
        hashed = make_password(PASSWORD)  # hashed once: PBKDF2 per user would take minutes
        staff = _people(practice, "staff", "staff", STAFF, hashed)
        managers = _people(practice, "manager", "manager", MANAGERS, hashed)
        clients = Client.objects.bulk_create(
            Client(practice=practice, name=f"Client {i}", reference=f"L{i}")
            for i in range(CONTACTS)
        )
        Contact.objects.bulk_create(
            Contact(
                practice=practice,
                client=c,
                first_name="Ann",
                email=f"ann{c.pk}@client.example",
                is_main=True,
            )
            for c in clients
        )
    plan: dict = {"password": PASSWORD, "staff": [], "managers": [], "clients": []}
    with practice_scope(practice):
        chain = _chain_template(practice, managers[0])
        staff_tasks = _tasks(practice, clients, staff, STAFF * TASKS_PER_STAFF, "Load task")
        # Automatic work would be queued to Redis here; none is ready in the chain anyway.
        with mock.patch(RUN):
            attach_template_to_tasks(staff_tasks, chain, actor=managers[0])
        steps: dict[int, dict[str, int]] = collections.defaultdict(dict)
        for task_id, name, pk in Step.objects.filter(task__in=staff_tasks).values_list(
            "task_id", "name", "pk"
        ):
            steps[task_id][name] = pk
        work: dict[int, list] = collections.defaultdict(list)
        for t in staff_tasks:
            s = steps[t.pk]
            work[t.owner_id].append([t.pk, s["Prepare"], s["Email"], s["Covering letter"]])
        plan["staff"] = [{"email": u.email, "tasks": work[u.pk]} for u in staff]

        for i, manager in enumerate(managers):
            template, group, email = _manager_template(practice, manager, i)
            plan["managers"].append(
                {
                    "email": manager.email,
                    "template": template.pk,
                    "group": group.pk,
                    "step": email.pk,
                }
            )

        plan["clients"] = _client_items(practice, clients, staff, managers[0])
    return plan


def _client_items(practice, clients, staff, actor) -> list[dict]:
    """Run each contact's item tasks until the client has something to do; return the links."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from portal import access
    from portal import engine as portal_engine
    from portal.models import AccessToken
    from sodium.models import Contact
    from workflows import engine as wf_engine
    from workflows.attach import attach_template_to_tasks
    from workflows.models import Step

    template = _client_template(practice, actor)
    tasks = _tasks(practice, clients, staff, len(clients) * SETS_PER_CONTACT, "Client task")
    with mock.patch(RUN):
        attach_template_to_tasks(tasks, template, actor=actor)
    contacts = {c.client_id: c for c in Contact.objects.filter(practice=practice)}
    by_task: dict[int, dict[str, Step]] = collections.defaultdict(dict)
    for step in Step.objects.filter(task__in=tasks).select_related("task", "task__client"):
        by_task[step.task_id][step.type] = step
    sets: dict[int, list] = collections.defaultdict(list)
    # The portal's emails stay queued in the outbox: only the chain's messages are counted.
    with mock.patch(DELIVER), mock.patch(RUN):
        for task in tasks:
            items = by_task[task.pk]
            wf_engine.run_step(items["document_request"].pk)
            wf_engine.run_step(items["client_confirmation"].pk)
            approval = items["document_approval"]
            portal_engine.send_document_for_approval(
                approval,
                actor=actor,
                title="Draft accounts",
                upload=SimpleUploadedFile("draft.pdf", PDF, content_type="application/pdf"),
            )
            contact = contacts[task.client_id]
            step_token = AccessToken.Purpose.STEP
            sets[contact.pk].append(
                {
                    "request": items["document_request"].pk,
                    "request_link": access.issue_token(
                        contact, purpose=step_token, step=items["document_request"]
                    ),
                    "approval": approval.pk,
                    "approval_link": access.issue_token(contact, purpose=step_token, step=approval),
                    "confirm_link": access.issue_token(
                        contact, purpose=step_token, step=items["client_confirmation"]
                    ),
                }
            )
    return [{"contact": pk, "sets": s} for pk, s in sets.items()]
