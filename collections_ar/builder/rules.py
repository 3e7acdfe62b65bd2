"""What the builder refuses: an incomplete or invalid action, a chain that loops back on
itself, and switching ON a workflow that is not ready.

Each check returns readable messages (field → message) rather than raising, so the editing
functions can refuse with all of them at once and the builder can show, beside each action,
what still stops the workflow going ON.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from collections_ar.messages import use_of
from collections_ar.models import ARAction, ARWorkflow, CollectionStatus, Customer
from collections_ar.models.workflows import MAX_DAYS
from collections_ar.people import SPECIALIST_ROLES, member_role
from sodium import liquid
from sodium.messaging.variables import known_paths
from sodium.models import ContentBlock, Practice
from sodium.roles import Perm, role_can
from sodium.sms.messages import refusal as sms_refusal
from sodium.sms.segments import count_segments

K = ARAction.Kind
MAX_SMS_SEGMENTS = 6
# Fields each kind of action uses; the others are cleared when it is saved.
FIELDS: dict[str, tuple[str, ...]] = {
    K.NOTE: ("body",),
    K.CALL: ("body",),
    K.EMAIL: ("content_block", "subject", "body"),
    K.SMS: ("content_block", "body"),
    K.STATUS: ("collection_status",),
    K.NOTIFY: ("user", "body"),
    K.ASSIGN: ("user",),
}


def _liquid(errors: dict[str, str], field: str, source: str, kind: str, label: str = "") -> None:
    problems = liquid.validate(source, known_paths(use_of(kind)))
    if problems:
        errors.setdefault(field, (label + " ".join(problems)).strip())


def _segments(errors: dict[str, str], field: str, text: str, label: str = "") -> None:
    segments = count_segments(text).segments
    if segments > MAX_SMS_SEGMENTS:
        errors.setdefault(
            field,
            f"{label}The text is {segments} segments long; keep it to {MAX_SMS_SEGMENTS}.",
        )


def action_errors(practice: Practice, fields: dict[str, Any]) -> dict[str, str]:
    """Return field → message for an action's fields (empty when it may be saved).

    `fields` holds kind, base, days and the kind's own fields (model instances for the
    foreign keys, already known to be the practice's).
    """
    errors: dict[str, str] = {}
    kind = fields.get("kind")
    if kind not in K.values:
        return {"kind": "Choose what the action does."}
    if fields.get("base") not in ARAction.Base.values:
        errors["base"] = "Choose when the action happens."
    days = fields.get("days")
    if not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
        errors["days"] = f"Give a number of days from 0 to {MAX_DAYS}."
    subject = (fields.get("subject") or "").strip()
    body = (fields.get("body") or "").strip()
    block: ContentBlock | None = fields.get("content_block")
    if kind == K.EMAIL:
        if block is not None:
            if block.channel != ContentBlock.Channel.EMAIL:
                errors["content_block"] = f"“{block.name}” is a text message, not an email."
            else:
                _liquid(errors, "content_block", block.subject, kind, f"“{block.name}”:")
                _liquid(errors, "content_block", block.body, kind, f"“{block.name}”:")
        elif not body:
            errors["body"] = "Choose a content block or write the email: it has no template."
        else:
            if not subject:
                errors["subject"] = "Give the email a subject."
            _liquid(errors, "subject", subject, kind)
            _liquid(errors, "body", body, kind)
    elif kind == K.SMS:
        if block is not None:
            if block.channel != ContentBlock.Channel.SMS:
                errors["content_block"] = f"“{block.name}” is an email, not a text message."
            else:
                _liquid(errors, "content_block", block.body, kind, f"“{block.name}”:")
                _segments(errors, "content_block", block.body, f"“{block.name}”: ")
        elif not body:
            errors["body"] = "Choose a content block or write the text: it has no template."
        else:
            _liquid(errors, "body", body, kind)
            _segments(errors, "body", body)
    elif kind == K.NOTE:
        if not body:
            errors["body"] = "Write the note."
        else:
            _liquid(errors, "body", body, kind)
    elif kind in (K.CALL, K.NOTIFY) and body:
        _liquid(errors, "body", body, kind)
    if kind == K.STATUS:
        status: CollectionStatus | None = fields.get("collection_status")
        if status is None:
            errors["collection_status"] = "Choose the collection status to set."
    user = fields.get("user")
    if kind == K.ASSIGN:
        if user is None:
            errors["user"] = "Choose the AR specialist to assign."
        elif member_role(practice.pk, user) not in SPECIALIST_ROLES:
            errors["user"] = f"{user} cannot be an AR specialist here."
    if kind == K.NOTIFY and user is not None:
        if not role_can(member_role(practice.pk, user), Perm.WORK_AR):
            errors["user"] = f"{user} does not work accounts receivable here."
    return errors


def customers_without_mobile(workflow: ARWorkflow) -> list[str]:
    """Return the names of the workflow's customers who cannot be texted, and why."""
    out = []
    customers = Customer.objects.filter(
        practice=workflow.practice_id, workflow=workflow
    ).select_related("client", "contact")
    for customer in customers.order_by("client__name"):
        contact = customer.contact_for_collections()
        if contact is None:
            out.append(f"{customer.name} (no collections contact)")
        elif reason := sms_refusal(contact):
            out.append(f"{customer.name} ({reason.rstrip('.')})")
    return out


