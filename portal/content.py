"""The messages the portal sends: its variables, its message uses and its built-in texts.

Each built-in text is a practice-editable content block with a good default (kept by the
core, `sodium.messaging.builtins`); staff edit it like any content block, with exactly the
variables of its use. Steps without content of their own use the block for their type.
"""

from __future__ import annotations

from typing import Any

from sodium import liquid
from sodium.messaging import builtins
from sodium.messaging.builtins import Builtin
from sodium.messaging.variables import (
    Group,
    Use,
    Variable,
    extend_use,
    register_group,
    register_use,
)
from sodium.models import Practice
from workflows.context import CHASE, STEP_EMAIL, STEP_GROUPS, build_context

_SIGN_OFF = "\n\nKind regards,\n{{ practice.sender_name }}"

GROUPS = (
    Group(
        "contact",
        "Portal: the person",
        (
            Variable("contact.first_name", "Portal emails: the person's first name", "Ellie"),
            Variable("contact.name", "Portal emails: the person's full name", "Ellie Ali"),
        ),
    ),
    Group(
        "reason",
        "Portal: returned submissions",
        (Variable("reason", "Returned submissions: why", "The March statement is missing."),),
    ),
    Group(
        "document",
        "Portal: approvals",
        (
            Variable("document.title", "Approvals: the document's title", "Draft accounts 2026"),
            Variable("document.category", "Approvals: the document's category", "Accounts"),
        ),
    ),
    Group(
        "confirmation",
        "Portal: confirmations",
        (
            Variable(
                "confirmation.message",
                "Confirmations: what the client confirms",
                "Please confirm all accounting entries have been made.",
            ),
        ),
    ),
)

# key -> (label, groups beyond a step email's, description)
USES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "portal.sign_in": (
        "Portal notice: sign-in link",
        ("practice", "client", "contacts", "contact", "links", "today"),
        "Sent when a client asks for a link to sign in to the portal.",
    ),
    "portal.request_opened": (
        "Portal notice: documents requested",
        STEP_GROUPS,
        "Document request steps without content of their own.",
    ),
    "portal.submission_rejected": (
        "Portal notice: submission returned",
        (*STEP_GROUPS, "reason"),
        "Sent when you return a client's upload.",
    ),
    "portal.approval_waiting": (
        "Portal notice: approval",
        (*STEP_GROUPS, "document"),
        "Document approval steps without content of their own.",
    ),
    "portal.confirmation": (
        "Portal notice: confirmation request",
        (*STEP_GROUPS, "confirmation"),
        "Client confirmation steps without content of their own.",
    ),
    "portal.confirmation_chase": (
        "Portal notice: confirmation reminder",
        (*STEP_GROUPS, "confirmation"),
        "Confirmation chases without content of their own.",
    ),
    "portal.request_chase": (
        "Portal notice: documents reminder",
        STEP_GROUPS,
        "Document request chases without content of their own.",
    ),
    "portal.approval_chase": (
        "Portal notice: approval reminder",
        (*STEP_GROUPS, "document"),
        "Document approval chases without content of their own.",
    ),
}

DEFAULTS: dict[str, tuple[str, str, str]] = {
    "portal.sign_in": (
        "Portal: sign-in link",
        "Your sign-in link for {{ practice.name }}",
        "Hello {{ contact.first_name | default: 'there' }},\n\n"
        "Here is your link to sign in to the {{ practice.name }} client portal. It works once, "
        "within 30 minutes:\n\n{{ action_link }}\n\n"
        "If you did not ask for it, you can ignore this email." + _SIGN_OFF,
    ),
    "portal.request_opened": (
        "Portal: documents requested",
        "Documents needed: {{ step.title }}",
        "Dear {{ contacts.main.first_name | default: 'client' }},\n\n"
        "We need some documents from you for {{ task.name }}{% if step.deadline != '' %} by "
        "{{ step.deadline }}{% endif %}. You can upload them securely here:\n\n"
        "{{ action_link }}" + _SIGN_OFF,
    ),
    "portal.submission_rejected": (
        "Portal: submission returned",
        "Please look again: {{ step.title }}",
        "Dear {{ contacts.main.first_name | default: 'client' }},\n\n"
        "Thank you for your documents for {{ task.name }}. We need a little more before we "
        "can go on:\n\n{{ reason }}\n\nYou can add them here:\n\n{{ action_link }}" + _SIGN_OFF,
    ),
    "portal.approval_waiting": (
        "Portal: document waiting for approval",
        "Please approve: {{ document.title }}",
        "Dear {{ contacts.main.first_name | default: 'client' }},\n\n"
        "{{ document.title }} is ready for your approval. Please review it and approve it, or "
        "tell us what should change:\n\n{{ action_link }}" + _SIGN_OFF,
    ),
    "portal.confirmation": (
        "Portal: confirmation request",
        "Please confirm: {{ step.title }}",
        "Dear {{ contacts.main.first_name | default: 'client' }},\n\n"
        "{{ confirmation.message }}\n\nPlease confirm with one click:\n\n{{ action_link }}"
        + _SIGN_OFF,
    ),
    "portal.confirmation_chase": (
        "Portal: confirmation reminder",
        "Reminder: please confirm {{ step.title }}",
        "Dear {{ contacts.main.first_name | default: 'client' }},\n\n"
        "A quick reminder: we are still waiting for your confirmation.\n\n"
        "{{ confirmation.message }}\n\n{{ action_link }}" + _SIGN_OFF,
    ),
    "portal.request_chase": (
        "Portal: documents reminder",
        "Reminder: documents needed for {{ step.title }}",
        "Dear {{ contacts.main.first_name | default: 'client' }},\n\n"
        "A quick reminder: we are still waiting for some documents from you for "
        "{{ task.name }}{% if step.deadline != '' %}, needed by {{ step.deadline }}{% endif %}. "
        "You can upload them securely here:\n\n{{ action_link }}" + _SIGN_OFF,
    ),
    "portal.approval_chase": (
        "Portal: approval reminder",
        "Reminder: please approve {{ document.title }}",
        "Dear {{ contacts.main.first_name | default: 'client' }},\n\n"
        "A quick reminder: {{ document.title }} is still waiting for your approval. Please "
        "review it and approve it, or tell us what should change:\n\n{{ action_link }}" + _SIGN_OFF,
    ),
}


def _build(*, practice: Practice, client, task=None) -> dict[str, Any]:
    return build_context(practice=practice, client=client, task=task)


def register() -> None:
    """Register the portal's variables, message uses and built-in texts (at app load)."""
    for group in GROUPS:
        register_group(group)
    for key, (label, groups, description) in USES.items():
        register_use(Use(key, label, groups, description=description, build=_build))
    # The portal's step types write their own step emails with their documents and
    # confirmations in them.
    extend_use(STEP_EMAIL, ("document", "confirmation"))
    extend_use(CHASE, ("confirmation", "document"))
    builtins.register_builtins(
        [
            Builtin(key, name, subject, body, use=key, purpose=USES[key][2])
            for key, (name, subject, body) in DEFAULTS.items()
        ]
    )


def system_text(practice: Practice, key: str) -> tuple[str, str]:
    """Return the subject and body of built-in email `key`: the practice's edited copy, or
    the default. Reads only, so drafts shown on GET create nothing."""
    return builtins.system_text(practice, key)


def render_system_email(practice: Practice, key: str, context: dict[str, Any]) -> liquid.Rendered:
    """Render the practice's built-in email `key` with `context`."""
    return builtins.render_system_message(practice, key, context)
