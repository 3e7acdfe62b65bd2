"""A throwaway "app" that adds a message use of its own, as checks/ or collections_ar/ will:
it registers a group and a use with the core and edits neither the core nor workflows."""

from __future__ import annotations

from sodium.messaging.variables import (
    EMAIL,
    SMS,
    Group,
    Use,
    Variable,
    register_group,
    register_use,
    unregister_group,
    unregister_use,
)

USE = "throwaway.invoice_reminder"

INVOICE = Group(
    "invoice",
    "Invoice",
    (
        Variable("invoice.number", "The invoice's number", "INV-0042"),
        Variable("invoice.amount_due", "What is still owed", "£1,250.00"),
    ),
)


def register() -> None:
    register_group(INVOICE)
    register_use(
        Use(
            USE,
            "Invoice reminder",
            ("practice", "client", "contacts", "invoice", "today"),
            description="A timed reminder of an unpaid invoice.",
            channels=(EMAIL, SMS),
            sample={"invoice": {"number": "INV-0042", "amount_due": "£1,250.00"}},
        )
    )


def unregister() -> None:
    unregister_use(USE)
    unregister_group(INVOICE.key)
