"""Assigning AR workflows to customers, and planning the runs of an assignment.

`assign_workflow(customers, workflow)` puts each customer on an ON workflow from today (the
practice's date): a customer already on a live assignment is moved (the old one ends),
and one that cannot be reached by the workflow's messages (an SMS action and no mobile) is
refused with the reason. Each new assignment plans its runs at once (`plan_runs`), one per
assigned-date action and one per open invoice for due-date actions; an invoice that arrives
later gets its due-date runs from `plan_invoice`. Nothing here changes a state: pausing,
resuming, unassigning and finishing are `collections_ar.engine`'s.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from collections_ar.errors import ARError
from collections_ar.models import (
    ActionRun,
    ARAction,
    ARSettings,
    ARWorkflow,
    Assignment,
    Customer,
    Invoice,
)
from collections_ar.schedule import Slot, due_at, slots
from sodium import activity
from sodium.models import Practice, User
from sodium.schedules.practice import today_for, working_calendar
from sodium.sms.messages import refusal as sms_refusal

K = ARAction.Kind


def settings_for(practice: Practice) -> ARSettings | None:
    """Return the practice's AR settings (None: the defaults)."""
    return ARSettings.objects.filter(practice=practice).first()


def run_key(assignment_id: int, action_id: int, invoice_id: int | None) -> str:
    """Return a run's once-only key, also its message's outbox idempotency key."""
    return f"ar:{assignment_id}:{action_id}:{invoice_id or 0}"


def _run(assignment: Assignment, slot: Slot, settings: ARSettings | None) -> ActionRun:
    practice = assignment.practice
    invoice_id = slot.invoice.pk if slot.invoice else None
    run = ActionRun(
        practice_id=assignment.practice_id,
        assignment=assignment,
        action=slot.action,
        kind=slot.action.kind,
        position=slot.action.position,
        invoice=slot.invoice,
        key=run_key(assignment.pk, slot.action.pk, invoice_id),
        due_at=due_at(practice, slot.date, settings),
    )
    if slot.before_start:
        run.state = ActionRun.State.SKIPPED
        run.detail = "Its date was before the workflow was assigned."
        run.done_at = timezone.now()
    return run


def open_invoices_of(customer: Customer) -> list[Invoice]:
    """Return the customer's invoices that are still chased (open or part paid), by due date."""
    return list(
        Invoice.objects.filter(
            practice=customer.practice_id,
            customer=customer,
            status__in=(Invoice.Status.OPEN, Invoice.Status.PART_PAID),
        ).order_by("due_date", "id")
    )


def plan_runs(
    assignment: Assignment,
    actions: list[ARAction],
    invoices: list[Invoice],
    settings: ARSettings | None,
) -> list[ActionRun]:
    """Write the assignment's runs (idempotent on their keys); return them."""
    calendar = working_calendar(assignment.practice)
    planned = slots(actions, invoices, assignment.assigned_on, calendar)
    runs = [_run(assignment, slot, settings) for slot in planned]
    ActionRun.objects.bulk_create(runs, ignore_conflicts=True)
    return runs


def plan_invoice_of(customer: Customer) -> bool:
    """Plan the due-date runs of the customer's newest invoice on its live assignment;
    return whether the customer has a live assignment."""
    invoice = (
        Invoice.objects.filter(practice=customer.practice_id, customer=customer)
        .order_by("-id")
        .first()
    )
    if not Assignment.objects.filter(
        practice=customer.practice_id, customer=customer, state__in=Assignment.LIVE
    ).exists():
        return False
    if invoice is not None:
        plan_invoice(invoice)
    return True


def plan_invoice(invoice: Invoice) -> int:
    """Plan the due-date runs of a new invoice on its customer's live assignment; return
    how many were written."""
    assignment = (
        Assignment.objects.filter(
            practice=invoice.practice_id, customer=invoice.customer_id, state__in=Assignment.LIVE
        )
        .select_related("practice", "workflow")
        .first()
    )
    if assignment is None:
        return 0
    actions = [
        a
        for a in ARAction.objects.filter(practice=invoice.practice_id, workflow=assignment.workflow)
        if a.base != ARAction.Base.ASSIGNED
    ]
    if not actions:
        return 0
    calendar = working_calendar(assignment.practice)
    settings = settings_for(assignment.practice)
    planned = slots(actions, [invoice], assignment.assigned_on, calendar)
    runs = [_run(assignment, slot, settings) for slot in planned]
    if assignment.state == Assignment.State.PAUSED:
        for run in runs:
            if run.state == ActionRun.State.PENDING:
                run.state = ActionRun.State.HELD
    ActionRun.objects.bulk_create(runs, ignore_conflicts=True)
    return len(runs)


