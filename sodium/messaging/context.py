"""The variables every message has (practice, client, contacts by role, today) and the one
builder that fills them. Apps add their own groups on top (`workflows.context`)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from sodium.messaging.variables import Group, Variable, register_group
from sodium.models import Client, Contact, Practice

CONTACT_ROLES = tuple(Contact.ROLE_FIELDS)

PRACTICE = Group(
    "practice",
    "Practice",
    (
        Variable("practice.name", "Your practice's name", "Hartley & Finch Accountants"),
        Variable("practice.sender_name", "The name emails are sent from", "Hartley & Finch"),
        Variable("practice.reply_to", "Where client replies go", "hello@hartleyfinch.example"),
    ),
)
CLIENT = Group(
    "client",
    "Client",
    (
        Variable("client.name", "The client's name", "Acorn Bakery Ltd"),
        Variable("client.reference", "Your reference for the client", "ACORN01"),
        Variable("client.type", "Limited company, sole trader, …", "Limited company"),
        Variable("client.company_number", "Companies House number", "09430815"),
        Variable("client.year_end", "The client's year end (day and month)", "31 March"),
        Variable("client.next_year_end", "The next year-end date", "31 March 2027"),
        Variable(
            "client.confirmation_statement_date",
            "The confirmation statement's review date",
            "14 March 2026",
        ),
    ),
)
CONTACTS = Group(
    "contacts",
    "Contacts",
    tuple(
        Variable(f"contacts.{role}.{part}", f"The {role} contact's {label}", example)
        for role in CONTACT_ROLES
        for part, label, example in (
            ("name", "full name", "Ellie Ali"),
            ("first_name", "first name", "Ellie"),
            ("email", "email address", "ellie@acornbakery.example"),
        )
    ),
    objects=tuple(f"contacts.{role}" for role in CONTACT_ROLES),
)
TODAY = Group("today", "Dates", (Variable("today", "Today's date", "23 November 2026"),))

for _group in (PRACTICE, CLIENT, CONTACTS, TODAY):
    register_group(_group)


def format_date(value) -> str:
    """Return `value` as "1 December 2026" ("" for None)."""
    return f"{value.day} {value:%B %Y}" if value else ""


def contact_values(contact: Contact | None) -> dict[str, str]:
    """Return a contact's name, first name and email ("" each when there is none)."""
    if contact is None:
        return {"name": "", "first_name": "", "email": ""}
    return {"name": contact.full_name, "first_name": contact.first_name, "email": contact.email}


def contacts_by_role(contacts: list[Contact]) -> dict[str, Contact | None]:
    """Return the first contact holding each role (None where nobody does)."""
    return {
        role: next((c for c in contacts if getattr(c, Contact.ROLE_FIELDS[role])), None)
        for role in CONTACT_ROLES
    }


def client_context(
    *, practice: Practice, client: Client, contacts: list[Contact] | None = None
) -> dict[str, Any]:
    """Return the core groups' values for a message to `client` of `practice`.

    Reads the client's contacts when `contacts` is None (one query).
    """
    if contacts is None:
        contacts = list(Contact.objects.filter(practice=practice, client=client))
    return {
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
            "next_year_end": format_date(client.next_year_end()),
            "confirmation_statement_date": format_date(client.confirmation_statement_date),
        },
        "contacts": {role: contact_values(c) for role, c in contacts_by_role(contacts).items()},
        "today": format_date(timezone.localdate()),
    }
