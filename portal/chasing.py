"""Chasing the client on every client-facing step: document requests, approvals, confirmations.

One timer kind (CHASE_TIMER, declared by all three types, so the engine cancels it when a
step finishes) and one handler. A step's `settings["chase"]` says how: `enabled`,
`every_days`, `max_times`, and its own `subject`/`body` (or a content block); without
content of its own a chase is the practice's built-in reminder for the type.

A round of chases starts when the client is asked (the step sent, a new version sent for
approval, a submission returned to the client) and stops the moment they answer (submit,
approve, reject, confirm): `start` and `stop` are called from portal.engine and
portal.handlers inside the transaction of that move. After the last chase of a round the
assignee is told. Chase messages are keyed `step:<id>:chase:<n>` with n counting every
chase of the step (the step's chase_count), so a later round never collides with an
earlier one; the item's `chases_sent` counts the round against `max_times`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils import timezone

from portal import access, content, notices
from portal.models import Approval, ApprovalVersion, Confirmation, DocumentRequest
from portal.step_types import CHASE_TIMER, ClientStepType
from sodium import activity, timers
from sodium.models import Timer
from workflows import engine as wf_engine
from workflows import handlers as wf
from workflows import timeline as wf_timeline
from workflows.models import ContentBlock, Step

# The built-in reminder of each type (portal.content), and what the assignee is told is
# missing when the chases run out.
BUILTIN = {
    ClientStepType.DOCUMENT_REQUEST: "portal.request_chase",
    ClientStepType.DOCUMENT_APPROVAL: "portal.approval_chase",
    ClientStepType.CLIENT_CONFIRMATION: "portal.confirmation_chase",
}
_MISSING = {
    ClientStepType.DOCUMENT_REQUEST: "No documents",
    ClientStepType.DOCUMENT_APPROVAL: "No answer on the approval",
    ClientStepType.CLIENT_CONFIRMATION: "No confirmation",
}
_ITEM = {
    ClientStepType.DOCUMENT_REQUEST: DocumentRequest,
    ClientStepType.DOCUMENT_APPROVAL: Approval,
    ClientStepType.CLIENT_CONFIRMATION: Confirmation,
}


def chase_key(step: Step) -> str:
    """Return the key of the step's chase timer (one per step)."""
    return f"step:{step.pk}:chase"


def settings_of(step: Step) -> dict[str, Any] | None:
    """Return the step's chase settings when chasing is on and complete, else None."""
    chase = (step.settings or {}).get("chase") or {}
    every, times = chase.get("every_days"), chase.get("max_times")
    if not chase.get("enabled") or not isinstance(every, int) or not isinstance(times, int):
        return None
    if every < 1 or times < 1:
        return None
    return chase


def start(step: Step) -> None:
    """Start a round of chases: the client was just asked (runs in the asking transaction).

    The step's item (request, approval or confirmation) counts its round from 0 again.
    Nothing is scheduled for a step that does not chase.
    """
    model = _ITEM.get(step.type)
    if model is not None:
        model.objects.filter(practice_id=step.practice_id, step=step).exclude(chases_sent=0).update(
            chases_sent=0
        )
    chase = settings_of(step)
    if chase is None:
        return
    timers.schedule(
        practice=step.practice_id,
        kind=CHASE_TIMER,
        target_id=step.pk,
        due_at=timezone.now() + dt.timedelta(days=chase["every_days"]),
        key=chase_key(step),
    )


def stop(step: Step) -> int:
    """Stop chasing: the client answered (runs in the answer's transaction)."""
    return timers.cancel(chase_key(step))


@dataclass
class _Waiting:
    item: models.Model  # has chases_sent and last_chased_at
    extra: dict[str, Any]  # what the chase's Liquid sees of the item


def _waiting(step: Step) -> _Waiting | None:
    """Return the step's item, locked, when the client still owes an answer; else None."""
    model = _ITEM.get(step.type)
    if model is None:
        return None
    item = model.objects.select_for_update().filter(step=step).first()
    if item is None:
        return None
    if isinstance(item, Confirmation):
        if item.status != Confirmation.Status.PENDING:
            return None
        return _Waiting(item, {"confirmation": {"message": item.message}})
    if isinstance(item, DocumentRequest):
        # OPEN: not answered yet, or a submission was returned to the client.
        return _Waiting(item, {}) if item.status == DocumentRequest.Status.OPEN else None
    latest = item.versions.order_by("-number").first()
    if latest is None or latest.status != ApprovalVersion.Status.PENDING:
        return None
    return _Waiting(item, {"document": {"title": item.title, "category": item.category}})


