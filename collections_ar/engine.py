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

from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone

from collections_ar import assigning
from collections_ar.builder.rules import not_ready
from collections_ar.errors import ARError
from collections_ar.models import (
    ASSIGNMENT_MACHINE,
    INVOICE_MACHINE,
    OUTSTANDING,
    PROMISE_MACHINE,
    WORKFLOW_MACHINE,
    ActionRun,
    ARAction,
    ARSettings,
    ARWorkflow,
    Assignment,
    CollectionStatus,
    Customer,
    Invoice,
    Payment,
    Promise,
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
    refresh_totals([customer.pk])
    _give_default_workflow(customer, actor=actor)
    return invoice


def _give_default_workflow(customer: Customer, *, actor: User | None) -> None:
    # A customer's first invoice puts it on the practice's default workflow (when it is ON);
    # one already on a workflow keeps it, and the new invoice gets its due-date runs.
    if assigning.plan_invoice_of(customer):
        return
    workflow = ARWorkflow.objects.filter(
        practice=customer.practice_id, is_default=True, state=ARWorkflow.State.ON
    ).first()
    if workflow is not None and customer.workflow_id is None:
        assigning.assign_workflow([customer], workflow, actor=actor, check_reach=False)


def _lock(invoice: Invoice) -> Invoice:
    return INVOICE_MACHINE.lock(invoice)


def _move(invoice: Invoice, to: str, *, actor: User | None, note: str = "", **kw) -> Invoice:
    try:
        moved = INVOICE_MACHINE.transition(invoice, to=to, actor=actor, note=note, **kw)
    except InvalidTransition as exc:
        raise ARError({"status": str(exc)}) from exc
    refresh_totals([moved.customer_id])
    return moved


def refresh_totals(customer_ids) -> None:
    """Recompute the customers' stored open invoices, balance and oldest open due date."""
    from django.db.models import Count, DecimalField, F, Min, OuterRef, Subquery, Sum, Value
    from django.db.models.functions import Coalesce

    outstanding = Invoice.objects.filter(customer=OuterRef("pk"), status__in=OUTSTANDING)
    totals = outstanding.order_by().values("customer")

    def sub(aggregate, field):
        return Subquery(totals.annotate(v=aggregate).values("v")[:1], output_field=field)

    money = DecimalField(max_digits=14, decimal_places=2)
    Customer.objects.filter(pk__in=list(customer_ids)).update(
        open_invoices=Coalesce(sub(Count("pk"), models.IntegerField()), Value(0)),
        open_balance=Coalesce(
            sub(Sum(F("total") - F("amount_paid")), money), Value(ZERO), output_field=money
        ),
        oldest_open_due=sub(Min("due_date"), models.DateField()),
    )


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
    refresh_totals([invoice.customer_id])
    check_promise(invoice.customer, actor=actor)
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


# --- assignments: pause, resume, unassign, finish, stop --------------------------------------

A = Assignment.State
RS = ActionRun.State


def _close_runs(assignment: Assignment, why: str) -> int:
    # Compare-and-set: a run a sweep is doing right now keeps its own outcome.
    return ActionRun.objects.filter(
        practice=assignment.practice_id,
        assignment=assignment,
        state__in=(RS.PENDING, RS.HELD),
    ).update(state=RS.CANCELLED, detail=why[:300], done_at=timezone.now())


def _off_customer(assignment: Assignment) -> None:
    Customer.objects.filter(pk=assignment.customer_id, workflow=assignment.workflow_id).update(
        workflow=None, workflow_assigned_on=None
    )


@transaction.atomic
def unassign(assignment: Assignment, *, actor: User | None, note: str = "") -> Assignment:
    """End the assignment for good: its pending and held actions are cancelled."""
    assignment = ASSIGNMENT_MACHINE.lock(assignment)
    if not assignment.is_live:
        return assignment
    assignment.closed_at = timezone.now()
    assignment = ASSIGNMENT_MACHINE.transition(
        assignment, to=A.ENDED, actor=actor, note=note, fields=["closed_at"], locked=True
    )
    _close_runs(assignment, "Unassigned" + (f": {note}" if note else ""))
    _off_customer(assignment)
    return assignment


@transaction.atomic
def pause_assignment(assignment: Assignment, *, actor: User | None, reason: str = "") -> Assignment:
    """Stop every action of the assignment until it is resumed (its runs are held)."""
    assignment = ASSIGNMENT_MACHINE.lock(assignment)
    if assignment.state != A.ACTIVE:
        raise ARError({"__all__": "Only a running workflow can be paused."})
    assignment.paused_at = timezone.now()
    assignment.paused_reason = reason[:200]
    assignment = ASSIGNMENT_MACHINE.transition(
        assignment,
        to=A.PAUSED,
        actor=actor,
        note=reason,
        fields=["paused_at", "paused_reason"],
        locked=True,
    )
    ActionRun.objects.filter(
        practice=assignment.practice_id, assignment=assignment, state=RS.PENDING
    ).update(state=RS.HELD)
    return assignment


def resume_rule(practice_id: int) -> str:
    """Return the practice's rule for what fell due while paused (shift or skip)."""
    found = ARSettings.objects.filter(practice=practice_id).values_list("resume", flat=True)
    return found.first() or ARSettings.Resume.SHIFT


@transaction.atomic
def resume_assignment(
    assignment: Assignment,
    *,
    actor: User | None,
    now: dt.datetime | None = None,
    rule: str | None = None,
) -> Assignment:
    """Resume a paused assignment by the practice's rule, never in a burst.

    *shift*: every held action moves later by the time the assignment was paused, so the
    sequence continues where it left off with its spacing kept. *skip*: what fell due while
    paused is skipped, the rest keeps its dates.
    """
    from django.db.models import F

    now = now or timezone.now()
    assignment = ASSIGNMENT_MACHINE.lock(assignment)
    if assignment.state != A.PAUSED:
        raise ARError({"__all__": "Only a paused workflow can be resumed."})
    held = ActionRun.objects.filter(
        practice=assignment.practice_id, assignment=assignment, state=RS.HELD
    )
    rule = rule or resume_rule(assignment.practice_id)
    if rule == ARSettings.Resume.SKIP:
        skipped = held.filter(due_at__lt=now).update(
            state=RS.SKIPPED, detail="Fell due while the workflow was paused.", done_at=now
        )
        note = f"{skipped} action{'s' if skipped != 1 else ''} that fell due while paused skipped"
        held.update(state=RS.PENDING)
    else:
        paused_for = now - (assignment.paused_at or now)
        held.update(state=RS.PENDING, due_at=F("due_at") + paused_for)
        days = paused_for.days
        note = f"the remaining actions move {days} day{'s' if days != 1 else ''} later"
    assignment.paused_at = None
    assignment.paused_reason = ""
    assignment = ASSIGNMENT_MACHINE.transition(
        assignment,
        to=A.ACTIVE,
        actor=actor,
        note=note,
        fields=["paused_at", "paused_reason"],
        locked=True,
    )
    return assignment


@transaction.atomic
def stop_assignment(assignment: Assignment, *, reason: str) -> Assignment:
    """Stop a live assignment whose customer has nothing left to chase."""
    assignment = ASSIGNMENT_MACHINE.lock(assignment)
    if not assignment.is_live:
        return assignment
    assignment.closed_at = timezone.now()
    assignment = ASSIGNMENT_MACHINE.transition(
        assignment, to=A.STOPPED, actor=None, note=reason, fields=["closed_at"], locked=True
    )
    _close_runs(assignment, reason)
    _off_customer(assignment)
    return assignment


@transaction.atomic
def finish_assignments(practice, assignment_ids: list[int], *, on: dt.date) -> None:
    """Finish the active assignments among `assignment_ids` whose every run is over, as
    `finish_assignment` does one at a time, in a few statements (a sweep batch): lock them,
    move them through the machine together, take them off their customers. One whose
    workflow continues with another goes through `finish_assignment`, which assigns the
    next."""
    from collections import defaultdict

    if not assignment_ids:
        return
    locked = list(
        Assignment.objects.select_for_update(of=("self",))
        .filter(practice=practice, pk__in=set(assignment_ids), state=A.ACTIVE)
        .select_related("workflow", "customer__client")
        .order_by("pk")
    )
    unfinished = set(
        ActionRun.objects.filter(
            practice=practice,
            assignment__in=[a.pk for a in locked],
            state__in=(RS.PENDING, RS.HELD),
        ).values_list("assignment_id", flat=True)
    )
    over = [a for a in locked if a.pk not in unfinished]
    plain = [a for a in over if a.workflow.continue_with_id is None]
    moved = ASSIGNMENT_MACHINE.transition_many(
        plain, to=A.FINISHED, old=A.ACTIVE, fields={"closed_at": timezone.now()}
    )
    by_workflow: dict[int, list[int]] = defaultdict(list)
    for assignment in moved:
        by_workflow[assignment.workflow_id].append(assignment.customer_id)
    for workflow_id, customer_ids in by_workflow.items():
        Customer.objects.filter(pk__in=customer_ids, workflow=workflow_id).update(
            workflow=None, workflow_assigned_on=None
        )
    for assignment in over:
        if assignment.workflow.continue_with_id is not None:
            finish_assignment(assignment, on=on)


@transaction.atomic
def finish_assignment(assignment: Assignment, *, on: dt.date) -> Assignment | None:
    """Finish an active assignment whose every run is over; continue with the next workflow
    from `on` when it names one and the customer still owes. Return the next assignment."""
    assignment = ASSIGNMENT_MACHINE.lock(assignment)
    if assignment.state != A.ACTIVE:
        return None
    if ActionRun.objects.filter(
        practice=assignment.practice_id,
        assignment=assignment,
        state__in=(RS.PENDING, RS.HELD),
    ).exists():
        return None
    assignment.closed_at = timezone.now()
    assignment = ASSIGNMENT_MACHINE.transition(
        assignment, to=A.FINISHED, actor=None, fields=["closed_at"], locked=True
    )
    _off_customer(assignment)
    workflow = ARWorkflow.objects.select_related("continue_with").get(pk=assignment.workflow_id)
    nxt = workflow.continue_with
    customer = Customer.objects.select_related("client", "contact").get(pk=assignment.customer_id)
    if nxt is None or not assigning.chaseable(customer.pk, customer.practice_id):
        return None
    try:
        assigning.assign_workflow(
            [customer], nxt, actor=None, on=on, chained_from=assignment, check_reach=False
        )
    except ARError:
        return None  # the next workflow has no actions left: the chain ends here
    return assigning.live_assignment(customer)


# --- call tasks -----------------------------------------------------------------------------


@transaction.atomic
def complete_call(run: ActionRun, *, actor: User | None, outcome: str) -> ActionRun:
    """Record the outcome of a call a workflow asked for; the task leaves the dashboard.

    Raises ARError for an empty outcome or a call completed already.
    """
    outcome = (outcome or "").strip()
    if not outcome:
        raise ARError({"outcome": "Say how the call went."})
    if len(outcome) > 500:
        raise ARError({"outcome": "Keep the outcome to 500 characters."})
    done = ActionRun.objects.filter(
        pk=run.pk, kind=ARAction.Kind.CALL, completed_at__isnull=True
    ).update(completed_at=timezone.now(), outcome=outcome)
    if not done:
        raise ARError({"__all__": "This call has been completed already."})
    run.refresh_from_db()
    customer = Customer.objects.select_related("client").get(pk=run.assignment.customer_id)
    activity.record(
        practice=run.practice_id,
        actor=actor,
        verb="ar.call.completed",
        summary=f"Called {customer.client.name}: {outcome}",
        client=customer.client,
        obj=run,
    )
    return run


# --- promises to pay ----------------------------------------------------------------------------

PROMISE_TIMER = "ar.promise"
MAX_PROMISE_DAYS = 90


def _chased_balance(customer: Customer) -> Decimal:
    return sum((i.balance for i in assigning.open_invoices_of(customer)), start=ZERO)


def _promise_due_at(promise: Promise) -> dt.datetime:
    from collections_ar.schedule import due_at

    settings = assigning.settings_for(promise.customer.practice)
    grace = settings.promise_grace_days if settings else 3
    return due_at(
        promise.customer.practice, promise.promised_on + dt.timedelta(days=grace), settings
    )


@transaction.atomic
def record_promise(
    customer: Customer,
    *,
    actor: User | None,
    amount: Decimal,
    promised_on: dt.date,
    note: str = "",
) -> Promise:
    """Record the customer's promise to pay `amount` by `promised_on`; pause its chasing.

    Raises ARError for a bad amount, more than it owes, a date in the past or more than 90
    days ahead, or a promise already open.
    """
    from sodium import timers

    errors: dict[str, str] = {}
    try:
        amount = _money(amount, "amount", positive=True)
    except ARError as exc:
        errors.update(exc.errors)
    today = today_for(customer.practice)
    if promised_on < today:
        errors["promised_on"] = "The promised date cannot be in the past."
    elif promised_on > today + dt.timedelta(days=MAX_PROMISE_DAYS):
        errors["promised_on"] = f"Keep the promised date within {MAX_PROMISE_DAYS} days."
    owed = _chased_balance(customer)
    if not errors and amount > owed:
        errors["amount"] = f"That is more than the {format_money(owed)} owed."
    if Promise.objects.filter(
        practice=customer.practice_id, customer=customer, state=Promise.State.OPEN
    ).exists():
        errors["__all__"] = "This customer already has an open promise to pay."
    if errors:
        raise ARError(errors)
    promise = Promise.objects.create(
        practice_id=customer.practice_id,
        customer=customer,
        amount=amount,
        promised_on=promised_on,
        balance_then=owed,
        note=(note or "").strip()[:300],
        recorded_by=actor,
    )
    words = f"{format_money(amount)} by {promised_on:%-d %b %Y}"
    activity.record(
        practice=customer.practice_id,
        actor=actor,
        verb="ar.promise.recorded",
        summary=f"{customer.client.name} promised to pay {words}",
        client=customer.client,
        obj=promise,
        new_status=promise.state,
    )
    live = assigning.live_assignment(customer)
    if live is not None and live.state == A.ACTIVE:
        pause_assignment(live, actor=actor, reason=f"Promise to pay {words}")
    timers.schedule(
        practice=customer.practice_id,
        kind=PROMISE_TIMER,
        target_id=promise.pk,
        due_at=_promise_due_at(promise),
        key=f"ar:promise:{promise.pk}",
    )
    return promise


def _settle(promise: Promise, to: str, *, actor: User | None, note: str = "") -> Promise:
    from sodium import timers

    promise.settled_at = timezone.now()
    promise = PROMISE_MACHINE.transition(
        promise, to=to, actor=actor, note=note, fields=["settled_at"], locked=True
    )
    timers.cancel(f"ar:promise:{promise.pk}")
    customer = Customer.objects.select_related("client", "specialist").get(pk=promise.customer_id)
    live = assigning.live_assignment(customer)
    if live is not None and live.state == A.PAUSED and live.paused_reason.startswith("Promise"):
        if assigning.chaseable(customer.pk, customer.practice_id):
            # The sequence continues where it stopped, whatever the practice's resume rule.
            resume_assignment(live, actor=actor, rule=ARSettings.Resume.SHIFT)
        else:
            stop_assignment(live, reason="Nothing left to chase: the promise was kept.")
    return promise


@transaction.atomic
def check_promise(customer: Customer, *, actor: User | None) -> Promise | None:
    """Mark the customer's open promise kept if its money has arrived; return it."""
    promise = (
        Promise.objects.select_for_update()
        .filter(practice=customer.practice_id, customer=customer, state=Promise.State.OPEN)
        .first()
    )
    if promise is None:
        return None
    if _chased_balance(customer) <= promise.balance_then - promise.amount:
        return _settle(promise, Promise.State.KEPT, actor=actor, note="the money arrived")
    return promise


@transaction.atomic
def withdraw_promise(promise: Promise, *, actor: User | None) -> Promise:
    """Withdraw an open promise (recorded in error); chasing resumes."""
    promise = PROMISE_MACHINE.lock(promise)
    if promise.state != Promise.State.OPEN:
        raise ARError({"__all__": "Only an open promise can be withdrawn."})
    return _settle(promise, Promise.State.CANCELLED, actor=actor)


def _on_promise_timer(timer) -> None:
    # The promised date and its grace days have passed: kept if the money is in, else broken.
    promise = Promise.objects.select_for_update().filter(pk=timer.target_id).first()
    if promise is None or promise.state != Promise.State.OPEN:
        return
    customer = Customer.objects.select_related("client", "specialist", "practice").get(
        pk=promise.customer_id
    )
    if _chased_balance(customer) <= promise.balance_then - promise.amount:
        _settle(promise, Promise.State.KEPT, actor=None, note="the money arrived")
        return
    _settle(promise, Promise.State.BROKEN, actor=None, note="no payment by the date")
    notifications.notify(
        practice=customer.practice,
        user=customer.specialist,
        text=f"{customer.client.name} broke its promise to pay "
        f"{format_money(promise.amount, promise.currency)} by {promise.promised_on:%-d %b}.",
        url=reverse("collections_ar:customer", args=[customer.pk]),
        key=f"ar:promise:{promise.pk}:broken",
    )


def _register_timers() -> None:
    from sodium import timers

    timers.register(PROMISE_TIMER, _on_promise_timer)


_register_timers()
