"""The Liquid variables of AR messages, their message uses, and the one context builder.

Three uses, all with the same groups: `ar.email` (an email action), `ar.sms` (an SMS
action) and `ar.note` (the text of a note, a call reminder or a notification, read by
the practice's own people). Their variables:

- `customer.*` — the customer's name, reference, open balance and number of open invoices;
- `contact.*` — the collections contact (name, first name, email, mobile);
- `invoice.*` — the invoice the action is about: for a due-date action, that invoice;
  otherwise the most overdue open one (number, amount, balance, due date, days overdue);
- `invoices` — every open invoice, a list (`{% for invoice in invoices %}`);
- `specialist.*` — the customer's AR specialist;
- `payment_link` — a placeholder for the practice's payment page (empty until one is set).

`ar_context()` fills them for a real customer; the builder's preview and timeline use it.
Amounts are worded with `sodium.money.format_money` in the invoice's currency.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from collections_ar.models import OUTSTANDING, Customer, Invoice
from sodium.messaging import context as core_context
from sodium.messaging.variables import (
    EMAIL,
    SMS,
    Group,
    Use,
    Variable,
    register_group,
    register_use,
)
from sodium.models import Contact, Practice, User
from sodium.money import format_money
from sodium.sms.numbers import display_mobile

EMAIL_USE = "ar.email"
SMS_USE = "ar.sms"
NOTE_USE = "ar.note"

_INVOICE_FIELDS = (
    ("number", "number", "INV-0042"),
    ("amount", "total", "£1,200.00"),
    ("balance", "balance still to pay", "£450.00"),
    ("amount_paid", "amount paid so far", "£750.00"),
    ("issue_date", "issue date", "1 October 2026"),
    ("due_date", "due date", "31 October 2026"),
    ("days_overdue", "days past its due date (0 when not yet due)", "31"),
    ("currency", "currency", "GBP"),
)

CUSTOMER = Group(
    "ar_customer",
    "AR: the customer",
    (
        Variable("customer.name", "The customer's name", "Acorn Bakery Ltd"),
        Variable("customer.reference", "Your reference for the customer", "ACORN01"),
        Variable("customer.balance", "What the customer owes on open invoices", "£1,650.00"),
        Variable("customer.open_invoices", "How many open invoices the customer has", "2"),
        Variable("contact.name", "The collections contact's full name", "Ellie Ali"),
        Variable("contact.first_name", "The collections contact's first name", "Ellie"),
        Variable("contact.email", "The collections contact's email", "ellie@acorn.example"),
        Variable("contact.mobile", "The collections contact's mobile", "07700 900123"),
    ),
    objects=("customer", "contact"),
)
INVOICES = Group(
    "ar_invoice",
    "AR: invoices",
    tuple(
        Variable(f"invoice.{name}", f"The invoice's {label}", example)
        for name, label, example in _INVOICE_FIELDS
    )
    + (
        Variable(
            "invoices",
            "Every open invoice, a list: {% for invoice in invoices %} … {% endfor %}",
            "(a list of invoices)",
        ),
    ),
    objects=("invoice",),
)
SPECIALIST = Group(
    "ar_specialist",
    "AR: the AR specialist and payment",
    (
        Variable("specialist.name", "The customer's AR specialist", "Sam Okafor"),
        Variable("specialist.first_name", "The AR specialist's first name", "Sam"),
        Variable("specialist.email", "The AR specialist's email", "sam@hartleyfinch.example"),
        Variable(
            "payment_link",
            "Your payment page for the customer (a placeholder until one is set up)",
            "https://pay.example/acorn",
        ),
    ),
    objects=("specialist",),
)
GROUPS = ("practice", CUSTOMER.key, INVOICES.key, SPECIALIST.key, "today")

_SAMPLE_INVOICE = {name: example for name, _label, example in _INVOICE_FIELDS}
SAMPLE = {
    "invoices": [
        _SAMPLE_INVOICE,
        {**_SAMPLE_INVOICE, "number": "INV-0051", "balance": "£1,200.00", "days_overdue": "0"},
    ]
}


def register() -> None:
    """Register the AR groups and message uses (CollectionsArConfig.ready)."""
    for group in (CUSTOMER, INVOICES, SPECIALIST):
        register_group(group)
    register_use(
        Use(
            EMAIL_USE,
            "AR: email to a customer",
            GROUPS,
            description="An email an AR workflow sends to a customer's collections contact.",
            sample=SAMPLE,
        )
    )
    register_use(
        Use(
            SMS_USE,
            "AR: text to a customer",
            GROUPS,
            description="A text an AR workflow sends to a customer's collections contact.",
            channels=(SMS,),
            sample=SAMPLE,
        )
    )
    register_use(
        Use(
            NOTE_USE,
            "AR: note, call reminder or notification",
            GROUPS,
            description="What an AR workflow tells the practice's own people: a note on the "
            "customer, a call reminder, a notification.",
            channels=(EMAIL,),
            sample=SAMPLE,
        )
    )


def use_of(kind: str) -> str:
    """Return the message use of an action kind's text."""
    return {"email": EMAIL_USE, "sms": SMS_USE}.get(kind, NOTE_USE)