def chase_step(timer: Timer) -> None:
    """Timer handler: send the step's next chase, or tell the assignee the chases ran out.

    Runs once per due timer; after an outage the next chase is scheduled from now, so a
    missed week of daily chases sends one email, not seven.
    """
    step = (
        Step.objects.select_related("task", "task__practice", "task__client", "assignee")
        .filter(pk=timer.target_id)
        .first()
    )
    if step is None or step.status != Step.Status.IN_PROGRESS:
        return
    waiting = _waiting(step)
    chase = settings_of(step)
    if waiting is None or chase is None:
        return
    item = waiting.item
    limit, every = chase["max_times"], chase["every_days"]
    if item.chases_sent >= limit:
        return
    in_round = item.chases_sent + 1
    number = step.chase_count + 1
    send(step, chase, number, extra=waiting.extra)
    item.chases_sent, item.last_chased_at = in_round, timezone.now()
    item.save(update_fields=["chases_sent", "last_chased_at"])
    wf_engine.record_chase(step, number=number, limit=limit, in_round=in_round)
    if in_round < limit:
        timers.schedule(
            practice=step.practice_id,
            kind=timer.kind,
            target_id=step.pk,
            due_at=timezone.now() + dt.timedelta(days=every),
            key=timer.key,
        )
    else:
        notices.tell_assignee(
            step,
            f"{_MISSING[step.type]} from {step.task.client.name} for “{step.name}” after "
            f"{limit} chase{'s' if limit != 1 else ''}",
            key=f"step:{step.pk}:chases-exhausted:{number}",
        )


def send(step: Step, chase: dict[str, Any], number: int, *, extra: dict[str, Any]) -> None:
    """Queue chase `number` of the step, or record that it could not be sent.

    The text is the chase's content block, else its own subject and body, else the
    practice's built-in reminder for the type; the link (the confirm page, or the item's
    portal page) is appended when the text does not place it.
    """
    # portal.handlers imports portal.engine, which imports this module: import it when used.
    from portal.handlers import recipient_contact

    block_id = chase.get("content_block_id")
    block = ContentBlock.objects.filter(pk=block_id).first() if block_id else None
    if block is not None:
        subject, body = block.subject, block.body
    elif chase.get("subject") and chase.get("body"):
        subject, body = chase["subject"], chase["body"]
    else:
        subject, body = content.system_text(step.task.practice, BUILTIN[step.type])
    draft = wf.render_draft(step, action_link="", subject=subject, body=body, extra=extra)
    if draft.problems or not draft.to:
        activity.record(
            practice=step.task.practice,
            actor=None,
            actor_label="System",
            verb="step.chase_failed",
            task=step.task,
            obj=step,
            summary=f"{step.name}: chase {number} could not be sent",
        )
        return
    contact = recipient_contact(step, draft)
    if step.type == ClientStepType.CLIENT_CONFIRMATION:
        link = access.confirm_link(contact, step)
    else:
        link = access.step_link(contact, step)
    draft = wf.render_draft(step, action_link=link, subject=subject, body=body, extra=extra)
    if "{{ action_link }}" not in body and link not in draft.body:
        draft.body = f"{draft.body.rstrip()}\n\n{link}"
    wf.queue_step_email(step, draft, key=f"step:{step.pk}:chase:{number}")


def plans(steps: list[Step]) -> dict[int, tuple[dt.datetime | None, int]]:
    """What the timeline shows of steps of one type being chased: for each that chases, when
    its next chase is due (None when none is waiting) and how many are left in this round.
    Two queries, whatever the steps."""
    model = _ITEM[steps[0].type]
    practice_id = steps[0].practice_id
    sent = dict(
        model.objects.filter(practice_id=practice_id, step__in=steps).values_list(
            "step_id", "chases_sent"
        )
    )
    due = dict(
        Timer.objects.filter(
            practice_id=practice_id, key__in=[chase_key(s) for s in steps]
        ).values_list("key", "due_at")
    )
    out = {}
    for step in steps:
        chase = settings_of(step)
        if chase is None or step.pk not in sent:
            continue
        at = due.get(chase_key(step))
        out[step.pk] = (at, max(chase["max_times"] - sent[step.pk], 0) if at else 0)
    return out


timers.register(CHASE_TIMER, chase_step)
for _type in _ITEM:
    wf_timeline.register_chase_plan(_type, plans)
