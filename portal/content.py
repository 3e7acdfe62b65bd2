"""The emails the portal sends, as practice-editable content blocks with good defaults.

Each practice gets its own copy of a built-in block the first time it is needed; staff edit
it like any content block. Steps without content of their own use the block for their type.
"""

from __future__ import annotations

from typing import Any

from portal.step_types import SPECS
from sodium import liquid
from sodium.models import Practice
from workflows.models import ContentBlock

_SIGN_OFF = "\n\nKind regards,\n{{ practice.sender_name }}"

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
}

# Each client-facing type's built-in email, as its declaration names it.
STEP_TYPE_BLOCK = {spec.value: spec.default_content for spec in SPECS}


def system_text(practice: Practice, key: str) -> tuple[str, str]:
    """Return the subject and body of built-in email `key`: the practice's edited copy, or
    the default. Reads only, so drafts shown on GET create nothing."""
    found = (
        ContentBlock.objects.filter(practice=practice, system_key=key)
        .values_list("subject", "body")
        .first()
    )
    return found or DEFAULTS[key][1:]


def render_system_email(practice: Practice, key: str, context: dict[str, Any]) -> liquid.Rendered:
    """Render the practice's built-in email `key` with `context`."""
    subject, body = system_text(practice, key)
    return liquid.render_message(subject, body, context)


def default_step_content(step) -> tuple[str, str]:
    """Return the subject and body a client-facing step uses when it has none of its own."""
    return system_text(step.task.practice, STEP_TYPE_BLOCK[step.type])