# --- the context ---------------------------------------------------------------------------


def invoice_values(invoice: Invoice, today: dt.date) -> dict[str, Any]:
    """Return one invoice's variables as a customer reads them."""
    cur = invoice.currency
    return {
        "number": invoice.number,
        "amount": format_money(invoice.total, cur),
        "balance": format_money(invoice.balance, cur),
        "amount_paid": format_money(invoice.amount_paid, cur),
        "issue_date": core_context.format_date(invoice.issue_date),
        "due_date": core_context.format_date(invoice.due_date),
        "days_overdue": max((today - invoice.due_date).days, 0),
        "currency": cur,
    }


def _person(user: User | None) -> dict[str, str]:
    if user is None:
        return {"name": "", "first_name": "", "email": ""}
    name = user.full_name or user.email
    return {"name": name, "first_name": name.split()[0], "email": user.email}


def _contact(contact: Contact | None) -> dict[str, str]:
    values = core_context.contact_values(contact)
    values["mobile"] = display_mobile(contact.mobile) if contact and contact.mobile else ""
    return values


def open_invoices(customer: Customer) -> list[Invoice]:
    """Return the customer's open invoices, most overdue first."""
    return list(
        Invoice.objects.filter(
            practice=customer.practice_id, customer=customer, status__in=OUTSTANDING
        ).order_by("due_date", "id")
    )


def ar_context(
    *,
    practice: Practice,
    customer: Customer,
    today: dt.date,
    invoices: list[Invoice] | None = None,
    invoice: Invoice | None = None,
    contacts: list[Contact] | None = None,
    contact: Contact | None = None,
    specialist: User | None = None,
) -> dict[str, Any]:
    """Return the variables of an AR message to `customer` on `today`.

    `invoices` are its open invoices (read when None); `invoice` the one the action is about
    (the most overdue open one when None). A caller that has read them already (the sweep's
    batch, the timeline) passes the client's `contacts`, the `contact` addressed and the
    `specialist`; otherwise they are read (the collections contact, the customer's
    specialist).
    """
    if invoices is None:
        invoices = open_invoices(customer)
    if invoice is None and invoices:
        invoice = invoices[0]
    if contacts is not None and contact is None:
        contact = customer.contact_for_collections()
    currency = invoice.currency if invoice else "GBP"
    context = core_context.client_context(
        practice=practice, client=customer.client, contacts=contacts
    )
    context.update(
        {
            "customer": {
                "name": customer.client.name,
                "reference": customer.client.reference,
                "balance": format_money(sum((i.balance for i in invoices), start=0), currency),
                "open_invoices": len(invoices),
            },
            "contact": _contact(
                contact if contacts is not None else customer.contact_for_collections()
            ),
            "invoice": invoice_values(invoice, today) if invoice else {},
            "invoices": [invoice_values(i, today) for i in invoices],
            "specialist": _person(specialist if contacts is not None else customer.specialist),
            "payment_link": "",
            "today": core_context.format_date(today),
        }
    )
    return context
