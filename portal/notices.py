"""The emails and in-app notices that portal.engine sends around its items' moves.

Kept apart from the engine so that file holds only status changes: nothing here writes a
status or takes a lock. Each function runs inside the engine's transaction that called it,
so what it queues (outbox rows, notifications, activity) rolls back with a refused move.
"""

from __future__ import annotations

from django.urls import reverse

from portal import access, content
from portal.errors import PortalError
from portal.models import Approval, ApprovalVersion
from sodium import notifications, outbox
from sodium.models import Contact
from workflows import handlers as wf
from workflows.context import build_context
from workflows.handlers import LINK_PLACEHOLDER, Draft, StepFailure
from workflows.models import Step


def _task_url(step: Step) -> str:
    return reverse("sodium:task-detail", kwargs={"task_id": step.task_id})


def tell_assignee(step: Step, text: str, *, key: str) -> None:
    """Notify the step's assignee in the app (and by email if they chose so)."""
    notifications.notify(
        practice=step.task.practice,
        user=step.assignee,
        text=text,
        url=_task_url(step),
        task=step.task,
        key=key,
    )


def email_contact(step: Step, contact: Contact, key: str, block: str, extra: dict) -> None:
    """Queue one of the portal's built-in emails (`block`) to a contact, with their link."""
    link = access.step_link(contact, step)
    context = build_context(
        practice=step.task.practice,
        client=step.task.client,
        task=step.task,
        step=step,
        action_link=link,
        extra={"contact": {"first_name": contact.first_name, "name": contact.full_name}, **extra},
    )
    rendered = content.render_system_email(step.task.practice, block, context)
    outbox.queue_email(
        practice=step.task.practice,
        key=key,
        to=[contact.email],
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        client=step.task.client,
        task=step.task,
        source=("workflows.step", step.pk),
    )


def email_approval(
    step: Step, approval: Approval, version: ApprovalVersion, draft: Draft | None
) -> None:
    """Queue the step's email asking the client to approve `version`.

    Without a draft (the approval page) the step's own content is rendered. Raises
    PortalError when the email cannot go (content problems, no or bad recipient), so the
    engine's transaction creating the version rolls back.
    """
    # portal.handlers imports portal.engine, which imports this module: import it when used.
    from portal.handlers import recipient_contact, with_link

    extra = {"document": {"title": approval.title, "category": approval.category}}
    if draft is None:
        subject, body = wf.step_content(step)
        draft = wf.render_draft(
            step, action_link=LINK_PLACEHOLDER, subject=subject, body=body, extra=extra
        )
        if draft.problems:
            raise PortalError(" ".join(draft.problems))
    if not draft.to:
        raise PortalError(wf.no_recipient_reason(draft))
    problems = wf.check_addresses(draft)
    if problems:
        raise PortalError(" ".join(problems))
    try:
        contact = recipient_contact(step, draft)
    except StepFailure as exc:
        raise PortalError(str(exc)) from None
    draft.body = with_link(draft.body, access.step_link(contact, step))
    wf.queue_step_email(step, draft, key=f"step:{step.pk}:approval:{version.number}")
