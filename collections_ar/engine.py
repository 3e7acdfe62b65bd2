"""Accounts receivable writes: invoices and their status, payments, customers and specialists.

Every function here is the only way its rows change: typed, `actor` keyword-only, one
transaction, one activity event (`sodium.activity.record`, or the state machine's own for a
status move), and `ARError(errors)` (`collections_ar.errors`) with a message per field for
anything refused. An
invoice's status moves only through `INVOICE_MACHINE` (`collections_ar.models.invoices`).
Money is `Decimal` only: a float, a negative amount or more than two decimal places is
refused with a message.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from collections_ar.builder.rules import not_ready
from collections_ar.errors import ARError
from collections_ar.models import (
    INVOICE_MACHINE,
    WORKFLOW_MACHINE,
    ARAction,
    ARWorkflow,
    CollectionStatus,
    Customer,
    Invoice,
    Payment,
)
from collections_ar.people import SPECIALIST_ROLES, member_role
from collections_ar.statuses import default_status
from sodium import activity, notifications
from sodium.models import Client, Contact, User
from sodium.money import format_money
from sodium.schedules.practice import today_for
from sodium.statemachine import InvalidTransition

S = Invoice.Status
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


# --- money --------------------------------------------------------------------------------


def _money(value: object, field: str, *, positive: bool = False) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ARError({field: "Enter the amount as a number of pounds and pence, e.g. 120.50."})
    if value < 0:
        raise ARError({field: "The amount cannot be negative."})
    if positive and value == 0:
        raise ARError({field: "The amount must be more than zero."})
    if value != value.quantize(CENT):
        raise ARError({field: "Use at most two decimal places (pence)."})
    if abs(value) >= Decimal("1e12"):
        raise ARError({field: "That amount is too large."})
    return value.quantize(CENT)


# --- customers ----------------------------------------------------------------------------


@transaction.atomic
def get_or_create_customer(client: Client, *, actor: User | None) -> Customer:
    """Return the client's customer row, making it (with an activity event) when missing."""
    customer = Customer.objects.filter(practice=client.practice_id, client=client).first()
    if customer is not None:
        return customer
    customer = Customer.objects.create(practice_id=client.practice_id, client=client)
    activity.record(
        practice=client.practice_id,
        actor=actor,
        verb="ar.customer.created",
        summary=f"{client.name} became an AR customer",
        client=client,
        obj=customer,
    )
    return customer


@transaction.atomic
def assign_specialist(customer: Customer, user: User | None, *, actor: User | None) -> Customer:
    """Make `user` the customer's AR specialist (None: nobody).

    Raises ARError unless `user` is a member of the practice as AR specialist, AR manager,
    admin or owner.
    """
    if user is not None and member_role(customer.practice_id, user) not in SPECIALIST_ROLES:
        raise ARError(
            {"specialist": f"{user} is not an AR specialist, AR manager, admin or owner here."}
        )
    if customer.specialist_id == (user.pk if user else None):
        return customer
    customer.specialist = user
    customer.save(update_fields=["specialist"])
    activity.record(
        practice=customer.practice_id,
        actor=actor,
        verb="ar.customer.specialist",
        summary=(
            f"{customer.client.name}: AR specialist {user}"
            if user
            else f"{customer.client.name}: no AR specialist"
        ),
        client=customer.client,
        obj=customer,
    )
    return customer


@transaction.atomic
def set_collections_contact(
    customer: Customer, contact: Contact | None, *, actor: User | None
) -> Customer:
    """Make `contact` (one of the customer's client's contacts) the collections contact."""
    if contact is not None and contact.client_id != customer.client_id:
        raise ARError({"contact": "Choose one of this customer's contacts."})
    customer.contact = contact
    customer.save(update_fields=["contact"])
    activity.record(
        practice=customer.practice_id,
        actor=actor,
        verb="ar.customer.contact",
        summary=f"{customer.client.name}: collections contact "
        + (contact.full_name if contact else "the billing contact"),
        client=customer.client,
        obj=customer,
    )
    return customer


# --- invoices -----------------------------------------------------------------------------


