"""The variables every step message can use, and the one builder that fills them.

VARIABLES is the single list: `docs/liquid-variables.md` is generated from it and the token
picker reads it as data. Every message (step email, chase, portal notice) uses build_context.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from sodium import liquid
from sodium.models import Client, ClientService, Contact, Practice, Task

if TYPE_CHECKING:
    from workflows.models import Step


@dataclass(frozen=True)
class Variable:
    path: str
    description: str
    example: str


CONTACT_ROLES = ("main", "billing", "payroll", "accounts", "director")

VARIABLES: list[Variable] = [
    Variable("practice.name", "Your practice's name", "Hartley & Finch Accountants"),
    Variable("practice.sender_name", "The name emails are sent from", "Hartley & Finch"),
    Variable("practice.reply_to", "Where client replies go", "hello@hartleyfinch.example"),
    Variable("client.name", "The client's name", "Acorn Bakery Ltd"),
    Variable("client.reference", "Your reference for the client", "ACORN01"),
    Variable("client.type", "Limited company, sole trader, …", "Limited company"),
    Variable("client.company_number", "Companies House number", "09430815"),
    Variable("client.year_end", "The client's year end (day and month)", "31 March"),
    Variable("client.next_year_end", "The next year-end date", "31 March 2027"),
    *[
        Variable(f"contacts.{role}.{part}", f"The {role} contact's {label}", example)
        for role in CONTACT_ROLES
        for part, label, example in (
            ("name", "full name", "Ellie Ali"),
            ("first_name", "first name", "Ellie"),
            ("email", "email address", "ellie@acornbakery.example"),
        )
    ],
    Variable("task.name", "The task's name", "Year-end accounts 2026"),
    Variable("task.start_date", "When the task starts", "1 December 2026"),
    Variable("task.due_date", "When the task is due", "31 December 2026"),
    Variable("task.service", "The service the task is for", "Year-end accounts"),
    Variable("task.owner.name", "The task owner's name", "Maya Patel"),
    Variable("task.owner.email", "The task owner's email", "maya@hartleyfinch.example"),
    Variable("step.name", "This step's name (your team's name for it)", "Send draft accounts"),
    Variable(
        "step.title",
        "What the client sees the step as: the request's or document's title, else the task's name",
        "Bank statements for the year",
    ),
    Variable("step.deadline", "The client's deadline, for document requests", "7 December 2026"),
    Variable("assignee.name", "The person the step is assigned to", "Sam Okafor"),
    Variable("assignee.first_name", "Their first name", "Sam"),
    Variable("assignee.email", "Their email", "sam@hartleyfinch.example"),
    Variable("portal_link", "Link to the client's portal", "https://…/portal/"),
    Variable("action_link", "Link to act on this step (upload, approve, confirm)", "https://…"),
    Variable("today", "Today's date", "23 November 2026"),
    # Only in the portal's built-in emails (empty elsewhere):
    Variable("contact.first_name", "Portal emails: the person's first name", "Ellie"),
    Variable("contact.name", "Portal emails: the person's full name", "Ellie Ali"),
    Variable("reason", "Returned submissions: why", "The March statement is missing."),
    Variable("document.title", "Approvals: the document's title", "Draft accounts 2026"),
    Variable("document.category", "Approvals: the document's category", "Accounts"),
    Variable(
        "confirmation.message",
        "Confirmations: what the client confirms",
        "Please confirm all accounting entries have been made.",
    ),
]

KNOWN_PATHS = [v.path for v in VARIABLES] + [f"contacts.{role}" for role in CONTACT_ROLES]


def _date(value) -> str:
    return f"{value.day} {value:%B %Y}" if value else ""


def _person(user) -> dict[str, str]:
    if user is None:
        return {"name": "", "first_name": "", "email": ""}
    return {"name": user.full_name, "first_name": user.get_short_name(), "email": user.email}


def _contact(contact: Contact | None) -> dict[str, str]:
    if contact is None:
        return {"name": "", "first_name": "", "email": ""}
    return {"name": contact.full_name, "first_name": contact.first_name, "email": contact.email}


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
    if contacts is None:
        contacts = list(Contact.objects.filter(practice=practice, client=client))
    by_role = {
        role: next((c for c in contacts if getattr(c, Contact.ROLE_FIELDS[role])), None)
        for role in CONTACT_ROLES
    }
    next_ye = client.next_year_end()
    context: dict[str, Any] = {
        "practice": {
            "name": practice.name,
            "sender_name": practice.display_sender,
            "reply_to": practice.reply_to,
        },
        "client": {
            "name": client.name,
            "reference": client.reference,
            "type": client.get_type_display(),
            "company_number": client.company_number,
            "year_end": client.year_end_label,
            "next_year_end": _date(next_ye),
        },
        "contacts": {role: _contact(c) for role, c in by_role.items()},
        "task": {},
        "step": {},
        "assignee": _person(None),
        "portal_link": portal_link or f"{settings.SITE_URL}/portal/",
        "action_link": action_link,
        "today": _date(timezone.localdate()),
        "contact": {"first_name": "", "name": ""},
        "reason": "",
        "document": {"title": "", "category": ""},
        "confirmation": {"message": ""},
    }
    if task is not None:
        service = task.service.name if task.service_id else ""
        context["task"] = {
            "name": task.name,
            "start_date": _date(task.start_date),
            "due_date": _date(task.due_date),
            "service": service,
            "owner": _person(task.owner),
        }
    if step is not None:
        context["step"] = {"name": step.name, "deadline": _date(step.deadline)}
        context["assignee"] = _person(step.assignee)
    context.update(extra or {})
    if step is not None:
        context["step"]["title"] = client_title(
            step, document_title=(context.get("document") or {}).get("title", "")
        )
    return context


def sample_context(practice: Practice) -> dict[str, Any]:
    """Return a context filled with the documented examples (for previews without a client)."""
    context: dict[str, Any] = {}
    for var in VARIABLES:
        node = context
        parts = var.path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = var.example
    context["practice"]["name"] = practice.name
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


def variables_markdown() -> str:
    """Return the Markdown table of variables (docs/liquid-variables.md is this output)."""
    lines = [
        "# Variables for emails and portal messages",
        "",
        "Every email a step sends, every chase and every portal notice can use these Liquid",
        'variables, e.g. `Dear {{ contacts.main.first_name | default: "client" }}`. Missing',
        "values render empty, so use `default` for a fallback. Values are escaped in HTML email.",
        "This page is generated from `workflows/context.py` (`manage.py liquid_variables`).",
        "",
        "`{% include %}` and `{% render %}` are not supported. Every render is bounded: at most",
        f"{liquid.LOOP_LIMIT:,} loop passes (and numbers in a range), "
        f"{liquid.OUTPUT_LIMIT // 1000} KB of output,",
        f"{liquid.LOCALS_LIMIT // 1000} KB held in `assign` and `capture`, "
        f"{liquid.RENDER_SECONDS} seconds. A template that goes",
        "over is refused when saved if it does so with no values; otherwise the preview and the",
        "composer say so, and an automatic step fails with the reason.",
        "",
        "| variable | what it is | example |",
        "|---|---|---|",
    ]
    lines += [f"| `{{{{ {v.path} }}}}` | {v.description} | {v.example} |" for v in VARIABLES]
    return "\n".join(lines) + "\n"
