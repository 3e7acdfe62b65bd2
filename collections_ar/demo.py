"""The demo's receivables: invoices for the demo clients in every state.

`build(practice, owner=…, manager=…)` (a demo builder registered in
`CollectionsArConfig.ready`) gives six demo clients invoices, all made through the engine
as the practice would have: current (not yet due), overdue in each age band (1–30, 31–60,
61–90 and over 90 days), part paid, paid, disputed and void, with some collection statuses
moved on (Reminded, Promised to pay, Escalated). Tom Byrne (AR specialist) works half the
customers, Rachel Green (AR manager) is alerted when an invoice is escalated. The three
prebuilt workflows are switched ON, chained Gentle reminder → Firm → Final notice, and Gentle
reminder is the default, so every demo customer is on it from its first invoice. Nothing is
made twice: a practice that has invoices already is left alone.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from collections_ar import engine, statuses
from collections_ar.builder import editing, prebuilt
from collections_ar.models import CollectionStatus, Invoice
from sodium.models import Client, Practice, User
from sodium.schedules.practice import today_for

# (client index, number suffix, days since issue, days until due (negative: overdue),
#  total, what happens: "", "part", "paid", "dispute", "void", collection status key)
_INVOICES = (
    (0, "001", 10, 20, "1450.00", "", ""),  # current
    (0, "002", 45, -15, "960.00", "", "reminded"),  # 1–30 overdue
    (1, "003", 75, -45, "2300.00", "part", "promised"),  # 31–60, part paid
    (1, "004", 100, -70, "780.00", "", "reminded"),  # 61–90
    (2, "005", 160, -130, "3120.00", "", "escalated"),  # over 90
    (2, "006", 60, -30, "540.00", "paid", ""),  # paid
    (3, "007", 50, -20, "1875.00", "dispute", "disputed"),  # disputed
    (3, "008", 40, -10, "420.00", "void", ""),  # void
    (4, "009", 5, 25, "2650.00", "", ""),  # current
    (4, "010", 35, -5, "1200.00", "part", ""),  # 1–30, part paid
    (5, "011", 95, -65, "699.00", "", "escalated"),  # 61–90
    (5, "012", 130, -100, "1500.00", "part", "agency"),  # over 90, part paid
)


def build(practice: Practice, *, owner: User, manager: User) -> None:
    if Invoice.objects.filter(practice=practice).exists():
        return
    statuses.ensure_default_statuses(practice)
    by_key = {s.builtin_key: s for s in CollectionStatus.objects.filter(practice=practice)}
    clients = list(Client.objects.filter(practice=practice).order_by("name")[:6])
    if not clients:
        return
    from sodium import demo

    people = {u.email: u for u in User.objects.filter(email__in=[p[1] for p in demo.PEOPLE])}
    specialist = people.get("tom@hartleyfinch.example")
    ar_manager = people.get("rachel@hartleyfinch.example")
    if ar_manager is not None and "escalated" in by_key:
        statuses.set_status_alert(by_key["escalated"], ar_manager, actor=owner)
    workflows = [
        engine.switch_workflow(workflow, actor=owner, on=True)
        for workflow in prebuilt.ensure_prebuilt_workflows(practice)
    ]
    if workflows:
        editing.set_default_workflow(workflows[0], practice, actor=owner)
    today = today_for(practice)
    customers = []
    for i, client in enumerate(clients):
        customer = engine.get_or_create_customer(client, actor=owner)
        if specialist is not None and i % 2 == 0:
            engine.assign_specialist(customer, specialist, actor=owner)
        customers.append(customer)
    for index, suffix, issued_ago, due_in, total, what, status_key in _INVOICES:
        customer = customers[index % len(customers)]
        issue = today - dt.timedelta(days=issued_ago)
        invoice = engine.create_invoice(
            customer,
            actor=owner,
            number=f"INV-{today.year}-{suffix}",
            issue_date=issue,
            due_date=today + dt.timedelta(days=due_in),
            total=Decimal(total),
        )
        paid_on = min(today, invoice.due_date + dt.timedelta(days=3))
        if what == "part":
            engine.record_payment(
                invoice,
                actor=owner,
                amount=(invoice.total / 3).quantize(Decimal("0.01")),
                date=paid_on,
                reference="BACS part",
            )
        elif what == "paid":
            engine.record_payment(
                invoice, actor=owner, amount=invoice.total, date=paid_on, reference="BACS"
            )
        elif what == "dispute":
            engine.dispute_invoice(invoice, actor=owner, note="Client queries the hours billed")
        elif what == "void":
            engine.void_invoice(invoice, actor=owner, note="Raised in error")
        if status_key and status_key in by_key:
            engine.set_collection_status(invoice, by_key[status_key], actor=owner)
    _run_the_morning(practice, workflows, customers, owner)


def _run_the_morning(practice: Practice, workflows, customers, owner: User) -> None:
    # Two long-overdue customers went on "Firm" ten days ago; the last working morning's sweep has
    # done what fell due since, so the demo opens with calls, notes and sent messages.
    import datetime as dt
    from zoneinfo import ZoneInfo

    from collections_ar import assigning, running
    from collections_ar.models import ActionRun
    from sodium.schedules.practice import working_calendar

    firm = next((w for w in workflows if w.prebuilt_key == "firm"), None)
    if firm is None:
        return
    today = today_for(practice)
    chosen = [customers[i] for i in (2, 5) if i < len(customers)]
    for customer in chosen:
        live = assigning.live_assignment(customer)
        if live is not None:
            engine.unassign(live, actor=owner, note="restarted ten days ago for the demo")
    assigning.assign_workflow(
        chosen, firm, actor=owner, on=today - dt.timedelta(days=10), check_reach=False
    )
    morning = dt.datetime.combine(
        working_calendar(practice).working_day_on_or_before(today),
        dt.time(10, 30),
        tzinfo=ZoneInfo(practice.time_zone),
    )
    due = ActionRun.objects.filter(
        practice=practice, state=ActionRun.State.PENDING, due_at__lte=morning
    )
    running.run_batch(list(due.values_list("pk", flat=True)), now=morning)