@transaction.atomic
def create_invoice(
    customer: Customer,
    *,
    actor: User | None,
    number: str,
    issue_date: dt.date,
    due_date: dt.date,
    total: Decimal,
    currency: str = "GBP",
    external_id: str = "",
    collection_status: CollectionStatus | None = None,
) -> Invoice:
    """Create an open invoice for `customer` with the practice's default collection status.

    Raises ARError for an empty or taken number, a due date before the issue date, a bad
    currency or a negative, non-Decimal or over-precise total.
    """
    errors: dict[str, str] = {}
    number = (number or "").strip()
    if not number:
        errors["number"] = "Enter the invoice number."
    elif Invoice.objects.filter(practice=customer.practice_id, number=number).exists():
        errors["number"] = f"Invoice {number} already exists in this practice."
    if due_date < issue_date:
        errors["due_date"] = "The due date cannot be before the issue date."
    currency = (currency or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = "Use a three-letter currency code, e.g. GBP."
    try:
        total = _money(total, "total")
    except ARError as exc:
        errors.update(exc.errors)
    if errors:
        raise ARError(errors)
    status = collection_status or default_status(customer.practice)
    if status.practice_id != customer.practice_id:
        raise ARError({"collection_status": "Choose one of this practice's statuses."})
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                practice_id=customer.practice_id,
                customer=customer,
                number=number,
                issue_date=issue_date,
                due_date=due_date,
                currency=currency,
                total=total,
                collection_status=status,
                external_id=external_id,
            )
    except IntegrityError as exc:  # a concurrent invoice took the number
        raise ARError({"number": f"Invoice {number} already exists in this practice."}) from exc
    activity.record(
        practice=customer.practice_id,
        actor=actor,
        verb="ar.invoice.created",
        summary=f"Invoice {number} for {customer.client.name}: {format_money(total, currency)}",
        client=customer.client,
        obj=invoice,
        new_status=invoice.status,
    )
    _give_default_workflow(customer, actor=actor)
    return invoice


def _give_default_workflow(customer: Customer, *, actor: User | None) -> None:
    # A customer's first invoice puts it on the practice's default workflow (when it is ON);
    # one already on a workflow keeps it.
    if customer.workflow_id is not None:
        return
    workflow = ARWorkflow.objects.filter(
        practice=customer.practice_id, is_default=True, state=ARWorkflow.State.ON
    ).first()
    if workflow is None:
        return
    assigned = Customer.objects.filter(pk=customer.pk, workflow__isnull=True).update(
        workflow=workflow, workflow_assigned_on=today_for(customer.practice)
    )
    if assigned:
        customer.workflow = workflow
        activity.record(
            practice=customer.practice_id,
            actor=actor,
            verb="ar.customer.workflow",
            summary=f"{customer.client.name} is on the default AR workflow “{workflow.name}”",
            client=customer.client,
            obj=customer,
        )


def _lock(invoice: Invoice) -> Invoice:
    return INVOICE_MACHINE.lock(invoice)


def _move(invoice: Invoice, to: str, *, actor: User | None, note: str = "", **kw) -> Invoice:
    try:
        return INVOICE_MACHINE.transition(invoice, to=to, actor=actor, note=note, **kw)
    except InvalidTransition as exc:
        raise ARError({"status": str(exc)}) from exc


@transaction.atomic
def record_payment(
    invoice: Invoice,
    *,
    actor: User | None,
    amount: Decimal,
    date: dt.date,
    reference: str = "",
    source: str = Payment.Source.MANUAL,
) -> Payment:
    """Record a payment against `invoice`, reducing its balance; return the payment.

    A part payment makes the invoice part paid, one that clears the balance makes it paid.
    Raises ARError for a zero, negative, non-Decimal or over-precise amount, a payment above
    the balance, or an invoice that is void, paid or disputed (resolve the dispute first).
    """
    amount = _money(amount, "amount", positive=True)
    invoice = _lock(invoice)
    if invoice.status == S.VOID:
        raise ARError({"amount": f"Invoice {invoice.number} is void; it takes no payments."})
    if invoice.status == S.PAID:
        raise ARError({"amount": f"Invoice {invoice.number} is already paid."})
    if invoice.status == S.DISPUTED:
        raise ARError(
            {"amount": f"Invoice {invoice.number} is disputed; resolve the dispute first."}
        )
    if amount > invoice.balance:
        balance = format_money(invoice.balance, invoice.currency)
        raise ARError({"amount": f"That is more than the balance of {balance} (no overpayments)."})
    payment = Payment.objects.create(
        practice_id=invoice.practice_id,
        invoice=invoice,
        date=date,
        amount=amount,
        reference=(reference or "").strip()[:100],
        source=source,
    )
    invoice.amount_paid += amount
    invoice.updated_at = timezone.now()
    to = S.PAID if invoice.balance == 0 else S.PART_PAID
    note = f"payment of {format_money(amount, invoice.currency)}"
    if to != invoice.status:
        _move(
            invoice, to, actor=actor, note=note, fields=["amount_paid", "updated_at"], locked=True
        )
    else:
        invoice.save(update_fields=["amount_paid", "updated_at"])
        activity.record(
            practice=invoice.practice_id,
            actor=actor,
            verb="ar.invoice.payment",
            summary=f"Invoice {invoice.number}: {note}, balance "
            f"{format_money(invoice.balance, invoice.currency)}",
            client=invoice.customer.client,
            obj=invoice,
        )
    return payment


