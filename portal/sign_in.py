"""Emailed sign-in links: the portal's way in besides the links in step emails."""

from __future__ import annotations

import logging
import uuid

from django.db import transaction

from portal import access
from portal.content import render_system_email
from portal.models import AccessToken
from sodium import liquid, outbox
from sodium.models import Contact, Practice
from sodium.tenancy import practice_scope
from workflows.context import build_context

log = logging.getLogger(__name__)


def email_sign_in_link(practice: Practice, email: str) -> Contact | None:
    """Email a sign-in link to `email` if it belongs to a contact of `practice`.

    Returns the contact the link went to, or None when the address is unknown (callers must
    answer the same either way). Writes an AccessToken and a queued OutboundMessage in one
    transaction; delivery is enqueued on commit.
    """
    contact = access.contact_for_sign_in(practice, email)
    if contact is None:
        return None
    with practice_scope(practice), transaction.atomic():
        link = access.issue_link(contact, purpose=AccessToken.Purpose.SIGN_IN)
        subject, text, html = _message(practice, contact, link)
        outbox.queue_email(
            practice=practice,
            key=f"portal:sign-in:{uuid.uuid4().hex}",
            to=[contact.email],
            subject=subject,
            text=text,
            html=html,
            client=contact.client,
            source=("sodium.contact", contact.pk),
        )
    return contact


def _message(practice: Practice, contact: Contact, link: str) -> tuple[str, str, str]:
    """Return subject, text and HTML of the sign-in email (the practice's editable block)."""
    context = build_context(
        practice=practice,
        client=contact.client,
        action_link=link,
        extra={"contact": {"first_name": contact.first_name, "name": contact.full_name}},
    )
    try:
        rendered = render_system_email(practice, "portal.sign_in", context)
    except liquid.TemplateError:
        # A broken edit of the block must not lock the practice's clients out.
        log.exception("portal.sign_in block of practice %s does not render", practice.pk)
    else:
        if link in rendered.text:
            return rendered.subject, rendered.text, rendered.html
    return (
        f"Sign in to {practice.name}",
        f"Sign in to {practice.name} — here is your link: {link} "
        "(it works once, within 30 minutes)",
        "",
    )
