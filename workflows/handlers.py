"""Step handlers: what running a step of each type does. Types are plug-ins.

Each step type's declaration names its handler (`StepTypeSpec.handler`, workflows.step_types);
registering the type installs it in HANDLERS. A handler never changes a step's status: it
does its work (outbox rows, portal requests) and returns an Outcome, which workflows.engine
applies. A handler that cannot do its
work raises StepFailure with a reason a person can act on.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from sodium import liquid, liquid_blocks, outbox, rows
from sodium.models import Contact
from sodium.sql import Table, scoped_sql
from workflows import context as ctx
from workflows import recipients as rcpt

if TYPE_CHECKING:
    from sodium.models import User
    from workflows.models import Step


# Where a client-facing email's portal link goes; the real link replaces it when it is sent,
# so a draft shown in the composer creates no token.
LINK_PLACEHOLDER = "[secure link to the portal]"


class StepFailure(Exception):
    """The step could not run; the message says why and what to fix."""


@dataclass(frozen=True)
class Outcome:
    status: str
    sub_status: str | None = None
    note: str = ""
    # A handler that sets the client's deadline (document requests) returns it here; the
    # engine writes it with the status and logs it (`sets_deadline`: None clears it).
    deadline: dt.date | None = None
    sets_deadline: bool = False


@dataclass
class Draft:
    """A message ready for the composer: rendered recipients, subject and body."""

    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    subject: str = ""
    body: str = ""
    missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class StepHandler(Protocol):
    def run(self, step: Step) -> Outcome: ...
    def draft(self, step: Step) -> Draft: ...
    def send(self, step: Step, draft: Draft, *, actor: User) -> Outcome: ...

    # Optional: `withdraw(step)` undoes what the step left open for the client (a portal
    # request) when it is skipped; the engine calls it inside the skip's transaction.
    # Optional: `finished(step)` runs inside the transaction that finishes the step (done or
    # skipped), after the engine cancelled the timer kinds the type declares (`timers`).


# Filled by workflows.step_types.register from each type's declaration (its `handler`); a
# dict so the engine's hot path looks a handler up in one step.
HANDLERS: dict[str, StepHandler] = {}


def get(step_type: str) -> StepHandler:
    try:
        return HANDLERS[step_type]
    except KeyError:
        raise StepFailure(f"Steps of type {step_type} cannot run here yet.") from None


def withdraw(step: Step) -> None:
    """Let the step's handler close what the step left open, if it has anything to close."""
    hook = getattr(HANDLERS.get(step.type), "withdraw", None)
    if hook is not None:
        hook(step)


def finished(step: Step) -> None:
    """Let the step's handler clean up after the step finished, if it has anything to do."""
    hook = getattr(HANDLERS.get(step.type), "finished", None)
    if hook is not None:
        hook(step)


# --- shared by every handler that emails -----------------------------------------------------


# A step type's default email (the practice's editable built-in block), filled when a type
# declaring `default_content` is registered.
DEFAULT_CONTENT: dict[str, Callable[[Step], tuple[str, str]]] = {}


def step_content(step: Step) -> tuple[str, str]:
    """Return the step's Liquid subject and body: its content block, its inline content, or
    the default email of its type."""
    if step.content_block_id:
        return step.content_block.subject, step.content_block.body
    if step.subject.strip() and step.body.strip():
        return step.subject, step.body
    if step.type in DEFAULT_CONTENT:
        return DEFAULT_CONTENT[step.type](step)
    return step.subject, step.body


@functools.cache
def _contacts_sql() -> str:
    # A client's contacts, main contact first (parameters: the client, then the practice).
    c = Table(Contact)
    where = scoped_sql(f"WHERE {c.client} = %s", c)
    return (
        f"SELECT * FROM {c} {where} "
        f"ORDER BY {c.is_main} DESC, {c.first_name}, {c.last_name}, {c.id}"
    )


