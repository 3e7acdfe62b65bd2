"""Running AR actions exactly once: the sweep's part and a worker's batch.

Every minute the timer sweep calls `dispatch_due(now)`: one indexed query for pending runs
whose time has come (nothing due: that query only), marked dispatched and handed to workers
in batches of `BATCH` (`run_actions_task`) — one broker message per batch, not per action. A
batch not finished within `REDISPATCH_AFTER` (a worker killed) is dispatched again.

`run_batch(ids, now)` does a batch in one transaction: it locks the runs still pending and
due (`SKIP LOCKED`: two workers never hold one run), re-reads their assignments, invoices and
contacts, and does each once:

- outside the practice's sending window (or on a weekend or bank holiday) it waits for the
  next window, unchanged otherwise;
- a run for an invoice that is paid, void or disputed is skipped, saying so; when the
  customer has nothing left to chase, the whole assignment stops;
- an email or SMS is rendered for the customer as things stand (a part payment shows the new
  balance) and written to the outbox under the run's key (`sodium.outbox.queue_messages`);
- a note is recorded on the customer and emailed to the AR specialist; a call reminder
  becomes the specialist's call task (done when they record its outcome); a status action
  sets the collection status of each open invoice; a notification tells the member (or the
  specialist); an assign action changes the specialist.

Each run then moves (compare-and-set on `pending`) to done, skipped or failed with why. An
assignment whose every run is over finishes and continues with its next workflow. A render
failure marks that run failed and never stops the batch.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from collections_ar import engine
from collections_ar.assigning import settings_for
from collections_ar.messages import ar_context
from collections_ar.models import (
    ActionRun,
    ARAction,
    ARSettings,
    Assignment,
    CollectionStatus,
    Customer,
    Invoice,
)
from collections_ar.schedule import next_window_start
from sodium import activity, liquid, notifications, outbox, sql, timers
from sodium.models import Contact, OutboundMessage, Practice, User
from sodium.schedules.practice import today_for, working_calendar
from sodium.sms.messages import refusal as sms_refusal
from sodium.sms.numbers import display_mobile, e164
from sodium.sms.segments import count_segments
from sodium.tenancy import practice_scope

log = logging.getLogger(__name__)

K = ARAction.Kind
RS = ActionRun.State
CHASED = (Invoice.Status.OPEN, Invoice.Status.PART_PAID)
BATCH = 500
MAX_DISPATCH = 200_000  # runs handed out by one sweep
REDISPATCH_AFTER = dt.timedelta(minutes=5)
MAX_SMS_SEGMENTS = 6
SETTLE_ROWS = 500  # runs per UPDATE that settles them


# --- the sweep ---------------------------------------------------------------------------------


def dispatch_due(now: dt.datetime) -> int:
    """Hand the due pending runs to workers in batches; return how many were handed out."""
    stale = now - REDISPATCH_AFTER
    with scopes_disabled(), transaction.atomic():
        due = ActionRun.objects.filter(state=RS.PENDING, due_at__lte=now).filter(
            Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale)
        )
        ids = list(due.order_by("due_at").values_list("pk", flat=True)[:MAX_DISPATCH])
        if not ids:
            return 0
        for start in range(0, len(ids), 10_000):
            ActionRun.objects.filter(pk__in=ids[start : start + 10_000]).update(dispatched_at=now)
        from collections_ar import tasks

        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            transaction.on_commit(lambda chunk=chunk: tasks.run_actions_task.delay(chunk))
    return len(ids)


timers.register_safety_net("ar.actions", dispatch_due)


# --- one batch -----------------------------------------------------------------------------------


class _Customer:
    """What the batch knows of one customer: its row, contacts, invoices and context."""

    def __init__(self, customer: Customer, contacts: list[Contact], invoices: list[Invoice]):
        self.customer = customer
        self.contacts = contacts
        self.invoices = invoices  # every invoice, any status
        self.specialist: User | None = customer.specialist
        # (invoice, contact, specialist) → the context built for them: a customer's runs in
        # one batch share it (rendering reads it, never changes it); emptied when a run
        # changes what it holds.
        self._contexts: dict[tuple[int | None, int | None, int | None], dict[str, Any]] = {}

    def forget_context(self) -> None:
        self._contexts.clear()

    def contact(self, assignment: Assignment) -> Contact | None:
        wanted = assignment.contact_id or self.customer.contact_id
        if wanted:
            found = next((c for c in self.contacts if c.pk == wanted), None)
            if found is not None:
                return found
        ordered = sorted(self.contacts, key=lambda c: c.pk)
        for test in (lambda c: c.is_billing, lambda c: c.is_main, lambda c: True):
            for c in ordered:
                if test(c):
                    return c
        return None

    def chased(self) -> list[Invoice]:
        return sorted(
            (i for i in self.invoices if i.status in CHASED), key=lambda i: (i.due_date, i.pk)
        )

    def context(self, practice: Practice, today: dt.date, invoice: Invoice | None, contact):
        key = (
            invoice.pk if invoice else None,
            contact.pk if contact else None,
            self.specialist.pk if self.specialist else None,
        )
        ctx = self._contexts.get(key)
        if ctx is None:
            ctx = self._contexts[key] = self._build_context(practice, today, invoice, contact)
        return ctx

    def _build_context(self, practice: Practice, today: dt.date, invoice: Invoice | None, contact):
        return ar_context(
            practice=practice,
            customer=self.customer,
            today=today,
            invoices=self.chased(),
            invoice=invoice,
            contacts=self.contacts,
            contact=contact,
            specialist=self.specialist,
        )


class _Batch:
    def __init__(self, practice: Practice, now: dt.datetime) -> None:
        self.practice = practice
        self.now = now
        self.today = today_for(practice, now)
        self.settings: ARSettings | None = settings_for(practice)
        self.calendar = working_calendar(practice)
        self.messages: list[OutboundMessage] = []
        self.message_of: dict[int, OutboundMessage] = {}  # run id → its message
        self.outcome: dict[int, tuple[str, str]] = {}  # run id → (state, detail)
        self.postponed: dict[int, tuple[dt.datetime, str]] = {}
        self.bounced: set[tuple[int, str]] = set()  # (client id, address) that bounced
        self.stopped: set[int] = set()

    def set(self, run: ActionRun, state: str, detail: str = "") -> None:
        self.outcome[run.pk] = (state, detail[:300])


def _load(practice: Practice, runs: list[ActionRun]) -> dict[int, _Customer]:
    customer_ids = {r.assignment.customer_id for r in runs}
    customers = {
        c.pk: c
        for c in Customer.objects.filter(practice=practice, pk__in=customer_ids).select_related(
            "client", "specialist"
        )
    }
    contacts: dict[int, list[Contact]] = defaultdict(list)
    client_ids = {c.client_id for c in customers.values()}
    for contact in Contact.objects.filter(practice=practice, client__in=client_ids):
        contacts[contact.client_id].append(contact)
    invoices: dict[int, list[Invoice]] = defaultdict(list)
    for invoice in Invoice.objects.filter(practice=practice, customer__in=customer_ids):
        invoices[invoice.customer_id].append(invoice)
    return {pk: _Customer(c, contacts[c.client_id], invoices[pk]) for pk, c in customers.items()}


BOUNCE_RETRY = dt.timedelta(days=1)


def _bounced(practice: Practice, people: dict[int, _Customer]) -> set[tuple[int, str]]:
    """Return (client id, address) of the batch's collections addresses whose last AR email
    bounced: the next email to such an address waits until it is corrected."""
    addresses = {
        (who.customer.client_id, c.email.lower())
        for who in people.values()
        for c in who.contacts
        if c.email
    }
    if not addresses:
        return set()
    latest: dict[tuple[int, str], str] = {}
    for client_id, to, status in (
        OutboundMessage.objects.filter(
            practice=practice,
            source_type="ar.run",
            channel=OutboundMessage.Channel.EMAIL,
            client__in={client for client, _ in addresses},
        )
        .order_by("pk")
        .values_list("client_id", "to", "status")
    ):
        for address in to or []:
            latest[(client_id, address.lower())] = status
    return {k for k in addresses if latest.get(k) == OutboundMessage.Status.BOUNCED}


def run_batch(run_ids: list[int], now: dt.datetime | None = None) -> int:
    """Do the due pending runs among `run_ids`, each once; return how many were done."""
    now = now or timezone.now()
    with scopes_disabled():
        practice_ids = set(
            ActionRun.objects.filter(pk__in=run_ids).values_list("practice_id", flat=True)
        )
    done = 0
    for practice_id in sorted(practice_ids):
        with practice_scope(practice_id):
            done += _run_practice(practice_id, run_ids, now)
    return done


@transaction.atomic
def _run_practice(practice_id: int, run_ids: list[int], now: dt.datetime) -> int:
    practice = Practice.objects.get(pk=practice_id)
    runs = list(
        ActionRun.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(practice=practice, pk__in=run_ids, state=RS.PENDING, due_at__lte=now)
        .select_related(
            "assignment",
            "action",
            "action__content_block",
            "action__collection_status",
            "action__user",
        )
        .order_by("due_at", "position", "pk")
    )
    if not runs:
        return 0
    batch = _Batch(practice, now)
    wait = next_window_start(practice, now, batch.settings, batch.calendar)
    if wait is not None:
        ActionRun.objects.filter(pk__in=[r.pk for r in runs], state=RS.PENDING).update(
            due_at=wait, dispatched_at=None
        )
        return 0
    people = _load(practice, runs)
    batch.bounced = _bounced(practice, people)
    for run in runs:
        _do(batch, run, people.get(run.assignment.customer_id))
    outbox.queue_messages(practice, batch.messages)
    _settle(practice, batch.outcome, now)
    for run_id, (until, why) in batch.postponed.items():
        ActionRun.objects.filter(pk=run_id, state=RS.PENDING).update(
            due_at=until, dispatched_at=None, detail=why[:300]
        )
    linked = [run_id for run_id, message in batch.message_of.items() if message.pk]
    if linked:
        # One UPDATE: each run written now gets the message under its key (bulk_update's
        # CASE per row costs more to build than the database spends running this).
        ActionRun.objects.filter(pk__in=linked).update(
            message=Subquery(
                OutboundMessage.objects.filter(
                    practice=practice, idempotency_key=OuterRef("key")
                ).values("pk")[:1]
            )
        )
    _record(practice, runs, batch, people)
    for assignment_id in batch.stopped:
        assignment = Assignment.objects.get(pk=assignment_id)
        engine.stop_assignment(
            assignment, reason="Nothing left to chase: every invoice is settled."
        )
    _finish(
        practice, [r.assignment_id for r in runs if r.assignment_id not in batch.stopped], batch
    )
    return sum(1 for state, _ in batch.outcome.values() if state == RS.DONE)


def _settle(practice: Practice, outcome: dict[int, tuple[str, str]], now: dt.datetime) -> None:
    """Move each run still pending to its state with its detail: one UPDATE per state and
    `SETTLE_ROWS` runs (the details differ run by run: "Emailed <address>")."""
    by_state: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for run_id, (state, detail) in outcome.items():
        by_state[state].append((run_id, detail))
    r = sql.Table(ActionRun)
    for state, rows in by_state.items():
        for start in range(0, len(rows), SETTLE_ROWS):
            chunk = rows[start : start + SETTLE_ROWS]
            values = ", ".join(["(%s, %s)"] * len(chunk))
            # VALUES names its columns column1, column2 on PostgreSQL and SQLite alike.
            statement, params = sql.scoped(
                f"UPDATE {r} SET {r.state} = %s, {r.detail} = v.column2, {r.done_at} = %s"
                f" FROM (VALUES {values}) AS v WHERE {r.id} = v.column1 AND {r.state} = %s",
                [state, now, *(x for row in chunk for x in row), RS.PENDING],
                practice.pk,
                r,
            )
            with connection.cursor() as cursor:
                cursor.execute(statement, params)


def _finish(practice: Practice, assignment_ids: list[int], batch: _Batch) -> None:
    engine.finish_assignments(practice, assignment_ids, on=batch.today)


def _record(
    practice: Practice, runs: list[ActionRun], batch: _Batch, people: dict[int, _Customer]
) -> None:
    # One activity row per run done: the customer's history (bulk, not one INSERT each).
    client_of = {pk: who.customer.client_id for pk, who in people.items()}
    events = []
    for run in runs:
        state, detail = batch.outcome.get(run.pk, ("", ""))
        if not state:
            continue
        label = ARAction.Kind(run.kind).label
        summary = f"AR: {label}" + (f" — {detail}" if detail else "")
        events.append(
            activity.build(
                practice=practice,
                verb=f"ar.run.{state}",
                summary=summary[:300],
                actor_label="System",
                client_id=client_of.get(run.assignment.customer_id),
                obj=run,
                new_status=state,
            )
        )
    activity.bulk_record(events)


def _do(batch: _Batch, run: ActionRun, who: _Customer | None) -> None:
    assignment = run.assignment
    if assignment.state != Assignment.State.ACTIVE or who is None:
        batch.set(run, RS.CANCELLED, "The workflow is no longer running for this customer.")
        return
    if assignment.pk in batch.stopped:
        batch.set(run, RS.CANCELLED, "Nothing left to chase.")
        return
    chased = who.chased()
    if run.invoice_id is not None:
        invoice = next((i for i in who.invoices if i.pk == run.invoice_id), None)
        if invoice is None or invoice.status not in CHASED:
            word = invoice.get_status_display().lower() if invoice else "gone"
            batch.set(run, RS.SKIPPED, f"Invoice {invoice.number if invoice else ''} is {word}.")
            if not chased:
                batch.stopped.add(assignment.pk)
            return
    else:
        invoice = None
        if not chased:
            batch.set(run, RS.SKIPPED, "Nothing left to chase.")
            batch.stopped.add(assignment.pk)
            return
    action = run.action
    if action is None:
        batch.set(run, RS.SKIPPED, "The action was deleted from the workflow.")
        return
    contact = who.contact(assignment)
    try:
        DOERS[run.kind](batch, run, who, action, invoice, contact)
    except liquid.TemplateError as exc:
        batch.set(run, RS.FAILED, f"It cannot be rendered: {exc}")


def _render(batch, who, invoice, contact, subject: str, body: str):
    ctx = who.context(batch.practice, batch.today, invoice, contact)
    return liquid.render_message(subject, body, ctx)


def _texts(action: ARAction) -> tuple[str, str]:
    if action.content_block_id:
        return action.content_block.subject, action.content_block.body
    return action.subject, action.body


def _email(batch, run, who, action, invoice, contact) -> None:
    if contact is None or not contact.email:
        batch.set(run, RS.SKIPPED, "The collections contact has no email address.")
        return
    if (who.customer.client_id, contact.email.lower()) in batch.bounced:
        batch.postponed[run.pk] = (
            batch.now + BOUNCE_RETRY,
            f"Waiting: email to {contact.email} bounced; correct the address to send it.",
        )
        return
    subject, body = _texts(action)
    rendered = _render(batch, who, invoice, contact, subject, body)
    message = OutboundMessage(
        practice=batch.practice,
        channel=OutboundMessage.Channel.EMAIL,
        idempotency_key=run.key,
        to=[contact.email],
        from_name=batch.practice.display_sender,
        reply_to=batch.practice.reply_to,
        subject=rendered.subject[:300],
        body_text=rendered.text,
        body_html=rendered.html,
        client_id=who.customer.client_id,
        source_type="ar.run",
        source_id=run.pk,
    )
    batch.messages.append(message)
    batch.message_of[run.pk] = message
    batch.set(run, RS.DONE, f"Emailed {contact.email}")


def _sms(batch, run, who, action, invoice, contact) -> None:
    reason = "The customer has no collections contact." if contact is None else sms_refusal(contact)
    if reason:
        batch.set(run, RS.SKIPPED, reason)
        return
    _subject, body = _texts(action)
    text = liquid.render_string(body, who.context(batch.practice, batch.today, invoice, contact))
    text = text.strip()
    if not text or count_segments(text).segments > MAX_SMS_SEGMENTS:
        batch.set(run, RS.FAILED, "The text renders empty or longer than six segments.")
        return
    message = OutboundMessage(
        practice=batch.practice,
        channel=OutboundMessage.Channel.SMS,
        idempotency_key=run.key,
        to=[e164(contact.mobile)],
        from_name=batch.practice.display_sender,
        body_text=text,
        client_id=who.customer.client_id,
        source_type="ar.run",
        source_id=run.pk,
    )
    batch.messages.append(message)
    batch.message_of[run.pk] = message
    batch.set(run, RS.DONE, f"Texted {display_mobile(contact.mobile)}")


def _customer_url(who: _Customer) -> str:
    return reverse("collections_ar:customer", args=[who.customer.pk])


def _note(batch, run, who, action, invoice, contact) -> None:
    text = _render(batch, who, invoice, contact, "", action.body).text
    specialist = who.specialist
    if specialist is not None:
        batch.messages.append(
            OutboundMessage(
                practice=batch.practice,
                channel=OutboundMessage.Channel.EMAIL,
                idempotency_key=run.key,
                to=[specialist.email],
                from_name=batch.practice.display_sender,
                subject=f"Note on {who.customer.client.name}"[:300],
                body_text=f"{text}\n\n{settings.SITE_URL}{_customer_url(who)}\n",
                client_id=who.customer.client_id,
                source_type="ar.run",
                source_id=run.pk,
            )
        )
    to = f", emailed to {specialist.full_name or specialist.email}" if specialist else ""
    batch.set(run, RS.DONE, f"Note: {text}{to}")


def _call(batch, run, who, action, invoice, contact) -> None:
    who_to_call = contact.full_name if contact else who.customer.client.name
    number = ""
    if contact is not None:
        number = display_mobile(contact.mobile) if contact.mobile else contact.phone
    text = _render(batch, who, invoice, contact, "", action.body).text if action.body else ""
    reach = f"{who_to_call}" + (f", {number}" if number else "")
    batch.set(run, RS.DONE, f"{reach} — {text}" if text else f"Call {reach}")


def _status(batch, run, who, action, invoice, contact) -> None:
    status: CollectionStatus | None = action.collection_status
    if status is None:
        batch.set(run, RS.SKIPPED, "The status was deleted.")
        return
    targets = [invoice] if invoice is not None else who.chased()
    for target in targets:
        engine.set_collection_status(target, status, actor=None)
    who.forget_context()
    numbers = ", ".join(t.number for t in targets)
    batch.set(run, RS.DONE, f"Collection status “{status.name}” on {numbers}")


def _notify(batch, run, who, action, invoice, contact) -> None:
    user = action.user or who.specialist
    if user is None:
        batch.set(run, RS.SKIPPED, "Nobody to notify: the customer has no AR specialist.")
        return
    text = ""
    if action.body:
        text = _render(batch, who, invoice, contact, "", action.body).text
    text = text or f"AR workflow action for {who.customer.client.name}."
    notifications.notify(
        practice=batch.practice,
        user=user,
        text=text,
        url=_customer_url(who),
        key=run.key,
    )
    batch.set(run, RS.DONE, f"Told {user.full_name or user.email}")


def _assign(batch, run, who, action, invoice, contact) -> None:
    user = action.user
    if user is None:
        batch.set(run, RS.SKIPPED, "No AR specialist named.")
        return
    try:
        engine.assign_specialist(who.customer, user, actor=None)
    except engine.ARError as exc:
        batch.set(run, RS.SKIPPED, " ".join(exc.errors.values()))
        return
    who.specialist = user
    who.forget_context()
    batch.set(run, RS.DONE, f"AR specialist is now {user.full_name or user.email}")


DOERS: dict[str, Any] = {
    K.EMAIL: _email,
    K.SMS: _sms,
    K.NOTE: _note,
    K.CALL: _call,
    K.STATUS: _status,
    K.NOTIFY: _notify,
    K.ASSIGN: _assign,
}
