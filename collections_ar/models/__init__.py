"""The AR app's models: customers (`customers`), invoices and payments (`invoices`), the
practice's collection statuses (`statuses`), AR workflows with their actions
(`workflows`), and their assignments to customers with the action runs they plan
(`assignments`)."""

from collections_ar.models.assignments import (
    ASSIGNMENT_MACHINE,
    RUN_MACHINE,
    ActionRun,
    ARSettings,
    Assignment,
)
from collections_ar.models.customers import Customer
from collections_ar.models.invoices import INVOICE_MACHINE, OUTSTANDING, Invoice, Payment
from collections_ar.models.promises import PROMISE_MACHINE, Promise
from collections_ar.models.statuses import CollectionStatus
from collections_ar.models.workflows import WORKFLOW_MACHINE, ARAction, ARWorkflow

__all__ = [
    "ASSIGNMENT_MACHINE",
    "INVOICE_MACHINE",
    "RUN_MACHINE",
    "ARSettings",
    "ActionRun",
    "Assignment",
    "OUTSTANDING",
    "PROMISE_MACHINE",
    "WORKFLOW_MACHINE",
    "ARAction",
    "ARWorkflow",
    "CollectionStatus",
    "Customer",
    "Invoice",
    "Payment",
    "Promise",
]
