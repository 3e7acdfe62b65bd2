"""What running the portal's three client-facing step types does (their declarations in
portal/step_types.py name these handlers; registering a type installs its handler).

Running one (automatically, or when the user sends the drafted email from the composer)
opens the portal item, emails the client a link to it and leaves the step in progress,
awaiting the client. The client's answer comes back through portal.engine.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

from django.utils import timezone

from portal import access, chasing
from portal import engine as portal_engine
from portal.step_types import ClientStepType
from sodium.models import Contact
from workflows import handlers as wf
from workflows.handlers import LINK_PLACEHOLDER, Draft, Outcome, StepFailure
from workflows.models import Step

if TYPE_CHECKING:
    from sodium.models import User


def recipient_contact(step: Step, draft: Draft) -> Contact:
    """Return the client contact the step's link is issued to: the first one in To.

    Contacts can share an address. Of those, the one the step addresses by role (its To
    names "contact:main", say) is the one the email was sent to; else the main contact, then
    the oldest (access.preferred). The portal greets and credits that contact.
    """
    contacts = [
        c
        for c in Contact.objects.filter(practice_id=step.practice_id, client_id=step.task.client_id)
        if c.email
    ]
    roles = [
        Contact.ROLE_FIELDS[token.partition(":")[2]]
        for token in step.to_recipients or []
        if token.startswith("contact:") and token.partition(":")[2] in Contact.ROLE_FIELDS
    ]
    for address in draft.to:
        same = access.preferred(c for c in contacts if c.email.lower() == address.lower())
        if not same:
            continue
        for role in roles:
            for contact in same:
                if getattr(contact, role):
                    return contact
        return same[0]
    raise StepFailure(
        "The email must go to at least one of the client's contacts, so they can open the "
        "portal. Add a contact role to To."
    )


def with_link(body: str, link: str) -> str:
    if LINK_PLACEHOLDER in body:
        return body.replace(LINK_PLACEHOLDER, link)
    return f"{body.rstrip()}\n\n{link}"


def _extra(step: Step) -> dict:
    if step.type == ClientStepType.CLIENT_CONFIRMATION:
        return {"confirmation": {"message": (step.settings or {}).get("message", "")}}
    return {}


class ClientStepHandler:
    """Shared by document requests and confirmations (approvals override `send`)."""

    def draft(self, step: Step) -> Draft:
        self.prepare(step, preview=True)
        subject, body = wf.step_content(step)
        return wf.render_draft(
            step, action_link=LINK_PLACEHOLDER, subject=subject, body=body, extra=_extra(step)
        )

    def prepare(self, step: Step, *, preview: bool) -> None:
        """Set what the email talks about (e.g. the deadline) before it is rendered."""

    def open(self, step: Step) -> None:
        """Create the portal item for the step."""

    def run(self, step: Step) -> Outcome:
        return self._send(step, self.draft(step), check=False)

    def send(self, step: Step, draft: Draft, *, actor: User) -> Outcome:
        problems = wf.check_addresses(draft)
        if problems:
            raise StepFailure(" ".join(problems))
        return self._send(step, draft, check=True)

    def _send(self, step: Step, draft: Draft, *, check: bool) -> Outcome:
        if draft.problems:
            raise StepFailure(" ".join(draft.problems))
        if not draft.to:
            raise StepFailure(wf.no_recipient_reason(draft))
        contact = recipient_contact(step, draft)
        self.prepare(step, preview=False)
        self.open(step)
        draft.body = with_link(draft.body, self.link(contact, step))
        wf.queue_step_email(step, draft, key=f"step:{step.pk}:open")
        self.after_send(step)
        return Outcome(
            status=Step.Status.IN_PROGRESS,
            sub_status=Step.SubStatus.AWAITING_RESPONSE,
            note=f"Emailed {', '.join(draft.to)}",
        )

    def after_send(self, step: Step) -> None:
        chasing.start(step)  # the client was just asked (nothing when the step does not chase)

    def withdraw(self, step: Step) -> None:
        """Close the portal item of a step that was skipped (see workflows.handlers)."""

    def link(self, contact: Contact, step: Step) -> str:
        return access.step_link(contact, step)


class DocumentRequestHandler(ClientStepHandler):
    def prepare(self, step: Step, *, preview: bool) -> None:
        days = (step.settings or {}).get("deadline_days")
        deadline = timezone.localdate() + dt.timedelta(days=days) if days is not None else None
        # Shown in the draft and copied onto the request; the engine saves it from the
        # outcome when the step is sent (see _send).
        step.deadline = deadline

    def _send(self, step: Step, draft: Draft, *, check: bool) -> Outcome:
        outcome = super()._send(step, draft, check=check)
        return dataclasses.replace(outcome, deadline=step.deadline, sets_deadline=True)

    def open(self, step: Step) -> None:
        portal_engine.open_request(step)

    def withdraw(self, step: Step) -> None:
        portal_engine.close_request(step)


class ConfirmationHandler(ClientStepHandler):
    def link(self, contact: Contact, step: Step) -> str:
        return access.confirm_link(contact, step)

    def open(self, step: Step) -> None:
        portal_engine.open_confirmation(step)


class ApprovalHandler(ClientStepHandler):
    """Always manual: the user picks the document; see portal.engine.send_for_approval."""

    def run(self, step: Step) -> Outcome:
        raise StepFailure("Document approvals are sent by a person, who picks the document.")

    def send(self, step: Step, draft: Draft, *, actor: User) -> Outcome:
        raise StepFailure("Choose the document to send for approval.")