def render_draft(
    step: Step,
    *,
    action_link: str = "",
    subject: str = "",
    body: str = "",
    extra: dict | None = None,
) -> Draft:
    """Render a step's email for its task: recipients resolved, Liquid filled in."""
    task = step.task
    # Hand-written (sodium.rows): this runs inside every automatic email's transition.
    contacts = rows.fetch(Contact, _contacts_sql(), [task.client_id, step.practice_id])
    who = rcpt.resolve(
        step.to_recipients, step.cc_recipients, task=task, assignee=step.assignee, contacts=contacts
    )
    draft = Draft(to=who.to, cc=who.cc, missing=who.missing)
    if not (subject and body):
        subject, body = step_content(step)
    context = ctx.build_context(
        practice=step.task.practice,
        client=task.client,
        task=task,
        step=step,
        contacts=contacts,
        action_link=action_link,
        extra=extra,
    )
    try:
        # Blocks it includes ({% render %}) are the step's practice's, scope or no scope.
        with liquid_blocks.blocks_of(step.practice_id):
            rendered = liquid.render_message(subject, body, context)
    except liquid.TemplateError as exc:
        draft.problems.append(f"The email could not be written: {exc}")
        return draft
    draft.subject, draft.body = rendered.subject, rendered.text
    return draft


def no_recipient_reason(draft: Draft) -> str:
    from workflows.step_types import recipient_label

    wanted = ", ".join(recipient_label(t) for t in draft.missing) or "the chosen recipients"
    return (
        f"Nobody to send to: no email address was found for {wanted}. "
        "Add the contact's email on the client page, then retry."
    )


def check_addresses(draft: Draft) -> list[str]:
    problems = []
    if not draft.to:
        problems.append("Add at least one recipient in To.")
    for address in [*draft.to, *draft.cc]:
        try:
            validate_email(address)
        except ValidationError:
            problems.append(f"“{address}” is not an email address.")
    if not draft.subject.strip():
        problems.append("Give the email a subject.")
    return problems


def queue_step_email(step: Step, draft: Draft, *, key: str, html: str | None = None) -> None:
    """Write the outbox row for a step's email (in the caller's transaction)."""
    outbox.queue_email(
        practice=step.task.practice,
        key=key,
        to=draft.to,
        cc=draft.cc,
        subject=draft.subject,
        text=draft.body,
        html=html if html is not None else liquid.text_to_html(liquid.escape(draft.body)),
        client=step.task.client,
        task=step.task,
        source=("workflows.step", step.pk),
    )


# --- the two types this app runs -------------------------------------------------------------


class SimpleHandler:
    """A manual checklist item: someone does the work and marks it done."""

    def run(self, step: Step) -> Outcome:
        raise StepFailure("Simple steps are done by a person.")

    def draft(self, step: Step) -> Draft:
        return Draft(problems=["Simple steps send nothing."])

    def send(self, step: Step, draft: Draft, *, actor: User) -> Outcome:
        raise StepFailure("Simple steps send nothing.")


class EmailHandler:
    """Send an email; automatic mode sends and completes, manual mode goes via the composer."""

    def draft(self, step: Step) -> Draft:
        return render_draft(step)

    def run(self, step: Step) -> Outcome:
        draft = self.draft(step)
        if draft.problems:
            raise StepFailure(" ".join(draft.problems))
        if not draft.to:
            raise StepFailure(no_recipient_reason(draft))
        queue_step_email(step, draft, key=f"step:{step.pk}:send")
        return Outcome(status="done", note=f"Emailed {', '.join(draft.to)}")

    def send(self, step: Step, draft: Draft, *, actor: User) -> Outcome:
        problems = check_addresses(draft)
        if problems:
            raise StepFailure(" ".join(problems))
        queue_step_email(step, draft, key=f"step:{step.pk}:send")
        return Outcome(status="done", note=f"Emailed {', '.join(draft.to)}")