@transaction.atomic
def void_invoice(invoice: Invoice, *, actor: User | None, note: str = "") -> Invoice:
    """Void the invoice (final). Raises ARError for a paid or already void invoice."""
    invoice = _lock(invoice)
    invoice.updated_at = timezone.now()
    return _move(invoice, S.VOID, actor=actor, note=note, fields=["updated_at"], locked=True)


@transaction.atomic
def dispute_invoice(invoice: Invoice, *, actor: User | None, note: str = "") -> Invoice:
    """Mark the invoice disputed. Raises ARError unless it is open or part paid."""
    invoice = _lock(invoice)
    invoice.updated_at = timezone.now()
    return _move(invoice, S.DISPUTED, actor=actor, note=note, fields=["updated_at"], locked=True)


@transaction.atomic
def resolve_dispute(invoice: Invoice, *, actor: User | None, note: str = "") -> Invoice:
    """End a dispute: back to open, or part paid when something was paid.

    Raises ARError unless the invoice is disputed.
    """
    invoice = _lock(invoice)
    to = S.PART_PAID if invoice.amount_paid > 0 else S.OPEN
    invoice.updated_at = timezone.now()
    return _move(invoice, to, actor=actor, note=note, fields=["updated_at"], locked=True)


@transaction.atomic
def set_collection_status(
    invoice: Invoice, status: CollectionStatus, *, actor: User | None
) -> Invoice:
    """Give the invoice a collection status; notify the status's alert manager in the app.

    Raises ARError for another practice's status.
    """
    if status.practice_id != invoice.practice_id:
        raise ARError({"collection_status": "Choose one of this practice's statuses."})
    invoice = _lock(invoice)
    if invoice.collection_status_id == status.pk:
        return invoice
    old = CollectionStatus.objects.get(pk=invoice.collection_status_id)
    invoice.collection_status = status
    invoice.updated_at = timezone.now()
    invoice.save(update_fields=["collection_status", "updated_at"])
    client = invoice.customer.client
    activity.record(
        practice=invoice.practice_id,
        actor=actor,
        verb="ar.invoice.collection_status",
        summary=f"Invoice {invoice.number}: {old.name} → {status.name}",
        client=client,
        obj=invoice,
        data={"old": old.pk, "new": status.pk},
    )
    if status.alert_user_id:
        notifications.notify(
            practice=invoice.customer.practice,
            user=status.alert_user,
            text=f"Invoice {invoice.number} for {client.name} is now “{status.name}”.",
            url=reverse("collections_ar:customer", args=[invoice.customer_id]),
        )
    return invoice


# --- AR workflows: ON and OFF ---------------------------------------------------------------


@transaction.atomic
def switch_workflow(workflow: ARWorkflow, *, actor: User | None, on: bool) -> ARWorkflow:
    """Switch the workflow ON (only with actions, every one complete) or OFF.

    OFF only hides it from assigning; running assignments go on. The default workflow cannot
    go OFF (new customers would get it). Raises ARError saying what stops it.
    """
    workflow = WORKFLOW_MACHINE.lock(workflow)
    to = ARWorkflow.State.ON if on else ARWorkflow.State.OFF
    if workflow.state == to:
        return workflow
    if on:
        actions = ARAction.objects.filter(
            practice=workflow.practice_id, workflow=workflow
        ).select_related("content_block", "collection_status", "user")
        problems = not_ready(workflow, actions)
        if problems:
            raise ARError({"__all__": " ".join(problems)})
    elif workflow.is_default:
        raise ARError(
            {"__all__": f"“{workflow.name}” is the default workflow; choose another first."}
        )
    workflow.updated_at = timezone.now()
    return WORKFLOW_MACHINE.transition(
        workflow,
        to=to,
        actor=actor,
        locked=True,
        fields=["updated_at"],
        summary=f"AR workflow “{workflow.name}” switched {'ON' if on else 'OFF'}",
    )
