"""Reads for the portal: what a signed-in contact may see. Call inside the practice's scope."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from django.db.models import F
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django_scopes import scopes_disabled

from portal import access
from portal.access import PortalUser
from portal.models import AccessToken
from portal.step_types import ClientStepType
from workflows.context import client_title
from workflows.models import Step

CLIENT_FACING = (
    ClientStepType.DOCUMENT_REQUEST,
    ClientStepType.DOCUMENT_APPROVAL,
    ClientStepType.CLIENT_CONFIRMATION,
)
DONE_LIMIT = 50

S = Step.Status
Sub = Step.SubStatus

# (type, sub-status) → what the client reads, and the chip colour. Said from their side.
_WAITING_WORDS: dict[tuple[str, str], tuple[str, str]] = {
    (ClientStepType.DOCUMENT_REQUEST, Sub.NONE): ("Waiting for your documents", "warn"),
    (ClientStepType.DOCUMENT_REQUEST, Sub.AWAITING_RESPONSE): (
        "Waiting for your documents",
        "warn",
    ),
    (ClientStepType.DOCUMENT_REQUEST, Sub.SUBMITTED): ("Sent — we are reviewing it", "info"),
    (ClientStepType.DOCUMENT_REQUEST, Sub.REJECTED): ("We need a little more", "danger"),
    (ClientStepType.DOCUMENT_APPROVAL, Sub.NONE): ("Waiting for your approval", "warn"),
    (ClientStepType.DOCUMENT_APPROVAL, Sub.AWAITING_RESPONSE): (
        "Waiting for your approval",
        "warn",
    ),
    (ClientStepType.DOCUMENT_APPROVAL, Sub.REJECTED): ("You asked for changes", "info"),
    (ClientStepType.CLIENT_CONFIRMATION, Sub.NONE): ("Waiting for your confirmation", "warn"),
    (ClientStepType.CLIENT_CONFIRMATION, Sub.AWAITING_RESPONSE): (
        "Waiting for your confirmation",
        "warn",
    ),
}
_KINDS: dict[str, str] = {
    ClientStepType.DOCUMENT_REQUEST: "Documents to send",
    ClientStepType.DOCUMENT_APPROVAL: "Document to approve",
    ClientStepType.CLIENT_CONFIRMATION: "Something to confirm",
}
_DONE_KINDS: dict[str, str] = {
    ClientStepType.DOCUMENT_REQUEST: "Documents you sent",
    ClientStepType.DOCUMENT_APPROVAL: "Document you approved",
    ClientStepType.CLIENT_CONFIRMATION: "What you confirmed",
}
_DONE_WORDS: dict[str, str] = {
    ClientStepType.DOCUMENT_REQUEST: "Documents accepted",
    ClientStepType.DOCUMENT_APPROVAL: "Approved",
    ClientStepType.CLIENT_CONFIRMATION: "Confirmed",
}


@dataclass(frozen=True)
class PortalItem:
    step: Step
    label: str
    tone: str  # chip colour: warn, info, danger, ok
    overdue: bool
    url: str = ""  # the item's portal page, filled in by the view
    # The task's dates, shown when the title and task name alone do not tell items apart.
    period: str = ""

    @property
    def kind(self) -> str:
        if self.step.status == S.DONE:
            return _DONE_KINDS.get(self.step.type, "")
        return _KINDS.get(self.step.type, "")

    @property
    def title(self) -> str:
        """The client-facing name: the request's or the document's title, else the task's."""
        return portal_title(self.step)

    @property
    def task_name(self) -> str:
        """The task the item belongs to, unless the title already says it."""
        name = self.step.task.name
        return "" if name == self.title else name


def portal_title(step: Step) -> str:
    """Return what the client sees `step` as (never the step's name: that is the team's)."""
    for related in ("document_request", "approval"):
        obj = getattr(step, related, None) if _has(step, related) else None
        if obj is not None and obj.title:
            return obj.title
    return client_title(step)