@dataclasses.dataclass
class AssignSummary:
    assigned: list[Customer] = dataclasses.field(default_factory=list)
    moved: list[Customer] = dataclasses.field(default_factory=list)  # from another workflow
    unchanged: list[Customer] = dataclasses.field(default_factory=list)  # on it already
    refused: list[tuple[Customer, str]] = dataclasses.field(default_factory=list)


def _reach_refusal(customer: Customer, needs_sms: bool, needs_email: bool) -> str:
    contact = customer.contact_for_collections()
    if contact is None:
        return "no collections contact"
    if needs_sms and (reason := sms_refusal(contact)):
        return reason.rstrip(".")
    if needs_email and not contact.email:
        return f"{contact.full_name} has no email address"
    return ""


@transaction.atomic
def assign_workflow(
    customers: Iterable[Customer],
    workflow: ARWorkflow,
    *,
    actor: User | None,
    on: dt.date | None = None,
    chained_from: Assignment | None = None,
    check_reach: bool = True,
) -> AssignSummary:
    """Put each customer on `workflow` from `on` (today, the practice's date), planning its
    runs; return what happened to each.

    With `check_reach`, a customer the workflow's emails or texts cannot reach is refused;
    without (a new customer's default workflow, a chain), it is assigned and those actions
    are skipped with the reason when they fall due.

    Raises ARError unless the workflow is ON (a chained continuation may use an OFF one: it
    is part of an assignment already running) and has actions.
    """
    from collections_ar import engine

    workflow = ARWorkflow.objects.select_for_update().get(pk=workflow.pk)
    if not workflow.is_on and chained_from is None:
        raise ARError({"workflow": f"“{workflow.name}” is off: switch it on to assign it."})
    actions = list(
        ARAction.objects.filter(practice=workflow.practice_id, workflow=workflow).order_by(
            "position", "id"
        )
    )
    if not actions:
        raise ARError({"workflow": f"“{workflow.name}” has no actions."})
    practice = Practice.objects.get(pk=workflow.practice_id)
    on = on or today_for(practice)
    settings = settings_for(practice)
    needs_sms = any(a.kind == K.SMS for a in actions)
    needs_email = any(a.kind == K.EMAIL for a in actions)
    summary = AssignSummary()
    customers = list(customers)
    live = {
        a.customer_id: a
        for a in Assignment.objects.select_for_update().filter(
            practice=practice, customer__in=[c.pk for c in customers], state__in=Assignment.LIVE
        )
    }
    for customer in customers:
        if customer.practice_id != practice.pk:
            summary.refused.append((customer, "belongs to another practice"))
            continue
        current = live.get(customer.pk)
        if current is not None and current.workflow_id == workflow.pk:
            summary.unchanged.append(customer)
            continue
        if check_reach and (reason := _reach_refusal(customer, needs_sms, needs_email)):
            summary.refused.append((customer, reason))
            continue
        if current is not None:
            engine.unassign(current, actor=actor, note=f"moved to “{workflow.name}”")
        assignment = Assignment.objects.create(
            practice=practice,
            customer=customer,
            workflow=workflow,
            assigned_on=on,
            chained_from=chained_from,
            assigned_by=actor,
        )
        assignment.practice = practice
        runs = plan_runs(assignment, actions, open_invoices_of(customer), settings)
        Customer.objects.filter(pk=customer.pk).update(workflow=workflow, workflow_assigned_on=on)
        customer.workflow, customer.workflow_assigned_on = workflow, on
        (summary.moved if current is not None else summary.assigned).append(customer)
        activity.record(
            practice=practice,
            actor=actor,
            actor_label="" if actor else "System",
            verb="ar.assignment.created",
            summary=f"{customer.client.name} put on AR workflow “{workflow.name}”"
            + (f", continuing from “{chained_from.workflow.name}”" if chained_from else ""),
            client=customer.client,
            obj=assignment,
        )
        if not any(r.state == ActionRun.State.PENDING for r in runs):
            # Every action fell before the start: nothing to wait for, so the next
            # workflow (if any) starts today.
            engine.finish_assignment(assignment, on=on)
    return summary


def live_assignment(customer: Customer) -> Assignment | None:
    """Return the customer's active or paused assignment, if any."""
    return (
        Assignment.objects.filter(
            practice=customer.practice_id, customer=customer, state__in=Assignment.LIVE
        )
        .select_related("workflow")
        .first()
    )


def chaseable(customer_id: int, practice_id: int) -> bool:
    """Return whether the customer has an invoice still chased (open or part paid)."""
    return Invoice.objects.filter(
        practice=practice_id,
        customer=customer_id,
        status__in=(Invoice.Status.OPEN, Invoice.Status.PART_PAID),
    ).exists()
