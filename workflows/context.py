"""Workflows' message uses (a step's email, a chase) and the builder of their context.

The core (`sodium.messaging`) keeps the registry and the groups every message has; this
module registers the groups only steps have (task, step, assignee, links) and the two uses.
Every message about a step (step email, chase, portal notice) is built by build_context.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings

from sodium.messaging import context as core
from sodium.messaging.variables import (
    AllKnownPaths,
    AllVariables,
    Group,
    Use,
    Variable,
    register_group,
    register_use,
)
from sodium.models import Client, ClientService, Contact, Practice, Task

if TYPE_CHECKING:
    from workflows.models import Step

STEP_EMAIL = "workflows.step_email"
CHASE = "workflows.chase"

CONTACT_ROLES = core.CONTACT_ROLES

GROUPS = (
    Group(
        "task",
        "Task",
        (
            Variable("task.name", "The task's name", "Year-end accounts 2026"),
            Variable("task.start_date", "When the task starts", "1 December 2026"),
            Variable("task.due_date", "When the task is due", "31 December 2026"),
            Variable("task.service", "The service the task is for", "Year-end accounts"),
            Variable("task.owner.name", "The task owner's name", "Maya Patel"),
            Variable("task.owner.email", "The task owner's email", "maya@hartleyfinch.example"),
        ),
    ),
    Group(
        "step",
        "Step",
        (
            Variable(
                "step.name", "This step's name (your team's name for it)", "Send draft accounts"
            ),
            Variable(
                "step.title",
                "What the client sees the step as: the request's or document's title, else the "
                "task's name",
                "Bank statements for the year",
            ),
            Variable(
                "step.deadline", "The client's deadline, for document requests", "7 December 2026"
            ),
        ),
    ),
    Group(
        "assignee",
        "Assignee",
        (
            Variable("assignee.name", "The person the step is assigned to", "Sam Okafor"),
            Variable("assignee.first_name", "Their first name", "Sam"),
            Variable("assignee.email", "Their email", "sam@hartleyfinch.example"),
        ),
    ),
    Group(
        "links",
        "Links",
        (
            Variable("portal_link", "Link to the client's portal", "https://…/portal/"),
            Variable(
                "action_link", "Link to act on this step (upload, approve, confirm)", "https://…"
            ),
        ),
    ),
)
STEP_GROUPS = ("practice", "client", "contacts", "task", "step", "assignee", "links", "today")

for _group in GROUPS:
    register_group(_group)


def _build(*, practice: Practice, client: Client, task: Task | None = None) -> dict[str, Any]:
    return build_context(practice=practice, client=client, task=task)


register_use(
    Use(
        STEP_EMAIL,
        "Step email",
        STEP_GROUPS,
        description="A step's own email, and the content blocks steps use.",
        build=_build,
    )
)
register_use(
    Use(
        CHASE,
        "Chase",
        STEP_GROUPS,
        description="The reminders a step sends until the client acts.",
        build=_build,
    )
)

# Every registered variable and path, read when used (kept for the editors and checks that
# still accept any use's variables).
VARIABLES = AllVariables()
KNOWN_PATHS = AllKnownPaths()


def _person(user) -> dict[str, str]:
    if user is None:
        return {"name": "", "first_name": "", "email": ""}
    return {"name": user.full_name, "first_name": user.get_short_name(), "email": user.email}


def client_title(step: Step, *, document_title: str = "") -> str:
    """Return what the client sees `step` as: its request's or document's title, else the
    task's name. Step names are the team's own and never shown to clients."""
    title = (step.settings or {}).get("title") or document_title
    return str(title).strip() or step.task.name


def build_context(
    *,
    practice: Practice,
    client: Client,
    task: Task | None = None,
    step: Step | None = None,
    contacts: list[Contact] | None = None,
    action_link: str = "",
    portal_link: str = "",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the Liquid variables for a message about `client` (and `task`, `step`)."""
    context: dict[str, Any] = core.client_context(
        practice=practice, client=client, contacts=contacts
    )
    context.update(
        {
            "task": {},
            "step": {},
            "assignee": _person(None),
            "portal_link": portal_link or f"{settings.SITE_URL}/portal/",
            "action_link": action_link,
            # Filled by the portal's notices; empty (never missing) elsewhere.
            "contact": {"first_name": "", "name": ""},
            "reason": "",
            "document": {"title": "", "category": ""},
            "confirmation": {"message": ""},
        }
    )
    if task is not None:
        service = task.service.name if task.service_id else ""
        context["task"] = {
            "name": task.name,
            "start_date": core.format_date(task.start_date),
            "due_date": core.format_date(task.due_date),
            "service": service,
            "owner": _person(task.owner),
        }
    if step is not None:
        context["step"] = {"name": step.name, "deadline": core.format_date(step.deadline)}
        context["assignee"] = _person(step.assignee)
    context.update(extra or {})
    if step is not None:
        context["step"]["title"] = client_title(
            step, document_title=(context.get("document") or {}).get("title", "")
        )
    return context


def sample_context(practice: Practice, use: str | None = None) -> dict[str, Any]:
    """Return a context filled with the documented examples of `use` (every variable when
    None), with the practice's own name (for previews without a client)."""
    from sodium.messaging.variables import sample_context as examples

    context = examples(use)
    context.setdefault("practice", {})["name"] = practice.name
    return context


def service_manager_for(task: Task):
    """Return the manager of the client's service that the task is for, if any."""
    if not task.service_id:
        return None
    cs = (
        ClientService.objects.filter(
            practice_id=task.practice_id, client_id=task.client_id, service_id=task.service_id
        )
        .select_related("service_manager")
        .first()
    )
    return cs.service_manager if cs else None