def _period(task) -> str:
    if task.due_date:
        return f"due {date_format(task.due_date, 'j M Y')}"
    if task.start_date:
        return f"from {date_format(task.start_date, 'j M Y')}"
    return f"started {date_format(timezone.localtime(task.created_at), 'j M Y')}"


def _told_apart(items: list[PortalItem]) -> list[PortalItem]:
    """Add the task's dates to items whose client, title and task name repeat."""
    same = Counter((i.step.task.client_id, i.title, i.step.task.name) for i in items)
    return [
        replace(i, period=_period(i.step.task))
        if same[(i.step.task.client_id, i.title, i.step.task.name)] > 1
        else i
        for i in items
    ]


def _has(step: Step, related: str) -> bool:
    try:
        getattr(step, related)
    except Exception:  # the reverse one-to-one is missing: RelatedObjectDoesNotExist
        return False
    return True


# In progress, but the next move is ours: a submission under review, changes asked for.
_WITH_US = {
    (ClientStepType.DOCUMENT_REQUEST, Sub.SUBMITTED),
    (ClientStepType.DOCUMENT_APPROVAL, Sub.REJECTED),
}


@dataclass(frozen=True)
class PortalItems:
    waiting: list[PortalItem]
    with_us: list[PortalItem]
    done: list[PortalItem]
    several_clients: bool


def _item(step: Step, today) -> PortalItem:
    if step.status == S.DONE:
        return PortalItem(step, _DONE_WORDS.get(step.type, "Done"), "ok", False)
    label, tone = _WAITING_WORDS.get((step.type, step.sub_status), ("Waiting for you", "warn"))
    overdue = bool(
        step.type == ClientStepType.DOCUMENT_REQUEST
        and step.sub_status != Sub.SUBMITTED
        and step.deadline
        and step.deadline < today
    )
    return PortalItem(step, label, tone, overdue)


def items_for_portal_user(user: PortalUser) -> PortalItems:
    """Return the client-facing steps of the user's clients: open ones and finished ones.

    Open means sent to the client (in progress); finished means done. Newest first; at most
    DONE_LIMIT finished ones. Two queries whatever the number of steps.
    """
    base = Step.objects.filter(
        practice=user.practice, task__client_id__in=user.client_ids, type__in=CLIENT_FACING
    ).select_related("task__client", "document_request", "approval")
    today = timezone.localdate()
    waiting = base.filter(status=S.IN_PROGRESS).order_by(
        F("started_at").desc(nulls_last=True), "-id"
    )
    done = base.filter(status=S.DONE).order_by(F("completed_at").desc(nulls_last=True), "-id")
    done = done[:DONE_LIMIT]
    open_items = [_item(s, today) for s in waiting]
    ours = [i for i in open_items if (i.step.type, i.step.sub_status) in _WITH_US]
    theirs = [i for i in open_items if (i.step.type, i.step.sub_status) not in _WITH_US]
    # Overdue first, then the nearest deadline, then the newest.
    theirs.sort(key=lambda i: (not i.overdue, i.step.deadline is None, i.step.deadline or today))
    done_items = [_item(s, today) for s in done]
    every = _told_apart([*theirs, *ours, *done_items])
    theirs, ours, done_items = (
        every[: len(theirs)],
        every[len(theirs) : len(theirs) + len(ours)],
        every[len(theirs) + len(ours) :],
    )
    return PortalItems(
        waiting=theirs,
        with_us=ours,
        done=done_items,
        several_clients=len(user.client_ids) > 1,
    )


def spent_token(token: str) -> AccessToken | None:
    """Return an expired, used or revoked token's row (with its practice), to brand and
    explain the page refusing it; None for a token that never existed."""
    if not token or len(token) > 100:
        return None
    # Cross-tenant on purpose, like access.find_token: the token names its practice.
    with scopes_disabled():
        row = (
            AccessToken.objects.filter(token_hash=access._hash(token))
            .select_related("practice")
            .first()
        )
    return row
