"""The timeline preview: what a workflow would do for one customer if assigned today.

For every action, in order, and through the workflows it continues with: the date (in the
practice's time zone; weekends and the practice's bank holidays moved to the next working
day with the core's working calendar), the time (the start of the sending window), whom it
reaches and what it says — emails and texts rendered for that customer with the amounts
and days overdue as they would stand on that day. An assigned-date action falls `days`
after the assigned-date action before it; a due-date action happens once per open
invoice, `days` before or after that invoice's due date, and is left out (saying why) when
that date is already past. A chained workflow starts on the day the last action ran.
Nothing is written: the builder shows this before anything is switched on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from collections_ar.messages import ar_context, open_invoices
from collections_ar.models import ARAction, ARWorkflow, Customer, Invoice
from collections_ar.schedule import DEFAULT_SEND_FROM, Slot, last_day, slots
from sodium import liquid
from sodium.messaging.context import format_date
from sodium.models import Contact, Practice, User
from sodium.schedules.practice import today_for, working_calendar
from sodium.sms.messages import refusal as sms_refusal
from sodium.sms.numbers import display_mobile
from sodium.sms.segments import count_segments

K = ARAction.Kind
B = ARAction.Base
MAX_CHAIN = 10  # workflows followed through "Continue with"; a loop is refused at save


@dataclasses.dataclass
class Entry:
    """One thing the workflow would do, on one day."""

    date: dt.date
    workflow: ARWorkflow
    action: ARAction
    number: int  # the action's place in its workflow, from 1
    invoice: Invoice | None
    to: str  # whom it reaches, in words
    what: str  # what it does, in words
    scheduled: dt.date | None = None  # when it moved off a non-working day
    moved_because: str = ""
    skipped: str = ""  # why it would not happen at all
    before_start: bool = False  # a due-date action whose date has passed
    subject: str = ""
    text: str = ""
    html: str = ""
    segments: str = ""
    problem: str = ""  # a render failure
    time: dt.time = DEFAULT_SEND_FROM  # the practice's sending window opens

    @property
    def has_message(self) -> bool:
        return bool(self.text or self.html)


@dataclasses.dataclass
class Timeline:
    customer: Customer
    start: dt.date
    entries: list[Entry]
    workflows: list[ARWorkflow]

    @property
    def happening(self) -> list[Entry]:
        return [e for e in self.entries if not e.skipped]

    @property
    def shown(self) -> list[Entry]:
        """Return the entries from the assigned date on (done or not, with why)."""
        return [e for e in self.entries if not e.before_start]

    @property
    def left_out(self) -> list[Entry]:
        """Return the due-date actions whose dates were already past."""
        return [e for e in self.entries if e.before_start]


def _who(user: User | None) -> str:
    return (user.full_name or user.email) if user else ""


def _chain(workflow: ARWorkflow) -> list[ARWorkflow]:
    chain, seen = [workflow], {workflow.pk}
    by_pk = {w.pk: w for w in ARWorkflow.objects.filter(practice=workflow.practice_id)}
    current = workflow
    while current.continue_with_id and len(chain) < MAX_CHAIN:
        nxt = by_pk.get(current.continue_with_id)
        if nxt is None or nxt.pk in seen:
            break
        chain.append(nxt)
        seen.add(nxt.pk)
        current = nxt
    return chain


class _Builder:
    def __init__(self, practice: Practice, customer: Customer, start: dt.date) -> None:
        self.practice = practice
        self.customer = customer
        self.calendar = working_calendar(practice)
        self.invoices = open_invoices(customer)
        self.contacts = list(Contact.objects.filter(practice=practice, client=customer.client_id))
        self.contact = customer.contact_for_collections()
        self.specialist: User | None = customer.specialist

    def context(self, day: dt.date, invoice: Invoice | None) -> dict[str, Any]:
        return ar_context(
            practice=self.practice,
            customer=self.customer,
            today=day,
            invoices=self.invoices,
            invoice=invoice,
            contacts=self.contacts,
            contact=self.contact,
            specialist=self.specialist,
        )

    def entry(self, wf: ARWorkflow, slot: Slot, wf_start: dt.date) -> Entry:
        entry = Entry(
            date=slot.date,
            workflow=wf,
            action=slot.action,
            number=slot.number,
            invoice=slot.invoice,
            to="",
            what="",
        )
        if slot.moved_because:
            entry.scheduled, entry.moved_because = slot.scheduled, slot.moved_because
        self.describe(entry)
        if slot.before_start:
            entry.before_start = True
            entry.skipped = f"Its date, {format_date(slot.date)}, is before the workflow starts."
        return entry

    def describe(self, e: Entry) -> None:
        a, contact, specialist = e.action, self.contact, _who(self.specialist)
        about = f"invoice {e.invoice.number}" if e.invoice else "each open invoice"
        if a.kind == K.EMAIL:
            e.what = "Email"
            if contact is None or not contact.email:
                e.to, e.skipped = "—", "The collections contact has no email address."
            else:
                e.to = f"{contact.full_name} <{contact.email}>"
            subject, body = (
                (a.content_block.subject, a.content_block.body)
                if a.content_block_id
                else (a.subject, a.body)
            )
            self.render(e, subject, body)
        elif a.kind == K.SMS:
            e.what = "Text message"
            reason = "The customer has no collections contact." if contact is None else ""
            reason = reason or sms_refusal(contact)
            if reason:
                e.to, e.skipped = "—", reason
            else:
                e.to = f"{contact.full_name}, {display_mobile(contact.mobile)}"
            body = a.content_block.body if a.content_block_id else a.body
            self.render(e, "", body, sms=True)
        elif a.kind == K.NOTE:
            e.what = "Note on the account"
            e.to = f"Emailed to {specialist}" if specialist else "No AR specialist: on the account"
            self.render(e, "", a.body, sms=True)
        elif a.kind == K.CALL:
            e.what = f"Call reminder: call {contact.full_name if contact else 'the customer'}"
            e.to = f"Call task for {specialist}" if specialist else "Call task (no AR specialist)"
            self.render(e, "", a.body, sms=True)
        elif a.kind == K.STATUS:
            name = a.collection_status.name if a.collection_status_id else "?"
            e.what = f"Collection status of {about} becomes “{name}”"
            e.to = "—"
        elif a.kind == K.NOTIFY:
            who = _who(a.user) or specialist
            e.what = "Notification"
            e.to = who or "—"
            if not who:
                e.skipped = "Nobody to notify: the customer has no AR specialist."
            self.render(e, "", a.body, sms=True)
        elif a.kind == K.ASSIGN:
            e.what = f"AR specialist becomes {_who(a.user)}"
            e.to = "—"
            if a.user_id:
                self.specialist = a.user  # later actions reach the new specialist

    def render(self, e: Entry, subject: str, body: str, *, sms: bool = False) -> None:
        if not body:
            return
        context = self.context(e.date, e.invoice)
        try:
            rendered = liquid.render_message(subject, body, context)
        except liquid.TemplateError as exc:
            e.problem = f"It cannot be rendered: {exc}"
            return
        e.subject, e.text, e.html = rendered.subject, rendered.text, rendered.html
        if sms and e.action.kind == K.SMS:
            e.segments = count_segments(rendered.text).label


def build_timeline(
    workflow: ARWorkflow, customer: Customer, *, start: dt.date | None = None
) -> Timeline:
    """Return what `workflow` (and those it continues with) would do for `customer` if it
    were assigned on `start` (today in the practice's time zone by default)."""
    practice = workflow.practice
    start = start or today_for(practice)
    builder = _Builder(practice, customer, start)
    chain = _chain(workflow)
    actions_of: dict[int, list[ARAction]] = {w.pk: [] for w in chain}
    for action in (
        ARAction.objects.filter(practice=practice, workflow__in=list(actions_of))
        .select_related("content_block", "collection_status", "user")
        .order_by("position", "id")
    ):
        actions_of[action.workflow_id].append(action)
    entries: list[Entry] = []
    wf_start = start
    for wf in chain:
        planned = slots(actions_of[wf.pk], builder.invoices, wf_start, builder.calendar)
        for slot in planned:
            entries.append(builder.entry(wf, slot, wf_start))
        wf_start = last_day(planned, wf_start)
    from collections_ar.assigning import settings_for
    from collections_ar.schedule import send_window

    opens, _ = send_window(settings_for(practice))
    for entry in entries:
        entry.time = opens
    entries.sort(key=lambda e: (e.date, chain.index(e.workflow), e.number))
    return Timeline(customer=customer, start=start, entries=entries, workflows=chain)
