"""The AR app's models: customers (`customers`), invoices and payments (`invoices`), and
the practice's collection statuses (`statuses`)."""

from collections_ar.models.customers import Customer
from collections_ar.models.invoices import INVOICE_MACHINE, OUTSTANDING, Invoice, Payment
from collections_ar.models.statuses import CollectionStatus

__all__ = ["INVOICE_MACHINE", "OUTSTANDING", "CollectionStatus", "Customer", "Invoice", "Payment"]
