"""The AR app's models: customers (`customers`), invoices and payments (`invoices`), the
practice's collection statuses (`statuses`), and AR workflows with their actions
(`workflows`)."""

from collections_ar.models.customers import Customer
from collections_ar.models.invoices import INVOICE_MACHINE, OUTSTANDING, Invoice, Payment
from collections_ar.models.statuses import CollectionStatus
from collections_ar.models.workflows import WORKFLOW_MACHINE, ARAction, ARWorkflow

__all__ = [
    "INVOICE_MACHINE",
    "OUTSTANDING",
    "WORKFLOW_MACHINE",
    "ARAction",
    "ARWorkflow",
    "CollectionStatus",
    "Customer",
    "Invoice",
    "Payment",
]
