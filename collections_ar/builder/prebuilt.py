"""The prebuilt AR workflows every practice starts with: "Gentle reminder", "Firm" and
"Final notice", OFF, to clone or switch on as they are.

`ensure_prebuilt_workflows(practice)` copies in the ones the practice lacks (run for every
new practice, and by migration 0004 for those that existed before). "Gentle reminder"
continues with "Firm", and "Firm" with "Final notice". A status action names a built-in
collection status by key; when the practice has deleted that status the action is left out.
"""

from __future__ import annotations

import dataclasses

from django.db import transaction

from collections_ar.models import ARAction, ARWorkflow, CollectionStatus
from sodium.models import Practice

K = ARAction.Kind
B = ARAction.Base


@dataclasses.dataclass(frozen=True)
class Step:
    kind: str
    days: int = 0
    base: str = B.ASSIGNED
    subject: str = ""
    body: str = ""
    status_key: str = ""


@dataclasses.dataclass(frozen=True)
class Prebuilt:
    key: str
    name: str
    description: str
    steps: tuple[Step, ...]
    continue_with: str = ""


_SIGN_OFF = "\n\nKind regards,\n{{ practice.sender_name }}"
_LIST = (
    "{% for invoice in invoices %}- {{ invoice.number }}: {{ invoice.balance }}, due "
    "{{ invoice.due_date }}\n{% endfor %}"
)

PREBUILT = (
    Prebuilt(
        "gentle",
        "Gentle reminder",
        "A friendly nudge before and after the due date, then a call.",
        (
            Step(
                K.EMAIL,
                3,
                B.BEFORE_DUE,
                subject="Invoice {{ invoice.number }} is due on {{ invoice.due_date }}",
                body="Dear {{ contact.first_name | default: customer.name }},\n\n"
                "Just a friendly reminder that invoice {{ invoice.number }} for "
                "{{ invoice.balance }} is due on {{ invoice.due_date }}." + _SIGN_OFF,
            ),
            Step(
                K.EMAIL,
                3,
                B.AFTER_DUE,
                subject="A reminder about invoice {{ invoice.number }}",
                body="Dear {{ contact.first_name | default: customer.name }},\n\n"
                "Our records show that invoice {{ invoice.number }} for {{ invoice.balance }} "
                "was due on {{ invoice.due_date }}. If you have already paid, thank you, and "
                "please ignore this email." + _SIGN_OFF,
            ),
            Step(K.STATUS, 3, B.AFTER_DUE, status_key="reminded"),
            Step(
                K.SMS,
                7,
                B.AFTER_DUE,
                body="{{ practice.sender_name }}: invoice {{ invoice.number }} for "
                "{{ invoice.balance }} is now {{ invoice.days_overdue }} days overdue. "
                "Please call us if there is a problem.",
            ),
            Step(
                K.CALL,
                14,
                B.AFTER_DUE,
                body="Call about {{ invoice.number }} ({{ invoice.balance }}); ask when it "
                "will be paid.",
            ),
        ),
        continue_with="firm",
    ),
    Prebuilt(
        "firm",
        "Firm",
        "Firmer emails and a text every week, a call, and the manager told.",
        (
            Step(
                K.EMAIL,
                0,
                subject="Overdue: {{ customer.balance }} on your account",
                body="Dear {{ contact.first_name | default: customer.name }},\n\n"
                "The following invoices are overdue:\n\n" + _LIST + "\nPlease pay "
                "{{ customer.balance }} within 7 days." + _SIGN_OFF,
            ),
            Step(K.STATUS, 0, status_key="reminded"),
            Step(
                K.SMS,
                3,
                body="{{ practice.sender_name }}: {{ customer.balance }} is overdue on your "
                "account. Please pay within 7 days or call us.",
            ),
            Step(
                K.CALL,
                4,
                body="Call {{ contact.name }} about {{ customer.balance }} overdue.",
            ),
            Step(
                K.EMAIL,
                7,
                subject="Second notice: {{ customer.balance }} overdue",
                body="Dear {{ contact.first_name | default: customer.name }},\n\n"
                "Despite our reminders {{ customer.balance }} remains unpaid:\n\n"
                + _LIST
                + "\nPlease pay now, or contact us to agree a date."
                + _SIGN_OFF,
            ),
            Step(K.NOTIFY, 0, body="{{ customer.name }} still owes {{ customer.balance }}."),
        ),
        continue_with="final",
    ),
    Prebuilt(
        "final",
        "Final notice",
        "A final notice, escalation, and a note before the account goes to an agency.",
        (
            Step(
                K.EMAIL,
                0,
                subject="Final notice: {{ customer.balance }} overdue",
                body="Dear {{ contact.first_name | default: customer.name }},\n\n"
                "This is our final notice. Unless {{ customer.balance }} is paid within 7 days "
                "we will pass the account to our collections agency.\n\n" + _LIST + _SIGN_OFF,
            ),
            Step(K.STATUS, 0, status_key="escalated"),
            Step(K.CALL, 3, body="Final call before the agency: {{ customer.balance }}."),
            Step(
                K.NOTE,
                7,
                body="Final notice period over for {{ customer.name }}; "
                "{{ customer.balance }} outstanding. Decide on the agency.",
            ),
            Step(K.STATUS, 0, status_key="agency"),
        ),
    ),
)


@transaction.atomic
def ensure_prebuilt_workflows(practice: Practice) -> list[ARWorkflow]:
    """Copy the prebuilt workflows the practice lacks into it (OFF); return its copies."""
    have = {
        wf.prebuilt_key: wf
        for wf in ARWorkflow.objects.filter(practice=practice).exclude(prebuilt_key="")
    }
    names = set(ARWorkflow.objects.filter(practice=practice).values_list("name", flat=True))
    statuses = {
        s.builtin_key: s
        for s in CollectionStatus.objects.filter(practice=practice).exclude(builtin_key="")
    }
    made: dict[str, ARWorkflow] = {}
    for prebuilt in PREBUILT:
        if prebuilt.key in have:
            continue
        name = prebuilt.name if prebuilt.name not in names else f"{prebuilt.name} (prebuilt)"
        workflow = ARWorkflow.objects.create(
            practice=practice,
            name=name,
            description=prebuilt.description,
            prebuilt_key=prebuilt.key,
        )
        actions = []
        for step in prebuilt.steps:
            status = statuses.get(step.status_key) if step.status_key else None
            if step.status_key and status is None:
                continue
            actions.append(
                ARAction(
                    practice=practice,
                    workflow=workflow,
                    position=len(actions),
                    kind=step.kind,
                    base=step.base,
                    days=step.days,
                    subject=step.subject,
                    body=step.body,
                    collection_status=status,
                )
            )
        ARAction.objects.bulk_create(actions)
        made[prebuilt.key] = workflow
    every = {**have, **made}
    for prebuilt in PREBUILT:
        workflow = made.get(prebuilt.key)
        target = every.get(prebuilt.continue_with)
        if workflow is not None and target is not None:
            workflow.continue_with = target
            workflow.save(update_fields=["continue_with"])
    return [every[p.key] for p in PREBUILT if p.key in every]