def sms_audience_error(workflow: ARWorkflow) -> str:
    """Return why the workflow's customers cannot all be texted ("" when they can)."""
    missing = customers_without_mobile(workflow)
    if not missing:
        return ""
    shown = "; ".join(missing[:3]) + (f"; and {len(missing) - 3} more" if len(missing) > 3 else "")
    return (
        f"{len(missing)} customer{'s' if len(missing) != 1 else ''} on this workflow cannot "
        f"be texted: {shown}. Add a mobile to their collections contact first."
    )


def chain_loop(workflow: ARWorkflow, target: ARWorkflow | None) -> list[str]:
    """Return the names around the loop that continuing `workflow` with `target` would
    make ([] when it makes none): ["A", "B", "C", "A"]."""
    if target is None:
        return []
    links = dict(
        ARWorkflow.objects.filter(practice=workflow.practice_id).values_list("pk", "continue_with")
    )
    names = dict(ARWorkflow.objects.filter(practice=workflow.practice_id).values_list("pk", "name"))
    links[workflow.pk] = target.pk
    path = [workflow.pk]
    seen = {workflow.pk}
    current = target.pk
    while current is not None:
        path.append(current)
        if current == workflow.pk:
            return [names.get(pk, workflow.name) for pk in path]
        if current in seen:  # a loop that does not pass through `workflow`
            return []
        seen.add(current)
        current = links.get(current)
    return []


def not_ready(workflow: ARWorkflow, actions: Iterable[ARAction]) -> list[str]:
    """Return why the workflow may not go ON ([] when it may)."""
    actions = list(actions)
    if not actions:
        return ["Add at least one action before switching the workflow on."]
    problems = []
    for n, action in enumerate(actions, start=1):
        errors = action_errors(workflow.practice, fields_of(action))
        if errors:
            problems.append(
                f"Action {n} ({action.get_kind_display()}): " + " ".join(errors.values())
            )
    if any(a.kind == K.SMS for a in actions) and (error := sms_audience_error(workflow)):
        problems.append(error)
    return problems


def fields_of(action: ARAction) -> dict[str, Any]:
    """Return an action's fields as `action_errors` reads them."""
    return {
        "kind": action.kind,
        "base": action.base,
        "days": action.days,
        "subject": action.subject,
        "body": action.body,
        "content_block": action.content_block,
        "collection_status": action.collection_status,
        "user": action.user,
    }
